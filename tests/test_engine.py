"""The autograd engine: graph shapes, accumulation, freeing, no_grad, errors, dtypes, scalars."""

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import (
    DataError,
    GradientShapeError,
    ShapeError,
    Tensor,
    TinygradEduError,
    no_grad,
    tensor_from_op,
)
from tinygrad_edu.function import Function


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------------------- graph shapes
def test_diamond_graph():
    x = leaf([1.0, 2.0, 3.0])
    a, b = x * 2, x + 3  # two paths from x that meet again
    (a * b).sum().backward()
    # d/dx (2x (x + 3)) = 4x + 6
    np.testing.assert_allclose(x.grad, 4 * x.data + 6)


def test_nested_diamonds_share_one_parent():
    x = leaf([0.5, -1.0])
    h = x.tanh()
    out = (h * h + h.exp() * h).sum()
    out.backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, (2 * t + np.exp(t) * (1 + t)) * (1 - t**2))


def test_tensor_reused_many_times():
    x = leaf([1.5, -2.0])
    y = x
    for _ in range(49):
        y = y + x
    (y * x).sum().backward()  # (50 x) * x -> 100 x
    np.testing.assert_allclose(x.grad, 100 * x.data)


def test_same_tensor_as_both_operands():
    x = leaf([3.0])
    (x * x).backward()
    np.testing.assert_allclose(x.grad, [6.0])
    y = leaf([[1.0, 2.0], [3.0, 4.0]])
    (y @ y).sum().backward()
    ones = np.ones((2, 2))
    np.testing.assert_allclose(y.grad, ones @ y.data.T + y.data.T @ ones)


def test_order_is_by_creation_even_when_paths_differ_in_length():
    # x reaches the output by a 1-op path and by a 30-op path: x's gradient must wait for both
    x = leaf([0.3, -0.7])
    long = x
    for _ in range(30):
        long = long * 1.0 + 0.0
    out = (x * 3.0 + long).sum()
    out.backward()
    np.testing.assert_allclose(x.grad, [4.0, 4.0])


def test_deep_copied_tensors_with_equal_creation_numbers_mix_in_one_graph():
    import copy

    w = leaf([1.0, 2.0])
    w2 = copy.deepcopy(w)  # same creation number as w: the backward must not compare tensors
    (w * w2 + w2).sum().backward()
    np.testing.assert_allclose(w.grad, w2.data)
    np.testing.assert_allclose(w2.grad, w.data + 1)


def test_100k_op_chain_is_iterative():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0])


# ---------------------------------------------------------------------------- accumulation
def test_gradients_accumulate_over_two_forward_backward_passes():
    x = leaf([1.0, 2.0])
    for _ in range(2):
        (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (2 * x.data))
    x.zero_grad()
    assert x.grad is None


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([1.0, 2.0])
    y = (x * x * 3).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * (6 * x.data))


def test_graph_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = h.sum()
    assert h.op is not None and y.op is not None
    y.backward()
    assert h.op is None and y.op is None
    with pytest.raises(TinygradEduError) as info:
        y.backward()
    assert info.value.where == "Tensor.backward"
    assert "retain_graph" in info.value.fix


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad and y.op is None
    assert tge.is_grad_enabled()

    @no_grad()
    def predict(t):
        return t * 3

    z = predict(x)
    assert not z.requires_grad and z.op is None
    assert (x * 3).requires_grad  # switched back on after the decorated call


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert tge.is_grad_enabled()


def test_constants_do_not_get_grad_and_ops_on_them_record_nothing():
    c = Tensor(np.array([1.0, 2.0]))
    x = leaf([3.0, 4.0])
    out = c * 2
    assert not out.requires_grad and out.op is None
    (c * x).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, c.data)


# ---------------------------------------------------------------------------- backward errors
def test_backward_on_non_scalar_without_grad_raises_shape_error():
    y = leaf([[1.0, 2.0], [3.0, 4.0]]) * 2
    with pytest.raises(ShapeError) as info:
        y.backward()
    err = info.value
    assert err.where == "Tensor.backward"
    assert "(2, 2)" in err.got
    assert err.fix


