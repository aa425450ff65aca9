"""Subclassed models: ``class M(Model)`` whose ``__init__`` assigns layers and whose ``call`` is
plain Tensor code - and the contract errors every model kind shares.

Layers assigned as attributes (``self.d1 = Dense(64)``; lists, tuples and dicts of layers too,
nested ones included) join ``model.layers`` in assignment order (``track_layers``, run by
``Model.__setattr__``); the first forward pass (``build_by_calling``, run by ``fit`` or
``model.build``) reorders them into the order ``call`` uses them, so ``summary()`` and
``get_weights()`` follow the computation. Attributes whose names start with ``_`` are not tracked
(the model kinds keep their own bookkeeping there).

>>> import numpy as np
>>> from tinygrad_edu.layers import Dense
>>> from tinygrad_edu.models import Model
>>> class Net(Model):
...     def __init__(self):
...         super().__init__()
...         self.out = Dense(1, name="out")
...         self.blocks = [Dense(4, name="b1"), [Dense(4, name="b2")]]
...     def call(self, x, training=False):
...         for block in (self.blocks[0], self.blocks[1][0]):
...             x = block(x).relu()
...         return self.out(x)
>>> net = Net()
>>> [layer.name for layer in net.layers]
['out', 'b1', 'b2']
>>> net.build((None, 3)); [layer.name for layer in net.layers], net.count_params()
(['b1', 'b2', 'out'], 41)
"""

from __future__ import annotations

from typing import Any, Iterator, List

import numpy as np

from ..errors import NotBuiltError, TinygradEduError
from ..layers.base import Layer
from ..tensor import no_grad


class ModelContractError(TinygradEduError, NotImplementedError):
    """A ``Model`` subclass lacks a method of the contract that was just needed."""


def missing(model: Any, signature: str, what: str) -> ModelContractError:
    """The error for a contract method ``signature`` that ``model``'s class does not define."""
    return ModelContractError(
        where=f"model '{model.name}' ({type(model).__name__})",
        expected=f"a method {signature} of the Model contract",
        got="none defined",
        fix=f"define {signature} in {type(model).__name__}: {what}",
    )


def not_built(model: Any, what: str) -> NotBuiltError:
    return NotBuiltError(
        where=f"model '{model.name}'",
        expected=f"a built model for {what}",
        got="layers without an input shape",
        fix="give the first layer input_shape=(...), start with Input(shape=...), "
        "or call the model on data first",
    )


def layers_in(value: Any) -> Iterator[Layer]:
    """The layers in ``value``: itself, or those in a list/tuple/dict, nested ones included."""
    if isinstance(value, Layer):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from layers_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from layers_in(item)


def track_layers(model: Any, name: str, value: Any) -> None:
    """Add the layers assigned to the public attribute ``name`` to ``model.layers`` (once)."""
    if name.startswith("_") or name == "layers" or "layers" not in vars(model):
        return
    for layer in layers_in(value):
        if all(layer is not known for known in model.layers):
            model.layers.append(layer)


def build_by_calling(model: Any, input_shape: Any) -> None:
    """Build a subclassed model by one forward pass on a zero batch of ``input_shape`` (batch
    axis None or a size), and put ``model.layers`` in the order ``call`` first used them."""
    shape = tuple(input_shape)
    order: List[Layer] = []
    for layer in model.layers:
        layer.build = _noting(layer, order)  # an instance attribute: removed below
    try:
        with no_grad():
            model.call(np.zeros((1, *shape[1:]), dtype=np.float32), training=False)
    finally:
        for layer in model.layers:
            vars(layer).pop("build", None)
    unused = [layer for layer in model.layers if all(layer is not u for u in order)]
    model.layers[:] = order + unused
    model.input_shape = (None, *shape[1:])


def recorded_calls(model: Any, x: Any, training: Any = None) -> List[tuple]:
    """``(layer, input, output)`` for every call of a tracked layer during ``model.call(x)``, in
    the order they ran (each layer's ``call`` is wrapped for that one pass)."""
    calls: List[tuple] = []
    for layer in model.layers:
        layer.call = _recording(layer, calls)  # an instance attribute: removed below
    try:
        model.call(x, training=training)
    finally:
        for layer in model.layers:
            vars(layer).pop("call", None)
    return calls


def _recording(layer: Layer, calls: List[tuple]) -> Any:
    call = layer.call  # the class's call, bound to this layer

    def recording_call(x: Any, training: Any = False) -> Any:
        out = call(x, training=training)
        calls.append((layer, x, out))
        return out

    return recording_call


def _noting(layer: Layer, order: List[Layer]) -> Any:
    build = layer.build  # the class's build, bound to this layer

    def noting_build(input_shape: Any) -> None:
        if all(layer is not known for known in order):
            order.append(layer)
        build(input_shape)

    return noting_build


__all__ = [
    "ModelContractError",
    "build_by_calling",
    "layers_in",
    "missing",
    "not_built",
    "track_layers",
]
