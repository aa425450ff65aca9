"""The reference form of the recurrent layers: one time step as plain Tensor ops, and the loop.

This is the version to step through: every line is a Tensor op (``@``, ``+``, ``*``, slices,
activations), so autodiff through the loop *is* backpropagation through time. The layers use it
when ``fused=False`` (or inside ``tinygrad_edu.config.fused(False)``, or for an activation the
fused op does not implement); the fused ops in ``ops/recurrent.py`` are tested equal to it.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> x = Tensor(np.ones((2, 3, 1)))                       # [B=2, T=3, F=1]
>>> w, u, b = Tensor([[0.5]]), Tensor([[1.0]]), Tensor([0.0])
>>> outs, states = run_sequence(simple_rnn_cell, x, units=1, n_states=1,
...                             weights=(w, u, b), activation=lambda t: t)
>>> [round(float(o.data[0, 0]), 2) for o in outs]      # h_t = 0.5 + h_{t-1}
[0.5, 1.0, 1.5]

Dropout (``dropout`` / ``recurrent_dropout`` of the layers, in training): ``input_mask`` and
``recurrent_mask`` are lists of ``[B, F]`` / ``[B, u]`` Tensors, the same at every step: one mask
for all gates, or one per gate (Keras 3 when ``recurrent_dropout > 0``). A cell multiplies x_t
and h_{t-1} by them right before the kernels do, so ``x_t @ W`` becomes ``(d * x_t) @ W`` and
gate k of ``h_{t-1} @ U`` becomes ``(m_k * h_{t-1}) @ U_k``; the rest of the step is unchanged.

>>> keep_first = [Tensor([[2.0], [0.0]])]              # 1/(1-0.5) for sample 0, 0 for sample 1
>>> outs, _ = run_sequence(simple_rnn_cell, x, units=1, n_states=1, weights=(w, u, b),
...                        activation=lambda t: t, input_mask=keep_first)
>>> [o.data[:, 0].tolist() for o in outs]              # h_t = 0.5 * d * x_t + h_{t-1}
[[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .. import validation as check
from ..errors import ShapeError
from ..functional import concatenate
from ..tensor import Tensor

Act = Callable[[Tensor], Tensor]
States = List[Tensor]
Masks = Optional[Sequence[Tensor]]  # dropout masks: None, one for every gate, or one per gate


def _project(v: Tensor, kernel: Tensor, masks: Masks) -> Tensor:
    """``v @ kernel`` with v dropped out: ``(m * v) @ kernel`` for one mask, and with one mask
    per gate, gate k's columns ``(m_k * v) @ kernel_k``:   [B, k] @ [k, g*u] -> [B, g*u]."""
    if masks is None:
        return v @ kernel
    if len(masks) == 1:
        return (v * masks[0]) @ kernel
    n = kernel.shape[1] // len(masks)
    parts = [(v * m) @ kernel[:, k * n : (k + 1) * n] for k, m in enumerate(masks)]
    return concatenate(parts, axis=-1)


def _gates(masks: Masks, start: int, stop: int) -> Masks:
    """The masks of gates start..stop-1 (the one mask when it serves every gate)."""
    return masks if masks is None or len(masks) == 1 else masks[start:stop]


def _affine(
    x_t: Tensor, h: Tensor, weights: Sequence[Optional[Tensor]], input_mask: Masks, rec_mask: Masks
) -> Tensor:
    """(d * x_t) @ W + (m * h) @ U (+ b):   [B, F] @ [F, g*u] + [B, u] @ [u, g*u] + [g*u]."""
    w, u, b = weights
    z = _project(x_t, w, input_mask) + _project(h, u, rec_mask)
    return z if b is None else z + b


def simple_rnn_cell(
    x_t: Tensor,
    states: States,
    weights: Sequence[Optional[Tensor]],
    activation: Act,
    input_mask: Masks = None,
    recurrent_mask: Masks = None,
) -> Tuple[Tensor, States]:
    """h_t = act((d * x_t) @ W + (m * h_{t-1}) @ U + b):   [B, F] -> [B, u]."""
    h = activation(_affine(x_t, states[0], weights, input_mask, recurrent_mask))
    return h, [h]


def lstm_cell(
    x_t: Tensor,
    states: States,
    weights: Sequence[Optional[Tensor]],
    activation: Act,
    recurrent_activation: Act,
    input_mask: Masks = None,
    recurrent_mask: Masks = None,
) -> Tuple[Tensor, States]:
    """Keras LSTM step, gates in the order i, f, c, o (each ``[B, u]``)::

    z = (d * x_t) @ W + (m * h_{t-1}) @ U + b          [B, 4u]  (per gate k: d_k, m_k)
    i, f, o = ract(z_i), ract(z_f), ract(z_o);   c~ = act(z_c)
    c_t = f * c_{t-1} + i * c~;   h_t = o * act(c_t)
    """
    h, c = states
    n = h.shape[-1]
    z = _affine(x_t, h, weights, input_mask, recurrent_mask)
    i = recurrent_activation(z[:, :n])
    f = recurrent_activation(z[:, n : 2 * n])
    candidate = activation(z[:, 2 * n : 3 * n])
    o = recurrent_activation(z[:, 3 * n :])
    c = f * c + i * candidate
    h = o * activation(c)
    return h, [h, c]


