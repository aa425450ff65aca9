"""Edge values as numpy and torch define them (float64): pow at 0, var with no degrees of freedom
left, clip's bounds.

The expected values are written out in tables (they document the behaviour and need no torch);
``test_*_table_is_torch`` re-derives each table from torch when it is installed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import ConfigError, Tensor, tensor_from_op
from tinygrad_edu.ops import Clip, PowScalar

INF, NAN = math.inf, math.nan


def value_and_grads(fn, *inputs, upstream=None):
    """fn's value and d(sum(out * upstream))/d(input) for each input (float64)."""
    ts = [Tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = fn(*ts)
    out.backward(np.ones(out.shape) if upstream is None else upstream)
    return out.data, [t.grad for t in ts]


def torch_value_and_grads(fn, *inputs, upstream=None):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = fn(*ts)
    out.backward(torch.ones_like(out) if upstream is None else torch.tensor(upstream))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def same(actual, expected):
    """Equal values, inf and nan in the same places."""
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0, equal_nan=True)


# ------------------------------------------------------------------------------------ pow
#: (base, exponent) -> (base ** exponent, d/d base, d/d exponent), as torch computes them.
#: d/d base is 0 where exponent = 0; d/d exponent is 0 where base = 0 and exponent >= 0.
POW = {
    (0.0, 0.0): (1.0, 0.0, 0.0),
    (0.0, 1.0): (0.0, 1.0, 0.0),
    (0.0, 2.0): (0.0, 0.0, 0.0),
    (0.0, 3.0): (0.0, 0.0, 0.0),
    (0.0, 0.5): (0.0, INF, 0.0),
    (0.0, -1.0): (INF, -INF, -INF),
    (0.0, -0.5): (INF, -INF, -INF),
    (2.0, 0.0): (1.0, 0.0, math.log(2.0)),
    (-2.0, 0.0): (1.0, 0.0, NAN),
    (-2.0, 2.0): (4.0, -4.0, NAN),
    (-2.0, 3.0): (-8.0, 12.0, NAN),
    (-2.0, 0.5): (NAN, NAN, NAN),
}

