"""Ops that move or select elements without arithmetic: reshape, transpose, broadcast_to,
squeeze/unsqueeze, getitem, concatenate, stack, pad, where."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, ShapeError
from ..function import Function
from .reduce import check_axes


class Reshape(Function):
    """out = a viewed with a new shape (same elements, row-major).   dL/da = g reshaped back."""

    shape_rule = "a new shape with the same number of elements"

    def forward(self, a, *, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.shape)


class Transpose(Function):
    """out = a with axes permuted: out.shape[k] = a.shape[axes[k]] (reversed if ``axes`` is
    None).   dL/da = g with the inverse permutation (argsort of the axes counted from 0, so
    negative axes work too)."""

    shape_rule = "a permutation of every axis"
    axis_call = "t.transpose({})"

    def forward(self, a, *, axes=None):
        self.axes = tuple(range(a.ndim))[::-1] if axes is None else self._permutation(axes, a)
        return np.transpose(a, self.axes)

    def backward(self, grad):
        return np.transpose(grad, np.argsort(self.axes))

    def _permutation(self, axes, a):
        """``axes`` counted from 0, after checking they name every axis of ``a`` once."""
        reverse = tuple(range(a.ndim))[::-1]
        if not isinstance(axes, (tuple, list)) or len(axes) != a.ndim:
            raise ShapeError(
                where="op 'Transpose'",
                expected=f"a permutation of all {a.ndim} axes of a tensor of shape {a.shape}",
                got=f"axes={axes!r}",
                fix="name every axis once, e.g. " + self.axis_call.format(reverse),
            )
        check_axes(self, axes, a.ndim, example=reverse)  # ints, in range, each once
        return tuple(int(k) % a.ndim for k in axes)


class BroadcastTo(Function):
    """out = a repeated along new/size-1 axes to ``shape``.   dL/da = g summed over the repeats
    (the engine's un-broadcasting does exactly that)."""

    shape_rule = "a target shape a broadcasts to (trailing axes equal, or 1 in a)"

    def forward(self, a, *, shape):
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return grad


class Squeeze(Function):
    """out = a without the given size-1 axes (all of them if ``axis`` is None).
    dL/da = g reshaped back to a's shape."""

    shape_rule = "axes of size 1"
    axis_call = "t.squeeze(axis={})"

    def forward(self, a, *, axis=None):
        self.shape = a.shape
        ones = tuple(k for k, n in enumerate(a.shape) if n == 1)
        axes = ones if axis is None else check_axes(self, axis, a.ndim, example=None)
        wide = [k for k in axes if a.shape[k] != 1]
        if wide:
            raise ShapeError(
                where="op 'Squeeze'",
                expected=f"axes of size 1 of a tensor of shape {a.shape} "
                f"(its size-1 axes: {ones or 'none'})",
                got=f"axis={axis!r}: axis {wide[0]} has size {a.shape[wide[0]]}",
                fix="squeeze only size-1 axes, e.g. " + self.axis_call.format(ones or None),
            )
        return a.reshape([n for k, n in enumerate(a.shape) if k not in axes])

    def backward(self, grad):
        return grad.reshape(self.shape)


class Unsqueeze(Function):
    """out = a with a new size-1 axis at ``axis`` (numpy's expand_dims; a tuple adds several),
    counted in the output's axes.   dL/da = g reshaped back to a's shape."""

    shape_rule = "a valid position for the new axis"
    axis_call = "t.unsqueeze({})"

    def forward(self, a, *, axis):
        self.shape = a.shape
        added = len(axis) if isinstance(axis, (tuple, list)) else 1
        result = f"the {a.ndim + added}-d result"
        return np.expand_dims(a, check_axes(self, axis, a.ndim + added, of=result))

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
    axis_call = "concatenate(tensors, axis={})"

    def forward(self, *arrays, axis=0):
        if arrays[0].ndim == 0:
            raise ShapeError(
                where="op 'Concatenate'",
                expected="tensors with at least one axis to join along",
                got="0-d tensors (single numbers)",
                fix="stack numbers into a new axis instead, e.g. stack(tensors, axis=0)",
            )
        self.axis = _one_axis(self, axis, arrays[0].ndim)
        self.splits = np.cumsum([a.shape[self.axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=self.axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.splits, axis=self.axis))


class Stack(Function):
    """out = the inputs stacked along a new ``axis`` (counted in the output's axes).
    dL/d(input_k) = g indexed at k on that axis."""

    shape_rule = "identical shapes"
    axis_call = "stack(tensors, axis={})"

    def forward(self, *arrays, axis=0):
        self.axis = _one_axis(self, axis, arrays[0].ndim + 1, f"the {arrays[0].ndim + 1}-d result")
        return np.stack(arrays, axis=self.axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


def _one_axis(op: Function, axis, ndim: int, of: str = "") -> int:
    """A single int axis of an ``ndim``-d array (``ndim >= 1``), counted from 0."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise ConfigError(
            where=f"op '{op.name}'",
            expected="axis as one int",
            got=f"axis={axis!r}",
            fix="join along one axis, e.g. " + op.axis_call.format(-1),
        )
    return check_axes(op, axis, ndim, many=False, of=of)[0]


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
