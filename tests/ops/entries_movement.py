"""Op-table entries of ``ops/movement.py``: reshape, transpose, broadcast_to, squeeze, unsqueeze,
getitem (basic and integer-array indexing with repeats), concatenate, stack, pad, where."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SMALL_SHAPES, OpEntry, case

import tinygrad_edu as tge
from tinygrad_edu import ops
from tinygrad_edu.testing import arrays, axes, broadcastable_shapes, shapes


@st.composite
def reshape_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    targets = [(-1,), (a.size,), a.shape[::-1], (1, a.size), a.shape + (1,), (a.size, -1)]
    return case(a, shape=draw(st.sampled_from(targets)))


@st.composite
def transpose_case(draw):
    """None (reverse), or a permutation with some axes counted from the end (-1 the last)."""
    a = draw(arrays(SMALL_SHAPES))
    perm = draw(st.none() | st.permutations(range(a.ndim)).map(tuple))
    if perm is not None:
        negative = draw(st.lists(st.booleans(), min_size=a.ndim, max_size=a.ndim))
        perm = tuple(k - a.ndim if neg else k for k, neg in zip(perm, negative))
    return case(a, axes=perm)


@st.composite
def broadcast_to_case(draw):
    target = draw(shapes(max_dims=3))
    keep = draw(st.integers(0, len(target)))  # the source has the trailing `keep` axes ...
    ones = draw(st.lists(st.booleans(), min_size=keep, max_size=keep))  # ... some set to 1
    src = tuple(1 if one else s for s, one in zip(target[len(target) - keep :], ones))
    return case(draw(arrays(src)), shape=target)


@st.composite
def squeeze_case(draw):
    shape = draw(shapes(max_dims=4, max_side=3))
    ones = [i for i, s in enumerate(shape) if s == 1]
    axis_options = [None] + ones + [i - len(shape) for i in ones] + [tuple(ones)]
    return case(draw(arrays(shape)), axis=draw(st.sampled_from(axis_options)))


@st.composite
def unsqueeze_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    return case(a, axis=draw(st.integers(-a.ndim - 1, a.ndim)))


@st.composite
def basic_index_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    return case(a, index=draw(hnp.basic_indices(a.shape, allow_newaxis=True)))


@st.composite
def int_array_index_case(draw):
    """Integer arrays on every axis; repeats are forced so gradients must accumulate."""
    a = draw(arrays(shapes(min_dims=1, max_dims=3)))
    index = draw(hnp.integer_array_indices(a.shape, result_shape=shapes(1, 2, 1, 5)))
    index = tuple(np.concatenate([i.ravel(), i.ravel()[:1]]) for i in index)  # one repeat at least
    return case(a, index=index if len(index) > 1 else index[0])


@st.composite
def mixed_index_case(draw):
    """``a[:, idx]``: a slice, then an integer list with repeats."""
    a = draw(arrays(shapes(min_dims=2, max_dims=3)))
    idx = draw(st.lists(st.integers(-a.shape[1], a.shape[1] - 1), min_size=1, max_size=5))
    return case(a, index=(slice(None), np.array(idx + idx[:1])))


@st.composite
def bool_mask_case(draw):
    """``a[mask]`` with a boolean mask of a's shape (or of its leading axes)."""
    a = draw(arrays(shapes(min_dims=1, max_dims=3)))
    lead = draw(st.integers(1, a.ndim))
    return case(a, index=draw(hnp.arrays(bool, a.shape[:lead])))


@st.composite
def join_case(draw, new_axis=False):
    """2-4 arrays equal in shape except along ``axis`` (equal everywhere for stack)."""
    shape = draw(shapes(min_dims=0 if new_axis else 1, max_dims=3))
    count = draw(st.integers(1, 4))
    if new_axis:
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        return case(*[draw(arrays(shape)) for _ in range(count)], axis=axis)
    axis = draw(axes(len(shape)))
    arrs = []
    for _ in range(count):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        arrs.append(draw(arrays(tuple(s))))
    return case(*arrs, axis=axis)


@st.composite
def pad_case(draw):
    a = draw(arrays(shapes(min_dims=1, max_dims=3)))
    pair = st.tuples(st.integers(0, 2), st.integers(0, 2))
    width = draw(st.integers(0, 2) | st.lists(pair, min_size=a.ndim, max_size=a.ndim).map(tuple))
    return case(a, pad_width=width, value=draw(st.sampled_from([0.0, 1.5])))


@st.composite
def where_case(draw):
    cs, sa, sb = draw(broadcastable_shapes(3))
    cond = draw(hnp.arrays(bool, cs))
    return case(draw(arrays(sa)), draw(arrays(sb)), cond=cond)


def _index(name, strategy):
    return OpEntry(
        name, ops.GetItem, strategy, lambda a, index: a[index], lambda a, index: a[index]
    )


OP_ENTRIES = [
    OpEntry(
        "reshape",
        ops.Reshape,
        reshape_case(),
        lambda a, shape: a.reshape(shape),
        lambda a, shape: a.reshape(shape),
    ),
    OpEntry(
        "transpose",
        ops.Transpose,
        transpose_case(),
        lambda a, axes: a.T if axes is None else a.transpose(axes),
        np.transpose,
    ),
    OpEntry(
        "broadcast_to",
        ops.BroadcastTo,
        broadcast_to_case(),
        lambda a, shape: a.broadcast_to(shape),
        np.broadcast_to,
    ),
    OpEntry("squeeze", ops.Squeeze, squeeze_case(), lambda a, axis: a.squeeze(axis), np.squeeze),
    OpEntry(
        "unsqueeze",
        ops.Unsqueeze,
        unsqueeze_case(),
        lambda a, axis: a.unsqueeze(axis),
        np.expand_dims,
    ),
    _index("getitem-basic", basic_index_case()),
    _index("getitem-int-arrays-repeated", int_array_index_case()),
    _index("getitem-slice-and-int-list", mixed_index_case()),
    _index("getitem-bool-mask", bool_mask_case()),
    OpEntry(
        "concatenate",
        ops.Concatenate,
        join_case(),
        lambda *ts, axis: tge.concatenate(ts, axis=axis),
        lambda *arrs, axis: np.concatenate(arrs, axis=axis),
    ),
    OpEntry(
        "stack",
        ops.Stack,
        join_case(new_axis=True),
        lambda *ts, axis: tge.stack(ts, axis=axis),
        lambda *arrs, axis: np.stack(arrs, axis=axis),
    ),
    OpEntry(
        "pad",
        ops.Pad,
        pad_case(),
        lambda a, pad_width, value: a.pad(pad_width, value),
        lambda a, pad_width, value: np.pad(a, pad_width, constant_values=value),
    ),
    OpEntry(
        "where",
        ops.Where,
        where_case(),
        lambda a, b, cond: tge.where(cond, a, b),
        lambda a, b, cond: np.where(cond, a, b),
    ),
]
