"""Products, standard deviations and running sums: ``Prod`` and ``Std`` (reductions) and
``CumSum`` (a scan).

Each has a backward that the obvious formula gets wrong in a corner: prod's d(out)/da_i is
``out / a_i`` only when no a is 0, std's derivative divides by std (0 when the values are all
equal), and cumsum's gradient runs the sum the other way.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .reduce import Var, _Reduce, check_axes


class Prod(_Reduce):
    """out = prod(a, axis).   d(out)/da_i = prod_{j != i} a_j  (the product of the others).

    The product of the others is ``before_i * after_i``: the product of the reduced values before
    i times the product of those after it (exclusive running products from both ends). No
    division, so a 0 in the input gives the exact gradient: with one zero at i, only a_i gets
    a nonzero gradient (the product of the rest); with two zeros, every gradient is 0.
    ``out / a_i`` would give 0/0 = nan there.
    """

    axis_call = "t.prod(axis={})"

    def forward(self, a, *, axis=None, keepdims=False):
        self.a = a
        return np.prod(a, axis=self._setup(a, axis, keepdims), keepdims=keepdims)

    def backward(self, grad):
        kept = [d for d in range(self.a.ndim) if d not in self.axes]
        order = kept + list(self.axes)
        moved = np.transpose(self.a, order)  # the reduced axes last ...
        rows = moved.reshape(moved.shape[: len(kept)] + (-1,))  # ... and flattened into one
        before = _exclusive_cumprod(rows)
        after = _exclusive_cumprod(rows[..., ::-1])[..., ::-1]
        others = (before * after).reshape(moved.shape).transpose(np.argsort(order))
        return self._expand(grad) * others


def _exclusive_cumprod(rows: np.ndarray) -> np.ndarray:
    """Along the last axis: [1, r0, r0 r1, ..., r0 ... r_{n-2}] (each product stops before i)."""
    out = np.ones_like(rows)
    np.cumprod(rows[..., :-1], axis=-1, out=out[..., 1:])
    return out


class Std(Var):
    """out = sqrt(var) = sqrt(sum((a - mean)^2) / D),  D = N - ddof as in ``Var``.
    d(out)/da_i = (a_i - mean) / (D out).

    Where out = 0 (every reduced value the same) the derivative does not exist (0/0); the
    gradient there is 0, torch's choice: nudging one value can only increase the spread.
    """

    axis_call = "t.std(axis={})"

    def forward(self, a, *, axis=None, keepdims=False, ddof=0):
        self.out = np.sqrt(super().forward(a, axis=axis, keepdims=keepdims, ddof=ddof))
        return self.out

    def backward(self, grad):
        out = self._expand(self.out)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = self.centered / (self.denom * out)
        return self._expand(grad) * np.where(out == 0, 0, slope)


class CumSum(Function):
    """out_k = sum_{i <= k} a_i along ``axis`` (``axis=None``: over the flattened array, as
    numpy).   dL/da_i = sum_{k >= i} g_k: every later output used a_i, so the gradient is the
    running sum of g taken from the end.

    A 0-d tensor takes axis 0 or -1 (as torch): the running sum of one value is the value.
    """

    shape_rule = "an axis within the input's dimensions"
    axis_call = "t.cumsum(axis={})"

    def forward(self, a, *, axis=None):
        self.shape = a.shape
        if axis is None:
            self.axis = 0
            return np.cumsum(a.reshape(-1))
        axes = check_axes(self, axis, a.ndim, many=False)
        self.axis = axes[0] if axes else None  # None: 0-d, nothing to sum
        return a.copy() if self.axis is None else np.cumsum(a, axis=self.axis)

    def backward(self, grad):
        if self.axis is None:
            return grad
        reverse = [slice(None)] * grad.ndim
        reverse[self.axis] = slice(None, None, -1)
        reverse = tuple(reverse)
        return np.cumsum(grad[reverse], axis=self.axis)[reverse].reshape(self.shape)