def test_backward_with_explicit_grad_on_non_scalar():
    x = leaf([1.0, 2.0])
    (x * 3).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [3.0, 30.0])
    with pytest.raises(ShapeError):
        (x * 3).backward(np.ones(3))


def test_backward_on_tensor_not_requiring_grad_raises():
    with pytest.raises(TinygradEduError) as info:
        Tensor([1.0, 2.0]).sum().backward()
    assert info.value.where == "Tensor.backward"
    assert "requires_grad" in info.value.fix


def test_wrong_gradient_shape_from_an_op_raises_naming_the_op():
    class BadDouble(Function):
        def forward(self, a):
            return 2 * a

        def backward(self, grad):
            return np.ones(grad.shape + (3,))  # a shape no un-broadcasting can fix

    x = leaf([1.0, 2.0])
    with pytest.raises(GradientShapeError) as info:
        tensor_from_op(BadDouble, x).sum().backward()
    assert "BadDouble" in info.value.where
    assert "(2,)" in info.value.expected and "(2, 3)" in info.value.got


def test_matmul_shape_mismatch_names_op_and_both_shapes():
    a, b = Tensor(np.zeros((1, 23))), Tensor(np.zeros((7, 150)))
    with pytest.raises(ShapeError) as info:
        a @ b
    err = info.value
    assert "MatMul" in err.where
    assert "(1, 23)" in err.got and "(7, 150)" in err.got


def test_broadcasting_failure_in_add_raises_shape_error():
    with pytest.raises(ShapeError) as info:
        Tensor(np.zeros((2, 3))) + Tensor(np.zeros((4,)))
    err = info.value
    assert "Add" in err.where
    assert "(2, 3)" in err.got and "(4,)" in err.got
    assert "broadcast" in err.expected


# ---------------------------------------------------------------------------- retain_grad, detach
def test_retain_grad_keeps_intermediate_gradient():
    x = leaf([1.0, 2.0])
    h = (x * 3).retain_grad()
    other = x * 4
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    assert other.grad is None  # not retained
    np.testing.assert_allclose(x.grad, 18 * x.data + 4)


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.op is None and d.dtype == np.float64
    np.testing.assert_allclose(d.data, [2.0, 4.0])
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad, d.data)  # no gradient flowed through d


# ---------------------------------------------------------------------------- scalars both sides
X0 = np.array([0.5, 1.5, 2.0])
SCALAR_CASES = {
    "t + 2": (lambda t: t + 2, lambda v: v + 2, lambda v: np.ones_like(v)),
    "2 + t": (lambda t: 2 + t, lambda v: 2 + v, lambda v: np.ones_like(v)),
    "t - 2": (lambda t: t - 2, lambda v: v - 2, lambda v: np.ones_like(v)),
    "2 - t": (lambda t: 2 - t, lambda v: 2 - v, lambda v: -np.ones_like(v)),
    "t * 3": (lambda t: t * 3, lambda v: v * 3, lambda v: 3 * np.ones_like(v)),
    "3 * t": (lambda t: 3 * t, lambda v: 3 * v, lambda v: 3 * np.ones_like(v)),
    "t / 2": (lambda t: t / 2, lambda v: v / 2, lambda v: np.full_like(v, 0.5)),
    "1 / t": (lambda t: 1 / t, lambda v: 1 / v, lambda v: -1 / v**2),
    "t ** 2": (lambda t: t**2, lambda v: v**2, lambda v: 2 * v),
    "t ** 0.5": (lambda t: t**0.5, lambda v: v**0.5, lambda v: 0.5 / np.sqrt(v)),
    "2 ** t": (lambda t: 2**t, lambda v: 2**v, lambda v: np.log(2) * 2**v),
    "-t": (lambda t: -t, lambda v: -v, lambda v: -np.ones_like(v)),
    "array * t": (
        lambda t: np.array([1.0, 2.0, 3.0]) * t,
        lambda v: np.array([1.0, 2, 3]) * v,
        lambda v: np.array([1.0, 2.0, 3.0]),
    ),
    "t * array": (
        lambda t: t * np.array([1.0, 2.0, 3.0]),
        lambda v: v * np.array([1.0, 2, 3]),
        lambda v: np.array([1.0, 2.0, 3.0]),
    ),
    "array - t": (
        lambda t: np.array([1.0, 2.0, 3.0]) - t,
        lambda v: np.array([1.0, 2, 3]) - v,
        lambda v: -np.ones_like(v),
    ),
    "array / t": (lambda t: np.ones(3) / t, lambda v: 1 / v, lambda v: -1 / v**2),
    "np.float64 * t": (lambda t: np.float64(2.0) * t, lambda v: 2 * v, lambda v: 2 + 0 * v),
    "array @ t": (
        lambda t: np.ones((2, 3)) @ t,
        lambda v: np.ones((2, 3)) @ v,
        lambda v: 2 * np.ones_like(v),
    ),
}


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_python_and_numpy_operands_on_both_sides(name):
    call, value, grad = SCALAR_CASES[name]
    x = leaf(X0)
    out = call(x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, value(X0))
    out.sum().backward()
    np.testing.assert_allclose(x.grad, grad(X0), rtol=1e-12)


