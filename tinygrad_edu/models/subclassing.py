"""Subclassed models: ``class M(Model)`` whose ``__init__`` assigns layers and whose ``call`` is
plain Tensor code - and the contract errors every model kind shares.

Layers assigned as attributes (``self.d1 = Dense(64)``; lists, tuples and dicts of layers too,
nested ones included, and the layers of a model assigned as an attribute) join ``model.layers``
in assignment order (``track_layers``, run by ``Model.__setattr__``) and keep it, as in Keras 3:
``weights``, ``get_weights()``/``set_weights``,
the optimizer's parameters and ``summary()`` list them in the order ``__init__`` assigned them,
not the order ``call`` uses them (``explain`` and ``activations`` show that one), so weights
copied between Keras and us land on the same layers. Attributes whose names start with ``_`` are
not tracked (the model kinds keep their own bookkeeping there). Automatic layer names are made
unique as Keras does (``dense``, ``dense_1``): weights are saved by layer name.

Saving the whole model (``save("m.npz")`` / ``load_model``) works as in Keras 3: the class is
registered (``@register_model_class``, Keras' ``register_keras_serializable``) or passed to
``load_model(path, custom_objects={"Net": Net})``, and ``get_config()`` returns the arguments of
``__init__`` (``{**super().get_config(), "units": self.units}``); ``load_model`` calls
``Net.from_config(config)`` - by default ``Net(**config)`` - builds it for the saved input shape,
then loads the weights (``file_config`` / ``from_file_config``).

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
(['out', 'b1', 'b2'], 41)
>>> [w.shape for w in net.get_weights()]  # out's kernel and bias first, as Keras lists them
[(4, 1), (1,), (3, 4), (4,), (4, 4), (4,)]
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, Iterator, List

import numpy as np

from ..errors import CheckpointError, ConfigError, NotBuiltError, TinygradEduError
from ..layers.base import Layer
from ..summary import weights_without_storage
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
    """The layers in ``value``: itself, or those in a list/tuple/dict or in a model (a model in
    a model: Keras trains, counts and saves its weights in place), nested ones included."""
    if isinstance(value, Layer):
        yield value
    elif hasattr(value, "layer_calls") and isinstance(getattr(value, "layers", None), list):
        yield from layers_in(value.layers)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from layers_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from layers_in(item)


def track_layers(model: Any, name: str, value: Any) -> Any:
    """Add the layers assigned to the public attribute ``name`` to ``model.layers`` (once), an
    automatic name made unique (``dense_1``); a name given twice is refused. Returns the value
    to store: a list or dict comes back as a ``TrackedList``/``TrackedDict``, so layers added
    to it later (``self.blocks.append(Dense(8))``) are tracked too, as Keras 3 tracks them."""
    if name.startswith("_") or name == "layers" or "layers" not in vars(model):
        return value
    _add_layers(model, name, value)
    if type(value) is list:
        return TrackedList(value, model, name)
    if type(value) is dict:
        return TrackedDict(value, model, name)
    return value


def _add_layers(model: Any, name: str, value: Any) -> None:
    for layer in layers_in(value):
        if any(layer is known for known in model.layers):
            continue
        taken = {known.name for known in model.layers}
        if layer.name in taken and getattr(layer, "_auto_name", False):
            root, n = layer.name, 1
            while f"{root}_{n}" in taken:
                n += 1
            layer.name = f"{root}_{n}"
        if layer.name in taken:
            raise ConfigError(
                where=f"model '{model.name}' ({type(model).__name__}).{name}",
                expected="a distinct name per layer (weights are saved by layer name)",
                got=f"a second layer named {layer.name!r}",
                fix=f"give it another name, e.g. Dense(8, name='{layer.name}_2'), or none",
            )
        model.layers.append(layer)


def _track_added(container: Any, value: Any) -> None:
    """Track the layers in ``value``, added to a tracked container - unless the container is
    being rebuilt by copy/pickle (its model not yet restored: those layers are in its list)."""
    model = getattr(container, "_model", None)
    if model is not None and "layers" in vars(model):
        _add_layers(model, container._name, value)


class TrackedList(list):
    """A list assigned to a subclassed model: what ``append``/``extend``/``insert``/``+=``/item
    assignment add is tracked (``_add_layers``). Removing a layer does not untrack it."""

    def __init__(self, items: Any, model: Any, name: str) -> None:
        super().__init__(items)
        self._model, self._name = model, name

    def _track(self, value: Any) -> None:
        _track_added(self, value)

    def append(self, item: Any) -> None:
        self._track(item)
        super().append(item)

    def extend(self, items: Any) -> None:
        items = list(items)
        self._track(items)
        super().extend(items)

    def insert(self, index: Any, item: Any) -> None:
        self._track(item)
        super().insert(index, item)

    def __setitem__(self, index: Any, item: Any) -> None:
        self._track(item)
        super().__setitem__(index, item)

    def __iadd__(self, items: Any) -> TrackedList:
        self.extend(items)
        return self


class TrackedDict(dict):
    """A dict assigned to a subclassed model: values set later are tracked too."""

    def __init__(self, items: Any, model: Any, name: str) -> None:
        super().__init__(items)
        self._model, self._name = model, name

    def __setitem__(self, key: Any, value: Any) -> None:
        _track_added(self, value)
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]


def file_config(model: Any) -> Dict[str, Any]:
    """What ``save`` stores for a subclassed model: ``get_config()`` (the arguments of
    ``__init__``), the input shape it was built for, and the layers' configs (``load_model``
    checks the file's weight names and shapes against them before building)."""
    if not subclassed(type(model)):
        return model.get_config()
    if model.input_shape is None:
        raise not_built(model, "save()")
    arguments = model.get_config()
    cls = type(model)
    try:
        inspect.signature(cls).bind(**arguments)
    except TypeError as err:
        raise ConfigError(
            where=f"model '{model.name}' ({cls.__name__}).save",
            expected=f"get_config() returning the arguments {cls.__name__}(**config) takes "
            "(load_model rebuilds the model that way)",
            got=f"{sorted(arguments)}: {err}",
            fix="def get_config(self): return {**super().get_config(), 'units': self.units}"
            "  # one entry per argument of __init__",
        ) from None
    return {
        "name": model.name,
        "input_shape": list(model.input_shape[1:]),
        "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in model.layers
        ],
        "arguments": arguments,
    }


