"""Activations whose composition from Tensor ops would be unstable, long or need care in its
gradient: ``Softplus``, ``LogSigmoid``, ``Softsign``, ``Mish`` and ``Sparsemax``
(``tinygrad_edu.activations`` calls them by their Keras names).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .reduce import check_axes


def _softplus(a: np.ndarray) -> np.ndarray:
    """ln(1 + e^a) = max(a, 0) + ln(1 + e^-|a|): e^-|a| <= 1 never overflows."""
    return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a), from e^-|a| (never overflows) in the form that fits each sign."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1, e) / (1 + e)


class Softplus(Function):
    """out = ln(1 + e^a) = max(a, 0) + ln(1 + e^-|a|).   d/da = sigmoid(a).

    e^a overflows for a > ~709 and 1 + e^a rounds to 1 for a < ~-37 (the true value e^a is lost);
    this form keeps both tails: a at a = 1e4, e^-40 = 4.2e-18 at a = -40.
    """

    def forward(self, a):
        self.a = a
        return _softplus(a)

    def backward(self, grad):
        return grad * _sigmoid(self.a)


class LogSigmoid(Function):
    """out = ln sigmoid(a) = -softplus(-a) = min(a, 0) - ln(1 + e^-|a|).
    d/da = 1 - sigmoid(a) = sigmoid(-a).

    ``ln(1 / (1 + e^-a))`` as written overflows for a << 0 (e^-a = inf) and rounds to ln 1 = 0
    for a >> 0 well before the true value -e^-a underflows; this form is exact at both ends.
    """

    def forward(self, a):
        self.a = a
        return np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))

    def backward(self, grad):
        return grad * _sigmoid(-self.a)


class Softsign(Function):
    """out = a / (1 + |a|).   d/da = 1 / (1 + |a|)^2 (smooth at 0: both sides give 1)."""

    def forward(self, a):
        self.denominator = 1 + np.abs(a)
        return a / self.denominator

    def backward(self, grad):
        return grad / (self.denominator * self.denominator)


class Mish(Function):
    """out = a * tanh(softplus(a)), softplus(a) = ln(1 + e^a).
    d/da = t + a * (1 - t^2) * sigmoid(a) with t = tanh(softplus(a)), since softplus' = sigmoid.

    softplus is taken in its overflow-free form; at a = -1e4 it is 0 (t = 0, out = -0), at a = 1e4
    it is a (t = 1, out = a), and the derivative is 0 and 1 there, never inf * 0.
    """

    def forward(self, a):
        self.a = a
        self.t = np.tanh(_softplus(a))
        return a * self.t

    def backward(self, grad):
        t = self.t
        return grad * (t + self.a * (1 - t * t) * _sigmoid(self.a))


class Sparsemax(Function):
    """The Euclidean projection of ``a`` onto the probability simplex along ``axis`` (Martins &
    Astudillo 2016): out = max(a - tau, 0), with tau chosen so that sum(out) = 1.

    With z the values sorted in descending order and k = 1, 2, ..., n, the support size is
    k* = max{k : 1 + k z_k > z_1 + ... + z_k} and tau = (z_1 + ... + z_k* - 1) / k*.
    On the support S = {out > 0}:  dL/da = [a in S] * (g - sum_S(g) / |S|), zero elsewhere.

    Unlike softmax, whole entries are exactly 0: a sparse probability vector. A 0-d tensor is its
    own axis (``axis`` 0 or -1): out = 1, dL/da = 0.
    """

    axis_call = "sparsemax(x, axis={})"

    def forward(self, a, *, axis=-1):
        self.axis = axis = check_axes(self, axis, a.ndim, many=False)
        if a.ndim == 0:
            self.support = np.ones((), dtype=bool)
            return np.ones_like(a)
        (ax,) = axis
        z = -np.sort(-a, axis=ax)  # descending
        cumulative = np.cumsum(z, axis=ax)
        k = np.arange(1, a.shape[ax] + 1, dtype=a.dtype).reshape(
            [-1 if i == ax else 1 for i in range(a.ndim)]
        )
        size = np.sum(1 + k * z > cumulative, axis=ax, keepdims=True)  # k* >= 1: z_1 qualifies
        tau = (np.take_along_axis(cumulative, size - 1, axis=ax) - 1) / size.astype(a.dtype)
        out = np.maximum(a - tau, 0)
        self.support = out > 0
        return out

    def backward(self, grad):
        s, axis = self.support, self.axis
        size = s.sum(axis=axis, keepdims=True, dtype=grad.dtype)
        mean_on_support = (grad * s).sum(axis=axis, keepdims=True) / size
        return s * (grad - mean_on_support)


__all__ = ["LogSigmoid", "Mish", "Softplus", "Softsign", "Sparsemax"]
