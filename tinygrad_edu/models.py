"""``Sequential``: layers applied one after another, Keras-style and PyTorch-style.

With an input shape on the first layer (``input_shape=``/``input_dim=``/``Input(shape=...)``),
every layer is built at construction by following the shapes - so ``summary()`` works before any
data is seen. Otherwise layers build on the first call.

>>> from tinygrad_edu.layers import Dense
>>> model = Sequential([Dense(32, activation="relu", input_shape=(784,)), Dense(10)])
>>> model.count_params()                 # (784*32 + 32) + (32*10 + 10)
25450
>>> model.predict(np.zeros((2, 784))).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np

from . import summary as _summary
from ._shapes import as_numeric_array
from .errors import ConfigError, DataError, NotBuiltError, ShapeError
from .layers.base import Layer
from .tensor import Tensor, no_grad
from .training import TrainingMixin, check_batch_size


class Sequential(TrainingMixin):
    """A linear stack of layers: ``out = layer_n(... layer_2(layer_1(x)))``."""

    def __init__(
        self, layers: Optional[Iterable[Layer]] = None, name: Optional[str] = None
    ) -> None:
        _check_constructor_arguments(layers, name)
        self.name = name or "sequential"
        self.layers: List[Layer] = []
        self.input_shape: Optional[tuple] = None
        self._names = _LayerNames()
        super().__init__()
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
        if getattr(layer, "return_state", False):
            raise ConfigError(
                where=f"model '{self.name}'.add",
                expected="layers with one output",
                got=f"{layer.where} with return_state=True (it returns [output, *states])",
                fix="Sequential passes one tensor from layer to layer: drop return_state=True, "
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
        if not self.layers and self.input_shape is None:
            self.input_shape = layer._declared_input_shape
        if self.input_shape is not None:
            self._build_next(layer)
        self.layers.append(layer)
        names.added(self.layers)

    def _layer_names(self) -> "_LayerNames":
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
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    # ------------------------------------------------------------------ running
    def __call__(self, x: Any, training: Optional[bool] = None) -> Tensor:
        if not self.layers:
            raise NotBuiltError(
                where=f"model '{self.name}'",
                expected="at least one layer",
                got="an empty model",
                fix="model.add(Dense(...))",
            )
        for layer in self.layers:
            x = layer(x, training=training)
        if self.input_shape is None:
            self.input_shape = self.layers[0].input_shape
        return x

    def train(self, mode: bool = True) -> "Sequential":
        """PyTorch-style: make Dropout/BatchNormalization behave as in training by default."""
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self) -> "Sequential":
        """PyTorch-style: inference behaviour (no dropout, moving statistics)."""
        return self.train(False)

    def predict(self, x: Any, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """Outputs for every sample of ``x`` (inference mode, no graph), in batches."""
        x = self._check_x(x, "predict")
        check_batch_size(batch_size, "predict")
        with no_grad():
            outs = [
                self(x[i : i + batch_size], training=False).data
                for i in range(0, len(x), batch_size)
            ]
        return np.concatenate(outs, axis=0)

    def _check_x(self, x: Any, where: str) -> np.ndarray:
        """Inputs as an array, refused early with a teaching error when unusable."""
        arr = (
            x.data if isinstance(x, Tensor) else as_numeric_array(x, f"model '{self.name}'.{where}")
        )
        if arr.ndim == 0 or len(arr) == 0:
            raise DataError(
                where=f"model '{self.name}'.{where}",
                expected="at least one sample (batch axis first)",
                got=f"shape {arr.shape}",
                fix="check how x was built or sliced",
            )
        if self.layers:
            self.layers[0].accept_input_shape(arr.shape)
        return arr

    # ------------------------------------------------------------------ weights
    def _require_built(self, what: str) -> None:
        if not self.built:
            raise NotBuiltError(
                where=f"model '{self.name}'",
                expected=f"a built model for {what}",
                got="layers without an input shape",
                fix="give the first layer input_shape=(...), start with Input(shape=...), "
                "or call the model on data first",
            )

    @property
    def weights(self) -> List[Tensor]:
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> List[Tensor]:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> List[Tensor]:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def parameters(self) -> List[Tensor]:
        """Trainable weight tensors, for ``Adam(model.parameters())`` (PyTorch style)."""
        self._require_built("parameters()")
        return self.trainable_weights

    def named_weights(self) -> Dict[str, Tensor]:
        """``{"dense/kernel": tensor, ...}`` in Keras order (used by save/load)."""
        return {
            f"{layer.name}/{n}": w
            for layer in self.layers
            for n, w in zip(layer.weight_names, layer.weights)
        }

    def count_params(self) -> int:
        self._require_built("count_params()")
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> List[np.ndarray]:
        """Every weight array, layer by layer, in Keras' order and layouts."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        self._require_built("set_weights()")
        if isinstance(weights, (np.ndarray, str, bytes)) or not hasattr(weights, "__iter__"):
            raise DataError(
                where=f"model '{self.name}'.set_weights",
                expected="a list of arrays",
                got=type(weights).__name__,
                fix="pass the list get_weights() returns",
            )
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ShapeError(
                where=f"model '{self.name}'.set_weights",
                expected=f"{expected} arrays",
                got=f"{len(weights)} arrays",
                fix="pass the list model.get_weights() returns",
            )
        arrays = [as_numeric_array(w, f"model '{self.name}'.set_weights") for w in weights]
        expected_shapes = [
            (layer, name, w.data.shape)
            for layer in self.layers
            for name, w in zip(layer.weight_names, layer.weights)
        ]
        for (layer, name, shape), new in zip(expected_shapes, arrays):  # all checked first
            if new.shape != shape:
                raise ShapeError(
                    where=layer.where,
                    expected=f"{name} of shape {shape}",
                    got=str(new.shape),
                    fix="weights follow Keras' layouts; pass what get_weights() returns",
                )
        for layer in self.layers:
            n = len(layer.weights)
            layer.set_weights(arrays[:n])
            arrays = arrays[n:]

    def regularization_losses(self) -> List[Tensor]:
        return [p for layer in self.layers for p in layer.regularization_losses()]

    # ------------------------------------------------------------------ teaching
    def explain(self, x: Any, print_fn=print) -> list:
        """Run a real batch and print, per layer, the operation with its real shapes (see
        ``tinygrad_edu.explain.trace``); returns the same as data."""
        from .explain import trace

        return trace(self, x, print_fn=print_fn)

    def activations(self, x: Any) -> Dict[str, np.ndarray]:
        """Every layer's output for ``x`` (inference mode), by layer name."""
        x = self._check_x(x, "activations")
        out: Dict[str, np.ndarray] = {}
        with no_grad():
            h: Any = x
            for layer in self.layers:
                h = layer(h, training=False)
                out[layer.name] = h.data
        return out

    # ------------------------------------------------------------------ saving
    def save(self, path: str) -> None:
        """Architecture + weights + optimizer state in one ``.npz``, written atomically."""
        from .saving import save_model

        save_model(self, path)

    def save_weights(self, path: str) -> None:
        """Only the weights (by layer/weight name), written atomically."""
        from .saving import save_weights

        save_weights(self, path)

    def load_weights(self, path: str) -> None:
        """Load weights saved by ``save_weights``/``save``; mismatches raise ``CheckpointError``
        listing missing, unexpected and mis-shaped weights."""
        from .saving import load_weights

        load_weights(self, path)

    # ------------------------------------------------------------------ describing
    def summary(
        self, print_fn=None, line_length: Optional[int] = None, show_algebra: bool = True
    ) -> None:
        """Print Keras' summary table plus the algebra column (see ``tinygrad_edu.summary``)."""
        _summary.print_summary(
            self, print_fn=print_fn, line_length=line_length, show_algebra=show_algebra
        )

    def get_config(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": None if self.input_shape is None else list(self.input_shape[1:]),
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
        }

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={[layer.name for layer in self.layers]}>"


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

    def synced_with(self, layers: List[Layer]) -> "_LayerNames":
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


def _check_constructor_arguments(layers: Any, name: Any) -> None:
    if name is not None and not isinstance(name, str):
        raise ConfigError(
            where="Sequential()",
            expected="name as a str (or None)",
            got=type(name).__name__,
            fix="Sequential([...], name='classifier')",
        )
    if layers is None:
        return
    if (
        isinstance(layers, Layer)
        or isinstance(layers, (str, bytes))
        or not hasattr(layers, "__iter__")
    ):
        raise ConfigError(
            where="Sequential()",
            expected="a list of layers",
            got=type(layers).__name__,
            fix="wrap the layers in a list: Sequential([Dense(32), Dense(10)])",
        )


def load_model(path: str, compile: bool = True) -> "Sequential":
    """Rebuild a model saved with ``model.save(path)`` (never unpickles anything); see
    ``tinygrad_edu.saving.load_model``."""
    from .saving import load_model as _load

    return _load(path, compile=compile)


__all__ = ["Sequential", "load_model"]
