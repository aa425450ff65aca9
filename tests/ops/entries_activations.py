"""Op-table entries of ``ops/activation_ops.py``: Softplus, LogSigmoid, Softsign, Mish, Sparsemax,
each called through its Keras-named activation (the op must appear in the graph)."""

import numpy as np
from hypothesis import strategies as st
from op_table import SMALL_SHAPES, OpEntry, case, cases

from tinygrad_edu import activations, ops
from tinygrad_edu.testing import arrays, away_from_kinks, axes, shapes


def np_sparsemax(a, axis):
    """The simplex projection by bisection on tau: sum(max(a - tau, 0)) = 1 has its root in
    [max(a) - 1, max(a)] (the sum falls from >= 1 to 0 there); 100 halvings reach float64's
    resolution. A different algorithm from the op's sort-and-cumsum one."""
    hi = a.max(axis=axis, keepdims=True)
    lo = hi - 1
    for _ in range(100):
        tau = (lo + hi) / 2
        too_low = np.maximum(a - tau, 0).sum(axis=axis, keepdims=True) > 1
        lo, hi = np.where(too_low, tau, lo), np.where(too_low, hi, tau)
    return np.maximum(a - (lo + hi) / 2, 0)


def clear_of_support_changes(case_, margin=1e-3):
    """Every value at least ``margin`` from tau (= a - out on the support): the support set,
    and so the piecewise-linear map, cannot change within gradcheck's steps of 1e-4."""
    a, axis = case_.arrays[0], case_.params["axis"]
    out = np_sparsemax(a, axis)
    tau = np.max(a - out, axis=axis, keepdims=True)  # a - out = tau wherever out > 0
    return bool(np.all(np.abs(a - tau) > margin))


@st.composite
def along_an_axis(draw, low=-3.0, high=3.0):
    a = draw(arrays(shapes(min_dims=1, max_dims=3), low, high))
    return case(a, axis=draw(axes(a.ndim)))


OP_ENTRIES = [
    OpEntry(
        "softplus",
        ops.Softplus,
        cases(arrays(SMALL_SHAPES, -30.0, 30.0)),
        activations.softplus,
        lambda a: np.logaddexp(0.0, a),
    ),
    OpEntry(
        "log_sigmoid",
        ops.LogSigmoid,
        cases(arrays(SMALL_SHAPES, -30.0, 30.0)),
        activations.log_sigmoid,
        lambda a: -np.logaddexp(0.0, -a),
    ),
    OpEntry(
        "softsign",
        ops.Softsign,
        # f'' jumps from -2 to 2 at 0: a difference across 0 would see it, not a wrong gradient
        cases(away_from_kinks(SMALL_SHAPES, kinks=(0.0,), margin=0.01)),
        activations.softsign,
        lambda a: a / (1.0 + np.abs(a)),
    ),
    OpEntry(
        "mish",
        ops.Mish,
        cases(arrays(SMALL_SHAPES, -10.0, 10.0)),
        activations.mish,
        lambda a: a * np.tanh(np.logaddexp(0.0, a)),
    ),
    OpEntry(
        "sparsemax",
        ops.Sparsemax,
        along_an_axis().filter(clear_of_support_changes),
        lambda a, axis: activations.sparsemax(a, axis=axis),
        np_sparsemax,
        forward_atol=1e-12,
    ),
]
