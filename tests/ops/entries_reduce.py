"""Op-table entries of ``ops/reduce.py``: axis None / int / tuple (negative and empty included),
with and without keepdims; 0-d arrays with axis 0 and -1 too."""

import numpy as np
from hypothesis import strategies as st
from op_table import SMALL_SHAPES, OpEntry, case

from tinygrad_edu import ops
from tinygrad_edu.testing import arrays, distinct_values, keepdims, reduce_axes


@st.composite
def reduction(draw, values=arrays, ddof=False):
    """An array and its reduction params; a 0-d array also takes axis 0 or -1 (as torch)."""
    a = draw(values(SMALL_SHAPES))
    axes = reduce_axes(a.ndim)
    if a.ndim == 0:
        axes |= st.sampled_from([0, -1])
    params = {"axis": draw(axes), "keepdims": draw(keepdims())}
    if ddof:
        count = a.size // np.size(numpy_axes(np.sum)(a, params["axis"]))
        params["ddof"] = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return case(a, **params)


def numpy_axes(reduce):
    """numpy's reduction, with torch's 0-d rule: axis 0 or -1 of a 0-d array is the array itself
    (numpy refuses them; ``axis=()`` is numpy's spelling of reducing nothing)."""

    def reference(a, axis=None, **params):
        if a.ndim == 0 and axis in (0, -1):
            axis = ()
        return reduce(a, axis=axis, **params)

    return reference


def _np_logsumexp(a, axis, keepdims):
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


def _entry(name, op, strategy, method, reduce):
    return OpEntry(name, op, strategy, lambda a, **p: getattr(a, method)(**p), numpy_axes(reduce))


OP_ENTRIES = [
    _entry("sum", ops.Sum, reduction(), "sum", np.sum),
    _entry("mean", ops.Mean, reduction(), "mean", np.mean),
    _entry("max", ops.Max, reduction(distinct_values), "max", np.max),
    _entry("min", ops.Min, reduction(distinct_values), "min", np.min),
    _entry("var", ops.Var, reduction(ddof=True), "var", np.var),
    _entry("logsumexp", ops.LogSumExp, reduction(), "logsumexp", _np_logsumexp),
]
