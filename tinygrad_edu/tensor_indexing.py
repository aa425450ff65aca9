"""``IndexingOps``: the ``Tensor`` methods that pick, reorder and copy elements - argmax/argmin,
cumsum, flip, repeat, tile, split, tril/triu, gather/take_along_axis, one_hot.

A base class of ``TensorOps`` (so of ``Tensor``); like it, it relies on ``_data``, ``ndim``,
``shape`` and ``_from_op``, which ``Tensor`` defines. The ops are in ``ops/indexing.py`` and
``ops/scan.py``.

Two names differ between numpy and torch; ours follow numpy, and the torch spelling is noted:

- ``t.repeat(2, axis=0)`` is ``np.repeat``: each element twice in place, ``[a, b] -> [a, a, b, b]``
  (torch's ``repeat_interleave``);
- ``t.tile((2,))`` is ``np.tile``: the whole tensor twice, ``[a, b] -> [a, b, a, b]`` (torch's
  ``Tensor.repeat``);
- ``t.split(2)`` is ``np.split``: 2 equal pieces (torch's ``split(2)`` makes pieces *of size* 2;
  write ``t.split([2, 4])`` with the cut positions, as numpy).

>>> from tinygrad_edu import Tensor
>>> Tensor([1.0, 2.0]).repeat(2).tolist(), Tensor([1.0, 2.0]).tile(2).tolist()
([1.0, 1.0, 2.0, 2.0], [1.0, 2.0, 1.0, 2.0])
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from . import engine, ops
from .errors import ConfigError, ShapeError
from .ops.indexing import arg_extreme, one_hot
from .ops.reduce import check_axes
from .validation import describe, is_int


class IndexingOps:
    """Picking, reordering and copying methods of ``Tensor`` (see the module docstring)."""

    __slots__ = ()

    # ---------------------------------------------------------------- indices, no gradient
    def argmax(self, axis=None, keepdims: bool = False):
        """The index of the first largest value along ``axis`` (of the flattened tensor when
        None), as an int64 tensor without gradient - torch's ``argmax``."""
        return self._from_op(arg_extreme(self._data, "argmax", axis, keepdims), None)

    def argmin(self, axis=None, keepdims: bool = False):
        """The index of the first smallest value along ``axis``: int64, no gradient."""
        return self._from_op(arg_extreme(self._data, "argmin", axis, keepdims), None)

    def one_hot(self, num_classes: int, dtype: Any = np.float32):
        """Labels -> one-hot rows of ``num_classes`` (float32 by default, as Keras'
        ``to_categorical``; torch's ``one_hot`` gives int64). No gradient."""
        return self._from_op(one_hot(self._data, num_classes, dtype), None)

    # ---------------------------------------------------------------- running sums
    def cumsum(self, axis=None):
        """Running sum along ``axis`` (over the flattened tensor when None, as numpy)."""
        return engine.apply(ops.CumSum, self, axis=axis)

    # ---------------------------------------------------------------- reorder and copy
    def flip(self, axis=None):
        """Reverse the order along ``axis`` (an int, a tuple, or None for every axis)."""
        return engine.apply(ops.Flip, self, axis=axis)

    def repeat(self, repeats, axis=None):
        """``np.repeat``: each slice along ``axis`` ``repeats`` times in place (see the module
        docstring; torch's ``repeat_interleave``). ``axis=None`` flattens first."""
        return engine.apply(ops.Repeat, self, repeats=_raw(repeats), axis=axis)

    def tile(self, reps):
        """``np.tile``: the whole tensor ``reps`` times along each axis (torch's ``repeat``)."""
        return engine.apply(ops.Tile, self, reps=_raw(reps))

    def tril(self, k: int = 0):
        """Zero every element above diagonal ``k`` of the last two axes (torch: ``diagonal``)."""
        return engine.apply(ops.Tril, self, k=k)

    def triu(self, k: int = 0):
        """Zero every element below diagonal ``k`` of the last two axes."""
        return engine.apply(ops.Triu, self, k=k)

    def split(self, indices_or_sections, axis: int = 0) -> list:
        """``np.split``: an int n gives n equal pieces along ``axis``; a list of positions
        ``[i, j]`` gives ``t[:i], t[i:j], t[j:]``. A list of tensors, each a slice of this one
        (its gradient flows back to the slice it came from)."""
        where = SimpleNamespace(name="split", axis_call="t.split(2, axis={})")
        if self.ndim == 0:
            raise ShapeError(
                where="Tensor.split",
                expected="a tensor with at least one axis",
                got="a 0-d tensor (a single number)",
                fix="split a tensor with an axis, e.g. t.reshape(1).split(1)",
            )
        k = check_axes(where, axis, self.ndim, many=False)[0]
        n = self.shape[k]
        pieces = np.split(np.arange(n), _sections(indices_or_sections, n, k))
        head = (slice(None),) * k
        return [self[head + (slice(p[0], p[-1] + 1) if p.size else slice(0, 0),)] for p in pieces]

    # ---------------------------------------------------------------- gather
    def take_along_axis(self, indices, axis: int):
        """``np.take_along_axis``: along ``axis`` pick ``indices`` (ints, as many axes as the
        tensor; the other axes broadcast). A place picked twice gets both gradients."""
        return engine.apply(ops.TakeAlongAxis, self, indices=_raw(indices), axis=axis)

    def gather(self, axis: int, index):
        """torch's ``gather(dim, index)``: out[i][j] = t[index[i][j]][j] for axis 0,
        t[i][index[i][j]] for axis 1. ``index`` has the tensor's number of axes and, along the
        other axes, at most its sizes (the tensor is cut to them: torch's rule). A place picked
        twice gets both gradients."""
        index = np.asarray(_raw(index))
        if index.ndim == self.ndim and index.dtype.kind in "iu" and self.ndim:
            k = check_axes(_GATHER, axis, self.ndim, many=False)[0]
            cut = tuple(slice(None) if d == k else slice(0, m) for d, m in enumerate(index.shape))
            bigger = [d for d, m in enumerate(index.shape) if d != k and m > self.shape[d]]
            if bigger:
                raise ShapeError(
                    where="Tensor.gather",
                    expected=f"index sizes at most the tensor's {self.shape} along every axis "
                    f"but axis {k}",
                    got=f"index of shape {index.shape} (axis {bigger[0]} is larger)",
                    fix=f"t.gather({k}, index[..., :{self.shape[bigger[0]]}]) - or use "
                    "take_along_axis, whose index broadcasts",
                )
            source = self if index.shape == self.shape else self[cut]
            return engine.apply(ops.TakeAlongAxis, source, indices=index, axis=axis)
        return engine.apply(ops.TakeAlongAxis, self, indices=index, axis=axis)


_GATHER = SimpleNamespace(name="gather", axis_call="t.gather({}, index)")


def _raw(x: Any) -> Any:
    """A tensor's array (an index or a count given as a tensor); anything else as is."""
    return x._data if isinstance(x, IndexingOps) else x


def _sections(indices_or_sections: Any, n: int, axis: int) -> Any:
    """``np.split``'s argument after checking it: a positive int dividing ``n`` or a list of
    int positions."""
    value = _raw(indices_or_sections)
    if is_int(value) and value >= 1:
        if n % value:
            raise ShapeError(
                where="Tensor.split",
                expected=f"a number of pieces that divides the size {n} of axis {axis}",
                got=f"{value} pieces",
                fix=f"give the cut positions instead, e.g. t.split([{n // 2}], axis={axis})",
            )
        return int(value)
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if items is None or not all(is_int(i) for i in items):
        raise ConfigError(
            where="Tensor.split",
            expected="a positive int (equal pieces) or a list of int positions (cuts)",
            got=describe(indices_or_sections),
            fix=f"t.split(2, axis={axis})  or  t.split([1, 3], axis={axis})",
        )
    return [int(i) for i in items]


__all__ = ["IndexingOps"]
