"""The activations Keras 3 added to the classic ones: the piecewise-linear "hard" family, the
shrinkage and sparse maps, a gate and smooth variants, each with Keras' formula and defaults.

``tinygrad_edu.activations`` holds the one registry (``get``, ``serialize``, ``names``) and
exports every function here by its Keras name: use ``activations.get("mish")`` or
``Dense(8, activation="mish")``. Most are a few Tensor ops (autodiff gives the gradient); where
that composition would overflow or lose its gradient, an op of ``ops/activation_ops.py`` does it.
The argument helpers at the end are shared with ``activations.py``.

>>> from tinygrad_edu import Tensor
>>> hard_sigmoid(Tensor([-4.0, 0.0, 1.5])).tolist()
[0.0, 0.5, 0.75]
>>> sparsemax(Tensor([1.0, 0.5, 0.0])).tolist()
[0.75, 0.25, 0.0]
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any, Optional

from . import ops
from . import validation as check
from ._shapes import as_numeric_array
from .errors import ShapeError
from .functional import where
from .tensor import Tensor, tensor_from_op


# ------------------------------------------------------------------ piecewise linear ("hard")
def relu6(x: Tensor) -> Tensor:
    """f(x) = min(max(x, 0), 6): relu capped at 6."""
    return as_tensor(x, "relu6").clip(0.0, 6.0)


def hard_sigmoid(x: Tensor) -> Tensor:
    """f(x) = relu6(x + 3) / 6: 0 for x <= -3, x/6 + 1/2 between, 1 for x >= 3 (Keras 3's form,
    = torch's hardsigmoid; Keras 2 used the slope 0.2)."""
    return relu6(as_tensor(x, "hard_sigmoid") + 3.0) / 6.0


def hard_silu(x: Tensor) -> Tensor:
    """f(x) = x * hard_sigmoid(x) = x * relu6(x + 3) / 6: 0 for x <= -3, x for x >= 3
    (also called hard_swish)."""
    x = as_tensor(x, "hard_silu")
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x: Tensor) -> Tensor:
    """f(x) = clip(x, -1, 1): -1 for x < -1, x between, 1 for x > 1."""
    return as_tensor(x, "hard_tanh").clip(-1.0, 1.0)


def sparse_sigmoid(x: Tensor) -> Tensor:
    """f(x) = clip((x + 1) / 2, 0, 1): 0 for x <= -1, (x + 1) / 2 between, 1 for x >= 1."""
    return ((as_tensor(x, "sparse_sigmoid") + 1.0) / 2.0).clip(0.0, 1.0)


def sparse_plus(x: Tensor) -> Tensor:
    """f(x) = 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1 (a softplus whose
    smooth part is a parabola: both pieces meet with equal slopes)."""
    x = as_tensor(x, "sparse_plus")
    return where(x <= -1, 0.0, where(x < 1, (x + 1.0) ** 2 / 4.0, x))


def threshold(
    x: Tensor, threshold: Optional[float] = None, default_value: Optional[float] = None
) -> Tensor:
    """f(x) = x if x > threshold else default_value. Both values are required, as in Keras."""
    x = as_tensor(x, "threshold")
    example = "threshold(x, threshold=0.5, default_value=0.0)"
    threshold = kept(
        threshold, check.real("threshold", threshold, "activation 'threshold'", example)
    )
    default_value = kept(
        default_value, check.real("default_value", default_value, "activation 'threshold'", example)
    )
    return where(x > threshold, x, default_value)


# ------------------------------------------------------------------ shrinkage
def hard_shrink(x: Tensor, threshold: float = 0.5) -> Tensor:
    """f(x) = x if |x| > threshold else 0."""
    x = as_tensor(x, "hard_shrink")
    t = _shrink_threshold(threshold, "hard_shrink")
    return where(x.abs() > t, x, 0.0)


def soft_shrink(x: Tensor, threshold: float = 0.5) -> Tensor:
    """f(x) = x - clip(x, -threshold, threshold): x - threshold above threshold, x + threshold
    below -threshold, 0 between."""
    x = as_tensor(x, "soft_shrink")
    t = _shrink_threshold(threshold, "soft_shrink")
    return x - x.clip(negated(t), t)


def tanh_shrink(x: Tensor) -> Tensor:
    """f(x) = x - tanh(x)."""
    x = as_tensor(x, "tanh_shrink")
    return x - x.tanh()


def _shrink_threshold(value: Any, name: str) -> float:
    example = f"{name}(x, threshold=0.5)"
    return kept(value, check.non_negative_real("threshold", value, f"activation '{name}'", example))


# ------------------------------------------------------------------ smooth
def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """f(x) = max(x, 0) + alpha (e^(min(x, 0) / alpha) - 1) = alpha * elu(x / alpha): x for
    x >= 0, alpha (e^(x/alpha) - 1) below; its slope is 1 on both sides of 0 for every alpha."""
    alpha = kept(
        alpha, check.positive_real("alpha", alpha, "activation 'celu'", "celu(x, alpha=1.0)")
    )
    return alpha * (as_tensor(x, "celu") / alpha).elu(1.0)