#: (x, p) -> (x ** p, d/dx) for a constant exponent p, as torch computes them.
POW_SCALAR = {
    (0.0, 0): (1.0, 0.0),
    (0.0, 0.25): (0.0, INF),
    (0.0, 1): (0.0, 1.0),
    (0.0, 2): (0.0, 0.0),
    (0.0, 3): (0.0, 0.0),
    (0.0, 0.5): (0.0, INF),
    (0.0, -1): (INF, -INF),
    (0.0, -0.5): (INF, -INF),
    (0.0, -2): (INF, -INF),
    (2.0, 0): (1.0, 0.0),
    (2.0, 0.5): (math.sqrt(2.0), 0.5 / math.sqrt(2.0)),
    (2.0, -1): (0.5, -0.25),
    (-2.0, 0): (1.0, 0.0),
    (-2.0, 2): (4.0, -4.0),
    (-2.0, -1): (-0.5, -0.25),
    (-2.0, 0.5): (NAN, NAN),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy: 0 ** -1, (-2) ** 0.5
@pytest.mark.parametrize("base, exponent", list(POW))
def test_pow_of_two_tensors_matches_the_table(base, exponent):
    value, (d_base, d_exponent) = value_and_grads(lambda a, b: a**b, base, exponent)
    same([value, d_base, d_exponent], POW[base, exponent])


@pytest.mark.parametrize("base, exponent", list(POW))
def test_pow_table_is_torch(base, exponent):
    value, (d_base, d_exponent) = torch_value_and_grads(lambda a, b: a**b, base, exponent)
    same([value, d_base, d_exponent], POW[base, exponent])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy: 0 ** -1, (-2) ** 0.5
def test_pow_at_zero_elementwise_in_one_array():
    """The table's rows at once: the masks work element by element, with broadcasting."""
    rows = [k for k in POW if k[0] == 0.0]
    bases, exponents = np.zeros(len(rows)), np.array([e for _, e in rows])
    value, (d_base, d_exponent) = value_and_grads(lambda a, b: a**b, bases, exponents)
    expected = np.array([POW[k] for k in rows])
    same(value, expected[:, 0])
    same(d_base, expected[:, 1])
    same(d_exponent, expected[:, 2])
    exponents = np.array([0.0, 1.0, 2.0, 3.0])  # a 0-d base: its gradient sums 0 + 1 + 0 + 0
    _, (d_base, d_exponent) = value_and_grads(lambda a, b: a**b, 0.0, exponents)
    same(d_base, 1.0)
    same(d_exponent, np.zeros(4))


def test_scalar_base_zero_to_a_tensor_power():
    """``0.0 ** t`` (Tensor.__rpow__): d/dt is 0 for t >= 0, as torch."""
    t = Tensor(np.array([0.0, 0.5, 2.0]), requires_grad=True)
    (0.0**t).sum().backward()
    same(t.grad, [0.0, 0.0, 0.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy: 0 ** -1, (-2) ** 0.5
@pytest.mark.parametrize("x, p", list(POW_SCALAR))
def test_pow_scalar_matches_the_table(x, p):
    value, (grad,) = value_and_grads(lambda t: t**p, x)
    same([value, grad], POW_SCALAR[x, p])


@pytest.mark.parametrize("x, p", list(POW_SCALAR))
def test_pow_scalar_table_is_torch(x, p):
    value, (grad,) = torch_value_and_grads(lambda t: t**p, x)
    same([value, grad], POW_SCALAR[x, p])


def test_pow_scalar_with_an_array_exponent():
    """An array exponent broadcasts; p = 0 entries give 0 at x = 0 (no nan)."""
    p = np.array([0.0, 1.0, 2.0])
    value, (grad,) = value_and_grads(lambda t: t**p, np.zeros(3))
    same(value, [1.0, 0.0, 0.0])
    same(grad, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("exponent", ["2", None, ["a"], True])
def test_pow_scalar_refuses_a_non_numeric_exponent(exponent):
    """Called directly (``t ** x`` sends anything but a number to ``Pow``, which lifts it)."""
    t = Tensor(np.ones(2))
    with pytest.raises(ConfigError) as err:
        tensor_from_op(PowScalar, t, exponent=exponent)
    assert "PowScalar" in err.value.where
    assert eval(err.value.fix, {"t": t}).shape == (2,)  # the fix runs as written


# ------------------------------------------------------------------------------------ var
#: (data, axis, ddof) -> numpy's var, torch's gradient and ours (upstream gradient of ones).
#: ddof >= N divides by max(N - ddof, 0) = 0, as numpy: inf, or nan where the values are equal.
#: Gradient 2 (a - mean) / 0: -inf below the mean, +inf above, nan at it. Torch gives that too
#: when it reduces given axes with correction == N; reducing every axis it gives +inf
#: everywhere off the mean, and for correction > N on given axes it divides by N - correction < 0
#: (finite values) - ours stays the same as at ddof == N.
VAR = [
    # data, axis, ddof, value (numpy), grad (ours), grad (torch)
    ([1.0, 2.0], None, 0, 0.25, [-0.5, 0.5], [-0.5, 0.5]),
    ([1.0, 2.0], None, 1, 0.5, [-1.0, 1.0], [-1.0, 1.0]),
    ([1.0, 2.0], None, 2, INF, [-INF, INF], [INF, INF]),
    ([1.0, 2.0], None, 3, INF, [-INF, INF], [INF, INF]),
    ([1.0, 1.0], None, 2, NAN, [NAN, NAN], [NAN, NAN]),
    ([3.0], None, 1, NAN, [NAN], [NAN]),
    (3.0, None, 1, NAN, NAN, NAN),  # 0-d: N = 1
    (3.0, 0, 0, 0.0, 0.0, 0.0),
    ([[1.0, 2.0], [1.0, 1.0]], 1, 2, [INF, NAN], [[-INF, INF], [NAN, NAN]], None),
    ([[1.0, 2.0], [1.0, 1.0]], -1, 3, [INF, NAN], [[-INF, INF], [NAN, NAN]], None),
]
VAR_TORCH_GIVEN_AXES = {(1, 2): [[-INF, INF], [NAN, NAN]], (-1, 3): [[1.0, -1.0], [0.0, 0.0]]}


def _var_ids():
    return [f"{np.shape(d)}-axis{a}-ddof{k}" for d, a, k, *_ in VAR]


@pytest.mark.parametrize("data, axis, ddof, value, grad, _torch", VAR, ids=_var_ids())
def test_var_without_degrees_of_freedom_left(data, axis, ddof, value, grad, _torch):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, (g,) = value_and_grads(lambda t: t.var(axis=axis, ddof=ddof), data)
    same(out, value)
    same(g, grad)
    n = np.size(data) if axis is None or np.ndim(data) == 0 else np.shape(data)[axis]
    assert any("degrees of freedom" in str(w.message) for w in caught) == (ddof >= n)


@pytest.mark.parametrize("data, axis, ddof, value, _grad, _torch", VAR, ids=_var_ids())
def test_var_forward_is_numpy(data, axis, ddof, value, _grad, _torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own "ddof >= N" warning
        expected = np.var(np.asarray(data), axis=axis if np.ndim(data) else None, ddof=ddof)
    same(expected, value)


@pytest.mark.parametrize("data, axis, ddof, value, grad, torch_grad", VAR, ids=_var_ids())
def test_var_table_is_torch(data, axis, ddof, value, grad, torch_grad):
    dims = {} if axis is None else {"dim": axis}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's "degrees of freedom <= 0"
        out, (g,) = torch_value_and_grads(lambda t: t.var(correction=ddof, **dims), data)
    same(out, value)
    same(g, VAR_TORCH_GIVEN_AXES[axis, ddof] if torch_grad is None else torch_grad)


def test_var_without_degrees_of_freedom_keeps_float32():
    t = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = t.var(ddof=2)
    out.backward()
    assert out.dtype == np.float32 and t.grad.dtype == np.float32


@pytest.mark.parametrize("ddof", ["1", None, True, NAN, INF])
def test_var_refuses_a_ddof_that_is_not_a_finite_number(ddof):
    t = Tensor(np.ones(3))
    with pytest.raises(ConfigError) as err:
        t.var(ddof=ddof)
    assert "Var" in err.value.where
    assert eval(err.value.fix, {"t": t}).shape == ()


# ------------------------------------------------------------------------------------ clip
X = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


CLIPS = [(-1.0, 1.0), (1.0, -1.0), (0.5, 0.5), (None, 0.0), (0.0, None)]
CLIP_IDS = ["inside", "min-above-max", "equal-bounds", "max-only", "min-only"]
R = np.linspace(0.5, 2.0, X.size)


@pytest.mark.parametrize("lo, hi", CLIPS, ids=CLIP_IDS)
def test_clip_matches_numpy(lo, hi):
    """min > max: every value becomes max (numpy takes the max with min first) and the gradient
    is 0 everywhere (no x has min <= x <= max). At a bound itself the gradient is 1."""
    value, (grad,) = value_and_grads(lambda t: t.clip(lo, hi), X, upstream=R)
    same(value, np.clip(X, lo, hi))
    inside = np.ones(X.size, bool)
    if lo is not None:
        inside &= X >= lo
    if hi is not None:
        inside &= X <= hi
    same(grad, R * inside)


@pytest.mark.parametrize("lo, hi", CLIPS, ids=CLIP_IDS)
def test_clip_is_torch_clamp(lo, hi):
    value, (grad,) = value_and_grads(lambda t: t.clip(lo, hi), X, upstream=R)
    t_value, (t_grad,) = torch_value_and_grads(lambda t: t.clamp(min=lo, max=hi), X, upstream=R)
    same(value, t_value)
    same(grad, t_grad)


def test_clip_needs_a_bound():
    t = Tensor(X)
    with pytest.raises(ConfigError) as err:
        t.clip()
    assert "One of max or min must be given" in str(err.value)
    assert "Clip" in err.value.where
    same(eval(err.value.fix, {"t": t}).data, np.clip(X, 0.0, 1.0))
    with pytest.raises(ConfigError):
        tensor_from_op(Clip, t)


@pytest.mark.parametrize(
    "lo, hi", [(NAN, 1.0), (0.0, NAN), (np.array([0.0, NAN]), None), ("0", None), (None, "1")]
)
def test_clip_refuses_nan_and_non_numeric_bounds(lo, hi):
    t = Tensor(np.zeros(2))
    with pytest.raises(ConfigError) as err:
        t.clip(lo, hi)
    assert "Clip" in err.value.where
    assert eval(err.value.fix, {"t": t}).shape == (2,)
