"""Activation functions by Keras name, each composed from Tensor ops (so autodiff covers them).

>>> from tinygrad_edu import Tensor
>>> get("relu")(Tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict

from .errors import resolve
from .tensor import Tensor

Activation = Callable[[Tensor], Tensor]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def linear(x: Tensor) -> Tensor:
    """f(x) = x (no activation: the layer stays a pure affine map)."""
    return x


def relu(x: Tensor) -> Tensor:
    """f(x) = max(x, 0)."""
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    """f(x) = 1 / (1 + e^-x), squashing to (0, 1)."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """f(x) = tanh(x), squashing to (-1, 1)."""
    return x.tanh()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """f(x)_i = e^(x_i) / sum_j e^(x_j) over the last axis: a probability per class."""
    return x.softmax(axis=axis)


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """f(x) = x if x > 0 else negative_slope * x (Keras' activation default 0.2)."""
    return x.leaky_relu(negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """f(x) = x if x > 0 else alpha (e^x - 1)."""
    return x.elu(alpha)


def selu(x: Tensor) -> Tensor:
    """f(x) = scale * elu(x, alpha) with the self-normalizing constants."""
    return SELU_SCALE * x.elu(SELU_ALPHA)


def softplus(x: Tensor) -> Tensor:
    """f(x) = ln(1 + e^x), written as max(x, 0) + ln(1 + e^-|x|) so it never overflows."""
    # 0.5 (x + |x|) = max(x, 0), written so its derivative at 0 is 1/2 (relu's would be 0)
    return 0.5 * (x + x.abs()) + ((-x.abs()).exp() + 1).log()


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """f(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); ``approximate=True`` uses the tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate:
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)).tanh())
    return 0.5 * x * (1 + (x * (1 / math.sqrt(2))).erf())


def swish(x: Tensor) -> Tensor:
    """f(x) = x * sigmoid(x) (also called silu)."""
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
