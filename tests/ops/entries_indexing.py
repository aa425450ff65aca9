"""Op-table entries of ``ops/indexing.py``: flip, repeat (``np.repeat``: one count or one per
slice, zeros included), tile (``np.tile``: reps shorter and longer than the shape), tril/triu
(diagonals -2..2, batches of matrices), take_along_axis (indices broadcasting, negative and
repeated - their gradients add up) and gather (torch's: the index smaller than the tensor)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SMALL_SHAPES, OpEntry, case

from tinygrad_edu import ops
from tinygrad_edu.testing import arrays, axes, reduce_axes, shapes


@st.composite
def flip_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    return case(a, axis=draw(reduce_axes(a.ndim)))


@st.composite
def repeat_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    axis = draw(st.none() | axes(a.ndim)) if a.ndim else None
    n = a.size if axis is None else a.shape[axis]
    per_slice = st.lists(st.integers(0, 3), min_size=n, max_size=n)
    return case(a, repeats=draw(st.integers(0, 3) | per_slice), axis=axis)


@st.composite
def tile_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    reps = draw(st.integers(0, 3) | st.lists(st.integers(0, 3), max_size=4).map(tuple))
    return case(a, reps=reps)


@st.composite
def triangle_case(draw):
    return case(draw(arrays(shapes(min_dims=2, max_dims=3))), k=draw(st.integers(-2, 2)))


@st.composite
def take_along_case(draw):
    """Indices along ``axis`` in [-n, n) (repeats likely); each other axis the tensor's size or
    1 (broadcast)."""
    a = draw(arrays(shapes(min_dims=1, max_dims=3)))
    axis = draw(axes(a.ndim))
    k = axis % a.ndim
    shape = [
        draw(st.integers(1, 5)) if d == k else draw(st.sampled_from([n, 1]))
        for d, n in enumerate(a.shape)
    ]
    n = a.shape[k]
    indices = draw(hnp.arrays(np.int64, tuple(shape), elements=st.integers(-n, n - 1)))
    return case(a, indices=indices, axis=axis)


@st.composite
def gather_case(draw):
    """torch's gather: the index has the tensor's number of axes, at most its sizes off the
    axis, any size along it, values in [0, n)."""
    a = draw(arrays(shapes(min_dims=1, max_dims=3)))
    axis = draw(axes(a.ndim))
    k = axis % a.ndim
    shape = tuple(draw(st.integers(1, 5 if d == k else n)) for d, n in enumerate(a.shape))
    index = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, a.shape[k] - 1)))
    return case(a, axis=axis, index=index)


def _np_gather(a, axis, index):
    cut = tuple(
        slice(None) if d == axis % a.ndim else slice(0, m) for d, m in enumerate(index.shape)
    )
    return np.take_along_axis(a[cut], index, axis)


OP_ENTRIES = [
    OpEntry("flip", ops.Flip, flip_case(), lambda a, axis: a.flip(axis), np.flip),
    OpEntry("repeat", ops.Repeat, repeat_case(), lambda a, **p: a.repeat(**p), np.repeat),
    OpEntry("tile", ops.Tile, tile_case(), lambda a, reps: a.tile(reps), np.tile),
    OpEntry("tril", ops.Tril, triangle_case(), lambda a, k: a.tril(k), np.tril),
    OpEntry("triu", ops.Triu, triangle_case(), lambda a, k: a.triu(k), np.triu),
    OpEntry(
        "take_along_axis",
        ops.TakeAlongAxis,
        take_along_case(),
        lambda a, indices, axis: a.take_along_axis(indices, axis),
        np.take_along_axis,
    ),
    OpEntry(
        "gather",
        ops.TakeAlongAxis,
        gather_case(),
        lambda a, axis, index: a.gather(axis, index),
        _np_gather,
    ),
]
