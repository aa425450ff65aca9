"""``Sequential``: layers applied one after another, Keras-style and PyTorch-style.

With an input shape on the first layer (``input_shape=``/``input_dim=``/``Input(shape=...)``),
every layer is built at construction by following the shapes - so ``summary()`` works before any
data is seen. Otherwise layers build on the first call. Training, inference, weights, saving and
description come from ``Model``; this class fulfils its contract for a stack of layers.

>>> from tinygrad_edu.layers import Dense
>>> model = Sequential([Dense(32, activation="relu", input_shape=(784,)), Dense(10)])
>>> model.count_params()                 # (784*32 + 32) + (32*10 + 10)
25450
>>> model.predict(np.zeros((2, 784))).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import ConfigError, NotBuiltError, ShapeError
from ..layers.base import Layer
from ..layers.recognizers import check_next_layer
from ..saving import register_model_class
from ..tensor import Tensor
from .base import Model


@register_model_class
class Sequential(Model):
    """A linear stack of layers: ``out = layer_n(... layer_2(layer_1(x)))``."""

    def __init__(
        self, layers: Optional[Iterable[Layer]] = None, name: Optional[str] = None
    ) -> None:
        super().__init__(name=name)
        _check_layers_argument(layers)
        self._names = _LayerNames()
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    def add(self, layer: Layer) -> None:
        """Append a layer (named uniquely within the model) and build it if shapes are known.

        Constant work per call (the names in use and the previous layer's output shape are kept),
        so a model of n layers is built in O(n). A layer that cannot be built is not added.
        """
        if not isinstance(layer, Layer):
            raise ConfigError(
                where=f"model '{self.name}'.add",
                expected="a Layer instance",
                got=type(layer).__name__,
                fix="pass a layer object, e.g. Dense(32) (note the parentheses)",
            )
        if getattr(layer, "is_input", False):
            if self.layers:
                raise ConfigError(
                    where=f"model '{self.name}'",
                    expected="Input(...) first",
                    got=f"Input after {len(self.layers)} layers",
                    fix="put Input(shape=...) at the start of the list",
                )
            self.input_shape = layer._declared_input_shape
            return
        several = {"return_state": True, "merge_mode": None}  # [output, *states], [fwd, bwd]
        for arg, value in several.items():
            if hasattr(layer, arg) and getattr(layer, arg) is value:
                raise ConfigError(
                    where=f"model '{self.name}'.add",
                    expected="layers with one output",
                    got=f"{layer.where} with {arg}={value} (it returns a list)",
                    fix=f"Sequential passes one tensor from layer to layer: drop {arg}={value}, "
                    "or call the layer yourself and pick the outputs",
                )
        names = self._layer_names().synced_with(self.layers)
        if layer._auto_name:
            layer.name = names.free_name(layer.name)
        elif layer.name in names:
            raise ConfigError(
                where=f"model '{self.name}'.add",
                expected="unique layer names",
                got=f"a second layer named '{layer.name}'",
                fix="give it another name=..., or leave name out for an automatic one",
            )
        check_next_layer(self.layers, layer)  # the mistakes the pair shows, before the build
        if not self.layers and self.input_shape is None:
            self.input_shape = layer._declared_input_shape
        if self.input_shape is not None:
            self._build_next(layer)
        self.layers.append(layer)
        names.added(self.layers)

    def pop(self) -> Layer:
        """Remove the last layer and return it (Keras 3); the layer before it gives the output
        now, e.g. to put a new head on a trained stack. The optimizer is handed the remaining
        weights at the next fit."""
        if not self.layers:
            raise ConfigError(
                where=f"model '{self.name}'.pop",
                expected="a model with at least one layer",
                got="no layers",
                fix="add layers first: model.add(Dense(10))",
            )
        layer = self.layers.pop()
        self._layer_names().synced_with(self.layers)
        return layer

    def _layer_names(self) -> _LayerNames:
        if getattr(self, "_names", None) is None:  # e.g. a model made without __init__
            self._names = _LayerNames()
        return self._names

    def _build_next(self, layer: Layer) -> None:
        """Build ``layer`` for the output of the last layer (the whole chain only when some
        earlier layer is not built yet)."""
        previous = self.layers[-1] if self.layers else None
        if previous is None:
            layer.build_for(self.input_shape)
        elif previous.built:
            layer.build_for(previous.output_shape)
        else:
            layer.build_for(self._build_chain(self.input_shape))

    def _build_chain(self, input_shape: Sequence[Optional[int]]) -> tuple:
        """Build every layer from the input shape alone; return the model's output shape."""
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.build_for(shape)
        return shape

    def build(self, input_shape: Optional[Sequence[Optional[int]]] = None) -> None:
        """Build every layer for ``input_shape`` (batch axis included, may be None)."""
        shape = self.input_shape if input_shape is None else input_shape
        if shape is not None and (
            isinstance(shape, (str, bytes))
            or not all(d is None or isinstance(d, (int, np.integer)) for d in shape)
        ):
            raise ConfigError(
                where=f"model '{self.name}'.build",
                expected="a shape tuple with the batch axis, e.g. (None, 784)",
                got=repr(input_shape),
                fix="model.build((None, 784))",
            )
        shape = None if shape is None else tuple(shape)
        if shape is None:
            raise NotBuiltError(
                where=f"model '{self.name}'",
                expected="an input shape",
                got="none",
                fix="model.build((None, 784)) or input_shape=(784,)",
            )
        shape = (None, *shape[1:])
        first = self.layers[0] if self.layers else None
        if (
            first is not None
            and first.built
            and not (
                len(first.input_shape) == len(shape)
                and all(a is None or b is None or a == b for a, b in zip(first.input_shape, shape))
            )
        ):
            raise ShapeError(
                where=f"model '{self.name}'.build",
                expected=f"input shape {first.input_shape} (the model is built for it)",
                got=str(shape),
                fix="a built model keeps its input shape: make a new "
                "model (new layers) for inputs of another shape",
            )
        self.input_shape = shape
        self._build_chain(shape)

    @property
    def output_shape(self) -> Optional[tuple]:
        return self.layers[-1].output_shape if self.built else None

    def accept_input_shape(self, shape: Tuple[int, ...]) -> None:
        """The first layer's check of the input shape (skipped for the shape accepted last)."""
        if self.layers:
            self.layers[0].accept_input_shape(shape)

    # ------------------------------------------------------------------ running
    def call(self, x: Any, training: Optional[bool] = None) -> Tensor:
        if not self.layers:
            self._require_layers()  # raises
        for layer in self.layers:
            x = layer(x, training=training)
        if self.input_shape is None:
            self.input_shape = self.layers[0].input_shape
        return x

    def layer_calls(self, x: Any, training: Optional[bool] = None) -> Iterator[tuple]:
        """``(layer, input, output)`` for each layer in turn."""
        self._require_layers()
        for layer in self.layers:
            out = layer(x, training=training)
            yield layer, x, out
            x = out

    def _require_layers(self) -> None:
        if not self.layers:
            raise NotBuiltError(
                where=f"model '{self.name}'",
                expected="at least one layer",
                got="an empty model",
                fix="model.add(Dense(...))",
            )

    # ------------------------------------------------------------------ config
    def get_config(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": None if self.input_shape is None else list(self.input_shape[1:]),
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
        }

    @classmethod
    def from_config(cls, config: Dict[str, Any], layers: List[Layer]) -> Sequential:
        """The model of ``get_config()``, from its rebuilt layers (used by ``load_model``)."""
        model = cls(layers, name=config.get("name"))
        if config.get("input_shape") is not None and not model.built:
            model.build((None, *config["input_shape"]))
        return model


class _LayerNames:
    """The layer names in use in a model, and per name root the next suffix to try: finding a
    free automatic name is O(1) amortized instead of a scan over every layer.

    ``synced_with`` notices a ``model.layers`` list changed behind the model's back (replaced,
    shortened, or its last layer swapped) and re-reads the names then; a layer renamed after it
    was added is not noticed (rename layers before adding them).
    """

    def __init__(self) -> None:
        self._taken: set = set()
        self._next_suffix: Dict[str, int] = {}
        self._seen: tuple = (None, 0, None)

    def synced_with(self, layers: List[Layer]) -> _LayerNames:
        if self._seen != _list_identity(layers):
            self._taken = {layer.name for layer in layers}
            self._next_suffix = {}
            self._seen = _list_identity(layers)
        return self

    def __contains__(self, name: str) -> bool:
        return name in self._taken

    def free_name(self, base: str) -> str:
        """``base`` without a numeric suffix if free, else the first free ``root_i``."""
        stem, _, suffix = base.rpartition("_")
        root = stem if stem and suffix.isdigit() else base
        if root not in self._taken:
            return root
        i = self._next_suffix.get(root, 1)
        while f"{root}_{i}" in self._taken:
            i += 1
        self._next_suffix[root] = i + 1
        return f"{root}_{i}"

    def added(self, layers: List[Layer]) -> None:
        self._taken.add(layers[-1].name)
        self._seen = _list_identity(layers)


def _list_identity(layers: List[Layer]) -> tuple:
    return (id(layers), len(layers), id(layers[-1]) if layers else None)


def _check_layers_argument(layers: Any) -> None:
    if layers is None:
        return
    if isinstance(layers, (Layer, str, bytes)) or not hasattr(layers, "__iter__"):
        raise ConfigError(
            where="Sequential()",
            expected="a list of layers",
            got=type(layers).__name__,
            fix="wrap the layers in a list: Sequential([Dense(32), Dense(10)])",
        )


__all__ = ["Sequential"]
