"""``tinygrad_edu.gradcheck``: passes correct gradients, catches wrong ones and says where."""

import doctest
import sys
import warnings

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import ConfigError, GradcheckError, Tensor, gradcheck, no_grad, tensor_from_op
from tinygrad_edu.function import Function
from tinygrad_edu.gradcheck import GradcheckPrecisionWarning

RNG = np.random.default_rng(0)


class Sin(Function):
    """A correct op defined outside the library."""

    def forward(self, a):
        self.a = a
        return np.sin(a)

    def backward(self, grad):
        return grad * np.cos(self.a)


class BadSin(Sin):
    """The classic slip: d/da sin(a) written as +sin(a) instead of cos(a)."""

    def backward(self, grad):
        return grad * np.sin(self.a)


class FlippedSin(Sin):
    def backward(self, grad):
        return -grad * np.cos(self.a)


class DoubledSin(Sin):
    def backward(self, grad):
        return 2 * grad * np.cos(self.a)


def sin(t):
    return tensor_from_op(Sin, t)


def test_passes_on_correct_functions_of_several_inputs():
    x, w, b = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=2)
    assert gradcheck(lambda x, w, b: (x @ w + b).tanh().log_softmax(axis=0), x, w, b) is True
    assert gradcheck(lambda x: sin(x) * x, x)
    assert gradcheck(lambda x: x.sum(), RNG.normal(size=5))  # a 0-d output
    assert gradcheck(lambda x: x, RNG.normal(size=(2, 2)))  # the output is the input


def test_tensors_with_requires_grad_are_checked_and_cast_to_float64():
    x = Tensor(RNG.normal(size=3), requires_grad=True)
    seen = []
    gradcheck(lambda t: seen.append(t.dtype) or t.exp(), x)
    assert set(seen) == {np.dtype(np.float64)}


def test_wrong_backward_raises_with_input_and_element():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: tensor_from_op(BadSin, t), x)
    err = info.value
    assert isinstance(err, AssertionError)
    assert err.input_index == 0
    assert len(err.element_index) == 2
    i, j = err.element_index
    assert err.numeric == pytest.approx(err.analytic / np.sin(x[i, j]) * np.cos(x[i, j]), rel=1e-4)
    assert err.tolerance == pytest.approx(1e-8 + 1e-6 * abs(err.numeric))  # the defaults
    assert err.mismatches == 4
    assert f"input 0, element {err.element_index}" in err.where
    assert "numeric" in err.expected and "analytic" in err.got
    assert str(err).startswith("GradcheckError in gradcheck: input 0")


def test_reports_the_failing_input_index():
    x, y = RNG.normal(size=3), RNG.normal(size=(2, 3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x * tensor_from_op(BadSin, y), x, y)
    assert info.value.input_index == 1


def test_fix_hints_for_sign_and_factor():
    x = RNG.uniform(0.2, 1.0, size=4)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: tensor_from_op(FlippedSin, t), x)
    assert "sign" in info.value.fix
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: tensor_from_op(DoubledSin, t), x)
    assert "factor" in info.value.fix


class TransposedGradScale(Function):
    """out = 3 a, but backward hands back the *transposed* gradient: 3 g^T. For a square input
    and a symmetric upstream gradient (all ones, from out.sum()) that is still right."""

    def forward(self, a):
        return 3 * a

    def backward(self, grad):
        return 3 * grad.T


class SlightlyOffSin(Sin):
    """d/da sin(a) = cos(a), off by a factor of 1 + 1e-4 (say, a rounded constant)."""

    def backward(self, grad):
        return grad * np.cos(self.a) * (1 + 1e-4)


