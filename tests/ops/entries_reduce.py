"""Op-table entries of ``ops/reduce.py``: axis None / int / tuple (negative and empty included),
with and without keepdims."""

import numpy as np
from hypothesis import strategies as st
from op_table import SMALL_SHAPES, OpEntry, case

from tinygrad_edu import ops
from tinygrad_edu._shapes import normalize_axes
from tinygrad_edu.testing import arrays, distinct_values, keepdims, reduce_axes


@st.composite
def reduction(draw, values=arrays, ddof=False):
    a = draw(values(SMALL_SHAPES))
    params = dict(axis=draw(reduce_axes(a.ndim)), keepdims=draw(keepdims()))
    if ddof:
        count = int(np.prod([a.shape[i] for i in normalize_axes(params["axis"], a.ndim)]))
        params["ddof"] = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return case(a, **params)


def _np_logsumexp(a, axis, keepdims):
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


OP_ENTRIES = [
    OpEntry("sum", ops.Sum, reduction(), lambda a, **p: a.sum(**p), np.sum),
    OpEntry("mean", ops.Mean, reduction(), lambda a, **p: a.mean(**p), np.mean),
    OpEntry("max", ops.Max, reduction(distinct_values), lambda a, **p: a.max(**p), np.max),
    OpEntry("min", ops.Min, reduction(distinct_values), lambda a, **p: a.min(**p), np.min),
    OpEntry("var", ops.Var, reduction(ddof=True), lambda a, **p: a.var(**p), np.var),
    OpEntry(
        "logsumexp", ops.LogSumExp, reduction(), lambda a, **p: a.logsumexp(**p), _np_logsumexp
    ),
]
