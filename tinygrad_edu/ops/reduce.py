"""Reductions over ``axis`` (None, an int, or a tuple) with ``keepdims``: sum, mean, max, min,
var, logsumexp. Backward spreads the gradient back over the reduced axes."""

from __future__ import annotations

import numpy as np

from .._shapes import normalize_axes
from ..function import Function


class _Reduce(Function):
    """Shared bookkeeping: remember the input shape and re-insert reduced axes for backward."""

    def _setup(self, a, axis, keepdims):
        self.shape = a.shape
        self.axes = normalize_axes(axis, a.ndim)
        self.keepdims = keepdims
        return self.axes

    def _expand(self, grad):
        """Grad of the reduced output -> keepdims form, broadcastable against the input."""
        return grad if self.keepdims else np.expand_dims(grad, self.axes)


class Sum(_Reduce):
    """out = sum(a, axis).   d/da_i = 1 for every reduced element."""

    def forward(self, a, *, axis=None, keepdims=False):
        return a.sum(axis=self._setup(a, axis, keepdims), keepdims=keepdims)

    def backward(self, grad):
        return np.broadcast_to(self._expand(grad), self.shape)


class Mean(_Reduce):
    """out = sum(a, axis) / N.   d/da_i = 1/N (N = number of reduced elements)."""

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        self.count = int(np.prod([a.shape[i] for i in axes]))
        return a.mean(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        return np.broadcast_to(self._expand(grad) / self.count, self.shape)


class Max(_Reduce):
    """out = max(a, axis).   d/da_i = 1 at the maximum (shared equally between ties), else 0."""

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        self.a = a
        self.out = a.max(axis=axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=axes)

    def backward(self, grad):
        hit = self.a == self.out
        return hit * (self._expand(grad) / hit.sum(axis=self.axes, keepdims=True))


class Min(Max):
    """out = min(a, axis).   d/da_i = 1 at the minimum (shared equally between ties), else 0."""

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        self.a = a
        self.out = a.min(axis=axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=axes)


class Var(_Reduce):
    """out = sum((a - mean)^2) / (N - ddof).   d/da_i = 2 (a_i - mean) / (N - ddof)."""

    def forward(self, a, *, axis=None, keepdims=False, ddof=0):
        axes = self._setup(a, axis, keepdims)
        self.centered = a - a.mean(axis=axes, keepdims=True)
        self.denom = int(np.prod([a.shape[i] for i in axes])) - ddof
        return (self.centered**2).sum(axis=axes, keepdims=keepdims) / self.denom

    def backward(self, grad):
        return self._expand(grad) * (2 / self.denom) * self.centered


class LogSumExp(_Reduce):
    """out = log(sum(e^a, axis)).   d/da_i = softmax(a)_i."""

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        m = a.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # shift by the max so exp never overflows
        e = np.exp(a - m)
        total = e.sum(axis=axes, keepdims=True)
        self.softmax = e / total
        out = np.log(total) + m
        return out if keepdims else np.squeeze(out, axis=axes)

    def backward(self, grad):
        return self._expand(grad) * self.softmax
