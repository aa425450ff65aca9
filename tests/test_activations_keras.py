"""Keras 3's activations in the details a user meets: relu's options (Keras' docstring examples),
the piecewise forms at their corners, glu's halving, sparsemax's projection, values and gradients
at +-1e4, and each activation by name in ``Dense`` / ``Activation`` layers (``check_layer``,
summaries, saved configs). The per-name numpy formulas: tests/test_activations.py.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor, activations, gradcheck
from tinygrad_edu.layers import Activation, Dense
from tinygrad_edu.layers.core import activation_label
from tinygrad_edu.models import Sequential
from tinygrad_edu.testing import arrays, check_layer, shapes

#: Keras gives threshold no defaults: a layer takes it with its values bound
THRESHOLD = functools.partial(activations.threshold, threshold=0.5, default_value=-1.0)
ELEMENTWISE = [n for n in activations.names() if n not in ("threshold", "glu")]


# ------------------------------------------------------------------ relu's Keras options
KERAS_RELU_EXAMPLES = [  # keras.activations.relu's docstring, x = [-10, -5, 0, 5, 10]
    ({}, [0, 0, 0, 5, 10]),
    ({"negative_slope": 0.5}, [-5, -2.5, 0, 5, 10]),
    ({"max_value": 5.0}, [0, 0, 0, 5, 5]),
    ({"threshold": 5.0}, [0, 0, 0, 0, 10]),
    ({"max_value": 6.0}, [0, 0, 0, 5, 6]),
]


@pytest.mark.parametrize("kwargs, expected", KERAS_RELU_EXAMPLES)
def test_relu_options_give_keras_docstring_values(kwargs, expected):
    x = Tensor(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]))
    np.testing.assert_allclose(activations.relu(x, **kwargs).data, expected)


def _keras_relu(x, negative_slope, max_value, threshold):
    """Keras' ReLU.static_call in numpy: x above threshold (clipped to [0, max_value]), minus
    negative_slope * relu(threshold - x)."""
    kept = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        kept = np.clip(kept, 0.0, max_value)
    return kept - negative_slope * np.maximum(threshold - x, 0.0)


@given(
    x=arrays(shapes(min_dims=1, max_dims=2), -8.0, 8.0),
    slope=st.sampled_from([0.0, 0.1, 0.5]),
    cap=st.sampled_from([None, 0.0, 2.0, 6.0]),
    theta=st.sampled_from([0.0, -1.0, 1.5]),
)
def test_relu_options_match_keras_formula(x, slope, cap, theta):
    out = activations.relu(Tensor(x), negative_slope=slope, max_value=cap, threshold=theta)
    np.testing.assert_allclose(out.data, _keras_relu(x, slope, cap, theta), rtol=1e-12)


def test_relu_options_gradcheck_away_from_corners():
    x = np.array([[-3.7, -1.2, -0.4, 0.3, 1.1, 2.6, 5.3, 7.9]])
    assert gradcheck(lambda t: activations.relu(t, 0.1, 6.0, 0.5), x)
    assert gradcheck(lambda t: activations.relu(t, negative_slope=0.3), x)


# ------------------------------------------------------------------ the piecewise forms' corners
def test_hard_sigmoid_is_keras_3s_relu6_form():
    x = Tensor(np.array([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0]))
    np.testing.assert_allclose(activations.hard_sigmoid(x).data, [0, 0, 0.25, 0.5, 0.75, 1, 1])
    # Keras 2's 0.2 x + 0.5 would give 0.8 at 1.5: the slope is 1/6 now
    np.testing.assert_allclose(activations.hard_silu(x).data, [0, 0, -0.375, 0, 1.125, 3, 4])
    np.testing.assert_allclose(activations.relu6(Tensor([-1.0, 3.0, 6.0, 9.0])).data, [0, 3, 6, 6])


def test_sparse_plus_and_sparse_sigmoid_corners():
    x = Tensor(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    np.testing.assert_allclose(activations.sparse_plus(x).data, [0, 0, 0.25, 1, 2])
    np.testing.assert_allclose(activations.sparse_sigmoid(x).data, [0, 0, 0.5, 1, 1])
    # sparse_plus' pieces meet with equal slopes: 0 at -1, 1 at 1 (finite differences agree)
    assert gradcheck(activations.sparse_plus, np.array([-1.0, 1.0]), eps=1e-6, atol=1e-6)


def test_threshold_needs_both_values_as_in_keras():
    with pytest.raises(ConfigError) as err:
        activations.get("threshold")(Tensor([1.0]))
    assert "threshold" in err.value.expected
    fix = err.value.fix.split("e.g. ")[-1]  # the example runs as written
    out = eval(fix, {"threshold": activations.threshold, "x": Tensor([0.2, 0.9])})
    np.testing.assert_allclose(out.data, [0.0, 0.9])


# ------------------------------------------------------------------ glu
def test_glu_halves_the_axis():
    x = np.arange(12.0).reshape(2, 6) / 4 - 1
    a, b = x[:, :3], x[:, 3:]
    np.testing.assert_allclose(activations.glu(Tensor(x)).data, a / (1 + np.exp(-b)))
    first = activations.glu(Tensor(x), axis=0).data
    np.testing.assert_allclose(first, x[:1] / (1 + np.exp(-x[1:])))
    assert activations.output_shape(activations.glu, (None, 6)) == (None, 3)


@pytest.mark.parametrize("value", [np.zeros(3), np.zeros((2, 5)), np.float64(1.0)])
def test_glu_refuses_an_odd_axis(value):
    with pytest.raises(ShapeError) as err:
        activations.glu(Tensor(value))
    assert "even" in err.value.expected


# ------------------------------------------------------------------ sparsemax
def test_sparsemax_is_the_simplex_projection_keras_issue_23425():
    # keras-team/keras#23425: Keras' tau summed the cumulative sums and gave [0, 0, 0.25]
    got = activations.sparsemax(Tensor([[0.0, 0.5, 1.0]])).data
    np.testing.assert_allclose(got, [[0.0, 0.25, 0.75]])
    # keras-team/keras#23469's example: Keras' old formula gave all zeros
    got = activations.sparsemax(Tensor(np.array([0.1, 0.2, 0.3, 0.4, 0.5]))).data
    np.testing.assert_allclose(got, [0.0, 0.1, 0.2, 0.3, 0.4], atol=1e-15)


def test_sparsemax_keras_own_cases():
    x = np.linspace(1, 12, num=12)  # keras' activations_test: one-hot on the largest
    np.testing.assert_allclose(activations.sparsemax(Tensor(x)).data, np.eye(12)[-1])
    x2 = x.reshape(-1, 2)
    np.testing.assert_allclose(activations.sparsemax(Tensor(x2), axis=-2).data[-1], [1, 1])
    assert activations.sparsemax(Tensor(np.float64(3.0))).data == 1.0  # 0-d: its own axis


@given(x=arrays(shapes(min_dims=1, max_dims=3), -5.0, 5.0), axis=st.sampled_from([0, -1]))
def test_sparsemax_output_lies_on_the_simplex(x, axis):
    out = activations.sparsemax(Tensor(x), axis=axis).data
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=axis), 1.0, rtol=1e-12)
    # a projection: shifting the input along (1, ..., 1) changes nothing
    shifted = activations.sparsemax(Tensor(x + 3.25), axis=axis).data
    np.testing.assert_allclose(shifted, out, atol=1e-12)


def test_sparsemax_gradient_is_the_support_centering():
    x = Tensor(np.array([0.0, 0.5, 1.0]), requires_grad=True)
    (activations.sparsemax(x) * Tensor(np.array([5.0, 1.0, 3.0]))).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, -1.0, 1.0])  # support {1, 2}: g - mean(g on S)


# ------------------------------------------------------------------ extremes
LOGITS = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, -1e4, 1e4]])


def _value_and_grad(fn, dtype):
    x = Tensor(LOGITS.astype(dtype), requires_grad=True)
    out = fn(x)
    out.backward(np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype))
    return out.data, x.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [n for n in activations.names() if n != "exponential"])
def test_finite_at_plus_minus_1e4(name, dtype):
    value, grad = _value_and_grad(THRESHOLD if name == "threshold" else activations.get(name), dtype)
    assert value.dtype == dtype and np.isfinite(value).all() and np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exponential_overflows_like_keras_exp(dtype):
    with np.errstate(over="ignore"):
        value, _ = _value_and_grad(activations.exponential, dtype)
        np.testing.assert_array_equal(value, np.exp(LOGITS.astype(dtype)))  # inf at 1e4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_forms_keep_their_tails(dtype):
    x = Tensor(np.array([-1e4, -40.0, 40.0, 1e4], dtype=dtype))
    # ln sigmoid: -1e4 at -1e4 (the naive log(1/(1+e^1e4)) is -inf), -e^-40 at 40 (not 0)
    expected = [-1e4, -40.0 - math.exp(-40), -math.exp(-40), 0.0]
    np.testing.assert_allclose(activations.log_sigmoid(x).data, expected, rtol=1e-6)
    lsm = activations.log_softmax(Tensor(LOGITS.astype(dtype))).data
    np.testing.assert_allclose(lsm[0], [0, -2e4, -1e4, -1e4 + 5], rtol=1e-6)


# ------------------------------------------------------------------ in layers
def _layer_activation(name):
    return THRESHOLD if name == "threshold" else name


@pytest.mark.parametrize("name", activations.names())
def test_dense_with_each_activation_keeps_the_layer_contract(name):
    units, out = (8, 4) if name == "glu" else (3, 3)
    report = check_layer(
        Dense(units, activation=_layer_activation(name)),
        (2, 5),
        expected_output_shape=(None, out),
        expected_params=5 * units + units,
    )
    assert report["gradchecked"] == ["input", "kernel", "bias"]


@pytest.mark.parametrize("name", activations.names())
def test_activation_layer_by_name_keeps_the_layer_contract(name):
    out = (None, 3, 2) if name == "glu" else (None, 3, 4)
    report = check_layer(Activation(_layer_activation(name)), (2, 3, 4), expected_output_shape=out)
    assert report["params"] == 0 and report["gradchecked"] == ["input"]


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if n != "linear"] + ["glu"])
def test_summary_and_config_name_the_activation(name):
    layer = Dense(8, activation=name)
    assert activation_label(layer.activation) == activations.serialize(activations.get(name))
    assert activations.get(layer.get_config()["activation"]) is activations.get(name)
    lines = []
    model = Sequential([Dense(8, activation=name, input_shape=(4,)), Activation(name)])
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert text.count(activations.serialize(activations.get(name))) >= 2, text


def test_glu_layer_shapes_follow_the_halving():
    model = Sequential([Dense(8, activation="glu", input_shape=(5,)), Dense(2)])
    assert model.layers[0].output_shape == (None, 4)
    assert model.count_params() == (5 * 8 + 8) + (4 * 2 + 2)
    assert model.predict(np.ones((3, 5)), verbose=0).shape == (3, 2)
    with pytest.raises(ShapeError) as err:
        Dense(7, activation="glu").build_for((None, 5))
    assert "even" in err.value.expected and "Dense(14" in err.value.fix
