"""Op-table entries of ``ops/elementwise_math.py``: sin, cos, log2, log10, log1p, expm1, rsqrt,
and the step functions sign, floor, ceil, round (gradient 0, checked away from their jumps)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SMALL_SHAPES, OpEntry, cases, positive

from tinygrad_edu import ops
from tinygrad_edu.testing import arrays, away_from_kinks

#: floor/ceil jump at the integers, round (halves to even) at the half-integers, sign at 0
INTEGERS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-4, 4))


def _unary(name, op, values, reference, method=None):
    """The entry of ``a.<method>()`` (``method`` defaults to ``name``)."""
    return OpEntry(name, op, cases(values), lambda a: getattr(a, method or name)(), reference)


OP_ENTRIES = [
    _unary("sin", ops.Sin, arrays(SMALL_SHAPES, -6.0, 6.0), np.sin),
    _unary("cos", ops.Cos, arrays(SMALL_SHAPES, -6.0, 6.0), np.cos),
    _unary("log2", ops.Log2, positive(SMALL_SHAPES), np.log2),
    _unary("log10", ops.Log10, positive(SMALL_SHAPES), np.log10),
    _unary("log1p", ops.Log1p, arrays(SMALL_SHAPES, -0.8, 3.0), np.log1p),
    _unary("log1p-tiny", ops.Log1p, arrays(SMALL_SHAPES, -1e-9, 1e-9), np.log1p, "log1p"),
    _unary("expm1", ops.Expm1, arrays(SMALL_SHAPES), np.expm1),
    _unary("rsqrt", ops.Rsqrt, positive(SMALL_SHAPES), lambda a: 1 / np.sqrt(a)),
    _unary("sign", ops.Sign, away_from_kinks(SMALL_SHAPES), np.sign),
    _unary("floor", ops.Floor, away_from_kinks(SMALL_SHAPES, kinks=INTEGERS), np.floor),
    _unary("ceil", ops.Ceil, away_from_kinks(SMALL_SHAPES, kinks=INTEGERS), np.ceil),
    _unary("round", ops.Round, away_from_kinks(SMALL_SHAPES, kinks=HALVES), np.round),
    OpEntry(
        "round-decimals",
        ops.Round,
        # tenths jump at x.x5: values on a grid of 0.01 + 0.002 stay 0.003 from every jump
        cases(
            hnp.arrays(np.int64, SMALL_SHAPES, elements=st.integers(-300, 300)).map(
                lambda k: k / 100 + 0.002
            ),
            decimals=st.sampled_from([1, 2]),
        ),
        lambda a, decimals: a.round(decimals),
        lambda a, decimals: np.round(a, decimals),
    ),
]
