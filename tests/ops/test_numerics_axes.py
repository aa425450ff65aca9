"""Axes in every op that takes one: negative axes (forward and gradient, against torch and a
tight gradcheck), 0-d tensors with axis 0 and -1 (as torch), and bad axes refused with our
``ShapeError``/``ConfigError`` naming the op, the valid range and a fix that runs as written.

Ops: sum, mean, max, min, var, logsumexp, softmax, log_softmax, squeeze, unsqueeze, transpose,
concatenate, stack.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import (
    ConfigError,
    ShapeError,
    Tensor,
    concatenate,
    gradcheck,
    stack,
    tensor_from_op,
)
from tinygrad_edu.ops import Transpose

RNG = np.random.default_rng(7)
#: distinct values, so max/min have no ties
A = RNG.permutation(24).reshape(2, 3, 4) / 7.0 - 1.5
B = RNG.normal(size=(2, 3, 4))


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ negative axes
#: id -> (ours(a, b), torch's(torch, a, b), shape of a, shape of b); b is only used by the joins
NEGATIVE = {
    "sum-1": (lambda a, b: a.sum(-1), lambda T, a, b: a.sum(-1)),
    "sum(-1,-3)": (lambda a, b: a.sum((-1, -3)), lambda T, a, b: a.sum((-1, -3))),
    "sum(-2)-keepdims": (
        lambda a, b: a.sum(-2, keepdims=True),
        lambda T, a, b: a.sum(-2, keepdim=True),
    ),
    "mean-2": (lambda a, b: a.mean(-2), lambda T, a, b: a.mean(-2)),
    "mean(0,-1)": (lambda a, b: a.mean((0, -1)), lambda T, a, b: a.mean((0, -1))),
    "max-1": (lambda a, b: a.max(-1), lambda T, a, b: a.amax(-1)),
    "min(-3,-2)": (lambda a, b: a.min((-3, -2)), lambda T, a, b: a.amin((-3, -2))),
    "var-1-ddof1": (lambda a, b: a.var(-1, ddof=1), lambda T, a, b: a.var(-1, correction=1)),
    "var(-1,-2)": (lambda a, b: a.var((-1, -2)), lambda T, a, b: a.var((-1, -2), correction=0)),
    "logsumexp-2": (lambda a, b: a.logsumexp(-2), lambda T, a, b: T.logsumexp(a, -2)),
    "softmax-2": (lambda a, b: a.softmax(-2), lambda T, a, b: a.softmax(-2)),
    "log_softmax-3": (lambda a, b: a.log_softmax(-3), lambda T, a, b: a.log_softmax(-3)),
    "transpose(-1,0,-2)": (
        lambda a, b: a.transpose(-1, 0, -2),
        lambda T, a, b: a.permute(-1, 0, -2),
    ),
    "transpose(-3,-1,-2)": (
        lambda a, b: a.transpose((-3, -1, -2)),
        lambda T, a, b: a.permute(-3, -1, -2),
    ),
    "unsqueeze-1": (lambda a, b: a.unsqueeze(-1), lambda T, a, b: a.unsqueeze(-1)),
    "unsqueeze-4": (lambda a, b: a.unsqueeze(-4), lambda T, a, b: a.unsqueeze(-4)),
    "squeeze-2": (
        lambda a, b: a.reshape(2, 1, 12).squeeze(-2),
        lambda T, a, b: a.reshape(2, 1, 12).squeeze(-2),
    ),
    "concatenate-1": (
        lambda a, b: concatenate([a, b], axis=-1),
        lambda T, a, b: T.cat([a, b], -1),
    ),
    "concatenate-3": (
        lambda a, b: concatenate([a, b], axis=-3),
        lambda T, a, b: T.cat([a, b], -3),
    ),
    "stack-1": (lambda a, b: stack([a, b], axis=-1), lambda T, a, b: T.stack([a, b], -1)),
    "stack-4": (lambda a, b: stack([a, b], axis=-4), lambda T, a, b: T.stack([a, b], -4)),
}


def _ours(fn):
    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    out = fn(a, b)
    r = np.random.default_rng(1).normal(size=out.shape)
    out.backward(r)
    zero = np.zeros_like(B)
    return out.data, a.grad, (zero if b.grad is None else b.grad), r


@pytest.mark.parametrize("name", list(NEGATIVE))
def test_negative_axes_match_torch(name):
    torch = _torch()
    ours, theirs = NEGATIVE[name]
    value, ga, gb, r = _ours(ours)
    a, b = (torch.tensor(x.copy(), requires_grad=True) for x in (A, B))
    out = theirs(torch, a, b)
    out.backward(torch.tensor(r))
    assert value.shape == tuple(out.shape)
    np.testing.assert_allclose(value, out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ga, a.grad.numpy(), rtol=1e-12, atol=1e-14)
    torch_gb = np.zeros_like(B) if b.grad is None else b.grad.numpy()
    np.testing.assert_allclose(gb, torch_gb, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(NEGATIVE))
def test_negative_axes_pass_a_tight_gradcheck(name):
    ours, _ = NEGATIVE[name]
    assert gradcheck(ours, A, B)  # rtol 1e-6, atol 1e-8: a GradientShapeError would raise


def test_transpose_negative_axes_gradient_is_the_inverse_permutation():
    """The bug this guards: argsort of (-1, 0, -2) is not the inverse of (2, 0, 1)."""
    a = Tensor(A, requires_grad=True)
    out = a.transpose(-1, 0, -2)
    g = np.arange(out.size, dtype=float).reshape(out.shape)
    out.backward(g)
    np.testing.assert_array_equal(a.grad, np.transpose(g, np.argsort((2, 0, 1))))


# ------------------------------------------------------------------ 0-d tensors
#: id -> (ours, torch's, shape, value, gradient) on the 0-d tensor 3.0 (upstream gradient 1)
ZERO_D = {
    "sum(0)": (lambda t: t.sum(0), lambda T, t: t.sum(0), (), 3.0, 1.0),
    "sum(-1)": (lambda t: t.sum(-1), lambda T, t: t.sum(-1), (), 3.0, 1.0),
    "sum((0,))": (lambda t: t.sum((0,)), lambda T, t: t.sum((0,)), (), 3.0, 1.0),
    "sum(0)-keepdims": (
        lambda t: t.sum(0, keepdims=True),
        lambda T, t: t.sum(0, keepdim=True),
        (),
        3.0,
        1.0,
    ),
    "mean(0)": (lambda t: t.mean(0), lambda T, t: t.mean(0), (), 3.0, 1.0),
    "mean(-1)": (lambda t: t.mean(-1), lambda T, t: t.mean(-1), (), 3.0, 1.0),
    "max(0)": (lambda t: t.max(0), lambda T, t: t.amax(0), (), 3.0, 1.0),
    "min(-1)": (lambda t: t.min(-1), lambda T, t: t.amin(-1), (), 3.0, 1.0),
    "var(0)": (lambda t: t.var(0), lambda T, t: t.var(0, correction=0), (), 0.0, 0.0),
    "logsumexp(0)": (lambda t: t.logsumexp(0), lambda T, t: T.logsumexp(t, 0), (), 3.0, 1.0),
    "logsumexp(-1)": (lambda t: t.logsumexp(-1), lambda T, t: T.logsumexp(t, -1), (), 3.0, 1.0),
    "softmax(0)": (lambda t: t.softmax(0), lambda T, t: t.softmax(0), (), 1.0, 0.0),
    "softmax(-1)": (lambda t: t.softmax(-1), lambda T, t: t.softmax(-1), (), 1.0, 0.0),
    "log_softmax(-1)": (lambda t: t.log_softmax(-1), lambda T, t: t.log_softmax(-1), (), 0.0, 0.0),
    "squeeze(0)": (lambda t: t.squeeze(0), lambda T, t: t.squeeze(0), (), 3.0, 1.0),
    "squeeze(-1)": (lambda t: t.squeeze(-1), lambda T, t: t.squeeze(-1), (), 3.0, 1.0),
    "unsqueeze(0)": (lambda t: t.unsqueeze(0), lambda T, t: t.unsqueeze(0), (1,), [3.0], 1.0),
    "unsqueeze(-1)": (lambda t: t.unsqueeze(-1), lambda T, t: t.unsqueeze(-1), (1,), [3.0], 1.0),
    "stack(-1)": (
        lambda t: stack([t, t], axis=-1),
        lambda T, t: T.stack([t, t], -1),
        (2,),
        [3.0, 3.0],
        2.0,
    ),
    "transpose()": (lambda t: t.T, lambda T, t: t.permute(()), (), 3.0, 1.0),
}


def _zero_d(fn):
    t = Tensor(np.float64(3.0), requires_grad=True)
    out = fn(t)
    out.backward(np.ones(out.shape))
    return out, t.grad


@pytest.mark.parametrize("name", list(ZERO_D))
def test_zero_d_takes_axis_0_and_minus_1(name):
    ours, _, shape, value, grad = ZERO_D[name]
    out, g = _zero_d(ours)
    assert out.shape == shape
    np.testing.assert_array_equal(out.data, value)
    np.testing.assert_array_equal(g, grad)


@pytest.mark.parametrize("name", list(ZERO_D))
def test_zero_d_table_is_torch(name):
    torch = _torch()
    _, theirs, shape, value, grad = ZERO_D[name]
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    out = theirs(torch, t)
    out.backward(torch.ones_like(out))
    assert tuple(out.shape) == shape
    np.testing.assert_array_equal(out.detach().numpy(), value)
    np.testing.assert_array_equal(t.grad.numpy(), grad)


@pytest.mark.parametrize("name", [n for n in ZERO_D if not n.startswith(("softmax", "log_"))])
def test_zero_d_gradcheck(name):
    assert gradcheck(ZERO_D[name][0], np.float64(0.7))


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda t: t.sum(1), ShapeError),
        (lambda t: t.mean(-2), ShapeError),
        (lambda t: t.softmax(1), ShapeError),
        (lambda t: t.sum((0, -1)), ConfigError),  # the same axis twice
        (lambda t: t.transpose(0), ShapeError),
        (lambda t: concatenate([t, t]), ShapeError),
    ],
    ids=["sum(1)", "mean(-2)", "softmax(1)", "sum((0,-1))", "transpose(0)", "concatenate"],
)
def test_zero_d_refuses_other_axes(call, error):
    t = Tensor(np.float64(3.0))
    with pytest.raises(error) as err:
        call(t)
    assert type(err.value) is error
    assert_fix_runs(err.value, t)


# ------------------------------------------------------------------ bad axes
#: op name -> (call(t, axis), valid range (lo, hi) for the (2, 3, 4) tensor, tuples allowed)
AXIS_OPS = {
    "Sum": (lambda t, ax: t.sum(axis=ax), (-3, 2), True),
    "Mean": (lambda t, ax: t.mean(axis=ax), (-3, 2), True),
    "Max": (lambda t, ax: t.max(axis=ax), (-3, 2), True),
    "Min": (lambda t, ax: t.min(axis=ax), (-3, 2), True),
    "Var": (lambda t, ax: t.var(axis=ax), (-3, 2), True),
    "LogSumExp": (lambda t, ax: t.logsumexp(axis=ax), (-3, 2), True),
    "Squeeze": (lambda t, ax: t.squeeze(axis=ax), (-3, 2), True),
    "Unsqueeze": (lambda t, ax: t.unsqueeze(ax), (-4, 3), True),
    "Softmax": (lambda t, ax: t.softmax(axis=ax), (-3, 2), False),
    "LogSoftmax": (lambda t, ax: t.log_softmax(axis=ax), (-3, 2), False),
    "Concatenate": (lambda t, ax: concatenate([t, t], axis=ax), (-3, 2), False),
    "Stack": (lambda t, ax: stack([t, t], axis=ax), (-4, 3), False),
}


def assert_fix_runs(err, t):
    """The fix ends with a call (after "e.g. ", or it is one): it runs on the same tensor."""
    code = err.fix.split("e.g. ")[-1]
    env = {"t": t, "tensors": [t, t], "concatenate": concatenate, "stack": stack}
    assert isinstance(eval(code, env), Tensor), err.fix


def _bad_axes():
    cases = []
    for op, (_, (lo, hi), many) in AXIS_OPS.items():
        cases += [(op, hi + 1, ShapeError), (op, lo - 1, ShapeError), (op, 100, ShapeError)]
        cases += [(op, bad, ConfigError) for bad in (1.5, "0", True, np.float64(1.0))]
        if many and op != "Unsqueeze":  # (two new axes make a 5-d result: tested below)
            cases += [(op, (0, lo), ConfigError), (op, [1, 1], ConfigError)]  # twice
            cases += [(op, (0, hi + 1), ShapeError), (op, (0, 0.5), ConfigError)]
        if not many:
            cases += [(op, (0, 1), ConfigError)]
        if op in ("Concatenate", "Stack"):
            cases += [(op, None, ConfigError)]
    return [pytest.param(*c, id=f"{c[0]}-{c[1]!r}") for c in cases]


@pytest.mark.parametrize("op, axis, error", _bad_axes())
def test_bad_axes_are_refused_with_our_errors(op, axis, error):
    call, (lo, hi), _ = AXIS_OPS[op]
    t = Tensor(A)
    with pytest.raises(error) as err:
        call(t, axis)
    assert type(err.value) is error  # not numpy's AxisError/TypeError, not a generic wrapper
    assert f"'{op}'" in err.value.where
    assert repr(axis) in err.value.got
    if error is ShapeError:
        assert f"[{lo}, {hi}]" in err.value.expected
    assert_fix_runs(err.value, t)


@pytest.mark.parametrize(
    "axis, error, valid",
    [((0, 5), ShapeError, "[-5, 4]"), ((0, -5), ConfigError, ""), ((1, 1), ConfigError, "")],
)
def test_bad_unsqueeze_axes_count_in_the_result(axis, error, valid):
    t = Tensor(A)
    assert t.unsqueeze((0, -4)).shape == (1, 1, 2, 3, 4)  # two new axes: a 5-d result
    with pytest.raises(error) as err:
        t.unsqueeze(axis)
    assert type(err.value) is error
    assert valid in err.value.expected
    assert_fix_runs(err.value, t)


def test_softmax_over_every_element():
    t = Tensor(A, requires_grad=True)
    e = np.exp(A)
    np.testing.assert_allclose(t.softmax(axis=None).data, e / e.sum(), rtol=1e-12)
    np.testing.assert_allclose(t.log_softmax(axis=None).data, np.log(e / e.sum()), rtol=1e-12)
    assert gradcheck(lambda x: x.softmax(axis=None), A)
    assert gradcheck(lambda x: x.log_softmax(axis=None), A)


@pytest.mark.parametrize(
    "axes, error",
    [
        ((0, 1), ShapeError),  # not every axis
        ((0, 1, 2, 0), ShapeError),
        ((0, 1, 3), ShapeError),
        ((0, -4, 1), ShapeError),
        ((0, 1, 1), ConfigError),
        ((0, 2, -1), ConfigError),  # 2 and -1 are the same axis
        ((0, 1, 1.5), ConfigError),
        ((0, 1, "2"), ConfigError),
        ((0, True, 2), ConfigError),
    ],
)
def test_bad_transpose_axes_are_refused(axes, error):
    t = Tensor(A)
    with pytest.raises(error) as err:
        t.transpose(axes)
    assert type(err.value) is error
    assert "'Transpose'" in err.value.where
    assert_fix_runs(err.value, t)


def test_transpose_axes_must_be_a_sequence():
    t = Tensor(A)
    with pytest.raises(ShapeError) as err:
        tensor_from_op(Transpose, t, axes=1)
    assert_fix_runs(err.value, t)


def test_squeeze_of_an_axis_longer_than_one():
    t = Tensor(A.reshape(2, 1, 12))
    with pytest.raises(ShapeError) as err:
        t.squeeze(0)
    assert "size 2" in err.value.got and "(1,)" in err.value.expected
    assert_fix_runs(err.value, t)
    assert t.squeeze(-2).shape == (2, 12)


@pytest.mark.parametrize("tensors", [[], (), Tensor(A), 3.0])
@pytest.mark.parametrize("join", [concatenate, stack])
def test_joining_nothing_is_a_config_error(join, tensors):
    with pytest.raises(ConfigError) as err:
        join(tensors)
    a, b = Tensor(A), Tensor(B)
    assert isinstance(eval(err.value.fix, {join.__name__: join, "a": a, "b": b}), Tensor)
