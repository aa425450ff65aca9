"""Activation functions by Keras name, each composed from Tensor ops (so autodiff covers them).

>>> from tinygrad_edu import Tensor
>>> get("relu")(Tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict

from . import validation as check
from ._shapes import as_numeric_array
from .errors import ShapeError, resolve
from .tensor import Tensor

Activation = Callable[[Tensor], Tensor]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _tensor(x: Any, name: str) -> Tensor:
    """``x`` as a Tensor: arrays and lists convert (numbers only, a ``DataError`` otherwise)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(as_numeric_array(x, f"activation '{name}'"))


def linear(x: Tensor) -> Tensor:
    """f(x) = x (no activation: the layer stays a pure affine map)."""
    return _tensor(x, "linear")


def relu(x: Tensor) -> Tensor:
    """f(x) = max(x, 0)."""
    return _tensor(x, "relu").relu()


def sigmoid(x: Tensor) -> Tensor:
    """f(x) = 1 / (1 + e^-x), squashing to (0, 1)."""
    return _tensor(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """f(x) = tanh(x), squashing to (-1, 1)."""
    return _tensor(x, "tanh").tanh()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """f(x)_i = e^(x_i) / sum_j e^(x_j) over the last axis: a probability per class."""
    axis = check.axis("axis", axis, "activation 'softmax'", "softmax(x, axis=-1)")
    x = _tensor(x, "softmax")
    if not -x.ndim <= axis < max(x.ndim, 1):  # before the op: it cannot take a huge int
        raise ShapeError(
            where="activation 'softmax'",
            expected=f"an axis in [{-x.ndim}, {x.ndim - 1}] for a {x.ndim}-d tensor",
            got=f"axis={axis}",
            fix="softmax over the classes is the last axis, e.g. softmax(x, axis=-1)",
        )
    return x.softmax(axis=axis)


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """f(x) = x if x > 0 else negative_slope * x (Keras' activation default 0.2)."""
    slope = check.real(
        "negative_slope", negative_slope, "activation 'leaky_relu'", "leaky_relu(x, 0.2)"
    )
    return _tensor(x, "leaky_relu").leaky_relu(slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """f(x) = x if x > 0 else alpha (e^x - 1)."""
    alpha = check.real("alpha", alpha, "activation 'elu'", "elu(x, alpha=1.0)")
    return _tensor(x, "elu").elu(alpha)


def selu(x: Tensor) -> Tensor:
    """f(x) = scale * elu(x, alpha) with the self-normalizing constants."""
    return SELU_SCALE * _tensor(x, "selu").elu(SELU_ALPHA)


def softplus(x: Tensor) -> Tensor:
    """f(x) = ln(1 + e^x), written as max(x, 0) + ln(1 + e^-|x|) so it never overflows."""
    # 0.5 (x + |x|) = max(x, 0), written so its derivative at 0 is 1/2 (relu's would be 0)
    x = _tensor(x, "softplus")
    return 0.5 * (x + x.abs()) + ((-x.abs()).exp() + 1).log()


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """f(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); ``approximate=True`` uses the tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = _tensor(x, "gelu")
    if check.flag("approximate", approximate, "activation 'gelu'", "gelu(x, approximate=True)"):
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)).tanh())
    return 0.5 * x * (1 + (x * (1 / math.sqrt(2))).erf())


def swish(x: Tensor) -> Tensor:
    """f(x) = x * sigmoid(x) (also called silu)."""
    x = _tensor(x, "swish")
    return x * x.sigmoid()


silu = swish

_BY_NAME: Dict[str, Activation] = {
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "gelu": gelu,
    "swish": swish,
    "silu": swish,
}


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
    return sorted(_BY_NAME)


__all__ = ["get", "serialize", "names", *_BY_NAME.keys()]