def test_random_upstream_gradient_catches_a_transposed_gradient():
    x = RNG.normal(size=(3, 3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: tensor_from_op(TransposedGradScale, t), x)
    assert info.value.mismatches == 6  # every element off the diagonal
    i, j = info.value.element_index
    assert i != j

    # why the random upstream gradient is needed: with L = out.sum() (all-ones upstream
    # gradient) the transposed gradient is exactly the right one, and nothing would fail
    t = Tensor(x, requires_grad=True)
    tensor_from_op(TransposedGradScale, t).sum().backward()
    np.testing.assert_array_equal(t.grad, np.full((3, 3), 3.0))


def test_tight_default_tolerance_catches_a_backward_off_by_1e_minus_4():
    x = RNG.uniform(-1.0, 1.0, size=(4, 3))
    assert gradcheck(sin, x)  # the correct backward passes on the same inputs
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: tensor_from_op(SlightlyOffSin, t), x)
    err = info.value
    assert err.mismatches == x.size
    assert err.analytic / err.numeric == pytest.approx(1 + 1e-4, rel=1e-7)
    assert "relative" in err.fix
    # the old defaults (atol=1e-5, rtol=1e-3) let it through
    assert gradcheck(lambda t: tensor_from_op(SlightlyOffSin, t), x, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize(
    "fn, x",
    [
        (lambda t: t.exp(), np.linspace(-3.0, 3.0, 7)),
        (lambda t: t**-1.5, np.linspace(0.2, 3.0, 7)),
        (lambda t: t.log(), np.linspace(0.2, 3.0, 7)),
        (lambda t: (t @ t.T).tanh().sum(axis=0), RNG.normal(size=(3, 4)) * 2),
    ],
    ids=["exp", "pow-1.5", "log", "matmul-tanh"],
)
def test_numeric_side_is_good_far_below_the_default_tolerance(fn, x):
    """Richardson's differences are good to ~1e-10: 100x headroom under rtol=1e-6, atol=1e-8,
    so the tight default does not make gradcheck flaky (x**-1.5 at 0.2 has a third derivative
    of ~2e4, which a plain central difference with the same step would get wrong by ~3e-5)."""
    assert gradcheck(fn, x, rtol=1e-8, atol=1e-10)


def test_outputs_an_element_does_not_move_cancel_exactly():
    """Outputs are differenced before weighting: an inf that x does not touch gives 0, not
    inf - inf = nan, and large unmoved outputs add no rounding."""
    const = Tensor(np.array([np.inf, 1e300, -3.0]))
    assert gradcheck(lambda t: tge.concatenate([t * 2, const]), RNG.normal(size=3))


def test_a_kink_closer_than_eps_is_differenced_again_with_a_smaller_step():
    """relu's kink 5e-5 from an input: the step 1e-4 straddles it (D(h) and D(h/2) disagree),
    so that element is differenced again with 1e-6, and the gradient checks out."""
    calls = []

    def fn(t):
        calls.append(1)
        return t.relu()

    assert gradcheck(fn, np.array([5e-5, -3e-5, 1.0]))
    assert len(calls) == 1 + 4 * 3 + 4 * 2  # the two elements near the kink, twice


def test_kink_is_reported():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.relu(), np.array([-1.0, 0.0, 2.0]))
    assert info.value.element_index == (1,)
    assert info.value.analytic == 0.0 and info.value.numeric != 0.0  # numeric: half a slope
    assert "kink" in info.value.fix


def test_constant_tensor_is_not_checked():
    x, c = RNG.normal(size=3), Tensor(RNG.normal(size=3))  # requires_grad=False: a constant
    assert gradcheck(lambda x, c: x * tensor_from_op(BadSin, c), x, c)
    with pytest.raises(GradcheckError):
        gradcheck(lambda x, c: x * tensor_from_op(BadSin, c), x, Tensor(c.data, requires_grad=True))


def test_integer_arrays_pass_through_as_indices():
    x = RNG.normal(size=4)
    idx = np.array([0, 0, 3, 1])  # repeated index: the gradient accumulates
    assert gradcheck(lambda x, i: x[i] * x[i], x, idx)


def test_lists_and_python_numbers_are_checked():
    assert gradcheck(lambda x, y: x * y, [1, 2, 3], 2.5)
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: tensor_from_op(BadSin, x), [1, 2])


def test_only_constants_is_a_config_error():
    with pytest.raises(ConfigError):
        gradcheck(lambda c: c * 2, Tensor(np.ones(2)))
    with pytest.raises(ConfigError):
        gradcheck(lambda: Tensor(1.0))


def test_output_not_depending_on_an_input_counts_as_zero_gradient():
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    assert gradcheck(lambda x, y: y * 2, x, y)


def test_leaving_the_graph_is_reported():
    def leaky(x):
        return Tensor(np.asarray(x.data) * 2) + 0 * x  # the first term escapes the graph

    with pytest.raises(GradcheckError) as info:
        gradcheck(leaky, RNG.normal(size=3))
    assert info.value.analytic == 0.0

    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: Tensor(x.data * 2), RNG.normal(size=3))
    assert "graph" in info.value.fix


@pytest.mark.parametrize("result", [np.ones(3), 1.0, [1.0], None])
def test_fn_returning_a_non_tensor_is_a_clear_error(result):
    with pytest.raises(ConfigError) as info:
        gradcheck(lambda x: result, RNG.normal(size=3))
    assert "Tensor" in info.value.expected
    assert type(result).__name__ in info.value.got
    assert ".numpy()" in info.value.fix


