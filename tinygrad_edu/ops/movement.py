"""Ops that move or select elements without arithmetic: reshape, transpose, broadcast_to,
squeeze/unsqueeze, getitem, concatenate, stack, pad, where."""

from __future__ import annotations

import numpy as np

from ..function import Function


class Reshape(Function):
    """out = a viewed with a new shape (same elements, row-major).   dL/da = g reshaped back."""

    shape_rule = "a new shape with the same number of elements"

    def forward(self, a, *, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.shape)


class Transpose(Function):
    """out = a with axes permuted (reversed if ``axes`` is None).   dL/da = g with the inverse
    permutation."""

    shape_rule = "a permutation of every axis"

    def forward(self, a, *, axes=None):
        self.axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
        return np.transpose(a, self.axes)

    def backward(self, grad):
        return np.transpose(grad, np.argsort(self.axes))


class BroadcastTo(Function):
    """out = a repeated along new/size-1 axes to ``shape``.   dL/da = g summed over the repeats
    (the engine's un-broadcasting does exactly that)."""

    shape_rule = "a target shape a broadcasts to (trailing axes equal, or 1 in a)"

    def forward(self, a, *, shape):
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad


class Squeeze(Function):
    """out = a without the given size-1 axes (all of them if ``axis`` is None)."""

    shape_rule = "axes of size 1"

    def forward(self, a, *, axis=None):
        self.shape = a.shape
        return np.squeeze(a, axis=axis)

    def backward(self, grad):
        return grad.reshape(self.shape)


class Unsqueeze(Function):
    """out = a with a new size-1 axis at ``axis`` (numpy's expand_dims)."""

    shape_rule = "a valid position for the new axis"

    def forward(self, a, *, axis):
        self.shape = a.shape
        return np.expand_dims(a, axis)

    def backward(self, grad):
        return grad.reshape(self.shape)


def _is_basic_index(index) -> bool:
    """Slices, ints, None and Ellipsis select each element at most once (no scatter-add needed)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis)))
        and not isinstance(i, bool)
        for i in items
    )


class GetItem(Function):
    """out = a[index] (basic slicing or integer-array indexing).

    dL/da = zeros with g scattered back to the selected places; a place selected twice gets the
    sum of both gradients (``np.add.at``).
    """

    shape_rule = "an index within the array's bounds"

    def forward(self, a, *, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad):
        out = np.zeros(self.shape, dtype=self.dtype)
        if _is_basic_index(self.index):
            out[self.index] = grad
        else:
            np.add.at(out, self.index, grad)
        return out


class Concatenate(Function):
    """out = the inputs joined along ``axis``.   dL/d(input_k) = the slice of g it came from."""

    shape_rule = "equal shapes except along the concatenation axis"

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.splits, axis=self.axis))


class Stack(Function):
    """out = the inputs stacked along a new ``axis``.   dL/d(input_k) = g indexed at k on it."""

    shape_rule = "identical shapes"

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


class Pad(Function):
    """out = a with constant padding (numpy ``pad_width``).   dL/da = g with the padding cut off."""

    shape_rule = "one (before, after) pair per axis"

    def forward(self, a, *, pad_width, value=0.0):
        self.pad = np.broadcast_to(np.asarray(pad_width, dtype=int), (a.ndim, 2))
        return np.pad(a, self.pad, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.pad))]


class Where(Function):
    """out = a where cond else b (cond a boolean mask, broadcasting).   dL/da = g * cond,
    dL/db = g * (not cond)."""

    shape_rule = "broadcast-compatible shapes of cond, a and b"

    def forward(self, a, b, *, cond):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, grad):
        ga = np.where(self.cond, grad, 0) if self.needs_input_grad[0] else None
        gb = np.where(self.cond, 0, grad) if self.needs_input_grad[1] else None
        return ga, gb
