"""Core layers: Dense, Flatten, Reshape, Dropout, Activation, InputLayer/Input.

Each layer: hypothesis configs through ``check_layer`` (shape == compute_output_shape == a closed
form, count_params == a closed form, float64 gradcheck w.r.t. input and weights, config
round-trip), plus Keras' known numbers, error fields, and the fused-vs-composed Dense equality.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor, config, ops
from tinygrad_edu.layers import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Reshape,
)
from tinygrad_edu.testing.layers import check_layer, dense_configs, ops_in_graph


def assert_fields(err, *, where, expected=(), got=(), fix=()):
    """The error names the layer, and its fields carry the given keywords."""
    e = err.value
    assert where in e.where
    for field, words in (("expected", expected), ("got", got), ("fix", fix)):
        text = getattr(e, field) or ""
        for w in words:
            assert str(w) in text, f"{field}={text!r} lacks {w!r}"


# ----------------------------------------------------------------------------------- Dense
@given(dense_configs())
def test_dense_contract(cfg):
    kw, shape = cfg["kwargs"], cfg["input_shape"]
    n, u = shape[-1], kw["units"]
    report = check_layer(
        Dense(**kw),
        shape,
        expected_output_shape=(None, *shape[1:-1], u),
        expected_params=n * u + (u if kw["use_bias"] else 0),
    )
    assert report["gradchecked"] == ["input", "kernel"] + (["bias"] if kw["use_bias"] else [])


@given(dense_configs(), st.integers(0, 2**31 - 1))
def test_dense_fused_equals_composed(cfg, seed):
    """Values and every gradient of ops.Linear == x @ W + b (the reference form)."""
    kw, shape = cfg["kwargs"], cfg["input_shape"]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    fused, plain = Dense(**kw, fused=True), Dense(**kw, fused=False)
    fused.build_for((None, *shape[1:]))
    plain.build_for((None, *shape[1:]))
    plain.set_weights(fused.get_weights())
    r = rng.standard_normal((*shape[:-1], kw["units"])).astype(np.float32)
    results = []
    for layer in (fused, plain):
        xt = Tensor(x, requires_grad=True)
        out = layer(xt)
        (out * Tensor(r)).sum().backward()
        results.append([out.data, xt.grad] + [w.grad for w in layer.weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        assert a.dtype == np.float32


def test_dense_setting_selects_the_op():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    layer = Dense(4)
    assert ops.Linear in ops_in_graph(layer(x))
    with config.fused(False):
        found = ops_in_graph(layer(x))
        assert ops.Linear not in found and {ops.MatMul, ops.Add} <= found
        assert ops.Linear in ops_in_graph(Dense(4, fused=True)(x))  # the argument wins


def test_dense_keras_numbers():
    first, second = Dense(32, activation="relu"), Dense(10, activation="softmax")
    assert first.build_for((None, 784)) == (None, 32) and first.count_params() == 25_120
    assert second.build_for((None, 32)) == (None, 10) and second.count_params() == 330
    assert first.algebra().text() == "[B,784] @ [784,32] + [32] -> [B,32]; relu"
    assert first.algebra().count_text() == "784*32 + 32 = 25,120"
    assert second.algebra().count_text() == "32*10 + 10 = 330"
    no_bias = Dense(32, use_bias=False)
    no_bias.build_for((None, 784))
    assert no_bias.algebra().text() == "[B,784] @ [784,32] -> [B,32]"
    assert no_bias.algebra().count_text() == "784*32 = 25,088"
    assert [w.shape for w in first.weights] == [(784, 32), (32,)]
    assert first.weight_names == ["kernel", "bias"]


def test_dense_on_sequences_maps_every_time_step():
    layer = Dense(6)
    x = np.random.default_rng(0).standard_normal((2, 7, 5)).astype(np.float32)
    out = layer(x)
    assert out.shape == (2, 7, 6) and layer.output_shape == (None, 7, 6)
    assert layer.count_params() == 5 * 6 + 6
    np.testing.assert_allclose(out.data[:, 3], layer(x[:, 3]).data, rtol=1e-6)
    assert layer.algebra().text() == "[B,7,5] @ [5,6] + [6] -> [B,7,6]"


def test_dense_keras_initializers():
    layer = Dense(50)
    layer.build_for((None, 100))
    limit = math.sqrt(6 / (100 + 50))  # glorot_uniform
    k, b = layer.get_weights()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit
    assert not b.any() and k.dtype == np.float32


def test_dense_weights_round_trip_and_trainable():
    layer = Dense(3)
    layer.build_for((None, 4))
    new = [np.arange(12, dtype=np.float32).reshape(4, 3), np.ones(3, np.float32)]
    kernel = layer.kernel
    layer.set_weights(new)
    assert layer.kernel is kernel  # in place: optimizers keep their references
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    layer.set_weights(layer.get_weights())
    np.testing.assert_array_equal(layer.get_weights()[0], new[0])

    frozen = Dense(3, trainable=False)
    x = Tensor(np.ones((2, 4)), requires_grad=True)
    frozen(x).sum().backward()
    assert frozen.parameters() == [] and all(w.grad is None for w in frozen.weights)
    assert x.grad is not None and frozen.count_params() == 15


def test_dense_regularizers():
    layer = Dense(2, kernel_regularizer="l2", activity_regularizer="l1")
    layer(np.ones((3, 4)))
    losses = layer.regularization_losses()
    assert len(losses) == 2 and layer.activity_loss is not None


def test_dense_config_round_trip():
    layer = Dense(7, activation="tanh", use_bias=False, name="head")
    config = layer.get_config()
    assert config["units"] == 7 and config["activation"] == "tanh" and not config["use_bias"]
    clone = Dense(**config)
    assert clone.name == "head" and clone.get_config() == config


@pytest.mark.parametrize("units", [0, -3, 2.5, "32", True, None])
def test_dense_bad_units(units):
    with pytest.raises(ConfigError) as err:
        Dense(units)
    assert_fields(err, where="dense", expected=["positive int"], got=[repr(units)])


def test_dense_bad_names():
    with pytest.raises(ConfigError) as err:
        Dense(3, activation="rleu")
    assert "relu" in err.value.fix
    with pytest.raises(ConfigError):
        Dense(3, kernel_initializer="glorot")
    with pytest.raises(ConfigError) as err:
        Dense(3, unit=4)
    assert "unit" in err.value.got


def test_dense_feature_mismatch():
    layer = Dense(4, input_shape=(5,))
    with pytest.raises(ShapeError) as err:
        layer(np.ones((2, 3)))
    assert_fields(err, where="dense", expected=["5"], got=["3"], fix=["5", "3"])
    layer(np.ones((2, 5)))
    with pytest.raises(ShapeError) as err:  # built now: still named before numpy fails
        layer(np.ones((2, 6)))
    assert_fields(err, where="dense", expected=["5"], got=["6"])


def test_dense_single_sample_without_batch_axis():
    layer = Dense(4)
    layer.build_for((None, 23))
    with pytest.raises(ShapeError) as err:
        layer(np.ones(23))
    assert_fields(err, where="dense", expected=["23"], got=["(23,)"], fix=["reshape(1, -1)"])
    with pytest.raises(ShapeError) as err:  # unbuilt: both readings of a 1-D array
        Dense(4)(np.ones(23))
    assert_fields(err, where="dense", fix=["reshape(1, -1)", "reshape(-1, 1)"])


def test_dense_image_without_flatten():
    layer = Dense(4, input_shape=(784,))
    with pytest.raises(ShapeError) as err:
        layer(np.ones((2, 28, 28)))
    assert_fields(err, where="dense", expected=["784"], got=["28"], fix=["Flatten"])


# ----------------------------------------------------------------------------------- Flatten
@given(
    st.lists(st.integers(1, 4), min_size=0, max_size=3),
    st.integers(1, 3),
    st.sampled_from(["channels_last", "channels_first"]),
)
def test_flatten_contract(dims, batch, data_format):
    size = int(np.prod(dims)) if dims else 1
    check_layer(
        Flatten(data_format=data_format),
        (batch, *dims),
        expected_output_shape=(None, size),
        expected_params=0,
    )


def test_flatten_keras_numbers():
    layer = Flatten()
    assert layer.build_for((None, 62, 62, 32)) == (None, 123_008)
    assert layer.count_params() == 0
    assert layer.algebra().text() == "[B,62,62,32] -> [B,123008]; 62*62*32 = 123,008"
    assert layer.algebra().count_text() == "0"
    assert Flatten()(np.ones(3)).shape == (3, 1)  # (batch,) gains a feature axis


def test_flatten_channels_first_matches_channels_last_order():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)  # N, C, H, W
    first = Flatten(data_format="channels_first")(x).data
    last = Flatten()(x.transpose(0, 2, 3, 1)).data
    np.testing.assert_array_equal(first, last)


def test_flatten_bad_data_format():
    with pytest.raises(ConfigError) as err:
        Flatten(data_format="channel_last")
    assert_fields(err, where="flatten", got=["channel_last"], fix=["channels_last"])


# ----------------------------------------------------------------------------------- Reshape
@st.composite
def reshape_cases(draw):
    factors = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    dims = tuple(draw(st.permutations(factors)))
    target = list(draw(st.permutations(factors)))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return dims, tuple(target), tuple(draw(st.permutations(factors)))


@given(reshape_cases(), st.integers(1, 3))
def test_reshape_contract(case, batch):
    dims, target, _ = case
    resolved = tuple(
        int(np.prod(dims)) // int(np.prod([d for d in target if d != -1])) if d == -1 else d
        for d in target
    )
    check_layer(
        Reshape(target), (batch, *dims), expected_output_shape=(None, *resolved), expected_params=0
    )


def test_reshape_values_keep_their_order():
    x = np.arange(24, dtype=np.float32).reshape(2, 12)
    np.testing.assert_array_equal(Reshape((3, -1))(x).data, x.reshape(2, 3, 4))
    assert Reshape((-1, 1)).build_for((None, 7)) == (None, 7, 1)


def test_reshape_errors():
    with pytest.raises(ShapeError) as err:
        Reshape((5, 3)).build_for((None, 12))
    assert_fields(err, where="reshape", expected=["15"], got=["12"], fix=["12"])
    with pytest.raises(ShapeError) as err:
        Reshape((5, -1))(np.ones((2, 12)))
    assert_fields(err, where="reshape", expected=["multiple of 5"], got=["12"])
    for bad in [(-1, -1), (0, 3), (), "abc", (2.5, "x")]:
        with pytest.raises(ConfigError):
            Reshape(bad)


# ----------------------------------------------------------------------------------- Dropout
@given(
    st.floats(0, 0.9),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(1, 3),
    st.booleans(),
)
def test_dropout_contract(rate, dims, batch, training):
    check_layer(
        Dropout(rate, seed=3),
        (batch, *dims),
        training=training,
        expected_output_shape=(None, *dims),
        expected_params=0,
    )


def test_dropout_semantics():
    x = np.ones((50, 40), np.float32)
    layer = Dropout(0.25, seed=0)
    np.testing.assert_array_equal(Dropout(0.25)(x).data, x)  # inference is the default
    np.testing.assert_array_equal(layer(x, training=False).data, x)
    out = layer(x, training=True).data
    assert out.dtype == np.float32
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.05 and abs(out.mean() - 1) < 0.1
    again = layer(x, training=True).data
    assert not np.array_equal(out, again)  # a fresh mask every call
    np.testing.assert_array_equal(Dropout(0.25, seed=0)(x, training=True).data, out)
    assert layer.algebra().text() == "x * mask/0.75 (training) | x (inference)"
    assert layer.algebra().count_text() == "0"


def test_dropout_gradient_is_the_mask():
    xt = Tensor(np.full((4, 6), 2.0, np.float32), requires_grad=True)
    out = Dropout(0.5, seed=1)(xt, training=True)
    out.sum().backward()
    np.testing.assert_array_equal(xt.grad, out.data / 2)


def test_dropout_noise_shape_shares_the_mask():
    out = Dropout(0.5, noise_shape=(None, 1, 5), seed=2)(np.ones((3, 4, 5)), training=True).data
    assert (out == out[:, :1, :]).all()
    with pytest.raises(ShapeError) as err:
        Dropout(0.5, noise_shape=(None, 2))(np.ones((3, 4)), training=True)
    assert_fields(err, where="dropout", got=["(None, 2)"])


@pytest.mark.parametrize("rate", [-0.1, 1, 1.5, "0.5", None, True])
def test_dropout_bad_rate(rate):
    with pytest.raises(ConfigError) as err:
        Dropout(rate)
    assert_fields(err, where="dropout", expected=["[0, 1)"], got=[repr(rate)])


# ----------------------------------------------------------------------------------- Activation
@given(
    st.sampled_from(["relu", "tanh", "sigmoid", "softmax", "linear", "swish"]),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(1, 3),
)
def test_activation_contract(name, dims, batch):
    check_layer(
        Activation(name), (batch, *dims), expected_output_shape=(None, *dims), expected_params=0
    )


def test_activation_values_and_errors():
    x = np.array([[-1.0, 0.5, 2.0]], np.float32)
    np.testing.assert_allclose(Activation("tanh")(x).data, np.tanh(x), rtol=1e-6)
    layer = Activation("softmax")
    layer(x)
    assert layer.algebra().text() == "[B,3] -> [B,3]; softmax"
    assert layer.algebra().count_text() == "0"
    with pytest.raises(ConfigError) as err:
        Activation("sigmoidd")
    assert "sigmoid" in err.value.fix


# ----------------------------------------------------------------------------------- Input
def test_input_declares_the_shape():
    inp = Input(shape=(784,))
    assert isinstance(inp, InputLayer) and inp.is_input
    assert inp._declared_input_shape == (None, 784) and inp.name == "input_layer"
    assert inp.count_params() == 0 and inp.output_shape == (None, 784)
    x = Tensor(np.ones((2, 784)))
    assert inp(x) is x
    assert InputLayer(batch_shape=(8, 28, 28)).shape == (8, 28, 28)
    assert InputLayer(input_shape=(3,))._declared_input_shape == (None, 3)  # Keras 2 spelling
    clone = InputLayer.from_config(Input(shape=(5, 2), name="pixels").get_config())
    assert clone._declared_input_shape == (None, 5, 2) and clone.name == "pixels"


def test_input_errors():
    with pytest.raises(ConfigError):
        InputLayer()
    with pytest.raises(ShapeError) as err:
        Input(shape=(4,))(np.ones(4))
    assert_fields(err, where="input_layer", got=["(4,)"], fix=["batch axis"])
    with pytest.raises(ShapeError) as err:
        Input(shape=(4,))(np.ones((2, 5)))
    assert_fields(err, where="input_layer", expected=["4"], got=["5"])
