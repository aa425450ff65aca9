"""The engine's walk on arbitrary graphs: random programs of ops - values reused by several
consumers (diamonds), the same value as both operands, broadcasting between (3, 4), (1, 4),
(3, 1), (4,) and 0-d values, reductions, matmuls, several values summed into the result - are
gradient-checked in float64 against central differences (``gradcheck``).

What this holds: reverse order by creation number visits every consumer before its producer,
gradients from several paths are summed (never overwritten, never counted twice), and
broadcast gradients are un-broadcast to each input's shape - on graphs nobody wrote by hand.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, gradcheck

LEAF_SHAPES = [(3, 4), (1, 4), (3, 1), (4,), ()]
UNARY = {
    "tanh": lambda a: a.tanh(),
    "square": lambda a: a * a,
    "sum0": lambda a: a.sum(axis=0, keepdims=True) if a.ndim == 2 else a,
    "sum1": lambda a: a.sum(axis=1, keepdims=True) if a.ndim == 2 else a,
    "neg": lambda a: -a,
    "scale": lambda a: a * 0.5 + 1.0,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
}

instruction = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.integers(0, 99)),
    st.tuples(
        st.just("binary"), st.sampled_from(sorted(BINARY)), st.integers(0, 99), st.integers(0, 99)
    ),
    st.tuples(st.just("matmul"), st.integers(0, 99)),
)


def run_program(program, summed, leaves, weight):
    """Execute ``program`` on the leaf tensors (``matmul`` multiplies by ``weight`` a value of
    4 columns, and is skipped for others); the result is the last value plus the tanh of each
    chosen value, all broadcast together, so earlier values may feed it by several paths."""
    values = list(leaves)
    for ins in program:
        if ins[0] == "unary":
            values.append(UNARY[ins[1]](values[ins[2] % len(values)]))
        elif ins[0] == "binary":
            values.append(
                BINARY[ins[1]](values[ins[2] % len(values)], values[ins[3] % len(values)])
            )
        else:
            a = values[ins[1] % len(values)]
            if a.ndim == 2 and a.shape[1] == 4:  # (3, 4) or (1, 4) @ (4, 4)
                values.append(a @ weight)
    total = values[-1] * 1.0
    for k in summed:
        total = total + values[k % len(values)].tanh()
    return total


@settings(deadline=None)
@given(
    program=st.lists(instruction, min_size=1, max_size=12),
    summed=st.lists(st.integers(0, 99), max_size=3),
    seed=st.integers(0, 2**16),
)
def test_random_graphs_get_the_gradient_of_central_differences(program, summed, seed):
    rng = np.random.default_rng(seed)
    leaves = [rng.uniform(-0.8, 0.8, size=s) for s in LEAF_SHAPES]
    weight = rng.uniform(-0.5, 0.5, size=(4, 4))

    def fn(*tensors):
        *leaf_tensors, w = tensors
        return run_program(program, summed, leaf_tensors, w)

    assert gradcheck(fn, *leaves, weight, atol=1e-7, rtol=1e-5)


def test_a_value_used_by_two_consumers_gets_both_contributions_once():
    """The smallest case the random programs cover, written out: y = x*x + tanh(x*x)."""
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    s = x * x
    (s + s.tanh()).sum().backward()
    want = 2 * x.numpy() * (1 + 1 - np.tanh(x.numpy() ** 2) ** 2)
    np.testing.assert_allclose(x.grad, want, rtol=1e-12)