def gru_cell(
    x_t: Tensor,
    states: States,
    weights: Sequence[Optional[Tensor]],
    activation: Act,
    recurrent_activation: Act,
    reset_after: bool = True,
    input_mask: Masks = None,
    recurrent_mask: Masks = None,
) -> Tuple[Tensor, States]:
    """Keras GRU step, gates in the order z, r, h (each ``[B, u]``); with dropout masks, h
    below is ``m * h_{t-1}`` (gate k's ``m_k * h_{t-1}``) wherever U multiplies it::

    xz, xr, xh = (d * x_t) @ W + b_in           (b_in = b[0] when reset_after, else b)
    z = ract(xz + h U_z (+ b_rz));   r = ract(xr + h U_r (+ b_rr))
    reset_after:   hh = act(xh + r * (h U_h + b_rh))       (b_r = b[1])
    otherwise:     hh = act(xh + (r * h) U_h)
    h_t = z * h_{t-1} + (1 - z) * hh                        (h_{t-1} unmasked)
    """
    w, u, b = weights
    h = states[0]
    n = h.shape[-1]
    b_in, b_rec = (b[0], b[1]) if b is not None and reset_after else (b, None)
    x_proj = _project(x_t, w, input_mask)
    x_proj = x_proj if b_in is None else x_proj + b_in
    if reset_after:
        h_proj = _project(h, u, recurrent_mask)
        h_proj = h_proj if b_rec is None else h_proj + b_rec
        z = recurrent_activation(x_proj[:, :n] + h_proj[:, :n])
        r = recurrent_activation(x_proj[:, n : 2 * n] + h_proj[:, n : 2 * n])
        hh = activation(x_proj[:, 2 * n :] + r * h_proj[:, 2 * n :])
    else:
        h_proj = _project(h, u[:, : 2 * n], _gates(recurrent_mask, 0, 2))
        z = recurrent_activation(x_proj[:, :n] + h_proj[:, :n])
        r = recurrent_activation(x_proj[:, n : 2 * n] + h_proj[:, n:])
        h_h = h if recurrent_mask is None else h * _gates(recurrent_mask, 2, 3)[0]
        hh = activation(x_proj[:, 2 * n :] + (r * h_h) @ u[:, 2 * n :])
    h = z * h + (1 - z) * hh
    return h, [h]


@lru_cache(maxsize=64)
def zero_state(batch: int, units: int, dtype: np.dtype) -> np.ndarray:
    """The zero state ``[batch, units]``: one read-only array per shape and dtype, the same
    object at every call - which a replayed step (``tinygrad_edu.jit``) keeps as a constant
    (a new array per call would look computed from the batch)."""
    zeros = np.zeros((batch, units), dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def run_sequence(
    cell: Callable[..., Tuple[Tensor, States]],
    x: Tensor,
    units: int,
    n_states: int,
    go_backwards: bool = False,
    **cell_args,
) -> Tuple[List[Tensor], States]:
    """Run ``cell`` over ``x [B, T, F]`` from zero states: (outputs in processing order, states).

    ``go_backwards=True`` feeds ``x[:, T-1]`` first; the outputs stay in processing order (Keras).
    """
    where = "run_sequence"
    units = check.positive_int("units (the size of the state)", units, where)
    n_states = check.positive_int("n_states (1, or 2 for an LSTM)", n_states, where)
    go_backwards = check.flag("go_backwards", go_backwards, where)
    if not isinstance(x, Tensor) or x.ndim != 3:
        raise ShapeError(
            where=where,
            expected="x as a Tensor of shape (batch, timesteps, features)",
            got=f"shape {getattr(x, 'shape', type(x).__name__)}",
            fix="add the missing axes, e.g. Tensor(np.ones((2, 3, 1)))",
        )
    zeros = Tensor(zero_state(x.shape[0], units, x.dtype))
    states: States = [zeros] * n_states
    outputs = []
    steps = range(x.shape[1])
    for t in reversed(steps) if go_backwards else steps:
        out, states = cell(x[:, t], states, **cell_args)
        outputs.append(out)
    return outputs, states


__all__ = ["simple_rnn_cell", "lstm_cell", "gru_cell", "run_sequence"]
