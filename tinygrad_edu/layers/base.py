"""``Layer``: the Keras layer contract on top of Tensor ops.

``layer(x)`` converts ``x`` to a float32 Tensor, checks it against what the layer expects (rank and
feature axis - a teaching ``ShapeError`` otherwise), builds the weights once from the input shape,
and runs ``call``. Subclasses implement ``build(input_shape)``, ``call(x, training)``,
``compute_output_shape(input_shape)`` and, for summaries, ``algebra()``.

Shapes given to ``build``/``compute_output_shape`` include the batch axis as ``None``.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .._shapes import as_numeric_array, fmt_shape
from ..errors import ConfigError, DataError, NotBuiltError, ShapeError
from ..tensor import Tensor

Shape = Tuple[Optional[int], ...]


def snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d`` (Keras' default layer names)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


class Layer:
    """Base class of every layer. See the module docstring for the life cycle.

    Subclass attributes describing the expected input (checked before numpy can fail):
    ``expected_ndim`` (exact rank incl. batch, or None), ``min_ndim``; after build, the size of
    the feature axis is checked against ``self.input_shape``'s last axis for layers whose
    ``feature_axis`` is not None.
    """

    expected_ndim: Optional[int] = None
    min_ndim: int = 1
    feature_axis: Optional[int] = -1
    #: the constructor arguments every layer accepts, on top of its own
    _base_kwargs = ("name", "trainable", "input_shape", "input_dim", "batch_input_shape", "dtype")

    def __init__(
        self,
        name: Optional[str] = None,
        trainable: bool = True,
        input_shape: Optional[Sequence[Optional[int]]] = None,
        input_dim: Optional[int] = None,
        batch_input_shape=None,
        dtype=None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise ConfigError(
                where=f"{type(self).__name__}()",
                expected="Keras argument names",
                got=", ".join(sorted(unknown)),
                fix=f"remove or rename {', '.join(sorted(unknown))}; see help({type(self).__name__})",
            )
        self.name = name or snake_case(type(self).__name__)
        self._auto_name = name is None
        self._trainable = bool(trainable)
        self._weights: List[Tensor] = []
        self._weight_names: List[str] = []
        self._weight_trainable: List[bool] = []  # False for statistics such as moving_mean
        self._regularized: List[Tuple[Tensor, Any]] = []
        self.activity_regularizer = None
        self.activity_loss: Optional[Tensor] = None
        self.built = False
        self._accepted_shape: Optional[Tuple[int, ...]] = None
        self.input_shape: Optional[Shape] = None
        self.output_shape: Optional[Shape] = None
        self.training = False  # default mode when called without training=; fit/train() set it
        self.dtype = np.float32
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self._declared_input_shape: Optional[Shape] = (
            None if input_shape is None else (None, *_as_shape(input_shape, self.name))
        )

    # ------------------------------------------------------------------ to override
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis None)."""

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.call")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def algebra(self) -> Tuple[str, str]:
        """(what the layer does to shapes, how its parameter count arises) for ``summary()``."""
        shape = bracket_shape(self.input_shape)
        return f"{shape} -> {bracket_shape(self.output_shape)}", "0"

    def get_config(self) -> Dict[str, Any]:
        """The constructor arguments; ``type(layer)(**layer.get_config())`` rebuilds the layer."""
        config: Dict[str, Any] = {"name": self.name, "trainable": self._trainable}
        if self._declared_input_shape is not None:
            config["input_shape"] = tuple(self._declared_input_shape[1:])
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "Layer":
        return cls(**config)

    # ------------------------------------------------------------------ the life cycle
    def __call__(self, x: Any, training: Optional[bool] = None) -> Tensor:
        x = self._to_tensor(x)
        self.accept_input_shape(x.shape)
        if not self.built:
            self.build_for((None, *x.shape[1:]))
        out = self.call(x, training=self.training if training is None else training)
        if self.activity_regularizer is not None:
            self.activity_loss = self.activity_regularizer(out)
        return out

    def accept_input_shape(self, shape: Tuple[int, ...]) -> None:
        """``check_input(shape)``, skipped when ``shape`` is the one accepted last time (a
        training loop feeds the same batch shape again and again)."""
        if shape != self._accepted_shape:
            self.check_input(shape)
            self._accepted_shape = shape

    def build_for(self, input_shape: Shape) -> Shape:
        """Build (once) for ``input_shape`` and return the output shape, without any data."""
        input_shape = tuple(input_shape)
        if not self.built:
            self.check_input(input_shape)
            self.build(input_shape)
            self.input_shape = input_shape
            self.output_shape = tuple(self.compute_output_shape(input_shape))
            self.built = True
            self.trainable = self._trainable  # apply the flag to the new weights
        return self.output_shape

    def _to_tensor(self, x: Any) -> Tensor:
        if isinstance(x, Tensor):
            return x  # tensors pass unchanged (float64 ones too: gradient checks use them)
        if type(x) is np.ndarray and x.dtype == self.dtype:
            return Tensor(x)  # the common case: nothing to check or convert
        arr = as_numeric_array(x, self.where)
        # float64 and ints are cast to float32 silently: the weights are float32
        return Tensor(arr, dtype=self.dtype)

    @property
    def where(self) -> str:
        return f"layer '{self.name}' ({type(self).__name__})"

    def check_input(self, shape: Sequence[Optional[int]]) -> None:
        """Raise a teaching ``ShapeError`` if inputs of ``shape`` cannot go through this layer."""
        shape = tuple(shape)
        want = self.input_shape or self._declared_input_shape
        rank_ok = (
            len(shape) == self.expected_ndim
            if self.expected_ndim is not None
            else len(shape) >= self.min_ndim
        )
        if not rank_ok:
            raise ShapeError(
                where=self.where,
                expected=f"input shape {self._expected_text(want, len(shape))}",
                got=fmt_shape(shape),
                fix=self.diagnose_rank(shape, want),
            )
        if (
            want is not None
            and self.feature_axis is not None
            and (len(want) == len(shape) or (self.feature_axis < 0 and len(shape) >= 2))
        ):
            ax = self.feature_axis
            if want[ax] is not None and shape[ax] is not None and shape[ax] != want[ax]:
                raise ShapeError(
                    where=self.where,
                    expected=f"input shape {fmt_shape(want, 'batch')} "
                    f"({want[ax]} features on axis {ax})",
                    got=fmt_shape(shape, "batch") if shape[0] is None else str(shape),
                    fix=self.diagnose_features(shape, want),
                )
        if any(d == 0 for d in shape[1:]):
            raise ShapeError(
                where=self.where,
                expected="non-empty axes",
                got=str(shape),
                fix="check how the array was sliced",
            )

    def _expected_text(self, want: Optional[Shape], got_ndim: int) -> str:
        if want is not None:
            return fmt_shape(want, "batch")
        if self.expected_ndim is not None:
            return f"of rank {self.expected_ndim} (batch axis included)"
        return f"of rank >= {self.min_ndim} (batch axis included)"

    def diagnose_rank(self, shape: Shape, want: Optional[Shape]) -> str:
        """The fix for an input of the wrong rank; layers refine it (see the recognizers)."""
        if want is not None and tuple(shape) == tuple(want[1:]):
            return (
                "this looks like one sample without a batch axis - use x[None, ...] or "
                f"x.reshape(1, {', '.join(str(d) for d in shape)})"
            )
        need = self.expected_ndim or self.min_ndim
        return (
            f"{type(self).__name__} needs {need} axes (the first is the batch); "
            "reshape your data or put a Flatten/Reshape layer before it"
        )

    def diagnose_features(self, shape: Shape, want: Shape) -> str:
        ax = self.feature_axis
        return (
            f"the layer was built for {want[ax]} input features but got {shape[ax]}: "
            f"give it data with {want[ax]} features, or change the previous layer / "
            "input_shape so they agree"
        )

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        name: str,
        shape: Sequence[int],
        initializer: Any = "glorot_uniform",
        trainable: bool = True,
        regularizer: Any = None,
    ) -> Tensor:
        """Create a weight Tensor (float32) and remember it in Keras order."""
        init = _initializers.get(initializer)
        value = np.asarray(init(tuple(shape), dtype=self.dtype), dtype=self.dtype)
        w = Tensor(value, requires_grad=trainable and self._trainable, name=name)
        self._weights.append(w)
        self._weight_trainable.append(bool(trainable))
        self._weight_names.append(name)
        reg = _regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((w, reg))
        return w

    @property
    def weights(self) -> List[Tensor]:
        return list(self._weights)

    @property
    def weight_names(self) -> List[str]:
        return list(self._weight_names)

    @property
    def trainable_weights(self) -> List[Tensor]:
        return [w for w in self._weights if w.requires_grad]

    @property
    def non_trainable_weights(self) -> List[Tensor]:
        return [w for w in self._weights if not w.requires_grad]

    def parameters(self) -> List[Tensor]:
        """The tensors an optimizer updates (PyTorch's name): the trainable weights."""
        return self.trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for w, can_train in zip(self._weights, self._weight_trainable):
            w.requires_grad = self._trainable and can_train
            if not w.requires_grad:
                w.grad = None

    def count_params(self) -> int:
        if not self.built:
            raise NotBuiltError(
                where=self.where,
                expected="a built layer",
                got="no input shape yet",
                fix="pass input_shape=... to the first layer, or call the layer on data first",
            )
        return int(sum(w.data.size for w in self._weights))

    def get_weights(self) -> List[np.ndarray]:
        return [w.data.copy() for w in self._weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        if isinstance(weights, (np.ndarray, str, bytes)) or not hasattr(weights, "__iter__"):
            raise DataError(
                where=f"{self.where}.set_weights",
                expected=f"a list of {len(self._weights)} arrays",
                got=type(weights).__name__,
                fix="pass the list get_weights() returns",
            )
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ShapeError(
                where=self.where,
                expected=f"{len(self._weights)} arrays ({self._weight_names})",
                got=f"{len(weights)} arrays",
                fix="pass the list layer.get_weights() returns",
            )
        arrays = [as_numeric_array(new, f"{self.where}.set_weights") for new in weights]
        for w, name, new in zip(self._weights, self._weight_names, arrays):
            if new.shape != w.data.shape:  # check them all before writing any
                raise ShapeError(
                    where=self.where,
                    expected=f"{name} of shape {w.data.shape}",
                    got=str(new.shape),
                    fix="weights follow Keras' layouts; see get_weights()",
                )
        for w, new in zip(self._weights, arrays):
            w.data[...] = new  # in place: optimizers keep their references

    def cast(self, dtype: Any) -> "Layer":
        """Convert every weight (and new inputs) to ``dtype``; float64 for gradient checks."""
        self.dtype = np.dtype(dtype).type
        for w in self._weights:
            w.data = w.data.astype(self.dtype)
            w.grad = None
        return self

    def regularization_losses(self) -> List[Tensor]:
        """Penalty tensors of the weight regularizers (and the last activity penalty)."""
        losses = [reg(w) for w, reg in self._regularized]
        if self.activity_loss is not None:
            losses.append(self.activity_loss)
        return losses

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} output_shape={self.output_shape}>"


def _as_shape(shape: Any, name: str) -> Tuple[Optional[int], ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        out = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        out = ()
    if not out or any(d is not None and d <= 0 for d in out):
        raise ConfigError(
            where=f"layer '{name}'",
            expected="input_shape as a tuple of positive ints, without the batch axis",
            got=repr(shape),
            fix="e.g. input_shape=(784,)",
        )
    return out


def bracket_shape(shape: Optional[Sequence[Optional[int]]]) -> str:
    """``(None, 784)`` -> ``[B,784]`` (the algebra column's notation)."""
    if shape is None:
        return "?"
    return "[" + ",".join("B" if d is None else str(d) for d in shape) + "]"


def fmt_count(n: int) -> str:
    return f"{n:,}"


__all__ = ["Layer", "snake_case", "fmt_count", "bracket_shape", "Shape"]
