"""Op-table entries of ``ops/arithmetic.py`` and ``ops/unary.py`` (elementwise ops)."""

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SMALL_SHAPES, OpEntry, anyvalue, broadcast_cases, case, cases, positive

import tinygrad_edu as tge
from tinygrad_edu import ops
from tinygrad_edu.testing import (
    arrays,
    away_from_kinks,
    axes,
    broadcastable_shapes,
    distinct_arrays,
    positive_arrays,
    shapes,
)


def nonzero(shape):
    """Divisors: |b| >= 0.5."""
    return away_from_kinks(shape, margin=0.5)


@st.composite
def tie_free_pair(draw):
    """Broadcastable a, b with no equal values anywhere (maximum/minimum's kink)."""
    return case(*draw(distinct_arrays(draw(broadcastable_shapes(2)))))


@st.composite
def along_an_axis(draw):
    """An array of at least one axis and one of its axes, for softmax / log-softmax."""
    a = draw(arrays(shapes(min_dims=1, max_dims=3)))
    return case(a, axis=draw(axes(a.ndim)))


@st.composite
def with_zeros(draw, values, zero_exponents=None):
    """``values`` arrays with some elements set to exactly 0 (pow's edge); with
    ``zero_exponents`` a second array of exponents, drawn from it where the base is 0."""
    a = draw(values(SMALL_SHAPES))
    zero = draw(hnp.arrays(bool, a.shape))
    a = np.where(zero, 0.0, a)
    if zero_exponents is None:
        return a
    b = draw(arrays(a.shape, -2.0, 2.0))
    picked = draw(hnp.arrays(np.float64, a.shape, elements=st.sampled_from(zero_exponents)))
    return a, np.where(zero, picked, b)


def _np_softmax(a, axis):
    e = np.exp(a)  # the naive formula: a different algorithm from the op's shifted one
    return e / e.sum(axis=axis, keepdims=True)


def _binary(name, op, call, reference, *values):
    return OpEntry(name, op, broadcast_cases(*values), call, reference)