def test_scalar_operands_keep_float32():
    x = leaf([1.0, 2.0], dtype=np.float32)
    for out in (2 - x, x**2, 1 / x, 2**x, np.float64(2.0) * x, np.ones(2) * x, x + 0.5):
        assert out.dtype == np.float32


# ---------------------------------------------------------------------------- dtypes
def test_dtype_rules():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64  # float64 kept
    assert Tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.array([1, 2], dtype=np.int64)).dtype == np.float32
    assert Tensor([True, False]).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad", ["abc", ["a", "b"], [object()]])
def test_non_numeric_data_raises_data_error(bad):
    with pytest.raises(DataError) as info:
        Tensor(bad)
    assert info.value.where == "Tensor()"
    assert info.value.fix


def test_gradients_of_a_float32_graph_stay_float32():
    x = leaf(np.linspace(-1, 1, 6).reshape(2, 3), dtype=np.float32)
    w = leaf(np.linspace(0.5, 1, 12).reshape(3, 4), dtype=np.float32)
    b = leaf(np.zeros(4), dtype=np.float32)
    h = (x @ w + b).relu().log_softmax(axis=-1)
    loss = -(h[np.arange(2), [1, 3]]).mean() + 0.1 * (w**2).sum() + x.abs().max() / 2
    assert loss.dtype == np.float32
    loss.backward()
    for t in (x, w, b):
        assert t.grad.dtype == np.float32


# ---------------------------------------------------------------------------- module functions
def test_concatenate_and_stack_route_gradients_to_each_input():
    a, b = leaf([[1.0, 2.0]]), leaf([[3.0, 4.0], [5.0, 6.0]])
    out = tge.concatenate([a, b], axis=0)
    np.testing.assert_allclose(out.data, np.concatenate([a.data, b.data]))
    (out * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_allclose(a.grad, [[0.0, 1.0]])
    np.testing.assert_allclose(b.grad, [[2.0, 3.0], [4.0, 5.0]])

    c, d = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    s = tge.stack([c, d], axis=1)
    assert s.shape == (2, 2)
    (s * np.array([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_allclose(c.grad, [1.0, 3.0])
    np.testing.assert_allclose(d.grad, [2.0, 4.0])


def test_concatenate_accepts_arrays_next_to_tensors():
    a = leaf([1.0])
    out = tge.concatenate([a, np.array([2.0, 3.0])])
    assert out.dtype == np.float64
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [1.0])


def test_where_routes_gradient_by_mask():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([10.0, 20.0, 30.0])
    mask = np.array([True, False, True])
    out = tge.where(mask, a, b)
    np.testing.assert_allclose(out.data, [1.0, 20.0, 3.0])
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [1.0, 0.0, 1.0])
    np.testing.assert_allclose(b.grad, [0.0, 1.0, 0.0])
    c = leaf([-1.0, 2.0])
    tge.where(c > 0, c, 0.0).sum().backward()  # a comparison gives the mask; scalar branch
    np.testing.assert_allclose(c.grad, [0.0, 1.0])


def test_maximum_minimum_functions_and_ties():
    a, b = leaf([1.0, 5.0, 2.0]), leaf([3.0, 4.0, 2.0])
    tge.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.0, 1.0, 0.5])  # a tie shares the gradient
    np.testing.assert_allclose(b.grad, [1.0, 0.0, 0.5])
    c = leaf([-1.0, 3.0])
    out = tge.minimum(2.0, c) + tge.maximum(0.0, c)  # a scalar on the left works too
    np.testing.assert_allclose(out.data, [-1.0, 5.0])
    out.sum().backward()
    np.testing.assert_allclose(c.grad, [1.0, 1.0])


