"""The dropout masks of the recurrent layers (``dropout``, ``recurrent_dropout``), as in Keras 3.

Read in Keras 3's ``keras/src/layers/rnn/`` (``dropout_rnn_cell.py``, ``simple_rnn.py``,
``lstm.py``, ``gru.py``, 3.8 and later): in training, each call draws its masks once, when the
first step needs them, and every step of that call reuses them (Gal & Ghahramani's variational
dropout); the next call (the next batch) draws new ones. A mask is inverted dropout, ``keep /
(1 - rate)`` with ``keep ~ Bernoulli(1 - rate)``, so its mean is 1 and inference needs no
rescaling. ``dropout`` masks x_t (``[B, F]``), ``recurrent_dropout`` masks h_{t-1} (``[B, u]``,
the state the recurrent kernel multiplies). How many masks:

- SimpleRNN: one of each;
- LSTM and GRU with ``recurrent_dropout == 0``: one input mask shared by all gates;
- LSTM and GRU with ``recurrent_dropout > 0`` (Keras switches the cell to ``implementation=1``):
  one input mask and one recurrent mask per gate (4 for the LSTM, 3 for the GRU), drawn
  independently. Keras 3.0 - 3.7 shared one mask between the gates here; 3.8 changed to one per
  gate (keras-team/keras#20656 for the GRU, #20663 for the LSTM).

Masks are ``[G, B, size]`` with ``G`` = 1 or the number of gates, in Keras' gate order (LSTM
i, f, c, o; GRU z, r, h), drawn in that order, input masks first, from the layer's own generator:
``seed=`` fixes it, otherwise ``tinygrad_edu.set_seed`` does (like ``Dropout``).

>>> rng = np.random.default_rng(0)
>>> masks = draw_masks(rng, 0.5, 0.0, batch=2, features=3, units=4, gates=4, dtype=np.float64)
>>> sorted(masks), masks["input_mask"].shape                  # one input mask for all gates
(['input_mask'], (1, 2, 3))
>>> sorted(set(masks["input_mask"].ravel().tolist()))         # dropped, or kept times 1/(1-0.5)
[0.0, 2.0]
>>> masks = draw_masks(rng, 0.5, 0.25, batch=2, features=3, units=4, gates=4, dtype=np.float64)
>>> masks["input_mask"].shape, masks["recurrent_mask"].shape  # one per gate
((4, 2, 3), (4, 2, 4))
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import numpy as np

from .. import ops
from .. import validation as check
from .._rng import make_rng
from ..ops.nn import draw_mask
from ..tensor import Tensor, tensor_from_op


#: an inverted-dropout mask: 0 with probability ``rate``, else ``1 / (1 - rate)`` (the same
#: draw and values as ``Dropout``: ``rng.random(shape) >= rate``, scaled in ``dtype``)
dropout_mask = draw_mask


def draw_masks(
    rng: np.random.Generator,
    dropout: float,
    recurrent_dropout: float,
    batch: int,
    features: int,
    units: int,
    gates: int,
    dtype: np.dtype,
    draw: Callable[..., np.ndarray] = draw_mask,
) -> Dict[str, np.ndarray]:
    """One call's masks (Keras 3's rule above): ``{"input_mask": [G, B, F]}`` when ``dropout >
    0``, ``{"recurrent_mask": [G, B, u]}`` when ``recurrent_dropout > 0``, G = ``gates`` when
    ``recurrent_dropout > 0`` else 1; an empty dict when both rates are 0. ``draw(rng, rate,
    shape, dtype)`` draws one (the layers draw through the op ``DrawMask``)."""
    groups = gates if recurrent_dropout > 0 else 1
    masks = {}
    if dropout > 0:
        masks["input_mask"] = draw(rng, dropout, (groups, batch, features), dtype)
    if recurrent_dropout > 0:
        masks["recurrent_mask"] = draw(rng, recurrent_dropout, (groups, batch, units), dtype)
    return masks


def cell_masks(masks: Dict[str, Tensor]) -> Dict[str, List[Tensor]]:
    """The masks as the reference cells take them: one ``[B, size]`` Tensor per gate group
    (indexed by ops, so that a replayed step reads the masks it drew)."""
    return {name: [group[g] for g in range(group.shape[0])] for name, group in masks.items()}


def mask_arrays(masks: Dict[str, Tensor]) -> Dict[str, np.ndarray]:
    """The masks as the fused ops take them: arrays."""
    return {name: group._data for name, group in masks.items()}


class RecurrentDropout:
    """The recurrent layers' dropout arguments, masks and config (a mixin of ``Layer``s with
    ``units``, ``gate_names`` and a ``kernel``)."""

    def _init_dropout(self, dropout: Any, recurrent_dropout: Any, seed: Any) -> None:
        where, example = self.where, self.example
        self.dropout = check.rate(
            "dropout (the fraction of inputs to drop)", dropout, where, example(dropout=0.2)
        )
        self.recurrent_dropout = check.rate(
            "recurrent_dropout (the fraction of the state to drop)",
            recurrent_dropout,
            where,
            example(recurrent_dropout=0.2),
        )
        self.seed = check.seed("seed", seed, where, example(dropout=0.2, seed=0))
        # no generator without dropout: such a layer takes nothing from the global generator,
        # so what is made after it (other layers' weights) stays as it was before dropout
        self._rng: Optional[np.random.Generator] = None
        if self.dropout or self.recurrent_dropout:
            self._rng = make_rng(self.seed)

    def _dropout_masks(self, x: Tensor, training: bool) -> Dict[str, Tensor]:
        """This call's masks (``draw_masks``, as Tensors) in training, from the layer's generator;
        ``{}`` at inference or without dropout. Tests re-draw a call's masks by putting the generator back
        in its state before the call (``layer._rng.bit_generator.state``) and calling this."""
        if not training or self._rng is None:
            return {}
        dtype = np.result_type(x.dtype, self.kernel.dtype)
        batch, features, gates = x.shape[0], x.shape[-1], len(self.gate_names)
        rates = (self.dropout, self.recurrent_dropout)

        def draw(rng, rate, shape, dtype):  # an op, so that a replayed step (jit) draws too
            return tensor_from_op(ops.DrawMask, x, rng=rng, rate=rate, shape=shape, dtype=dtype)

        return draw_masks(self._rng, *rates, batch, features, self.units, gates, dtype, draw)

    def _dropout_config(self) -> Dict[str, Any]:
        return {
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


__all__ = ["RecurrentDropout", "cell_masks", "draw_masks", "dropout_mask", "mask_arrays"]
