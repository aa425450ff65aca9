"""Elementwise arithmetic: add, sub, mul, div, neg, pow, maximum, minimum.

All binary ops broadcast like numpy; their backward returns gradients of the *broadcast* shape and
the engine sums them back down to each input's shape.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..function import BinaryBroadcast, Function


class Add(BinaryBroadcast):
    """out = a + b.   d/da = 1,   d/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(BinaryBroadcast):
    """out = a - b.   d/da = 1,   d/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(BinaryBroadcast):
    """out = a * b.   d/da = b,   d/db = a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        ga = grad * self.b if self.needs_input_grad[0] else None
        gb = grad * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Div(BinaryBroadcast):
    """out = a / b.   d/da = 1/b,   d/db = -a/b^2 = -out/b."""

    def forward(self, a, b):
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, grad):
        ga = grad / self.b if self.needs_input_grad[0] else None
        gb = -grad * self.out / self.b if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """out = -a.   d/da = -1."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Pow(BinaryBroadcast):
    """out = a ** b (both tensors).

    d/da = b * a^(b-1), and 0 where b = 0 (a^0 = 1 is flat; the formula would give 0 * 0^-1 =
    nan at a = 0).   d/db = a^b * ln(a), and 0 where a = 0 and b >= 0 (0^b does not move with
    b there; the formula would give 0 * -inf = nan). Both as torch. Elsewhere the formula
    stands: d/db is nan for a < 0 (ln a) and -inf for a = 0, b < 0.
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad):
        a, b = self.a, self.b
        ga = grad * power_slope(a, b) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad * np.where((a == 0) & (b >= 0), 0.0, self.out * np.log(a))
        return ga, gb


class PowScalar(Function):
    """out = a ** p for a constant p.   d/da = p * a^(p-1), taken as 0 when p = 0 (as torch).

    At a = 0 that gives, as torch: p = 0 -> 0, p = 1 -> 1, p = 2 -> 0, p = 0.5 -> inf,
    p = -1 -> -inf. ``p`` may also be an array (broadcast against ``a``).
    """

    def forward(self, a, *, exponent):
        self.a, self.p = a, _check_exponent(exponent)
        return a**self.p

    def backward(self, grad):
        if isinstance(self.p, (int, float)) and self.p == 2:  # the common square: no power
            return grad * 2 * self.a
        return grad * power_slope(self.a, self.p)


def _check_exponent(p):
    """A number or a numeric array, else a ``ConfigError`` (numpy would raise a bare TypeError)."""
    if isinstance(p, (list, tuple)):
        p = np.asarray(p)  # exponents per element, as numpy takes them
    numeric = isinstance(p, (int, float, np.number)) and not isinstance(p, (bool, np.bool_))
    if numeric or (isinstance(p, np.ndarray) and p.dtype.kind in "iuf"):
        return p
    raise ConfigError(
        where="op 'PowScalar'",
        expected="an exponent that is a number (or a numeric array)",
        got=f"{p!r} ({type(p).__name__})",
        fix="t ** 2",
    )


def power_slope(a, p):
    """d/da a^p = p * a^(p-1), and 0 wherever p = 0 (no nan from 0 * 0^-1 at a = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = p * a ** (p - 1)
    if np.ndim(p) == 0:
        return slope if p != 0 else np.zeros_like(slope)
    return np.where(p == 0, 0, slope)


class Maximum(BinaryBroadcast):
    """out = max(a, b) elementwise.   d/da = [a > b] (+ 1/2 on ties),   d/db = [b > a] (+ 1/2)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, grad):
        return _tie_shares(grad, self.a > self.b, self.a == self.b)


class Minimum(BinaryBroadcast):
    """out = min(a, b) elementwise.   d/da = [a < b] (+ 1/2 on ties),   d/db = [b < a] (+ 1/2)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, grad):
        return _tie_shares(grad, self.a < self.b, self.a == self.b)


def _tie_shares(grad, wins, ties):
    """(g * share, g * (1 - share)) with share = 1 where a wins, 1/2 on ties, else 0 - in the
    gradient's dtype (a float64 share would turn a float32 backward into float64)."""
    share = np.where(ties, np.asarray(0.5, grad.dtype), np.asarray(wins, grad.dtype))
    return grad * share, grad * (1 - share)