def test_max_reduction_shares_gradient_between_ties():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_matmul_of_two_vectors_backward():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0, 6.0])
    out = a @ b
    assert out.shape == ()
    out.backward()
    np.testing.assert_allclose(a.grad, b.data)
    np.testing.assert_allclose(b.grad, a.data)


def test_grad_of_a_0d_leaf_is_an_ndarray():
    x = leaf(2.0)
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == ()


def test_backward_returning_too_few_gradients_raises_naming_the_op():
    class OneGradForTwo(Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, grad):
            return grad * self.b  # forgot the second input's gradient

    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(TinygradEduError) as info:
        tensor_from_op(OneGradForTwo, a, b).sum().backward()
    assert "OneGradForTwo" in info.value.where


def test_leaf_grads_never_share_memory():
    """The engine hands a fresh result to a leaf without copying, but never one array to two
    leaves (Add passes the same gradient to both inputs), nor the caller's own grad array."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    upstream = np.ones(2, dtype=np.float32)
    (a + b).backward(upstream)
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, upstream) and not np.shares_memory(b.grad, upstream)
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0 and upstream[0] == 1.0
    c, d = leaf([1.0, 2.0]), leaf([[3.0], [4.0]])
    (c.reshape(2, 1) + d).sum().backward()  # a view of one gradient reaches another leaf
    assert not np.shares_memory(c.grad, d.grad)


def test_a_tensor_used_directly_and_through_another_path_gets_both_contributions():
    """t = f(p, q) with q = g(p): p's gradient must wait for q's (a topological-order trap)."""
    p = leaf([2.0])
    q = p * 3.0
    t = p * q  # t = 3 p^2  ->  dt/dp = 6 p = 12
    t.backward(np.ones(1, dtype=np.float32))
    np.testing.assert_allclose(p.grad, [12.0])
    a = leaf([1.5])
    b = a.exp()
    c = (a + b) * b  # c = (a + e^a) e^a -> dc/da = e^a (1 + e^a) + (a + e^a) e^a
    c.backward(np.ones(1, dtype=np.float32))
    e = np.exp(1.5)
    np.testing.assert_allclose(a.grad, [e * (1 + e) + (1.5 + e) * e], rtol=1e-6)


def test_truth_of_a_tensor_is_its_value_not_its_length():
    """Without __bool__, Python falls back to len(): Tensor([0.0]) would be True."""
    from tinygrad_edu import ShapeError

    assert bool(Tensor([0.0])) is False
    assert bool(Tensor(3.0)) is True
    assert bool(Tensor([[0.5]])) is True
    with pytest.raises(ShapeError) as err:
        bool(Tensor([0.0, 1.0]))
    assert "bool((t > 0).any())" in err.value.fix
    t = Tensor([0.0, 1.0])
    assert bool((t > 0).any()) is True and bool((t > 0).all()) is False  # the fix runs
