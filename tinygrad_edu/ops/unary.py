"""Elementwise functions of one input: exp, log, sqrt, abs, clip and the activations."""

from __future__ import annotations

import numpy as np

from ..function import Function


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
    """out = min(max(a, lo), hi).   d/da = 1 where lo <= a <= hi, else 0."""

    def forward(self, a, *, lo=None, hi=None):
        self.a, self.lo, self.hi = a, lo, hi
        return np.clip(a, lo, hi)

    def backward(self, grad):
        inside = np.ones(self.a.shape, dtype=bool)
        if self.lo is not None:
            inside &= self.a >= self.lo
        if self.hi is not None:
            inside &= self.a <= self.hi
        return grad * inside


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
    """out_i = e^(a_i) / sum_j e^(a_j) along ``axis``.   dL/da = out * (g - sum(g * out))."""

    def forward(self, a, *, axis=-1):
        self.axis = axis
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
    """out = a - logsumexp(a) along ``axis``.   dL/da = g - softmax(a) * sum(g)."""

    def forward(self, a, *, axis=-1):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        self.out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return self.out

    def backward(self, grad):
        return grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)


class Erf(Function):
    """out = erf(a) = 2/sqrt(pi) * integral_0^a e^(-t^2) dt.   d/da = 2/sqrt(pi) * e^(-a^2).

    Forward uses Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution), since
    numpy has no erf and scipy is not a dependency.
    """

    def forward(self, a):
        self.a = a
        t = 1.0 / (1.0 + 0.3275911 * np.abs(a))
        poly = t * (
            0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
        )
        return (np.sign(a) * (1.0 - poly * np.exp(-a * a))).astype(a.dtype, copy=False)

    def backward(self, grad):
        return grad * (1.1283791670955126 * np.exp(-self.a * self.a))
