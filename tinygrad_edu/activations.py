"""Activation functions by Keras name, each composed from Tensor ops or one op (so autodiff
covers them). This module holds the one registry: ``get``, ``serialize``, ``names`` know every
Keras 3 activation, the classic ones defined here and the newer ones of ``activation_extras``.

>>> from tinygrad_edu import Tensor
>>> get("relu")(Tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> serialize(get("swish")), serialize(get("hard_swish"))  # Keras' canonical names
('silu', 'hard_silu')
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from . import ops
from . import validation as check
from .activation_extras import (
    as_tensor,
    celu,
    checked_axis,
    glu,
    glu_half,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    kept,
    log_sigmoid,
    mish,
    relu6,
    soft_shrink,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh_shrink,
    threshold,
)
from .errors import resolve
from .functional import where
from .tensor import Tensor, tensor_from_op

Activation = Callable[[Tensor], Tensor]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
#: gelu's constants, made once (a captured step keeps only numbers that are the same object)
_SQRT_2_OVER_PI, _INV_SQRT_2 = math.sqrt(2 / math.pi), 1 / math.sqrt(2)


def linear(x: Tensor) -> Tensor:
    """f(x) = x (no activation: the layer stays a pure affine map)."""
    return as_tensor(x, "linear")


def relu(
    x: Tensor,
    negative_slope: float = 0.0,
    max_value: Optional[float] = None,
    threshold: float = 0.0,
) -> Tensor:
    """f(x) = max(x, 0) by default. Keras' options: f(x) = x for x > threshold (clipped to
    [0, max_value] when max_value is given), negative_slope * (x - threshold) otherwise."""
    where_ = "activation 'relu'"
    slope = check.real("negative_slope", negative_slope, where_, "relu(x, negative_slope=0.1)")
    cap = (
        None
        if max_value is None
        else check.non_negative_real("max_value", max_value, where_, "relu(x, max_value=6.0)")
    )
    theta = check.real("threshold", threshold, where_, "relu(x, threshold=0.5)")
    x = as_tensor(x, "relu")
    if cap is None and theta == 0:
        return x.relu() if slope == 0 else x.leaky_relu(slope)  # one op each
    kept = where(x > theta, x, 0.0)
    if cap is not None:
        kept = kept.clip(0.0, cap)
    return kept - slope * (theta - x).relu() if slope else kept


def sigmoid(x: Tensor) -> Tensor:
    """f(x) = 1 / (1 + e^-x), squashing to (0, 1)."""
    return as_tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """f(x) = tanh(x), squashing to (-1, 1)."""
    return as_tensor(x, "tanh").tanh()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """f(x)_i = e^(x_i) / sum_j e^(x_j) over the last axis: a probability per class."""
    if type(x) is not Tensor or type(axis) is not int or axis != -1:  # else nothing to check
        x = as_tensor(x, "softmax")
        axis = checked_axis(x, axis, "softmax", "softmax(x, axis=-1)")
    return x.softmax(axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """f(x)_i = x_i - ln sum_j e^(x_j) = ln softmax(x)_i, without forming softmax (which
    would round to 0 and give ln 0 = -inf for a very unlikely class)."""
    x = as_tensor(x, "log_softmax")
    return x.log_softmax(axis=checked_axis(x, axis, "log_softmax", "log_softmax(x, axis=-1)"))


def exponential(x: Tensor) -> Tensor:
    """f(x) = e^x (positive outputs; overflows to inf above ~709, ~88 in float32, as Keras')."""
    return as_tensor(x, "exponential").exp()


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """f(x) = x if x > 0 else negative_slope * x (Keras' activation default 0.2)."""
    slope = check.real(
        "negative_slope", negative_slope, "activation 'leaky_relu'", "leaky_relu(x, 0.2)"
    )
    slope = kept(negative_slope, slope)  # the same object at every call: a jit keeps it
    return as_tensor(x, "leaky_relu").leaky_relu(slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """f(x) = x if x > 0 else alpha (e^x - 1)."""
    alpha = kept(alpha, check.real("alpha", alpha, "activation 'elu'", "elu(x, alpha=1.0)"))
    return as_tensor(x, "elu").elu(alpha)


def selu(x: Tensor) -> Tensor:
    """f(x) = scale * elu(x, alpha) with the self-normalizing constants."""
    return SELU_SCALE * as_tensor(x, "selu").elu(SELU_ALPHA)


def softplus(x: Tensor) -> Tensor:
    """f(x) = ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|) so it never overflows and keeps
    e^x for x << 0 (op ``Softplus``; its derivative is sigmoid(x), 1/2 at 0)."""
    return tensor_from_op(ops.Softplus, as_tensor(x, "softplus"))


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """f(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); ``approximate=True`` uses the tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = as_tensor(x, "gelu")
    if check.flag("approximate", approximate, "activation 'gelu'", "gelu(x, approximate=True)"):
        return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + 0.044715 * x**3)).tanh())
    return 0.5 * x * (1 + (x * _INV_SQRT_2).erf())


def silu(x: Tensor) -> Tensor:
    """f(x) = x * sigmoid(x) (also called swish)."""
    x = as_tensor(x, "silu")
    return x * x.sigmoid()


swish = silu

# Keras' table: each function under its own name, then the two aliases (serialize gives the
# function's own name, as Keras does: "silu", "hard_silu")
_BY_NAME: Dict[str, Activation] = {
    fn.__name__: fn
    for fn in (
        *(linear, relu, relu6, leaky_relu, elu, selu, celu, exponential),
        *(sigmoid, hard_sigmoid, sparse_sigmoid, log_sigmoid, tanh, hard_tanh, tanh_shrink),
        *(softmax, log_softmax, sparsemax, softplus, sparse_plus, softsign, squareplus),
        *(gelu, silu, hard_silu, mish, glu, hard_shrink, soft_shrink, threshold),
    )
}
_BY_NAME.update(swish=swish, hard_swish=hard_swish)


def get(identifier: Any) -> Activation:
    """None/"linear" -> identity; a Keras name; or any callable Tensor -> Tensor."""
    if identifier is None:
        return linear
    return resolve(identifier, _BY_NAME, "activation", "an activation")


def serialize(fn: Activation) -> Any:
    """The Keras name of a built-in activation (for get_config), else the callable."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    return fn


def names() -> list:
    """Every name ``get`` knows (Keras 3's activations and its aliases), sorted."""
    return sorted(_BY_NAME)


def output_shape(fn: Activation, shape: Sequence[Optional[int]]) -> Tuple[Optional[int], ...]:
    """The shape ``fn`` gives inputs of ``shape``: the same, except glu halves the last axis
    (layers declare their output shape with it)."""
    shape = tuple(shape)
    if fn is not glu or not shape or shape[-1] is None:
        return shape
    return (*shape[:-1], glu_half(shape[-1], -1, shape))


__all__ = ["get", "serialize", "names", "output_shape", *_BY_NAME.keys()]
