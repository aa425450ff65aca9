"""Ops that reorder, copy or pick elements: flip, repeat (``np.repeat``), tile (``np.tile``),
tril/triu, take_along_axis (torch's ``gather``); and the no-gradient helpers ``arg_extreme``
(argmax/argmin) and ``one_hot``.

Their backwards all say the same thing: an output element that is a copy of input element i
sends its gradient back to i; an input copied several times gets the sum (``np.add.at``); an
input not copied gets 0.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError, ShapeError
from ..function import Function
from ..validation import describe, is_int
from .reduce import check_axes


class Flip(Function):
    """out = a reversed along ``axis`` (an int, a tuple, or None for every axis, as numpy).
    dL/da = g reversed along the same axes (flipping twice is the identity)."""

    shape_rule = "axes within the input's dimensions"
    axis_call = "t.flip(axis={})"

    def forward(self, a, *, axis=None):
        self.axes = check_axes(self, axis, a.ndim)
        return np.flip(a, self.axes).copy()

    def backward(self, grad):
        return np.flip(grad, self.axes)


class Repeat(Function):
    """out = np.repeat(a, repeats, axis): each slice i along ``axis`` copied ``repeats[i]`` times
    in place (``[a, b] -> [a, a, b, b]``; torch's ``repeat_interleave``). ``axis=None`` repeats
    the flattened array. dL/da_i = the sum of g over the copies of a_i.
    """

    shape_rule = "repeats as one int or one int per slice along the axis"
    axis_call = "t.repeat(2, axis={})"

    def forward(self, a, *, repeats, axis=None):
        self.shape = a.shape
        if axis is None or a.ndim == 0:  # flattened (numpy); a 0-d tensor as 1-d (torch)
            a = a.reshape(-1)
        self.axis = 0 if axis is None else check_axes(self, axis, a.ndim, many=False)[0]
        counts = _repeat_counts(repeats, a.shape[self.axis])
        self.source = np.repeat(np.arange(a.shape[self.axis]), counts)  # out slice k <- source[k]
        self.n = a.shape[self.axis]
        return np.repeat(a, counts, axis=self.axis)

    def backward(self, grad):
        moved = np.moveaxis(grad, self.axis, 0)
        summed = np.zeros((self.n,) + moved.shape[1:], dtype=grad.dtype)
        np.add.at(summed, self.source, moved)
        return np.moveaxis(summed, 0, self.axis).reshape(self.shape)


def _repeat_counts(repeats: Any, n: int) -> np.ndarray:
    """One count >= 0 per slice: an int for all, or a sequence of ``n`` ints."""
    items = [repeats] if is_int(repeats) else _int_items(repeats)
    if items is None or any(not is_int(r) or r < 0 for r in items) or len(items) not in (1, n):
        raise ConfigError(
            where="op 'Repeat'",
            expected=f"repeats as an int >= 0, or a list of {n} ints >= 0 (one per slice)",
            got=f"repeats={describe(repeats)}",
            fix="t.repeat(2, axis=0)",
        )
    return np.array(items * n if len(items) == 1 else items, dtype=np.int64)


def _int_items(value: Any) -> list | None:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()  # floats stay floats: refused as counts
    return None


class Tile(Function):
    """out = np.tile(a, reps): the whole of a laid ``reps[d]`` times side by side along each
    axis d (``[a, b] -> [a, b, a, b]``; torch's ``Tensor.repeat``). ``reps`` longer than a's
    dims adds leading axes; shorter, it counts from the last axis.

    dL/da = g cut into its ``reps`` blocks, the blocks summed: g reshaped to
    ``(r0, s0, r1, s1, ...)`` and summed over the r axes (block index outside, element inside).
    """

    shape_rule = "reps as ints >= 0"

    def forward(self, a, *, reps):
        reps = _tile_reps(reps)
        d = max(len(reps), a.ndim)
        self.shape = a.shape
        self.reps = (1,) * (d - len(reps)) + reps
        self.sides = (1,) * (d - a.ndim) + a.shape
        return np.tile(a, reps)

    def backward(self, grad):
        blocks = grad.reshape([n for pair in zip(self.reps, self.sides) for n in pair])
        return blocks.sum(axis=tuple(range(0, blocks.ndim, 2))).reshape(self.shape)


def _tile_reps(reps: Any) -> tuple:
    items = [reps] if is_int(reps) else _int_items(reps)
    if items is None or any(not is_int(r) or r < 0 for r in items):
        raise ConfigError(
            where="op 'Tile'",
            expected="reps as an int >= 0 or a tuple of ints >= 0 (copies along each axis)",
            got=f"reps={describe(reps)}",
            fix="t.tile((2, 1))",
        )
    return tuple(int(r) for r in items)


class Tril(Function):
    """out = a with the elements above diagonal ``k`` of the last two axes set to 0 (k = 0: the
    main diagonal; k > 0 keeps k more diagonals above it).   dL/da = tril(g, k)."""

    shape_rule = "a tensor with at least 2 axes (matrices in the last two)"
    keep = staticmethod(np.tril)

    def forward(self, a, *, k=0):
        _check_triangle(self, a, k)
        self.k = k
        return self.keep(a, k)

    def backward(self, grad):
        return self.keep(grad, self.k)


class Triu(Tril):
    """out = a with the elements below diagonal ``k`` of the last two axes set to 0.
    dL/da = triu(g, k)."""

    keep = staticmethod(np.triu)


def _check_triangle(op: Function, a: np.ndarray, k: Any) -> None:
    call = f"t.{op.name.lower()}(k=0)"
    if a.ndim < 2:
        raise ShapeError(
            where=f"op '{op.name}'",
            expected="a tensor with at least 2 axes (a matrix, or a batch of them)",
            got=f"shape {a.shape}",
            fix=f"make it a matrix first, e.g. t.reshape(1, -1).{call[2:]}",
        )
    if not is_int(k):
        raise ConfigError(
            where=f"op '{op.name}'",
            expected="k (the diagonal) as an int: 0 the main one, 1 above it, -1 below it",
            got=f"k={describe(k)}",
            fix=call,
        )


class TakeAlongAxis(Function):
    """out = np.take_along_axis(a, indices, axis): along ``axis``, out[..., j, ...] =
    a[..., indices[..., j, ...], ...]; the other axes of ``indices`` and ``a`` broadcast.
    ``Tensor.gather`` (torch's) is this op on ``a`` cut to the index's shape.

    dL/da = zeros with g added at the picked places; a place picked twice gets both
    gradients (``np.add.at``: a plain ``out[idx] = g`` would keep only the last).
    """

    shape_rule = "integer indices with the same number of axes, within the axis' size"
    axis_call = "t.take_along_axis(indices, axis={})"

    def forward(self, a, *, indices, axis):
        indices = _check_indices(self, a, indices)
        self.axis = check_axes(self, axis, a.ndim, many=False)[0]
        self.a_shape, self.dtype, self.indices = a.shape, a.dtype, indices
        return np.take_along_axis(a, indices, self.axis)

    def backward(self, grad):
        out = np.zeros(self.a_shape, dtype=self.dtype)
        places = [
            np.arange(n).reshape([-1 if d == k else 1 for d in range(out.ndim)])
            for k, n in enumerate(self.a_shape)
        ]
        places[self.axis] = self.indices
        np.add.at(out, tuple(places), grad)
        return out


def _check_indices(op: Function, a: np.ndarray, indices: Any) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu" or idx.ndim != a.ndim or a.ndim == 0:
        raise DataError(
            where=f"op '{op.name}'",
            expected=f"integer indices with {a.ndim} axes (as many as the tensor of shape "
            f"{a.shape}; at least 1)",
            got=f"dtype {idx.dtype}, shape {idx.shape}",
            fix="index with ints, one axis per tensor axis, e.g. "
            "t.take_along_axis(np.array([[0], [2]]), axis=1)",
        )
    return idx


# ---------------------------------------------------------------- no gradient: plain numpy
def arg_extreme(a: np.ndarray, which: str, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """``np.argmax`` (``which="argmax"``) or ``np.argmin`` as an int64 array: the index of the
    first largest (smallest) value along ``axis``, or in the flattened array (``axis=None``).
    A 0-d array takes axis 0 or -1 (as torch) and gives 0. No gradient: an index is not a
    smooth function of the values."""
    where = SimpleNamespace(name=which, axis_call=f"t.{which}(axis={{}})")
    axes = () if axis is None else check_axes(where, axis, a.ndim, many=False)
    if a.ndim == 0:
        return np.zeros((), dtype=np.int64)
    found = getattr(np, which)(a, axis=axes[0] if axes else None, keepdims=bool(keepdims))
    return np.asarray(found, dtype=np.int64)


def one_hot(labels: Any, num_classes: Any, dtype: Any = np.float32) -> np.ndarray:
    """``labels`` (ints in [0, num_classes)) -> an array of shape ``labels.shape +
    (num_classes,)`` with a 1 at each label's column, 0 elsewhere. Whole-number floats count as
    labels (the library's tensors are float32 by default); 2.5 or -1 does not."""
    if not is_int(num_classes) or num_classes < 1:
        raise ConfigError(
            where="one_hot",
            expected="num_classes as a positive int",
            got=f"num_classes={describe(num_classes)}",
            fix="one_hot(labels, num_classes=10)",
        )
    arr = np.asarray(labels)
    whole = arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr)))
    if not whole or (arr.size and (arr.min() < 0 or arr.max() >= num_classes)):
        raise DataError(
            where="one_hot",
            expected=f"integer labels in [0, {num_classes - 1}] (num_classes={num_classes})",
            got=_describe_labels(arr),
            fix=_labels_fix(arr, whole, num_classes),
        )
    out = np.zeros(arr.shape + (int(num_classes),), dtype=dtype)
    np.put_along_axis(out, arr.astype(np.int64)[..., None], 1, axis=-1)
    return out


def _describe_labels(arr: np.ndarray) -> str:
    if arr.dtype.kind not in "biuf" or arr.size == 0:
        return f"dtype {arr.dtype}"
    return f"dtype {arr.dtype}, values from {arr.min()!r} to {arr.max()!r}"


def _labels_fix(arr: np.ndarray, whole: bool, num_classes: int) -> str:
    if whole and arr.min() >= 0:  # only too few classes
        return f"one_hot(labels, num_classes={int(arr.max()) + 1})"
    return (
        "map the labels to class numbers 0, 1, 2, ... first, e.g. "
        "one_hot(np.unique(labels, return_inverse=True)[1], num_classes=3)"
    )
