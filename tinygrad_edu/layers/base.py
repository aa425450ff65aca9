"""``Layer``: the Keras layer contract on top of Tensor ops.

``layer(x)`` converts ``x`` to a float32 Tensor, checks it against what the layer expects (rank and
feature axis - a teaching ``ShapeError`` otherwise), builds the weights once from the input shape,
and runs ``call``. Subclasses implement ``build(input_shape)``, ``call(x, training)``,
``compute_output_shape(input_shape)`` and, for summaries, ``algebra()``; the shapes given to
``build``/``compute_output_shape`` include the batch axis as ``None``.

``layer.build(input_shape)`` (Keras' way to make the weights before any data) is wrapped for every
subclass (``__init_subclass__``): it validates the shape, runs once, marks the layer built and
remembers the shape; weights set after it stick; a compatible rebuild adds nothing, an
incompatible one is a ``ShapeError``; a failed build leaves no half-made weights. So is
``compute_output_shape``: a bad shape is a teaching error, never an IndexError from inside.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .. import validation as check
from .._shapes import as_numeric_array, bracket_shape, fmt_count, fmt_shape
from ..errors import ConfigError, DataError, NotBuiltError, ShapeError
from ..tensor import Tensor
from . import replay_guard
from .sublayers import check_sublayers
from .algebra import Algebra, Count, shape_map
from .arguments import BASE_KWARGS, declared_input_shape, recorded_init, refuse_unknown
from .build_protocol import building, checked_output_shape
from .input_checks import InputChecks
from .symbolic import is_symbolic, symbolic_call

Shape = Tuple[Optional[int], ...]


def snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d`` (Keras' default layer names)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


class Layer(InputChecks):
    """Base class of every layer. See the module docstring for the life cycle.

    Subclass attributes describing the expected input (checked before numpy can fail):
    ``expected_ndim`` (exact rank incl. batch, or None), ``min_ndim``; after build, the size of
    the feature axis is checked against ``self.input_shape``'s last axis for layers whose
    ``feature_axis`` is not None.

    ``example_args`` (the required constructor arguments of a working layer) and
    ``example_input_shape`` make the runnable examples that end the fixes of ``ConfigError``s.

    Every subclass's ``__init__`` is wrapped (``arguments.recorded_init``): Keras 1 argument
    names are translated before it runs (``layers/legacy.py``) and the call is recorded, so a
    fix can show it back with one argument changed (``arguments.layer_code``).
    """

    expected_ndim: Optional[int] = None
    min_ndim: int = 1
    feature_axis: Optional[int] = -1
    converts_tensors = False  # True (set for a layer overriding _to_tensor): it sees Tensors too
    #: the constructor arguments every layer accepts, on top of its own
    _base_kwargs = BASE_KWARGS
    example_args: Dict[str, Any] = {}
    example_input_shape: Tuple[int, ...] = (784,)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = recorded_init(cls.__dict__["__init__"])
        if "build" in cls.__dict__:
            cls.build = building(cls.__dict__["build"])
        if "compute_output_shape" in cls.__dict__:
            cls.compute_output_shape = checked_output_shape(cls.__dict__["compute_output_shape"])
        if "_to_tensor" in cls.__dict__:
            cls.converts_tensors = True

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
            refuse_unknown(self, unknown)
        where = f"{type(self).__name__}()"
        name = check.name_or_none("name", name, where, self.example(name="hidden"))
        self.name = name or snake_case(type(self).__name__)
        self._auto_name = name is None
        self._trainable = check.flag(
            "trainable", trainable, self.where, self.example(trainable=False)
        )
        self._weights: List[Tensor] = []
        self._weight_names: List[str] = []
        self._weight_trainable: List[bool] = []  # False for statistics such as moving_mean
        self._regularized: List[Tuple[Tensor, Any]] = []
        self.activity_regularizer = None
        self.activity_loss: Optional[Tensor] = None
        self.built = False
        self._building = False  # inside build(): super().build(...) runs without the protocol
        self._sublayers_checked = False  # sublayers.py, at the first call on data
        self._accepted_shape: Optional[Tuple[int, ...]] = None
        self.input_shape: Optional[Shape] = None
        self.output_shape: Optional[Shape] = None
        self.training = False  # default mode when called without training=; fit/train() set it
        self.dtype = check.float_dtype("dtype", dtype, self.where, self.example(dtype="float64"))
        self._dtype_arg = self.dtype  # for get_config: None unless given
        self.dtype = self.dtype or np.float32
        self._declared_input_shape = declared_input_shape(  # (None, *sizes) or None
            self, input_shape, input_dim, batch_input_shape
        )

    def example(self, **keywords: Any) -> str:
        """A constructor call that works, with ``keywords`` on top of the required arguments:
        ``Conv2D(32, 3, strides=2)``; the fixes of ``ConfigError``s end with one."""
        required = {**self.example_args}
        positional = [repr(keywords.pop(k, v)) for k, v in required.items()]
        named = [f"{k}={v!r}" for k, v in keywords.items()]
        return f"{type(self).__name__}({', '.join(positional + named)})"

    # ------------------------------------------------------------------ to override
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis None)."""

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.call")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def algebra(self) -> Algebra:
        """What the layer does to shapes and how its parameter count arises, for ``summary()``
        and ``explain``: here ``[in] -> [out]`` and one count term per weight."""
        count = Count(tuple(tuple(w.shape) for w in self.weights))
        return shape_map(self.input_shape, self.output_shape, count=count)

    def get_config(self) -> Dict[str, Any]:
        """The constructor arguments; ``type(layer)(**layer.get_config())`` rebuilds the layer."""
        config: Dict[str, Any] = {"name": self.name, "trainable": self._trainable}
        if self._declared_input_shape is not None:
            config["input_shape"] = tuple(self._declared_input_shape[1:])
        if self._dtype_arg is not None:
            config["dtype"] = np.dtype(self._dtype_arg).name
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "Layer":
        if not isinstance(config, dict):
            raise ConfigError(
                where=f"{cls.__name__}.from_config",
                expected="the dict get_config() returns",
                got=check.describe(config),
                fix=f"{cls.__name__}.from_config(layer.get_config())",
            )
        return cls(**config)

    # ------------------------------------------------------------------ the life cycle
    def __call__(self, x: Any, training: Optional[bool] = None) -> Tensor:
        if training is not None and training is not True and training is not False:
            training = check.flag("training", training, self.where, "layer(x, training=True)", True)
        if type(x) is not Tensor or self.converts_tensors:  # (most layers take a Tensor as is)
            if type(x) is not np.ndarray and is_symbolic(x):  # Input(...), a symbolic output
                return symbolic_call(self, x)  # build, no data
            x = self._to_tensor(x)
        shape = x._data.shape
        if shape != self._accepted_shape:  # a new input shape: checked once (input_checks.py)
            self.accept_input_shape(shape)
        if not self.built:
            self.build((None, *shape[1:]))
        if replay_guard.recorder.get() is not None:  # a step being captured: guard its reads
            replay_guard.watch(self)
        out = self.call(x, training=self.training if training is None else training)
        if self.activity_regularizer is not None:  # per sample, as Keras 3: / the batch size
            self.activity_loss = self.activity_regularizer(out) / (shape[0] if shape else 1)
        if not self._sublayers_checked:  # first call on data: sublayers' weights are its own?
            self._sublayers_checked = check_sublayers(self, Layer) is None
        return out

    def build_for(self, input_shape: Shape) -> Shape:
        """Build (once, else check compatibility) for ``input_shape``; the output shape."""
        self.build(input_shape)
        return self.output_shape

    def _checked_build_shape(self, input_shape: Any, method: str) -> Shape:
        """``input_shape`` (batch axis included) validated as a shape; the batch size -> None."""
        example = f"layer.{method}((None, {', '.join(map(str, self.example_input_shape))}))"
        where = f"{self.where}.{method}"
        sizes = check.shape("input_shape (batch axis first)", input_shape, where, example)
        return (None, *sizes[1:])

    def _run_build(self, build: Callable[["Layer", Shape], None], input_shape: Shape) -> None:
        """The build protocol: check, create the weights, remember the shapes, mark built; on an
        error, drop the weights this build had added."""
        self.check_input(input_shape)
        n_before = len(self._weights)
        self._building = True
        try:
            build(self, input_shape)
            output_shape = tuple(self.compute_output_shape(input_shape))
        except BaseException:
            self._drop_weights_after(n_before)
            raise
        finally:
            self._building = False
        self.input_shape, self.output_shape = input_shape, output_shape
        self.built = True
        self.trainable = self._trainable  # apply the flag to the new weights

    def _drop_weights_after(self, n: int) -> None:
        dropped = {id(w) for w in self._weights[n:]}
        del self._weights[n:], self._weight_names[n:], self._weight_trainable[n:]
        self._regularized = [(w, r) for w, r in self._regularized if id(w) not in dropped]

    def _to_tensor(self, x: Any) -> Tensor:
        if isinstance(x, Tensor):
            return x  # tensors pass unchanged (float64 ones too: gradient checks use them)
        if type(x) is np.ndarray and x.dtype.type is self.dtype:
            return Tensor(x)  # the common case: nothing to check or convert
        arr = as_numeric_array(x, self.where)
        return Tensor(arr, dtype=self.dtype)  # float64, ints and bools (0/1): cast silently

    @property
    def where(self) -> str:
        return f"layer '{self.name}' ({type(self).__name__})"

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        name: str,
        shape: Sequence[int],
        initializer: Any = "glorot_uniform",
        trainable: bool = True,
        regularizer: Any = None,
    ) -> Tensor:
        """Create a weight Tensor (in the layer's dtype) and remember it in Keras order."""
        where = f"{self.where}.add_weight"
        example = "self.add_weight('kernel', (784, 32))"
        name = check.name_or_none("name", name, where, example) or "weight"
        shape = self._weight_shape(name, shape)
        trainable = check.flag("trainable", trainable, where, example)
        init = _initializers.get(initializer)
        reg = _regularizers.get(regularizer)
        value = as_numeric_array(init(shape, dtype=self.dtype), where, allow_bool=False)
        if value.shape != shape:
            raise ConfigError(
                where=where,
                expected=f"an initializer returning an array of shape {shape} for '{name}'",
                got=f"shape {value.shape}",
                fix="an initializer is called as init(shape, dtype) and returns that shape, "
                "e.g. initializer='glorot_uniform'",
            )
        w = Tensor(
            value.astype(self.dtype, copy=False),
            requires_grad=trainable and self._trainable,
            name=name,
        )
        self._weights.append(w)
        self._weight_trainable.append(trainable)
        self._weight_names.append(name)
        if reg is not None:
            self._regularized.append((w, reg))
        return w

    def _weight_shape(self, name: str, shape: Any) -> Tuple[int, ...]:
        """A weight's shape: known positive sizes, and not absurdly many values."""
        if isinstance(shape, tuple) and not shape:
            return ()  # a scalar weight
        example = "self.add_weight('kernel', (784, 32))"
        sizes = check.shape(f"the shape of '{name}'", shape, f"{self.where}.add_weight", example)
        if None in sizes:
            raise ShapeError(
                where=self.where,
                expected=f"a known size on every axis of the weight '{name}'",
                got=fmt_shape(sizes, "?"),
                fix="give the input a known size on its feature axis, e.g. "
                + self.example(input_shape=self.example_input_shape),
            )
        check.weight_size(sizes, self.where, f"the weight '{name}'")
        return sizes

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
        self._trainable = check.flag("trainable", value, self.where, "layer.trainable = False")
        for w, can_train in zip(self._weights, self._weight_trainable):
            w.requires_grad = self._trainable and can_train
            if not w.requires_grad:
                w.grad = None

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise NotBuiltError(
                where=f"{self.where}.{what}",
                expected="a built layer",
                got="no input shape yet",
                fix="pass input_shape=... to the first layer, call the layer on data first, or "
                f"build it: layer.build((None, {', '.join(map(str, self.example_input_shape))}))",
            )

    def count_params(self) -> int:
        self._require_built("count_params()")
        return int(sum(w._data.size for w in self._weights))

    def get_weights(self) -> List[np.ndarray]:
        return [w._data.copy() for w in self._weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Write new values into the weights, in place (optimizers keep their references); all
        are checked before any is written."""
        where = f"{self.where}.set_weights"
        self._require_built("set_weights()")
        if isinstance(weights, (np.ndarray, str, bytes)) or not hasattr(weights, "__iter__"):
            raise DataError(
                where=where,
                expected=f"a list of {len(self._weights)} arrays",
                got=type(weights).__name__,
                fix="pass the list get_weights() returns: layer.set_weights(layer.get_weights())",
            )
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ShapeError(
                where=where,
                expected=f"{len(self._weights)} arrays ({self._weight_names})",
                got=f"{len(weights)} arrays",
                fix="pass the list layer.get_weights() returns",
            )
        arrays = [as_numeric_array(new, where, allow_bool=False) for new in weights]
        for w, name, new in zip(self._weights, self._weight_names, arrays):
            if new.shape != w.shape:  # check them all before writing any
                raise ShapeError(
                    where=where,
                    expected=f"{name} of shape {w.shape}",
                    got=str(new.shape),
                    fix="weights follow Keras' layouts; see get_weights()",
                )
        for w, new in zip(self._weights, arrays):
            w.assign(new.astype(w.dtype, copy=False))  # in place, counted as a modification

    def cast(self, dtype: Any) -> "Layer":
        """Convert every weight (and new inputs) to ``dtype``; float64 for gradient checks."""
        where, example = f"{self.where}.cast", "layer.cast('float64')"
        found = check.float_dtype("dtype", dtype, where, example) if dtype is not None else None
        if found is None:
            check.refuse("dtype", dtype, where, "'float32' or 'float64'", example)
        self.dtype = found
        for w in self._weights:
            w.data = w._data.astype(self.dtype)
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


Layer.__init__ = recorded_init(Layer.__init__)
Layer.build = building(Layer.build)
Layer.compute_output_shape = checked_output_shape(Layer.compute_output_shape)


__all__ = ["Layer", "snake_case", "fmt_count", "bracket_shape", "Shape"]
