"""Op-table entries of ``ops/scan.py``: prod (axis None / int / tuple, keepdims, exact zeros in
the input - one zero and several), cumsum (an axis, or None: the flattened array), and std
(ddof 0 and 1, away from a zero spread, where its gradient is 0 by choice)."""

import numpy as np
from entries_reduce import numpy_axes, reduction
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SMALL_SHAPES, OpEntry, case

from tinygrad_edu import ops
from tinygrad_edu.testing import arrays, axes, distinct_values, keepdims, shapes


def with_zeros(shape):
    """Arrays in [-2, 2] with some elements exactly 0 (often one, sometimes several)."""

    @st.composite
    def build(draw):
        a = draw(arrays(shape, -2.0, 2.0))
        return np.where(draw(hnp.arrays(bool, a.shape)), 0.0, a)

    return build()


@st.composite
def cumsum_case(draw):
    a = draw(arrays(SMALL_SHAPES))
    choices = st.none() | (axes(a.ndim) if a.ndim else st.sampled_from([0, -1]))
    return case(a, axis=draw(choices))


def _np_cumsum(a, axis):
    return a.copy() if a.ndim == 0 and axis is not None else np.cumsum(a, axis=axis)


@st.composite
def spread_case(draw):
    """std's input: distinct values and at least 2 per result (one value has std 0, where the
    square root has no derivative), ddof 0 or 1."""
    a = draw(distinct_values(shapes(min_dims=1, max_dims=3, min_side=2)))
    axis = draw(st.none() | axes(a.ndim) | hnp.valid_tuple_axes(a.ndim, min_size=1))
    return case(a, axis=axis, keepdims=draw(keepdims()), ddof=draw(st.sampled_from([0, 1])))


OP_ENTRIES = [
    OpEntry(
        "prod",
        ops.Prod,
        reduction(lambda s: arrays(s, -2.0, 2.0)),
        lambda a, **p: a.prod(**p),
        numpy_axes(np.prod),
    ),
    OpEntry(
        "prod-with-zeros",
        ops.Prod,
        reduction(with_zeros),
        lambda a, **p: a.prod(**p),
        numpy_axes(np.prod),
    ),
    OpEntry("cumsum", ops.CumSum, cumsum_case(), lambda a, axis: a.cumsum(axis), _np_cumsum),
    OpEntry(
        "std",
        ops.Std,
        spread_case(),
        lambda a, **p: a.std(**p),
        lambda a, **p: np.std(a, **p),
    ),
]
