"""``check_layer`` passes on correct layers, fails (with a clear message) on each kind of broken
layer, and leaves the layer as it found it; the config strategies draw valid configurations."""

import numpy as np
import pytest
from hypothesis import given

from tinygrad_edu import GradcheckError, Tensor, tensor_from_op
from tinygrad_edu.function import Function
from tinygrad_edu.layers import BatchNormalization, Dense, Dropout, Layer
from tinygrad_edu.testing.layers import (
    check_layer,
    conv2d_configs,
    dense_configs,
    pooling_configs,
    rnn_configs,
)


class BadSquare(Function):
    """out = a^2 with a wrong backward: it returns g * a instead of g * 2a."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, grad):
        return grad * self.a


class BadScale(Function):
    """out = a * w (w of shape (n,)); the gradient w.r.t. w forgets to multiply by a."""

    def forward(self, a, w):
        self.a, self.w = a, w
        return a * w

    def backward(self, grad):
        return grad * self.w, grad


class Squarer(Layer):
    def call(self, x, training=False):
        return tensor_from_op(BadSquare, x)


class Scale(Layer):
    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, x, training=False):
        return tensor_from_op(BadScale, x, self.w)


class WrongShape(Layer):
    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape, 1)


class ForgetfulDense(Dense):
    def get_config(self):
        config = super().get_config()
        config["units"] = 1  # a constructor argument lost in the config
        return config


def test_passes_on_dense():
    report = check_layer(
        Dense(4, activation="tanh"), (3, 5), expected_output_shape=(None, 4), expected_params=24
    )
    assert report == {
        "output_shape": (None, 4),
        "params": 24,
        "trainable_params": 24,
        "gradchecked": ["input", "kernel", "bias"],
    }


def test_fails_on_a_wrong_input_gradient():
    with pytest.raises(GradcheckError) as err:
        check_layer(Squarer(), (2, 3))
    assert err.value.tensor_name == "input" and "squarer" in err.value.where
    assert err.value.analytic == pytest.approx(0.5 * err.value.numeric, rel=1e-4)


def test_fails_on_a_wrong_weight_gradient():
    with pytest.raises(GradcheckError) as err:
        check_layer(Scale(), (2, 3))
    assert err.value.tensor_name == "w" and "'w'" in err.value.where


def test_fails_on_a_wrong_output_shape():
    with pytest.raises(AssertionError, match="compute_output_shape"):
        check_layer(WrongShape(), (2, 3))


def test_fails_on_wrong_expectations():
    with pytest.raises(AssertionError, match="count_params"):
        check_layer(Dense(2), (1, 3), expected_params=9)
    with pytest.raises(AssertionError, match="expected"):
        check_layer(Dense(2), (1, 3), expected_output_shape=(None, 3))


def test_fails_on_a_lossy_config():
    with pytest.raises(AssertionError, match="get_config"):
        check_layer(ForgetfulDense(3), (2, 4))


def test_leaves_the_layer_as_it_found_it():
    layer = Dense(3)
    layer.build_for((None, 4))
    before = layer.get_weights()
    check_layer(layer, (2, 4))
    for w, b in zip(layer.weights, before):
        np.testing.assert_array_equal(w.data, b)
        assert w.data.dtype == np.float32 and w.is_leaf and w.requires_grad and w.grad is None
    x = Tensor(np.ones((2, 4), np.float32), requires_grad=True)
    layer(x).sum().backward()  # the weights still train normally
    assert layer.kernel.grad.shape == (4, 3)


def test_restores_batchnorm_moving_statistics():
    layer = BatchNormalization()
    check_layer(layer, (3, 2), training=True)
    np.testing.assert_array_equal(layer.moving_mean.data, np.zeros(2))
    np.testing.assert_array_equal(layer.moving_variance.data, np.ones(2))


def test_random_layers_see_the_same_randomness_in_every_evaluation():
    layer = Dropout(0.5, seed=0)
    mask_before = layer(np.ones((1, 8)), training=True).data
    layer = Dropout(0.5, seed=0)
    check_layer(layer, (3, 4), training=True)
    np.testing.assert_array_equal(layer(np.ones((1, 8)), training=True).data, mask_before)


@given(dense_configs())
def test_dense_configs_are_valid(cfg):
    shape = cfg["input_shape"]
    assert 2 <= len(shape) <= 3 and all(1 <= d <= 5 for d in shape)
    assert Dense(**cfg["kwargs"]).build_for((None, *shape[1:]))[-1] == cfg["kwargs"]["units"]


def _window_fits(cfg, key):
    kw, shape = cfg["kwargs"], cfg["input_shape"]
    window = kw[key] if isinstance(kw[key], tuple) else (kw[key], kw[key])
    spatial = shape[2:] if kw["data_format"] == "channels_first" else shape[1:3]
    assert len(shape) == 4 and kw["padding"] in ("valid", "same")
    assert kw["data_format"] in ("channels_last", "channels_first")
    assert all(s >= k >= 1 for s, k in zip(spatial, window)) and max(spatial) <= 7
    return kw


@given(conv2d_configs())
def test_conv2d_configs_are_valid(cfg):
    kw = _window_fits(cfg, "kernel_size")
    assert kw["filters"] >= 1


@given(pooling_configs())
def test_pooling_configs_are_valid(cfg):
    kw = _window_fits(cfg, "pool_size")
    assert kw["strides"] is None or kw["strides"] >= 1


@given(rnn_configs())
def test_rnn_configs_are_valid(cfg):
    kw, (b, t, f) = cfg["kwargs"], cfg["input_shape"]
    assert 1 <= kw["units"] <= 6 and 1 <= b <= 3 and 1 <= t <= 4 and 1 <= f <= 5
    assert set(kw) == {"units", "return_sequences", "go_backwards"}
