"""Elementwise functions of one input: exp, log, sqrt, abs, clip and the activations."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..function import Function
from .reduce import check_axes


class Exp(Function):
    """out = e^a.   d/da = e^a = out."""

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, grad):
        return grad * self.out


class Log(Function):
    """out = ln(a).   d/da = 1/a."""

    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, grad):
        return grad / self.a


class Sqrt(Function):
    """out = sqrt(a).   d/da = 1 / (2 sqrt(a)) = 1 / (2 out)."""

    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, grad):
        return grad / (2 * self.out)


class Abs(Function):
    """out = |a|.   d/da = sign(a)  (0 at a = 0, as numpy's sign)."""

    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, grad):
        return grad * np.sign(self.a)


class Clip(Function):
    """out = min(max(a, lo), hi).   d/da = 1 where lo <= a <= hi, else 0.

    As numpy and torch: ``lo > hi`` gives ``hi`` everywhere (the max with lo is taken first), and
    so a zero gradient everywhere (no a has lo <= a <= hi), as torch's. At least one bound is
    needed and a NaN bound is refused (numpy >= 2.1 would return a copy / NaNs silently).
    """

    def forward(self, a, *, lo=None, hi=None):
        self.a, self.lo, self.hi = a, _bound(lo, "min"), _bound(hi, "max")
        if lo is None and hi is None:
            raise ConfigError(
                "One of max or min must be given",
                where="op 'Clip'",
                expected="a lower bound, an upper bound, or both",
                got="min=None, max=None",
                fix="t.clip(0.0, 1.0)",
            )
        return np.clip(a, lo, hi)

    def backward(self, grad):
        inside = np.ones(self.a.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.a >= self.lo
        if self.hi is not None:
            inside &= self.a <= self.hi
        return grad * inside


def _bound(value, name: str):
    """A clip bound: None, a number or a numeric array without NaN; else a ``ConfigError``."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf" or np.isnan(arr).any():
        raise ConfigError(
            where="op 'Clip'",
            expected=f"{name} as a number (or None for no bound), not NaN",
            got=f"{name}={value!r}",
            fix="t.clip(0.0, 1.0)" if name == "min" else "t.clip(None, 1.0)",
        )
    return value


class Relu(Function):
    """out = max(a, 0).   d/da = [a > 0]."""

    def forward(self, a):
        self.a = a
        return np.maximum(a, 0)

    def backward(self, grad):
        return grad * (self.a > 0)


class LeakyRelu(Function):
    """out = a if a > 0 else slope * a.   d/da = 1 if a > 0 else slope."""

    def forward(self, a, *, negative_slope=0.2):
        self.a, self.slope = a, negative_slope
        return np.where(a > 0, a, a * negative_slope)

    def backward(self, grad):
        return np.where(self.a > 0, grad, grad * self.slope)


class Elu(Function):
    """out = a if a > 0 else alpha (e^a - 1).   d/da = 1 if a > 0 else out + alpha."""

    def forward(self, a, *, alpha=1.0):
        self.a, self.alpha = a, alpha
        self.out = np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))
        return self.out

    def backward(self, grad):
        return np.where(self.a > 0, grad, grad * (self.out + self.alpha))


class Sigmoid(Function):
    """out = 1 / (1 + e^-a).   d/da = out (1 - out)."""

    def forward(self, a):
        # e^-|a| never overflows; pick the algebraically equal form for each sign.
        e = np.exp(-np.abs(a))
        self.out = np.where(a >= 0, 1, e) / (1 + e)
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out)


class Tanh(Function):
    """out = tanh(a).   d/da = 1 - out^2."""

    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out * self.out)


class Softmax(Function):
    """out_i = e^(a_i) / sum_j e^(a_j) along ``axis``.   dL/da = out * (g - sum(g * out)).

    ``axis=None`` normalizes over every element (as ``scipy.special.softmax``). A 0-d tensor is
    its own axis (``axis`` 0 or -1, as torch): out = 1, dL/da = 0.
    """

    axis_call = "t.softmax(axis={})"

    def forward(self, a, *, axis=-1):
        self.axis = axis = check_axes(self, axis, a.ndim, many=False)
        # shift by the max: same result, no overflow (ufunc reduce: no Python wrapper)
        self.shifted = a - np.maximum.reduce(a, axis=axis, keepdims=True)
        e = np.exp(self.shifted)
        self.total = np.add.reduce(e, axis=axis, keepdims=True)
        self.out = e / self.total
        return self.out

    def backward(self, grad):
        s = self.out
        return s * (grad - (grad * s).sum(axis=self.axis, keepdims=True))

    def log_softmax(self) -> np.ndarray:
        """log(out), computed stably from the saved shifted logits (cross-entropy reuses it)."""
        return self.shifted - np.log(self.total)


class LogSoftmax(Function):
    """out = a - logsumexp(a) along ``axis``.   dL/da = g - softmax(a) * sum(g).

    ``axis=None`` normalizes over every element. A 0-d tensor is its own axis (``axis`` 0 or
    -1, as torch): out = 0, dL/da = 0.
    """

    axis_call = "t.log_softmax(axis={})"

    def forward(self, a, *, axis=-1):
        self.axis = axis = check_axes(self, axis, a.ndim, many=False)
        shifted = a - a.max(axis=axis, keepdims=True)
        self.out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return self.out

    def backward(self, grad):
        return grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)


class Erf(Function):
    """out = erf(a) = 2/sqrt(pi) * integral_0^a e^(-t^2) dt.   d/da = 2/sqrt(pi) * e^(-a^2).

    numpy has no erf (and scipy is not a dependency), so forward sums it to float64 precision
    (|error| ~1e-15, see ``_erf``): the backward's exact derivative then agrees with finite
    differences of the forward to gradcheck's tight tolerance.
    """

    def forward(self, a):
        self.a = a
        return _erf(a.astype(np.float64)).astype(a.dtype, copy=False)

    def backward(self, grad):
        return grad * (1.1283791670955126 * np.exp(-self.a * self.a))


#: below it the power series, above it the continued fraction (both ~1e-15 there)
_ERF_SPLIT = 2.5


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float64: a power series for |x| < 2.5, 1 - erfc by a continued fraction above.

    |x| < 2.5:  erf(x) = 2/sqrt(pi) e^(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)), all terms
    positive (no cancellation), 36 terms.   |x| >= 2.5:  erfc(x) = e^(-x^2) / (sqrt(pi) f) with
    f = x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), 24 levels evaluated from the bottom up.
    """
    ax = np.abs(x)
    small = np.minimum(ax, _ERF_SPLIT)
    term, total, twice_sq = small.copy(), small.copy(), 2 * small * small
    for n in range(1, 36):
        term *= twice_sq / (2 * n + 1)
        total += term
    series = 1.1283791670955126 * np.exp(-small * small) * total
    large = np.maximum(ax, _ERF_SPLIT)
    f = large.copy()
    for k in range(24, 0, -1):
        f = large + (k / 2) / f
    tail = 1 - np.exp(-large * large) / (1.7724538509055159 * f)
    return np.sign(x) * np.where(ax < _ERF_SPLIT, series, tail)
