"""Recurrent layers with Keras' arguments, weight layouts and parameter counts: ``SimpleRNN``,
``LSTM``, ``GRU``. Inputs are ``(batch, timesteps, features)``.

Two interchangeable forms compute each layer (tested equal, values and gradients):

- the fast path (the default): one op per layer runs the whole sequence with a hand-derived
  backpropagation through time (``ops/recurrent.py``);
- the reference form (``fused=False``): a Python loop of Tensor ops, one cell step at a time
  (``layers/recurrent_cells.py``); autodiff through the loop gives BPTT. Run under
  ``with tinygrad_edu.config.fused(False):`` to switch every layer left at ``fused=None`` to it.
  An activation the fused ops do not implement always takes the reference form.

Outputs: ``[B, units]`` (the last state), ``[B, T, units]`` with ``return_sequences=True``;
``return_state=True`` returns a list ``[output, h_T]`` (LSTM: ``[output, h_T, c_T]``), and then
``compute_output_shape`` returns the matching list of shapes. ``go_backwards=True`` reads the
sequence from its end, and (as in Keras) returns the sequence of outputs in that processing order.

Dropout, in training only (``training=True``, as ``fit`` calls it): ``dropout`` (a rate in [0, 1))
drops inputs x_t, ``recurrent_dropout`` the state h_{t-1} the recurrent kernel multiplies, with
one inverted-dropout mask per call (per batch) reused at every step; ``seed`` fixes the layer's
generator (else ``set_seed`` does). As in Keras 3 (3.8 and later), the LSTM and GRU draw one mask
per gate when ``recurrent_dropout > 0``, else one input mask for all gates
(``layers/recurrent_dropout.py``). Rates of 0 (the default) or inference change nothing.

>>> import numpy as np
>>> layer = LSTM(300)
>>> layer(np.zeros((2, 20, 1))).shape
(2, 300)
>>> layer.count_params()                  # 4 gates x (1*300 + 300*300 + 300)
362400
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .. import activations, initializers, regularizers
from .. import config as _config
from .. import validation as check
from .._shapes import fmt_shape
from ..functional import stack
from ..ops.recurrent import FUSED_ACTIVATIONS, LSTMSequence, SimpleRNNSequence
from ..ops.recurrent_gru import GRUSequence
from ..tensor import Tensor, tensor_from_op
from .algebra import Algebra, Count, Operand, sum_of_products
from .base import Layer, Shape
from .kernel_bias import ActivationAttribute
from .recurrent_cells import gru_cell, lstm_cell, run_sequence, simple_rnn_cell
from .recurrent_dropout import RecurrentDropout, cell_masks, mask_arrays


class _RNN(RecurrentDropout, Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, weights, checks, dropout, outputs."""

    expected_ndim = 3
    example_args = {"units": 32}
    example_input_shape = (20, 1)
    gate_names: Tuple[str, ...] = ("h",)
    n_states = 1
    fused_op: type = SimpleRNNSequence
    activation = ActivationAttribute()

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: Optional[int] = None,
        fused: Optional[bool] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check.positive_int("units", units, self.where, self.example())
        self.activation = activation  # resolved by ActivationAttribute
        self.use_bias = self._flag("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        # the arguments as given, for get_config; resolved now so a bad name fails here
        self.regularizers = (kernel_regularizer, recurrent_regularizer, bias_regularizer)
        self._regularizer_objects = tuple(regularizers.get(r) for r in self.regularizers)
        self.return_sequences = self._flag("return_sequences", return_sequences)
        self.return_state = self._flag("return_state", return_state)
        self.go_backwards = self._flag("go_backwards", go_backwards)
        if self._flag("stateful", stateful):  # Keras' option: refused, never ignored
            check.refuse(
                "stateful", stateful, self.where,
                "False (states carried from one batch to the next are not implemented here)",
                self.example(), hint="every batch starts from zero states; feed a sequence whole",
            )  # fmt: skip
        self._init_dropout(dropout, recurrent_dropout, seed)
        self.fused = check.flag("fused", fused, self.where, self.example(fused=False), True)

    def _flag(self, name: str, value: Any) -> bool:
        return check.flag(name, value, self.where, self.example(**{name: True}))

    # ---------------------------------------------------------------- weights and shapes
    def build(self, input_shape: Shape) -> None:
        width = len(self.gate_names) * self.units
        kernel_reg, recurrent_reg, bias_reg = self._regularizer_objects
        self.kernel = self.add_weight(
            "kernel", (input_shape[-1], width), self.kernel_initializer, regularizer=kernel_reg
        )
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel",
            (self.units, width),
            self.recurrent_initializer,
            regularizer=recurrent_reg,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", self._bias_shape(), self._bias_init(), regularizer=bias_reg
            )

    def _bias_shape(self) -> Tuple[int, ...]:
        return (len(self.gate_names) * self.units,)

    def _bias_init(self) -> Any:
        return self.bias_initializer

    def compute_output_shape(self, input_shape: Shape) -> Union[Shape, List[Shape]]:
        """``(B, T, u)`` or ``(B, u)``; with return_state the list ``[output, (B, u), ...]``."""
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if not self.return_state:
            return out
        return [out] + [(batch, self.units)] * self.n_states

    # ---------------------------------------------------------------- the forward pass
    def call(self, x: Tensor, training: bool = False) -> Union[Tensor, List[Tensor]]:
        masks = self._dropout_masks(x, training)  # {} without dropout
        names = [activations.serialize(a) for a in self._activations()]  # a callable if custom
        if self._can_fuse(names):
            return self._call_fused(x, masks, names)
        cell_args = {**self._cell_args(), **cell_masks(masks)}
        outputs, states = run_sequence(
            self._cell, x, self.units, self.n_states, self.go_backwards, **cell_args
        )
        out = stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [out, *states] if self.return_state else out

    def _can_fuse(self, names: list) -> bool:
        """The fused op runs it: fused not switched off, and it implements every activation."""
        return _config.use_fused(self.fused) and all(
            isinstance(n, str) and n in FUSED_ACTIVATIONS for n in names
        )

    def _activations(self) -> list:
        return [self.activation]

    def _op_kwargs(self, names: list) -> Dict[str, Any]:
        """The fused op's keyword arguments; ``names``: the activations' names, in order."""
        kwargs = dict(zip(("activation", "recurrent_activation"), names))
        kwargs.update(return_sequences=self.return_sequences, go_backwards=self.go_backwards)
        return kwargs

    def _call_fused(
        self, x: Tensor, masks: Dict[str, Tensor], names: list
    ) -> Union[Tensor, List[Tensor]]:
        weights = [self.kernel, self.recurrent_kernel] + ([self.bias] if self.use_bias else [])
        masks = mask_arrays(masks)
        out = tensor_from_op(self.fused_op, x, *weights, **self._op_kwargs(names), **masks)
        return self._with_states(out) if self.return_state else out

    def _with_states(self, out: Tensor) -> List[Tensor]:
        """``[output, h_T]`` from the fused op's output."""
        return [out, self._last(out)]

    def _last(self, seq: Tensor) -> Tensor:
        """The state after the last step, from an output that may be the whole sequence."""
        return seq[:, -1] if self.return_sequences else seq

    def _cell_args(self) -> Dict[str, Any]:
        return {
            "weights": (self.kernel, self.recurrent_kernel, self.bias),
            "activation": self.activation,
        }

    # ---------------------------------------------------------------- teaching
    def diagnose_rank(self, shape: Shape, want: Optional[Shape]) -> str:
        if len(shape) == 2 and want is not None and tuple(shape) == tuple(want[1:]):
            return (
                f"this looks like one sequence of {shape[0]} steps without a batch axis - "
                f"use x[None, ...] or x.reshape(1, {shape[0]}, {shape[1]})"
            )
        if len(shape) == 2:
            b, t = shape
            # a declared shape (batch None): reshape's -1, and the input_shape to declare
            declare = f", and declare input_shape=({t}, 1)" if b is None else ""
            return (
                f"recurrent layers need (batch, timesteps, features); {fmt_shape(shape)} "
                "looks like (batch, timesteps) without the feature axis - for one feature "
                f"per step use x[..., None] or x.reshape({-1 if b is None else b}, {t}, 1)"
                + declare
            )
        return super().diagnose_rank(shape, want)

    def algebra(self) -> Algebra:
        """e.g. LSTM(300) on (20, 1): ``per step: [B,1] @ [1,1200] + [B,300] @ [300,1200] +
        [1200] -> 4 gates [B,300] (i,f,c,o); 20 steps -> [B,300]``."""
        f, u, g = self.input_shape[-1], self.units, len(self.gate_names)
        n_bias = len(self._bias_shape()) if self.use_bias else 0  # GRU reset_after: 2 biases
        step = sum_of_products(
            [
                (Operand("step_input", (None, f)), Operand("kernel", (f, g * u))),
                (Operand("state", (None, u)), Operand("recurrent_kernel", (u, g * u))),
                *[(Operand(r, (g * u,)),) for r in ("bias", "recurrent_bias")[:n_bias]],
            ]
        )
        gates = Operand("gates", (None, u))
        named = (f"{g} gates ", gates, f" ({','.join(self.gate_names)})") if g > 1 else (gates,)
        steps = self.input_shape[1] if self.input_shape[1] is not None else "T"
        out = self.output_shape[0] if self.return_state else self.output_shape
        expression = ("per step: ", *step, " -> ", *named, f"; {steps} steps -> ")
        expression += (Operand("output", out),)
        bias_terms = {0: (), 1: ((u,),), 2: ((2, u),)}[n_bias]
        count = Count(((f, u), (u, u), *bias_terms), gates=g)
        return Algebra(self.input_shape, self.output_shape, expression, count=count)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        kernel_reg, recurrent_reg, bias_reg = self.regularizers
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=kernel_reg,
            recurrent_regularizer=recurrent_reg,
            bias_regularizer=bias_reg,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            **self._dropout_config(),
            **_config.fused_config(self.fused),
        )
        return config


