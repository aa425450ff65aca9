"""Core layers: ``Dense``, ``Activation``, ``Dropout``, ``InputLayer`` / ``Input``.

``Dense`` computes ``x @ W + b`` with the fused ``ops.Linear`` op. Pass ``fused=False`` to one
layer (or run under ``with tinygrad_edu.config.fused(False):`` for every layer left at
``fused=None``) to run the same algebra as two plain Tensor ops (``@`` then ``+``) to step through.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from .. import activations as _activations
from .. import capture_hooks, ops
from .. import config as _config
from .. import validation as check
from .._rng import make_rng
from .._shapes import fmt_shape
from ..errors import ConfigError, ShapeError
from ..tensor import Tensor, tensor_from_op
from .algebra import Algebra, Operand, matmul, shape_map
from .base import Layer, Shape
from .kernel_bias import ActivationAttribute, KernelBiasMixin


def activation_label(fn: Any) -> Optional[str]:
    """The name of an activation in ``algebra()`` (None for linear: nothing is applied)."""
    name = _activations.serialize(fn)
    if name == "linear":
        return None
    return name if isinstance(name, str) else getattr(fn, "__name__", type(fn).__name__)


class Dense(KernelBiasMixin, Layer):
    """Fully connected layer on the last axis: ``out = activation(x @ kernel + bias)``.

    ``[B, n] @ [n, units] + [units] -> [B, units]``; any leading axes pass through, so
    ``[B, T, n] -> [B, T, units]`` applies the same weights at every time step.
    Weights (Keras layout): ``kernel (n, units)``, ``bias (units,)``; ``n*units + units`` params.

    >>> layer = Dense(32, activation="relu")
    >>> layer.build_for((None, 784))
    (None, 32)
    >>> layer.count_params()
    25120
    >>> layer.algebra().text(), layer.algebra().count_text()
    ('[B,784] @ [784,32] + [32] -> [B,32]; relu', '784*32 + 32 = 25,120')
    """

    min_ndim = 2
    example_args = {"units": 32}

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        fused: Optional[bool] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check.positive_int("units", units, self.where, self.example())
        self._set_kernel_options(
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
        )
        self.fused = check.flag("fused", fused, self.where, self.example(fused=False), True)

    def build(self, input_shape: Shape) -> None:
        self._add_kernel_and_bias((input_shape[-1], self.units), self.units)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if _config.use_fused(self.fused):
            params = (self.kernel,) if self.bias is None else (self.kernel, self.bias)
            if self.activation is _activations.relu:  # a hidden layer in one op
                return tensor_from_op(ops.Linear, x, *params, activation="relu")
            z = tensor_from_op(ops.Linear, x, *params)
        else:
            z = x @ self.kernel  # the same algebra as two plain ops
            if self.bias is not None:
                z = z + self.bias
        return self.activation(z)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        # the activation's shape too: glu halves the units
        return _activations.output_shape(self.activation, (*tuple(input_shape)[:-1], self.units))

    def check_input(self, shape: Sequence[Optional[int]]) -> None:
        """The base checks rank; Dense also checks the last axis whatever the rank, because
        a (B, 28, 28) input would otherwise meet a 784-row kernel inside numpy."""
        super().check_input(shape)
        want = self.input_shape or self._declared_input_shape
        if want is None or shape[-1] is None or shape[-1] == want[-1]:
            return
        raise ShapeError(
            where=self.where,
            expected=f"inputs with {want[-1]} features on the last axis "
            f"(shape {fmt_shape(want, 'batch')})",
            got=fmt_shape(tuple(shape), "batch") if shape[0] is None else str(tuple(shape)),
            fix=self.diagnose_features(shape, want),
        )

    def diagnose_rank(self, shape: Shape, want: Optional[Shape]) -> str:
        if len(shape) != 1:
            return super().diagnose_rank(shape, want)
        n = shape[0]
        if want is not None and want[-1] == n:
            return (
                f"this looks like one sample of {n} features without a batch axis - use "
                f"x.reshape(1, -1) (or x[None, :]); stack many samples into shape (m, {n})"
            )
        return (
            f"Dense needs (batch, features). If this is one sample of {n} features use "
            f"x.reshape(1, -1); if it is {n} samples of one feature use x.reshape(-1, 1)"
        )

    def diagnose_features(self, shape: Shape, want: Shape) -> str:
        per_sample = shape[1:]
        if len(per_sample) > 1 and None not in per_sample and int(np.prod(per_sample)) == want[-1]:
            return (
                f"each sample has shape {tuple(per_sample)} = {want[-1]} values: put a "
                "Flatten() layer before this Dense (or reshape to (batch, -1))"
            )
        return (
            f"this Dense was built for {want[-1]} input features but got {shape[-1]}: "
            f"make the previous layer output {want[-1]} features, or fix input_shape"
        )

    def algebra(self) -> Algebra:
        n, u = self.input_shape[-1], self.units
        products = [(Operand("input", self.input_shape), Operand("kernel", (n, u)))]
        products += [(Operand("bias", (u,)),)] if self.use_bias else []
        act, z = activation_label(self.activation), (*self.input_shape[:-1], u)
        return matmul(self.input_shape, products, self.output_shape, activation=act, result=z)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            **self._kernel_config(),
            **_config.fused_config(self.fused),
        }


class Activation(Layer):
    """Applies an activation elementwise (or softmax over the last axis): ``out = f(x)``,
    ``[B, ...] -> [B, ...]``, no parameters.

    >>> Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """

    feature_axis = None
    example_args = {"activation": "relu"}
    activation = ActivationAttribute()

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activation

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self.activation(x)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return _activations.output_shape(self.activation, input_shape)  # glu halves the last axis

    def algebra(self) -> Algebra:
        act = activation_label(self.activation) or "linear"
        return shape_map(self.input_shape, self.output_shape, activation=act)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "activation": _activations.serialize(self.activation)}


class Dropout(Layer):
    """Inverted dropout: while training, ``out = x * mask / (1 - rate)`` with ``mask`` ~
    Bernoulli(1 - rate); at inference ``out = x``. Shapes unchanged; no parameters.

    Dividing by ``1 - rate`` during training keeps E[out] = x, so inference needs no rescaling.
    ``noise_shape`` (None entries = the input's size) shares one mask value along axes of size 1.
    The mask comes from the layer's own generator (``seed``), so runs are reproducible.

    >>> d = Dropout(0.5, seed=0)
    >>> d(np.ones((1, 4)), training=False).tolist()
    [[1.0, 1.0, 1.0, 1.0]]
    >>> sorted(set(d(np.ones((1, 100)), training=True).numpy().ravel().tolist()))
    [0.0, 2.0]
    """

    feature_axis = None
    example_args = {"rate": 0.5}

    def __init__(
        self,
        rate: float,
        noise_shape: Optional[Sequence[Optional[int]]] = None,
        seed: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rate = check.rate("rate (the fraction to drop)", rate, self.where, self.example())
        self.noise_shape = (
            None
            if noise_shape is None
            else check.shape(
                "noise_shape", noise_shape, self.where, self.example(noise_shape=(None, 1, 64))
            )
        )
        self.seed = check.seed("seed", seed, self.where, self.example(seed=0))
        self._rng = make_rng(self.seed)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        # a captured step (tinygrad_edu.jit) replays only while these settings stay the same
        capture_hooks.guard(self._settings, self.name)
        if not training or self.rate == 0:
            return x
        # the op draws the mask from this layer's generator: eager and replayed steps alike
        shape = None if self.noise_shape is None else self._mask_shape(x._data.shape)
        return tensor_from_op(ops.DropoutDraw, x, rng=self._rng, rate=self.rate, mask_shape=shape)

    def _settings(self) -> Tuple[float, bool, Any]:
        return self.rate, self.training, self.noise_shape

    def _mask_shape(self, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """The mask's shape from ``noise_shape`` (the op draws one of the input's shape for None)."""
        if len(self.noise_shape) != len(shape) or any(
            n not in (None, 1, s) for n, s in zip(self.noise_shape, shape)
        ):
            raise ShapeError(
                where=self.where,
                expected=f"noise_shape of rank {len(shape)} with "
                "each entry None, 1 or the input's size",
                got=f"noise_shape={self.noise_shape} for input {shape}",
                fix="e.g. noise_shape=(None, 1, features) drops whole features",
            )
        return tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))

    def algebra(self) -> Algebra:
        formula = f"x * mask/{1 - self.rate:g} (training) | x (inference)"
        return Algebra(self.input_shape, self.output_shape, (formula,))

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


class InputLayer(Layer):
    """Declares the model's input shape: ``out = x``, no parameters.

    ``shape`` excludes the batch axis: ``InputLayer(shape=(784,))`` accepts ``[B, 784]``.
    ``Sequential`` reads ``_declared_input_shape`` and skips layers with ``is_input = True`` in
    summaries, as Keras does.
    """

    is_input = True
    example_args = {"shape": (784,)}

    def __init__(
        self,
        shape: Optional[Sequence[Optional[int]]] = None,
        batch_size: Optional[int] = None,
        name: Optional[str] = None,
        batch_shape: Optional[Sequence[Optional[int]]] = None,
        **kwargs: Any,
    ) -> None:
        if batch_shape is not None:
            example = "Input(batch_shape=(None, 784))"
            full = check.batch_shape("batch_shape", batch_shape, "InputLayer()", example)
            batch_size, shape = full[0], full[1:]
        # Keras 2 spelled it input_shape / batch_input_shape; the base accepts both
        if shape is not None and any(k in kwargs for k in ("input_shape", "batch_input_shape")):
            raise ConfigError(
                where="InputLayer()",
                expected="the shape given once",
                got=f"shape and {' and '.join(k for k in kwargs if 'shape' in k)}",
                fix="keep shape=..., e.g. Input(shape=(784,))",
            )
        if shape is not None:
            kwargs["input_shape"] = shape
        super().__init__(name=name, **kwargs)
        if self._declared_input_shape is None:
            raise ConfigError(
                where=self.where,
                expected="shape=(...) without the batch axis",
                got="no shape",
                fix="e.g. Input(shape=(784,))",
            )
        self.batch_size = check.positive_int(
            "batch_size", batch_size, self.where, "Input(shape=(784,), batch_size=32)", True
        )
        self.expected_ndim = len(self._declared_input_shape)
        self.build_for(self._declared_input_shape)

    def example(self, **keywords: Any) -> str:
        """The base's example, with the shape as ``shape`` (the other spellings dropped)."""
        for spelling in ("input_shape", "batch_input_shape", "input_dim"):
            keywords.pop(spelling, None)
        return super().example(**keywords)

    @property
    def shape(self) -> Tuple[Optional[int], ...]:
        return (self.batch_size, *self._declared_input_shape[1:])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return x

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["shape"] = config.pop("input_shape")
        config["batch_size"] = self.batch_size
        return config


def Input(
    shape: Optional[Sequence[Optional[int]]] = None,
    batch_size: Optional[int] = None,
    name: Optional[str] = None,
    **kwargs: Any,
) -> InputLayer:
    """``Input(shape=(784,))``: an ``InputLayer`` that declares the input shape to ``Sequential``.

    >>> Input(shape=(784,))._declared_input_shape
    (None, 784)
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs)


__all__ = ["Dense", "Activation", "Dropout", "InputLayer", "Input"]
