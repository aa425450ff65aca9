"""Layers that wrap another layer (Keras' ``layers/rnn/bidirectional.py`` and
``layers/core/time_distributed.py``): ``Bidirectional`` and ``TimeDistributed``.

``Bidirectional(layer)`` runs two copies of a recurrent layer over the sequence: the forward copy
reads x_1 .. x_T, the backward copy (the same config with ``go_backwards=True``; a layer given
already reading backwards is refused) reads x_T .. x_1.
With ``return_sequences=True`` the backward copy returns its outputs in processing
order, so they are reversed back in time before merging, as Keras does: step t then pairs the
forward state after x_1..x_t with the backward state after x_T..x_t. Weights: the forward
layer's, then the backward layer's (twice the layer's parameters).

``TimeDistributed(layer)`` applies one layer (one set of weights) to every time slice:
``[B, T, ...] -> [B*T, ...] -> layer -> [B, T, ...]``.

>>> import numpy as np
>>> from tinygrad_edu.layers import LSTM, Dense
>>> bi = Bidirectional(LSTM(8, return_sequences=True))
>>> bi(np.zeros((2, 5, 3))).shape, bi.count_params()     # concat: 2 x 4*8*(3 + 8 + 1)
((2, 5, 16), 768)
>>> TimeDistributed(Dense(4))(np.zeros((2, 5, 3))).shape
(2, 5, 4)
"""

from __future__ import annotations

import sys
from typing import Any

from .. import validation as check
from ..errors import ConfigError
from ..functional import concatenate
from ..tensor import Tensor
from .algebra import Algebra, Count, Operand
from .base import Layer, Shape
from .recurrent import _RNN

MERGE_MODES = ("concat", "sum", "mul", "ave")