class _Gated(_RNN):
    """LSTM and GRU: a second activation (``recurrent_activation``) for the gates."""

    recurrent_activation = ActivationAttribute()

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = recurrent_activation

    def _activations(self) -> list:
        return [self.activation, self.recurrent_activation]

    def _cell_args(self) -> Dict[str, Any]:
        return {**super()._cell_args(), "recurrent_activation": self.recurrent_activation}

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


class SimpleRNN(_RNN):
    """Fully connected recurrence: ``h_t = act(x_t @ W + h_{t-1} @ U + b)``, h_0 = 0.

    Weights (Keras order): ``kernel [F, u]``, ``recurrent_kernel [u, u]``, ``bias [u]``;
    per step ``[B, F] @ [F, u] + [B, u] @ [u, u] + [u] -> [B, u]``; ``u (F + u + 1)`` parameters.
    In training, ``dropout`` / ``recurrent_dropout`` turn the step into ``act((d * x_t) @ W +
    (m * h_{t-1}) @ U + b)``, masks d ``[B, F]`` and m ``[B, u]`` fixed for the whole sequence.

    >>> SimpleRNN(32, input_shape=(10, 8)).build_for((None, 10, 8))
    (None, 32)
    """

    _cell = staticmethod(simple_rnn_cell)


class LSTM(_Gated):
    """Long short-term memory, gates i, f, c, o side by side (Keras)::

        z = x_t @ W + h_{t-1} @ U + b              [B, F] @ [F, 4u] + [B, u] @ [u, 4u] + [4u]
        i, f, o = ract(z_i), ract(z_f), ract(z_o);  c_t = f * c_{t-1} + i * act(z_c)
        h_t = o * act(c_t)                         [B, u];   4u (F + u + 1) parameters

    ``unit_forget_bias=True`` starts the f slice of the bias at ones (remember by default).
    In training, ``dropout`` turns x_t into ``d * x_t`` and ``recurrent_dropout`` the h_{t-1} that
    U multiplies into ``m * h_{t-1}``; with ``recurrent_dropout > 0`` each gate has its own d_k,
    m_k (Keras 3.8+), else one d serves all four. The masks are fixed for the whole sequence.
    """

    gate_names = ("i", "f", "c", "o")
    n_states = 2
    fused_op = LSTMSequence
    _cell = staticmethod(lstm_cell)

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        unit_forget_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation, recurrent_activation, **kwargs)
        self.unit_forget_bias = self._flag("unit_forget_bias", unit_forget_bias)

    def _bias_init(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def forget_ones(shape, dtype=np.float32):
            parts = [init((u,), dtype=dtype), np.ones(u, dtype), init((2 * u,), dtype=dtype)]
            return np.concatenate([np.asarray(p, dtype) for p in parts])

        return forget_ones

    def _op_kwargs(self, names: list) -> Dict[str, Any]:
        return {**super()._op_kwargs(names), "return_cell": self.return_state}

    def _with_states(self, out: Tensor) -> List[Tensor]:
        """``[output, h_T, c_T]``: with return_state the op puts ``[h | c]`` on the last axis."""
        h, c = out[..., : self.units], out[..., self.units :]
        return [h, self._last(h), self._last(c)]

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_Gated):
    """Gated recurrent unit, gates z, r, h side by side (Keras)::

        z = ract(x_t W_z + h_{t-1} U_z + b);  r = ract(x_t W_r + h_{t-1} U_r + b)
        reset_after=True:  hh = act(x_t W_h + b_h + r * (h_{t-1} U_h + rb_h))
        reset_after=False: hh = act(x_t W_h + (r * h_{t-1}) U_h + b_h)
        h_t = z * h_{t-1} + (1 - z) * hh

    Weights: ``kernel [F, 3u]``, ``recurrent_kernel [u, 3u]``, ``bias [2, 3u]`` (input and
    recurrent biases) with reset_after, else ``[3u]``: ``3u (F + u + 2)`` or ``3u (F + u + 1)``.
    Dropout as in the LSTM: ``d * x_t`` in the x_t products, ``m * h_{t-1}`` wherever U
    multiplies h_{t-1} (not in ``z * h_{t-1}``), one mask per gate when ``recurrent_dropout > 0``.
    """

    gate_names = ("z", "r", "h")
    fused_op = GRUSequence
    _cell = staticmethod(gru_cell)

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation, recurrent_activation, **kwargs)
        self.reset_after = self._flag("reset_after", reset_after)

    def _bias_shape(self) -> Tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _op_kwargs(self, names: list) -> Dict[str, Any]:
        return {**super()._op_kwargs(names), "reset_after": self.reset_after}

    def _cell_args(self) -> Dict[str, Any]:
        return {**super()._cell_args(), "reset_after": self.reset_after}

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}


__all__ = ["SimpleRNN", "LSTM", "GRU"]