OP_ENTRIES = [
    # ------------------------------------------------------------------ arithmetic
    _binary("add", ops.Add, lambda a, b: a + b, np.add, anyvalue, anyvalue),
    _binary("sub", ops.Sub, lambda a, b: a - b, np.subtract, anyvalue, anyvalue),
    _binary("mul", ops.Mul, lambda a, b: a * b, np.multiply, anyvalue, anyvalue),
    _binary("div", ops.Div, lambda a, b: a / b, np.divide, anyvalue, nonzero),
    OpEntry("neg", ops.Neg, cases(arrays(SMALL_SHAPES)), lambda a: -a, np.negative),
    _binary(
        "pow-tensor-exponent",
        ops.Pow,
        lambda a, b: a**b,
        np.power,
        positive,
        lambda s: arrays(s, -2.0, 2.0),
    ),
    OpEntry(
        "pow-scalar-base",
        ops.Pow,
        cases(arrays(SMALL_SHAPES, -2.0, 2.0)),
        lambda b: 2.0**b,
        lambda b: np.power(2.0, b, dtype=b.dtype),
    ),
    OpEntry(
        "pow-scalar-exponent",
        ops.PowScalar,
        cases(
            positive_arrays(SMALL_SHAPES, 0.2, 3.0),
            exponent=st.sampled_from([2, 3, 0.5, -1, -1.5, 0]),
        ),
        lambda a, exponent: a**exponent,
        lambda a, exponent: a**exponent,
    ),
    OpEntry(
        # x ** p at x = 0: d/dx is p * 0^(p-1) (0 for p = 0, as torch); 0 and 1 are integers,
        # so x - h is in the domain too and the central difference is defined
        "pow-scalar-exponent-at-zero",
        ops.PowScalar,
        cases(with_zeros(arrays), exponent=st.sampled_from([0, 1, 2, 3])),
        lambda a, exponent: a**exponent,
        lambda a, exponent: a**exponent,
    ),
    OpEntry(
        # 0 ** b: d/db = 0 for b > 0 (0^b stays 0 around b); d/da = b 0^(b-1) for b in 1, 2, 3.
        # b = 0 at a = 0 is left out: 0^b jumps there (1 at b = 0, 0 above, inf below)
        "pow-tensor-exponent-zero-base",
        ops.Pow,
        with_zeros(lambda s: positive_arrays(s, 0.2, 3.0), zero_exponents=[1.0, 2.0, 3.0]).map(
            lambda ab: case(*ab)
        ),
        lambda a, b: a**b,
        np.power,
    ),
    OpEntry(
        "pow-integer-exponent-any-sign",
        ops.PowScalar,
        cases(arrays(SMALL_SHAPES), exponent=st.sampled_from([1, 2, 3])),
        lambda a, exponent: a**exponent,
        lambda a, exponent: a**exponent,
    ),
    OpEntry("maximum", ops.Maximum, tie_free_pair(), lambda a, b: a.maximum(b), np.maximum),
    OpEntry("maximum-function", ops.Maximum, tie_free_pair(), tge.maximum, np.maximum),
    OpEntry("minimum", ops.Minimum, tie_free_pair(), lambda a, b: a.minimum(b), np.minimum),
    OpEntry("minimum-function", ops.Minimum, tie_free_pair(), tge.minimum, np.minimum),
    # ------------------------------------------------------------------ unary
    OpEntry("exp", ops.Exp, cases(arrays(SMALL_SHAPES)), lambda a: a.exp(), np.exp),
    OpEntry("log", ops.Log, cases(positive(SMALL_SHAPES)), lambda a: a.log(), np.log),
    OpEntry("sqrt", ops.Sqrt, cases(positive(SMALL_SHAPES)), lambda a: a.sqrt(), np.sqrt),
    OpEntry("abs", ops.Abs, cases(away_from_kinks(SMALL_SHAPES)), abs, np.abs),
    OpEntry(
        "clip",
        ops.Clip,
        st.builds(
            lambda a, lohi: case(a, lo=lohi[0], hi=lohi[1]),
            away_from_kinks(SMALL_SHAPES, kinks=(-1.0, 1.0)),
            # (1, -1): min > max gives max everywhere and a zero gradient (numpy, torch)
            st.sampled_from([(-1.0, 1.0), (None, 1.0), (-1.0, None), (1.0, -1.0)]),
        ),
        lambda a, lo, hi: a.clip(lo, hi),
        lambda a, lo, hi: np.clip(a, lo, hi),
    ),
    OpEntry(
        "relu",
        ops.Relu,
        cases(away_from_kinks(SMALL_SHAPES)),
        lambda a: a.relu(),
        lambda a: np.maximum(a, 0),
    ),
    OpEntry(
        "leaky_relu",
        ops.LeakyRelu,
        cases(away_from_kinks(SMALL_SHAPES), negative_slope=st.sampled_from([0.01, 0.2, 0.5])),
        lambda a, negative_slope: a.leaky_relu(negative_slope),
        lambda a, negative_slope: np.where(a > 0, a, a * negative_slope),
    ),
    OpEntry(
        "elu",
        ops.Elu,
        cases(away_from_kinks(SMALL_SHAPES), alpha=st.sampled_from([1.0, 0.5])),
        lambda a, alpha: a.elu(alpha),
        lambda a, alpha: np.where(a > 0, a, alpha * np.expm1(a)),
    ),
    OpEntry(
        "sigmoid",
        ops.Sigmoid,
        cases(arrays(SMALL_SHAPES, -6.0, 6.0)),
        lambda a: a.sigmoid(),
        lambda a: 1 / (1 + np.exp(-a)),
    ),
    OpEntry(
        "sigmoid-saturated",
        ops.Sigmoid,
        cases(arrays(SMALL_SHAPES, -40.0, 40.0)),
        lambda a: a.sigmoid(),
        lambda a: 1 / (1 + np.exp(-a)),
    ),
    OpEntry(
        "erf",
        ops.Erf,
        cases(arrays(SMALL_SHAPES)),
        lambda a: a.erf(),
        np.vectorize(math.erf, otypes=[np.float64]),
    ),
    OpEntry("tanh", ops.Tanh, cases(arrays(SMALL_SHAPES)), lambda a: a.tanh(), np.tanh),
    OpEntry("softmax", ops.Softmax, along_an_axis(), lambda a, axis: a.softmax(axis), _np_softmax),
    OpEntry(
        "log_softmax",
        ops.LogSoftmax,
        along_an_axis(),
        lambda a, axis: a.log_softmax(axis),
        lambda a, axis: np.log(_np_softmax(a, axis)),
    ),
]