def subclassed(cls: type) -> bool:
    """A subclassed model: its class defines ``call`` and keeps no layer list of its own
    (``layer_calls`` is ``Model``'s); saved by class name even unregistered, as in Keras."""
    return (
        cls.layer_calls.__qualname__ == "Model.layer_calls"
        and cls.call.__qualname__ != "Model.call"
    )


def from_file_config(cls: type, config: Dict[str, Any], layers: List[Layer]) -> Any:
    """The subclassed model ``file_config`` describes: ``cls.from_config(arguments)``, built for
    the saved input shape. ``layers`` are the saved layer configs rebuilt: when ``load_model``
    gave them placeholder weights (its check before allocating), the model's own layers get
    placeholders too."""
    if not subclassed(cls):
        return cls.from_config(config, layers)
    arguments = config.get("arguments")
    if not isinstance(arguments, dict):
        raise ConfigError(
            where=f"{cls.__name__}.from_file_config",
            expected="the arguments of __init__ as a dict (saved by model.save)",
            got=type(arguments).__name__,
            fix="save the model again: model.save('model.npz')",
        )
    model = cls.from_config(arguments)
    if config.get("input_shape") is not None:
        shape = (None, *config["input_shape"])
        if any("add_weight" in vars(layer) for layer in layers):  # the placeholder pass
            with weights_without_storage(model.layers):
                model.build(shape)
        else:
            model.build(shape)
        _check_saved_order(model, [layer.name for layer in layers], arguments, shape)
    return model


def _check_saved_order(model: Any, saved: List[str], arguments: Any, shape: tuple) -> None:
    """Refuse a file whose layers (those with weights) are listed in another order than
    ``model.layers``: its optimizer state is stored by weight position, so it would land on the
    wrong weights. Files written before layers kept their assignment order list them in call
    order; the weights themselves are stored by name and still load with ``load_weights``."""
    ours = [layer.name for layer in model.layers if layer.weights]
    theirs = [name for name in saved if name in ours]
    if theirs != ours:
        cls = type(model).__name__
        raise CheckpointError(
            where=f"load_model: {cls} '{model.name}'",
            expected=f"the layers in the order {cls}.__init__ assigns them: {ours} "
            "(the optimizer state follows that order)",
            got=f"{theirs} (saved in call order, before the order followed Keras, "
            f"or {cls}.__init__ changed since)",
            fix=f"model = {cls}.from_config({arguments!r}); model.build({shape}); "
            "model.load_weights(path)  # the weights, by name, without the optimizer state",
        )


def remember_input_shape(model: Any, x: Any) -> None:
    """After a subclassed model's first call on data, its input shape (batch axis None), so
    that ``save`` can rebuild it: Keras 3 builds a subclassed model by calling it."""
    shape = getattr(x, "shape", None)
    if subclassed(type(model)) and isinstance(shape, tuple) and len(shape) >= 1:
        model.input_shape = (None, *shape[1:])


def build_by_calling(model: Any, input_shape: Any) -> None:
    """Build a subclassed model by one forward pass on a zero batch of ``input_shape`` (batch
    axis None or a size). ``model.layers`` keeps its assignment order (Keras' weight order)."""
    shape = tuple(input_shape)
    with no_grad():
        model.call(np.zeros((1, *shape[1:]), dtype=np.float32), training=False)
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



__all__ = [
    "ModelContractError",
    "build_by_calling",
    "file_config",
    "from_file_config",
    "layers_in",
    "missing",
    "not_built",
    "subclassed",
    "track_layers",
]
