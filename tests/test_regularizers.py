"""Weight penalties (Keras: ``l1 * sum|w| + l2 * sum w^2``) against numpy, their gradients, ``get``,
and the penalty inside a compiled model's loss.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, DataError, Tensor, gradcheck, regularizers
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.testing import arrays, away_from_kinks, shapes

factors = st.sampled_from([0.0, 1e-4, 0.01, 0.5, 2.0])


def penalty(w, l1=0.0, l2=0.0):
    return l1 * np.abs(w).sum() + l2 * (w**2).sum()


# ------------------------------------------------------------------------ values
@given(w=arrays(shapes(max_dims=4)), l1=factors, l2=factors)
def test_l1_l2_penalty_matches_numpy(w, l1, l2):
    out = regularizers.L1L2(l1=l1, l2=l2)(Tensor(w))
    assert out.shape == ()
    np.testing.assert_allclose(out.data, penalty(w, l1, l2), rtol=1e-12, atol=1e-15)


@given(w=arrays(shapes(max_dims=4)), factor=factors)
def test_l1_and_l2_match_numpy(w, factor):
    np.testing.assert_allclose(
        regularizers.L1(factor)(Tensor(w)).data, penalty(w, l1=factor), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        regularizers.L2(factor)(Tensor(w)).data, penalty(w, l2=factor), rtol=1e-12, atol=1e-15
    )


def test_keras_default_factors():
    w = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]))
    assert regularizers.L1().l1 == 0.01 and regularizers.L1().l2 == 0.0
    assert regularizers.L2().l2 == 0.01 and regularizers.L2().l1 == 0.0
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    np.testing.assert_allclose(regularizers.L1()(w).data, 0.01 * 6.5)
    np.testing.assert_allclose(regularizers.L2()(w).data, 0.01 * 14.25)
    np.testing.assert_allclose(regularizers.L1L2()(w).data, 0.0)


def test_lowercase_names_are_the_classes():
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    w = Tensor(np.array([1.0, -3.0]))
    np.testing.assert_allclose(regularizers.l1_l2(l1=0.1, l2=0.2)(w).data, 0.1 * 4 + 0.2 * 10)
    assert regularizers.l2(1e-4).get_config() == {"l1": 0.0, "l2": 1e-4}


def test_float32_weights_give_a_float32_penalty():
    w = Tensor(np.array([1.0, -2.0], dtype=np.float32))
    for reg in (
        regularizers.L1(),
        regularizers.L2(),
        regularizers.L1L2(0.1, 0.1),
        regularizers.L1L2(),
    ):
        assert reg(w).dtype == np.float32


# ------------------------------------------------------------------------ gradients
@given(w=away_from_kinks(shapes(max_dims=3), kinks=(0.0,), margin=0.05), l1=factors, l2=factors)
def test_gradcheck_penalties(w, l1, l2):
    assert gradcheck(regularizers.L1L2(l1=l1, l2=l2), w)
    assert gradcheck(regularizers.L1(l1 or 0.01), w)
    assert gradcheck(regularizers.L2(l2 or 0.01), w)


def test_gradient_formula():
    w = Tensor(np.array([[1.0, -2.0], [0.5, -0.25]]), requires_grad=True)
    regularizers.L1L2(l1=0.1, l2=0.3)(w).backward()
    np.testing.assert_allclose(w.grad, 0.1 * np.sign(w.data) + 2 * 0.3 * w.data)


def test_zero_factors_give_a_zero_gradient():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    regularizers.L1L2()(w).backward()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])


# ------------------------------------------------------------------------ get and errors
@pytest.mark.parametrize(
    "name, cls, l1, l2",
    [
        ("l1", regularizers.L1, 0.01, 0.0),
        ("l2", regularizers.L2, 0.0, 0.01),
        ("l1_l2", regularizers.L1L2, 0.01, 0.01),  # not L1L2()'s zeros: a penalty of 0
        ("L2", regularizers.L2, 0.0, 0.01),
    ],
)
def test_get_by_name(name, cls, l1, l2):
    reg = regularizers.get(name)
    assert type(reg) is cls and (reg.l1, reg.l2) == (l1, l2)


def test_get_none_and_callables():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg

    def my_penalty(w):
        return (w * w * w * w).sum()

    assert regularizers.get(my_penalty) is my_penalty


def test_get_unknown_name_suggests_the_closest():
    with pytest.raises(ConfigError) as info:
        regularizers.get("l3")
    assert "l3" in info.value.got and "l1" in info.value.fix and "l2" in info.value.fix


@pytest.mark.parametrize("bad", [3, 0.01])
def test_get_non_callable_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        regularizers.get(bad)


@pytest.mark.parametrize(
    "make",
    [
        lambda: regularizers.L1(-0.01),
        lambda: regularizers.L2(-1.0),
        lambda: regularizers.L1L2(l1=-0.1),
        lambda: regularizers.L1L2(l2=-0.1),
        lambda: regularizers.Regularizer(l1=0.1, l2=-1e-6),
    ],
)
def test_negative_factor_is_a_config_error(make):
    with pytest.raises(ConfigError) as info:
        make()
    assert "-" in info.value.got


# ------------------------------------------------------------------------ inside a model
def _regularized_model():
    model = Sequential([Dense(4, kernel_regularizer="l2", input_shape=(3,))])
    model.compile("sgd", "mse")
    return model


def test_evaluate_adds_the_l2_penalty_to_the_mse():
    rng = np.random.default_rng(0)
    model = _regularized_model()
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = rng.normal(size=(10, 4)).astype(np.float32)
    kernel, bias = model.get_weights()
    assert kernel.shape == (3, 4)
    plain = np.mean((x @ kernel + bias - y) ** 2, dtype=np.float64)
    want = plain + 0.01 * np.sum(kernel.astype(np.float64) ** 2)
    got = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert got > plain  # the penalty really is there (a Glorot kernel is never all zeros)
    # only the kernel is penalized: a bias change moves the loss by the MSE alone
    model.set_weights([kernel, bias + 1.0])
    plain_shifted = np.mean((x @ kernel + bias + 1.0 - y) ** 2, dtype=np.float64)
    np.testing.assert_allclose(
        model.evaluate(x, y, verbose=0),
        plain_shifted + 0.01 * np.sum(kernel.astype(np.float64) ** 2),
        rtol=1e-5,
    )


def test_training_step_descends_the_penalized_loss():
    model = _regularized_model()
    kernel = np.array(
        [[1.0, -2.0, 0.5, 0.0], [0.0, 1.0, 1.0, -1.0], [2.0, 0.0, -0.5, 1.0]], np.float32
    )
    model.set_weights([kernel, np.zeros(4, np.float32)])
    x = np.zeros((4, 3), np.float32)  # no data gradient: only the penalty moves the kernel
    y = np.zeros((4, 4), np.float32)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"][0], 0.01 * np.sum(kernel**2), rtol=1e-6)
    lr = model.optimizer.learning_rate
    np.testing.assert_allclose(model.get_weights()[0], kernel * (1 - lr * 2 * 0.01), rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: regularizers.L2(float("nan")),
        lambda: regularizers.L1(float("inf")),
        lambda: regularizers.L1L2(l1=0.1, l2=float("nan")),
    ],
)
def test_non_finite_factor_is_a_config_error(make):
    with pytest.raises(ConfigError):
        make()


# ----------------------------------------------------------------- issue 11: arguments are checked
@pytest.mark.parametrize("factor", ["0.01", None, True, float("nan"), float("inf"), -1e-4, [0.1]])
@pytest.mark.parametrize("make", [lambda f: regularizers.L1(f), lambda f: regularizers.L2(f)])
def test_factors_are_finite_non_negative_numbers(make, factor):
    with pytest.raises(ConfigError) as err:
        make(factor)
    assert repr(factor) in err.value.got
    assert "regularizers.L1L2(" in err.value.fix


def test_penalties_take_arrays_and_refuse_what_is_not_numbers():
    assert float(regularizers.L2(0.5)([1.0, 2.0]).data) == pytest.approx(2.5)
    with pytest.raises(DataError):
        regularizers.L1(0.1)(["a"])
    with pytest.raises(ConfigError):
        regularizers.get(0.01)  # a factor is not a regularizer: use L2(0.01)


def test_the_name_l1_l2_on_a_layer_penalizes_with_both_default_factors():
    """kernel_regularizer="l1_l2" was L1L2()'s zeros: a penalty of exactly 0, silently."""
    from tinygrad_edu.layers import Dense

    layer = Dense(3, kernel_regularizer="l1_l2", dtype="float64")
    layer.build((None, 4))
    (penalty,) = layer.regularization_losses()
    w = layer.kernel.numpy()
    np.testing.assert_allclose(penalty.numpy(), 0.01 * np.abs(w).sum() + 0.01 * (w * w).sum())
    assert layer.get_config()["kernel_regularizer"] == "l1_l2"
