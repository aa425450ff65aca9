"""Op-table entries of ``ops/linalg.py``: every ``@`` form numpy allows, and the fused Linear."""

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from op_table import OpEntry, case

from tinygrad_edu import ops, tensor_from_op
from tinygrad_edu.testing import arrays, broadcastable_shapes, shapes

SIDE = st.integers(1, 4)


@st.composite
def matmul_case(draw, left_1d=False, right_1d=False, batch=False):
    """[..., n, k] @ [..., k, m] with optional broadcast batch axes; 1-D operands drop n or m."""
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    ba, bb = draw(broadcastable_shapes(2, max_dims=2, max_side=3)) if batch else ((), ())
    sa = (k,) if left_1d else ba + (n, k)
    sb = (k,) if right_1d else bb + (k, m)
    return case(draw(arrays(sa)), draw(arrays(sb)))


@st.composite
def linear_case(draw, bias=True):
    """x [..., n] (any rank >= 1), W [n, m], b [m]."""
    lead = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    n, m = draw(SIDE), draw(SIDE)
    arrs = [draw(arrays(lead + (n,))), draw(arrays((n, m)))]
    if bias:
        arrs.append(draw(arrays((m,))))
    return case(*arrs)


@st.composite
def linear_relu_case(draw):
    """A Linear case whose pre-activations keep away from relu's kink at 0 (the gradient there
    is one-sided, so a central difference cannot check it)."""
    c = draw(linear_case())
    x, w, b = c.arrays
    assume(np.abs(x @ w + b).min() > 1e-2)
    return c


def _matmul(name, strategy):
    return OpEntry(name, ops.MatMul, strategy, lambda a, b: a @ b, np.matmul)


OP_ENTRIES = [
    _matmul("matmul-2d", matmul_case()),
    _matmul("matmul-batched-broadcast", matmul_case(batch=True)),
    _matmul("matmul-1d-left", matmul_case(left_1d=True, batch=True)),
    _matmul("matmul-1d-right", matmul_case(right_1d=True, batch=True)),
    _matmul("matmul-1d-both", matmul_case(left_1d=True, right_1d=True)),
    OpEntry(
        "matmul-method", ops.MatMul, matmul_case(batch=True), lambda a, b: a.matmul(b), np.matmul
    ),
    OpEntry(
        "linear-bias",
        ops.Linear,
        linear_case(),
        lambda x, w, b: tensor_from_op(ops.Linear, x, w, b),
        lambda x, w, b: x @ w + b,
    ),
    OpEntry(
        "linear-relu",
        ops.Linear,
        linear_relu_case(),
        lambda x, w, b: tensor_from_op(ops.Linear, x, w, b, activation="relu"),
        lambda x, w, b: np.maximum(x @ w + b, 0),
    ),
    OpEntry(
        "linear-no-bias",
        ops.Linear,
        linear_case(bias=False),
        lambda x, w: tensor_from_op(ops.Linear, x, w),
        lambda x, w: x @ w,
    ),
]
