"""BatchNormalization: contract over hypothesis configs (training and inference), Keras' real
parameter counts, the moving-statistics update, axis handling, and errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor
from tinygrad_edu.layers import BatchNormalization
from tinygrad_edu.testing.layers import check_layer

EPS = 1e-3


@st.composite
def bn_cases(draw):
    features = draw(st.integers(1, 5))
    batch = draw(st.integers(2, 3))
    spatial = draw(st.lists(st.integers(1, 3), max_size=2))
    channels_first = draw(st.booleans()) and bool(spatial)
    shape = (batch, features, *spatial) if channels_first else (batch, *spatial, features)
    kwargs = {
        "axis": 1 if channels_first else -1,
        "center": draw(st.booleans()),
        "scale": draw(st.booleans()),
        "momentum": draw(st.floats(0, 1)),
    }
    return kwargs, shape, features


@given(bn_cases(), st.booleans())
def test_batchnorm_contract(case, training):
    kwargs, shape, f = case
    layer = BatchNormalization(**kwargs)
    report = check_layer(
        layer,
        shape,
        training=training,
        expected_output_shape=(None, *shape[1:]),
        expected_params=(2 + kwargs["center"] + kwargs["scale"]) * f,
    )
    assert report["trainable_params"] == (kwargs["center"] + kwargs["scale"]) * f


def test_batchnorm_keras_numbers():
    """Keras counts all four vectors: 64 features -> 256 params, 128 of them non-trainable.

    (The issue's "128 of which 64 non-trainable" is not what Keras reports.)
    """
    layer = BatchNormalization()
    layer.build_for((None, 64))
    assert layer.count_params() == 256
    assert sum(w.size for w in layer.non_trainable_weights) == 128
    assert sum(w.size for w in layer.trainable_weights) == 128
    assert layer.weight_names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert layer.trainable_weights == [layer.gamma, layer.beta]
    assert layer.algebra().count_text() == "4*64 = 256 (128 non-trainable)"
    conv = BatchNormalization()
    conv.build_for((None, 26, 26, 32))
    assert conv.count_params() == 128 and conv.gamma.shape == (32,)


def _numpy_bn(x, axes, mean, var, gamma, beta):
    shape = [1] * x.ndim
    feature = [a for a in range(x.ndim) if a not in axes][0]
    shape[feature] = -1
    r = lambda v: np.reshape(v, shape)  # noqa: E731
    return r(gamma) * (x - r(mean)) / np.sqrt(r(var) + EPS) + r(beta)


def test_batchnorm_training_and_moving_update():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 2, 2, 3)) * 3 + 5).astype(np.float32)
    layer = BatchNormalization(momentum=0.9)
    layer.build_for((None, 2, 2, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5], np.float32), np.array([0.0, -1.0, 3.0], np.float32)
    layer.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    out = layer(x, training=True)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # biased variance
    np.testing.assert_allclose(
        out.data, _numpy_bn(x, (0, 1, 2), mean, var, gamma, beta), rtol=1e-4, atol=1e-4
    )
    assert out.dtype == np.float32
    np.testing.assert_allclose(layer.moving_mean.data, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.data, 0.9 + 0.1 * var, rtol=1e-5)
    assert layer.moving_mean.data.dtype == np.float32
    # inference uses the moving statistics and leaves them alone
    moving = [w.copy() for w in layer.get_weights()[2:]]
    inf = layer(x, training=False)
    np.testing.assert_allclose(
        inf.data, _numpy_bn(x, (0, 1, 2), *moving, gamma, beta), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_array_equal(layer.get_weights()[2], moving[0])


def test_batchnorm_channels_first_equals_channels_last():
    x = np.random.default_rng(1).standard_normal((3, 4, 2, 5)).astype(np.float32)  # N, C, H, W
    first, last = BatchNormalization(axis=1), BatchNormalization()
    a = first(x, training=True).data
    b = last(x.transpose(0, 2, 3, 1), training=True).data.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(first.moving_variance.data, last.moving_variance.data, rtol=1e-5)


def test_batchnorm_frozen_runs_in_inference_mode():
    """As in Keras, trainable=False freezes the statistics: no update even with training=True."""
    layer = BatchNormalization(trainable=False)
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32) + 2
    xt = Tensor(x, requires_grad=True)
    out = layer(xt, training=True)
    np.testing.assert_allclose(out.data, x / np.sqrt(1 + EPS), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.data, np.zeros(3))
    out.sum().backward()
    assert layer.parameters() == [] and layer.gamma.grad is None and xt.grad is not None


def test_batchnorm_weights_round_trip_and_config():
    layer = BatchNormalization(momentum=0.5, epsilon=1e-2, center=False, name="bn")
    layer.build_for((None, 3))
    assert layer.weight_names == ["gamma", "moving_mean", "moving_variance"]
    values = [np.full(3, v, np.float32) for v in (2.0, 0.5, 4.0)]
    layer.set_weights(values)
    layer.set_weights(layer.get_weights())
    for a, b in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(a, b)
    config = layer.get_config()
    assert config["momentum"] == 0.5 and config["center"] is False
    assert BatchNormalization(**config).get_config() == config


def test_batchnorm_errors():
    with pytest.raises(ShapeError) as err:
        BatchNormalization(axis=3).build_for((None, 4, 5))
    assert "batch_normalization" in err.value.where and "3" in err.value.expected
    assert "(None, 4, 5)" in err.value.got and "axis=1" in err.value.fix
    with pytest.raises(ShapeError):
        BatchNormalization(axis=0).build_for((None, 4))
    for bad in [dict(axis=[1, 2]), dict(axis=1.0), dict(momentum=1.5), dict(epsilon=0)]:
        with pytest.raises(ConfigError):
            BatchNormalization(**bad)
    layer = BatchNormalization()
    layer(np.ones((2, 4)))
    with pytest.raises(ShapeError) as err:
        layer(np.ones((2, 5)))
    assert "4" in err.value.expected and "5" in err.value.got