def softsign(x: Tensor) -> Tensor:
    """f(x) = x / (|x| + 1), squashing to (-1, 1) with polynomial tails (op ``Softsign``)."""
    return tensor_from_op(ops.Softsign, as_tensor(x, "softsign"))


def log_sigmoid(x: Tensor) -> Tensor:
    """f(x) = ln sigmoid(x) = ln(1 / (1 + e^-x)) = -softplus(-x), computed without overflow
    for any x (op ``LogSigmoid``)."""
    return tensor_from_op(ops.LogSigmoid, as_tensor(x, "log_sigmoid"))


def mish(x: Tensor) -> Tensor:
    """f(x) = x * tanh(softplus(x)), softplus(x) = ln(1 + e^x) (op ``Mish``: stable at any x)."""
    return tensor_from_op(ops.Mish, as_tensor(x, "mish"))


def squareplus(x: Tensor, b: float = 4.0) -> Tensor:
    """f(x) = (x + sqrt(x^2 + b)) / 2: a smooth relu; b > 0 sets how round the corner is (b = 0
    would be relu, whose corner sqrt(x^2) cannot differentiate: use relu for that)."""
    b = kept(b, check.positive_real("b", b, "activation 'squareplus'", "squareplus(x, b=4)"))
    x = as_tensor(x, "squareplus")
    return (x + (x * x + b).sqrt()) / 2.0


# ------------------------------------------------------------------ along an axis
def glu(x: Tensor, axis: int = -1) -> Tensor:
    """f(x) = a * sigmoid(b), where a and b are the first and second halves of x along ``axis``
    (the gated linear unit: the output has half as many entries on that axis)."""
    x = as_tensor(x, "glu")
    ax = checked_axis(x, axis, "glu", "glu(x, axis=-1)") % max(x.ndim, 1)
    n = x.shape[ax] if x.ndim else 1  # a 0-d tensor: one entry, nothing to halve
    half = glu_half(n, axis, x.shape)
    before = (slice(None),) * ax
    a, b = x[(*before, slice(0, half))], x[(*before, slice(half, n))]
    return a * b.sigmoid()


def sparsemax(x: Tensor, axis: int = -1) -> Tensor:
    """f(x) = max(x - tau, 0) along ``axis``, with tau chosen so the outputs sum to 1: the
    Euclidean projection onto the probability simplex (Martins & Astudillo 2016), a softmax
    whose small entries are exactly 0 (op ``Sparsemax`` states tau and the gradient)."""
    x = as_tensor(x, "sparsemax")
    axis = checked_axis(x, axis, "sparsemax", "sparsemax(x, axis=-1)")
    return tensor_from_op(ops.Sparsemax, x, axis=axis)


# ------------------------------------------------------------------ argument helpers
def kept(value: Any, checked: float) -> float:
    """The validated number ``checked``, as the very object ``value`` when that is already this
    float. Validation makes a new float at every call, and a captured step (``tinygrad_edu.jit``)
    keeps a number only when every call passes the same object (a default, a literal, a
    setting): a new one looks computed from the batch and is refused."""
    same = type(value) is float and value == checked
    return value if same and math.copysign(1.0, value) == math.copysign(1.0, checked) else checked


#: ``-t`` as one object per value of ``t`` (see ``kept``: soft_shrink's lower bound)
negated = functools.lru_cache(maxsize=64)(operator.neg)


def glu_half(n: int, axis: int, shape: Any) -> int:
    """n // 2, the size of glu's halves a and b; an odd n is our ``ShapeError``."""
    if n % 2:
        raise ShapeError(
            where="activation 'glu'",
            expected=f"an even size on axis {axis}, to split into the halves a and b",
            got=f"shape {tuple(shape)} ({n} on axis {axis})",
            fix=f"give that axis an even size, e.g. Dense({2 * n}, activation='glu') outputs {n}",
        )
    return n // 2


def as_tensor(x: Any, name: str) -> Tensor:
    """``x`` as a Tensor: arrays and lists convert (numbers only, a ``DataError`` otherwise)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(as_numeric_array(x, f"activation '{name}'"))


def checked_axis(x: Tensor, axis: Any, name: str, example: str) -> int:
    """``axis`` as an int in ``[-x.ndim, x.ndim - 1]`` (a 0-d tensor takes 0 or -1), checked
    before an op sees it (numpy cannot take a huge int); else our ``ConfigError``/``ShapeError``."""
    if type(axis) is int and -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        return axis  # the usual call (axis=-1): nothing to check further, every step
    axis = check.axis("axis", axis, f"activation '{name}'", example)
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ShapeError(
            where=f"activation '{name}'",
            expected=f"an axis in [{-x.ndim}, {x.ndim - 1}] for a {x.ndim}-d tensor",
            got=f"axis={axis}",
            fix=f"count axes from 0, or from -1 for the last one (the classes), e.g. {example}",
        )
    return axis


__all__ = [
    "celu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "log_sigmoid",
    "mish",
    "relu6",
    "soft_shrink",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
]