def test_float32_input_warns_but_checks():
    x = Tensor(np.array([0.5, 1.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(GradcheckPrecisionWarning, match="float32"):
        assert gradcheck(lambda t: t.exp(), x)
    with pytest.warns(UserWarning):
        gradcheck(lambda t: t.exp(), np.ones(2, dtype=np.float32))


def test_float64_input_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda t: t.exp(), np.ones(2))


def test_float32_constant_inside_fn_warns():
    w = Tensor(np.ones(3, dtype=np.float32))  # float32 constant captured by fn

    def fn(x):
        return (w * 1.0).reshape(3) + x.sum() * 0  # float32 + float64 -> float64: no warning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck(fn, np.ones(2))

    class ToFloat32(Function):
        def forward(self, a):
            return a.astype(np.float32)

        def backward(self, grad):
            return grad

    with pytest.warns(GradcheckPrecisionWarning, match="fn returned float32"):
        try:
            gradcheck(lambda x: tensor_from_op(ToFloat32, x), np.ones(2))
        except GradcheckError:
            pass  # float32 rounding spoils the differences: exactly what the warning says


def test_samples_elements_above_max_elements():
    calls = []

    def fn(x):
        calls.append(1)
        return x * x

    # one call for the analytic side, then 4 per element checked (+-h and +-h/2, Richardson)
    assert gradcheck(fn, RNG.normal(size=(10, 100)), max_elements=30)
    assert len(calls) == 1 + 4 * 30
    calls.clear()
    gradcheck(fn, RNG.normal(size=7), max_elements=30)
    assert len(calls) == 1 + 4 * 7


def test_sampling_is_seeded_and_still_catches_bugs():
    x = RNG.uniform(0.1, 1.0, size=500)
    with pytest.raises(GradcheckError) as first:
        gradcheck(lambda t: tensor_from_op(BadSin, t), x, max_elements=20, seed=3)
    with pytest.raises(GradcheckError) as second:
        gradcheck(lambda t: tensor_from_op(BadSin, t), x, max_elements=20, seed=3)
    assert first.value.element_index == second.value.element_index
    assert first.value.mismatches == 20


def test_caller_data_is_not_modified():
    x = RNG.normal(size=(2, 3))
    t = Tensor(RNG.normal(size=3), requires_grad=True)
    x0, t0 = x.copy(), t.data.copy()
    gradcheck(lambda a, b: a * b, x, t)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t.data, t0)
    assert t.grad is None


def test_nan_gradient_fails():
    class NanGrad(Sin):
        def backward(self, grad):
            return grad * np.nan

    with pytest.raises(GradcheckError):
        gradcheck(lambda t: tensor_from_op(NanGrad, t), np.ones(2))


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError):
        gradcheck(lambda t: t, np.ones(2), eps=0)
    with pytest.raises(ConfigError):
        gradcheck(lambda t: t, np.ones(2), max_elements=0)
    with pytest.raises(ConfigError):
        gradcheck(lambda t: t, np.array(["a"]))
    with no_grad(), pytest.raises(ConfigError):
        gradcheck(lambda t: t, np.ones(2))


def test_exported_at_top_level():
    assert tge.gradcheck is gradcheck


def test_docstring_examples():
    module = sys.modules["tinygrad_edu.gradcheck"]  # the attribute is the function (shadowed)
    result = doctest.testmod(module)
    assert result.attempted >= 3 and result.failed == 0


# ---------------------------------------------------------------- gradcheck_tensors
def test_gradcheck_tensors_checks_existing_weights_and_restores_them():
    from tinygrad_edu import gradcheck_tensors

    rng = np.random.default_rng(3)
    w = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = Tensor(rng.normal(size=(2,)), requires_grad=True)
    x = Tensor(rng.normal(size=(4, 3)))
    before_w, before_b = w.numpy().copy(), b.numpy().copy()
    w.grad = np.full((3, 2), 7.0)
    assert gradcheck_tensors(lambda: (x @ w + b).tanh(), [w, b])
    np.testing.assert_array_equal(w.numpy(), before_w)
    np.testing.assert_array_equal(b.numpy(), before_b)
    np.testing.assert_array_equal(w.grad, np.full((3, 2), 7.0))
    assert b.grad is None


def test_gradcheck_tensors_catches_a_wrong_backward_of_a_user_op():
    from tinygrad_edu import GradcheckError, gradcheck_tensors, tensor_from_op
    from tinygrad_edu.function import Function

    class AlmostSquare(Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, grad):
            return grad * 2 * self.a * (1 + 1e-4)

    w = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck_tensors(lambda: tensor_from_op(AlmostSquare, w), [w])
    assert info.value.input_index == 0
    np.testing.assert_array_equal(w.numpy(), [0.5, -1.5, 2.0])


@pytest.mark.parametrize(
    "tensors",
    [[], [Tensor(np.ones(2, np.float32), requires_grad=True)], [Tensor(np.ones(2))], "w"],
    ids=["empty", "float32", "no-grad", "string"],
)
def test_gradcheck_tensors_refuses_what_it_cannot_check(tensors):
    from tinygrad_edu import gradcheck_tensors
    from tinygrad_edu.errors import ConfigError

    with pytest.raises(ConfigError):
        gradcheck_tensors(lambda: Tensor(np.ones(2)), tensors)
