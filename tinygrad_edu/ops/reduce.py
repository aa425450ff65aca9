"""Reductions over ``axis`` (None, an int, or a tuple) with ``keepdims``: sum, mean, max, min,
var, logsumexp. Backward spreads the gradient back over the reduced axes.

This module also holds the axis checks every op that takes an axis shares (``check_axes``):
an axis counts from 0 or, negative, from the end; a bad one (out of range, not an int, given
twice) is refused with our ``ShapeError``/``ConfigError`` naming the op, the valid range and a
call that works - never a raw numpy ``AxisError`` or ``TypeError``.

A 0-d tensor takes ``axis=0`` and ``axis=-1`` (as in torch; numpy refuses them): the axis is the
tensor itself, so a reduction over it gives the same 0-d value (var: 0, the spread of one value).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..errors import ConfigError, ShapeError
from ..function import Function
from ..validation import is_int


# ---------------------------------------------------------------- axis checks (shared)
def check_axes(
    op: Function, axis: Any, ndim: int, many: bool = True, example: Any = -1, of: str = ""
) -> tuple[int, ...]:
    """``axis`` -> the sorted non-negative axes of an ``ndim``-d array, or our error naming ``op``.

    ``None`` means every axis; an int one axis; a tuple/list (only when ``many``) several,
    each once. A 0-d array takes 0 or -1 and gives ``()`` (nothing to reduce). The fix shows
    ``op.axis_call`` (with ``{}`` where the axis goes) filled with ``example``; ``of`` names the
    array the axes count in (default: "a {ndim}-d tensor").
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case (axis=-1), checked cheaply
        return (axis % ndim,)
    items = tuple(axis) if many and isinstance(axis, (tuple, list)) else (axis,)
    if not all(is_int(a) for a in items):
        raise _axis_type_error(op, axis, many, example)
    n = max(ndim, 1)  # a 0-d array has the range of a 1-d one: [-1, 0]
    valid = f"axes in [{-n}, {n - 1}] for {of or f'a {ndim}-d tensor'}"
    for a in items:
        if not -n <= a < n:
            raise ShapeError(
                where=f"op '{op.name}'",
                expected=valid,
                got=f"axis={axis!r}",
                fix="count axes from 0, or from -1 for the last one, e.g. "
                + op.axis_call.format(example),
            )
    out = [int(a) % n for a in items]
    if len(set(out)) < len(out):
        distinct = tuple(sorted(set(out))) if example == -1 else example
        raise ConfigError(
            where=f"op '{op.name}'",
            expected=f"each axis once ({valid}; -1 is the last axis too)",
            got=f"axis={axis!r}",
            fix="give each axis once, e.g. " + op.axis_call.format(distinct),
        )
    return () if ndim == 0 else tuple(sorted(out))


def _axis_type_error(op: Function, axis: Any, many: bool, example: Any) -> ConfigError:
    kinds = "an int or a tuple of ints" if many else "an int"
    return ConfigError(
        where=f"op '{op.name}'",
        expected=f"axis as {kinds} (True/False, floats and strings are not axes)",
        got=f"axis={axis!r} ({type(axis).__name__})",
        fix="pass ints, e.g. " + op.axis_call.format(example),
    )


# ---------------------------------------------------------------- reductions
class _Reduce(Function):
    """Shared bookkeeping: remember the input shape and re-insert reduced axes for backward."""

    shape_rule = "axes within the input's dimensions"

    def _setup(self, a, axis, keepdims):
        self.shape = a.shape
        self.axes = check_axes(self, axis, a.ndim)
        self.keepdims = keepdims
        return self.axes

    def _expand(self, grad):
        """Grad of the reduced output -> keepdims form, broadcastable against the input."""
        return grad if self.keepdims else np.expand_dims(grad, self.axes)

    def _count(self):
        """N, the number of elements each output element reduces."""
        return math.prod(self.shape[i] for i in self.axes)