def _library_layer_class(name: Any, where: str) -> type:
    """The library layer class called ``name`` (a subclass of Layer exported by a module of
    tinygrad_edu.layers): the nested configs rebuild only those, never an arbitrary class."""
    found, stack = {}, list(Layer.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        module = sys.modules.get(cls.__module__)
        if cls.__module__.startswith("tinygrad_edu.layers.") and cls.__name__ in getattr(
            module, "__all__", ()
        ):
            found[cls.__name__] = cls
    if name not in found:
        raise ConfigError(
            where=where,
            expected="the config of a tinygrad_edu layer: {'class_name': ..., 'config': {...}}",
            got=check.describe(name),
            fix="Bidirectional.from_config(Bidirectional(LSTM(8)).get_config())",
        )
    return found[name]


def layer_from_spec(spec: Any, where: str) -> Layer:
    """A Layer as given, or rebuilt from ``{"class_name": ..., "config": {...}}``."""
    if isinstance(spec, Layer):
        return spec
    if not (isinstance(spec, dict) and isinstance(spec.get("config"), dict)):
        raise ConfigError(
            where=where,
            expected="a layer instance",
            got=check.describe(spec),
            fix="Bidirectional(LSTM(32)) or TimeDistributed(Dense(8))",
        )
    return _library_layer_class(spec.get("class_name"), where).from_config(dict(spec["config"]))


def layer_spec(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


class _Wrapper(Layer):
    """What both wrappers share: inner layers whose weights are this layer's, in order."""

    def _inner(self) -> list[Layer]:
        raise NotImplementedError

    def _adopt_weights(self) -> None:
        """Make the built inner layers' weights this layer's (the same Tensors), prefixed by
        the inner layer's name so that a model's weight names stay unique."""
        for inner in self._inner():
            self._weights += inner.weights
            self._weight_names += [f"{inner.name}/{n}" for n in inner.weight_names]
            self._weight_trainable += list(inner._weight_trainable)

    def _set_trainable(self, value: bool) -> None:
        """Freezing a wrapper freezes its inner layers, as Keras sets ``trainable`` on every
        sublayer: an inner BatchNormalization then runs in inference mode."""
        Layer.trainable.fset(self, value)
        for inner in self._inner():
            inner.trainable = self._trainable

    trainable = property(Layer.trainable.fget, _set_trainable)

    def cast(self, dtype: Any) -> Layer:
        super().cast(dtype)
        for inner in self._inner():
            inner.dtype = self.dtype  # the tensors themselves were cast above
        return self

    def regularization_losses(self) -> list[Tensor]:
        losses = [loss for inner in self._inner() for loss in inner.regularization_losses()]
        return losses + super().regularization_losses()


class Bidirectional(_Wrapper):
    """A recurrent layer run both ways, the two outputs merged (Keras' ``Bidirectional``).

    ``merge_mode``: ``"concat"`` (``[y_fwd | y_bwd]``, twice the units), ``"sum"``, ``"mul"``,
    ``"ave"`` (element-wise), or ``None`` (the list ``[y_fwd, y_bwd]``). ``backward_layer``: a
    layer to use as the backward copy (it must read the other way and match return_sequences
    and return_state). With ``return_state=True`` on the layer the output is, as in Keras, the
    list ``[merged, *forward states, *backward states]`` (LSTM: ``[y, h_f, c_f, h_b, c_b]``).

    As in Keras, the backward copy always reads backwards, so a layer given with
    ``go_backwards=True`` and no ``backward_layer`` is refused (both copies would read the same
    way). Masking (``Embedding(mask_zero=True)``) is refused by ``Embedding``, as for the
    recurrent layers, and ``stateful=True`` by the recurrent layer itself: neither is implemented.
    """

    expected_ndim = 3
    example_input_shape = (20, 1)

    def __init__(
        self,
        layer: Any,
        merge_mode: str | None = "concat",
        backward_layer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        layer = self._recurrent(layer_from_spec(layer, self.where), "layer")
        self.layer = layer  # the layer as given, for get_config (Keras keeps it too)
        self.merge_mode = None
        if merge_mode is not None:
            self.merge_mode = check.choice(
                "merge_mode", merge_mode, MERGE_MODES, self.where, self.example(merge_mode="sum")
            )
        self.forward_layer = self._copy(layer, "forward", layer.go_backwards)
        self._backward_arg = None
        if backward_layer is None:  # Keras: the copy reads backwards, whatever the layer does
            self.backward_layer = self._copy(layer, "backward", True)
        else:
            self._backward_arg = self._recurrent(
                layer_from_spec(backward_layer, self.where), "backward_layer"
            )
            self.backward_layer = self._copy(
                self._backward_arg, "backward", self._backward_arg.go_backwards
            )
        self._check_pair()
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def example(self, **keywords: Any) -> str:
        named = "".join(f", {k}={v!r}" for k, v in keywords.items())
        return f"Bidirectional(LSTM(32){named})"

    def _recurrent(self, layer: Layer, name: str) -> _RNN:
        if not isinstance(layer, _RNN):
            raise ConfigError(
                where=self.where,
                expected=f"{name} as a SimpleRNN, LSTM or GRU",
                got=check.describe(layer),
                fix=self.example(),
            )
        return layer

    def _copy(self, layer: _RNN, prefix: str, go_backwards: bool) -> _RNN:
        """A new layer of the same config, named ``forward_lstm`` / ``backward_lstm``."""
        config = {**layer.get_config(), "go_backwards": go_backwards}
        config["name"] = f"{prefix}_{layer.name.removeprefix(prefix + '_')}"
        return type(layer).from_config(config)

    def _check_pair(self) -> None:
        fwd, bwd = self.forward_layer, self.backward_layer
        same = ("return_sequences", "return_state")
        if fwd.go_backwards == bwd.go_backwards or any(
            getattr(fwd, a) != getattr(bwd, a) for a in same
        ):
            raise ConfigError(
                where=self.where,
                expected="a backward_layer that reads the other way (go_backwards flipped) "
                "with the same return_sequences and return_state",
                got=", ".join(
                    f"{a} {getattr(fwd, a)}/{getattr(bwd, a)}" for a in ("go_backwards", *same)
                ),
                fix="Bidirectional(LSTM(32))  # the layer reads forwards; its copy backwards"
                if self._backward_arg is None
                else "Bidirectional(LSTM(32), backward_layer=LSTM(32, go_backwards=True))",
            )

    def _inner(self) -> list[Layer]:
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape: Shape) -> None:
        self.forward_layer.build(input_shape)
        self.backward_layer.build(input_shape)
        self._adopt_weights()

    def compute_output_shape(self, input_shape: Shape) -> Shape | list[Shape]:
        """The forward layer's shape; ``concat`` adds the backward units on the last axis."""
        fwd, *fwd_states = self._listed(self.forward_layer.compute_output_shape(input_shape))
        bwd, *bwd_states = self._listed(self.backward_layer.compute_output_shape(input_shape))
        if self.merge_mode is None:
            merged = [tuple(fwd), tuple(bwd)]
        elif self.merge_mode == "concat":
            merged = [(*fwd[:-1], fwd[-1] + bwd[-1])]
        else:
            merged = [tuple(fwd)]
        outputs = merged + [tuple(s) for s in fwd_states + bwd_states]
        return outputs[0] if len(outputs) == 1 else outputs

    def _listed(self, output: Any) -> list:
        """An inner layer's output (or shape) as ``[output, *states]``."""
        return list(output) if self.return_state else [output]

    def call(self, x: Tensor, training: bool = False) -> Tensor | list[Tensor]:
        y, *fwd_states = self._listed(self.forward_layer(x, training=training))
        y_rev, *bwd_states = self._listed(self.backward_layer(x, training=training))
        if self.return_sequences:
            y_rev = y_rev.flip(1)  # processing order -> time order
        outputs = [*self._merge(y, y_rev), *fwd_states, *bwd_states]
        return outputs[0] if len(outputs) == 1 else outputs

    def _merge(self, y: Tensor, y_rev: Tensor) -> list[Tensor]:
        if self.merge_mode == "concat":
            return [concatenate([y, y_rev], axis=-1)]
        if self.merge_mode == "sum":
            return [y + y_rev]
        if self.merge_mode == "mul":
            return [y * y_rev]
        if self.merge_mode == "ave":
            return [(y + y_rev) * 0.5]
        return [y, y_rev]

    def algebra(self) -> Algebra:
        """The forward layer's step, then ``backward: the same, x reversed in time``, then the
        merge; the count is the layer's, for 2 directions."""
        inner = self.forward_layer.algebra()
        merged = {
            "concat": "[fwd | bwd]",
            "sum": "fwd + bwd",
            "mul": "fwd * bwd",
            "ave": "(fwd + bwd) / 2",
            None: "[fwd, bwd]",
        }[self.merge_mode]
        several = self.merge_mode is None or self.return_state  # a tuple of shapes
        shapes = self.output_shape if several else [self.output_shape]
        outputs: tuple = ()
        for shape in shapes:
            outputs += ((", ",) if outputs else ()) + (Operand("output", shape),)
        expression = (
            "forward: ",
            *inner.expression,
            (f"; backward: the same on x reversed in time; merge {merged} -> "),
            *outputs,
        )
        count = Count(tuple((2, *t) for t in inner.count.terms), gates=inner.count.gates)
        return Algebra(self.input_shape, self.output_shape, expression, count=count)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(layer=layer_spec(self.layer), merge_mode=self.merge_mode)
        config["backward_layer"] = (
            None if self._backward_arg is None else layer_spec(self._backward_arg)
        )
        return config


class TimeDistributed(_Wrapper):
    """One layer applied to every time slice: ``[B, T, ...] -> [B*T, ...] -> layer -> back``;
    the parameters are the inner layer's."""

    min_ndim = 3
    feature_axis = None  # the inner layer checks its own
    example_input_shape = (10, 8)

    def __init__(self, layer: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layer = layer_from_spec(layer, self.where)

    def example(self, **keywords: Any) -> str:
        named = "".join(f", {k}={v!r}" for k, v in keywords.items())
        return f"TimeDistributed(Dense(8){named})"

    def _inner(self) -> list[Layer]:
        return [self.layer]

    def build(self, input_shape: Shape) -> None:
        self.layer.build((None, *input_shape[2:]))
        self._adopt_weights()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        inner = tuple(self.layer.compute_output_shape((None, *input_shape[2:])))
        return (input_shape[0], input_shape[1], *inner[1:])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        b, t = x.shape[0], x.shape[1]
        y = self.layer(x.reshape(b * t, *x.shape[2:]), training=training)
        return y.reshape(b, t, *y.shape[1:])

    def algebra(self) -> Algebra:
        inner = self.layer.algebra()
        t = self.input_shape[1] if self.input_shape[1] is not None else "T"
        expression = (
            f"each of {t} steps: ",
            *inner.expression,
            " -> ",
            Operand("output", self.output_shape),
        )
        return Algebra(
            self.input_shape, self.output_shape, expression, inner.activation, inner.count
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": layer_spec(self.layer)}


__all__ = ["Bidirectional", "TimeDistributed"]