class Sum(_Reduce):
    """out = sum(a, axis).   d/da_i = 1 for every reduced element."""

    axis_call = "t.sum(axis={})"

    def forward(self, a, *, axis=None, keepdims=False):
        return a.sum(axis=self._setup(a, axis, keepdims), keepdims=keepdims)

    def backward(self, grad):
        return np.broadcast_to(self._expand(grad), self.shape)


class Mean(_Reduce):
    """out = sum(a, axis) / N.   d/da_i = 1/N (N = number of reduced elements)."""

    axis_call = "t.mean(axis={})"

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        return a.mean(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):  # N = 0: an empty (nan) mean
            return np.broadcast_to(self._expand(grad) / self._count(), self.shape)


class Max(_Reduce):
    """out = max(a, axis).   d/da_i = 1 at the maximum (shared equally between ties), else 0."""

    axis_call = "t.max(axis={})"

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        self.a = a
        self.out = a.max(axis=axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=axes)

    def backward(self, grad):
        hit = self.a == self.out
        ties = hit.sum(axis=self.axes, keepdims=True).astype(grad.dtype)  # not int64: float64
        return hit * (self._expand(grad) / ties)


class Min(Max):
    """out = min(a, axis).   d/da_i = 1 at the minimum (shared equally between ties), else 0."""

    axis_call = "t.min(axis={})"

    def forward(self, a, *, axis=None, keepdims=False):
        axes = self._setup(a, axis, keepdims)
        self.a = a
        self.out = a.min(axis=axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=axes)


class Var(_Reduce):
    """out = sum((a - mean)^2) / D,  D = max(N - ddof, 0).   d/da_i = 2 (a_i - mean) / D.

    ``ddof >= N`` (no degrees of freedom left) divides by 0 as numpy does: the variance is inf,
    or nan where every reduced value is the same (0/0), with a ``RuntimeWarning``; its gradient
    is 2 (a_i - mean) / 0: -inf/+inf below/above the mean, nan at it - torch's values when it
    reduces given axes with ``correction == N`` (see ``tests/ops/test_numerics_ops.py``).
    """

    axis_call = "t.var(axis={})"

    def forward(self, a, *, axis=None, keepdims=False, ddof=0):
        axes = self._setup(a, axis, keepdims)
        self.centered = a - a.mean(axis=axes, keepdims=True)
        self.denom = max(self._count() - _check_ddof(self, ddof), 0)
        squares = (self.centered**2).sum(axis=axes, keepdims=keepdims)
        if self.denom == 0 and squares.size:
            warnings.warn(
                f"var: ddof={ddof} leaves no degrees of freedom for {self._count()} value(s) "
                "per result; the variance is inf (nan where the values are all equal)",
                RuntimeWarning,
                stacklevel=4,  # Var.forward <- _apply <- Tensor.var <- the caller
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            return squares / self.denom

    def backward(self, grad):
        scale = 2.0 / self.denom if self.denom else math.inf  # a Python float keeps float32
        with np.errstate(invalid="ignore"):  # inf * 0 at the mean: nan, as the math says
            return self._expand(grad) * (scale * self.centered)


def _check_ddof(op: Function, ddof: Any) -> float:
    """A real, finite ``ddof`` (an int usually: 0 biased, 1 unbiased), else a ``ConfigError``."""
    ok = isinstance(ddof, (int, float, np.integer, np.floating)) and not isinstance(ddof, bool)
    if not ok or not math.isfinite(ddof):
        raise ConfigError(
            where=f"op '{op.name}'",
            expected="ddof as a finite number (0: divide by N, 1: by N - 1)",
            got=f"ddof={ddof!r}",
            fix="t.var(ddof=1)",
        )
    return ddof


class LogSumExp(_Reduce):
    """out = log(sum(e^a, axis)).   d/da_i = softmax(a)_i."""

    axis_call = "t.logsumexp(axis={})"

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
