"""Conv2D: the layer contract over hypothesis configs (strides, dilation, padding, data formats,
more filters than input channels), Keras' numbers, TF's "same" padding, and teaching errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor
from tinygrad_edu.layers import Conv2D
from tinygrad_edu.testing.layers import check_layer


def out_len(n, k, s, d, padding):
    """Keras' output length: ceil(n / s) for "same", else floor((n - d(k-1) - 1) / s) + 1."""
    return math.ceil(n / s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1


@st.composite
def conv_configs(draw, max_spatial=6):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    strides, dilation = (1, 1), (1, 1)
    if draw(st.booleans()):
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    else:
        strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    low = [d * (k - 1) + 1 if padding == "valid" else 1 for k, d in zip((kh, kw), dilation)]
    h, w = (draw(st.integers(lo, max(lo, max_spatial))) for lo in low)
    b, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kwargs = dict(
        filters=draw(st.integers(1, 6)),  # often more filters than input channels
        kernel_size=draw(st.sampled_from([(kh, kw), kh])) if kh == kw else (kh, kw),
        strides=strides if strides[0] != strides[1] else strides[0],
        dilation_rate=dilation,
        padding=padding,
        data_format=fmt,
        activation=draw(st.sampled_from([None, "tanh", "sigmoid"])),
        use_bias=draw(st.booleans()),
        fused=draw(st.booleans()),
    )
    shape = (b, c, h, w) if fmt == "channels_first" else (b, h, w, c)
    return kwargs, shape, (kh, kw), strides, dilation


@given(conv_configs())
def test_conv2d_contract(cfg):
    kwargs, shape, (kh, kw), (sh, sw), (dh, dw) = cfg
    first = kwargs["data_format"] == "channels_first"
    b, c, h, w = shape if first else (shape[0], shape[3], shape[1], shape[2])
    f, pad = kwargs["filters"], kwargs["padding"]
    oh, ow = out_len(h, kh, sh, dh, pad), out_len(w, kw, sw, dw, pad)
    expected = (None, f, oh, ow) if first else (None, oh, ow, f)
    params = kh * kw * c * f + (f if kwargs["use_bias"] else 0)
    layer = Conv2D(**kwargs)
    report = check_layer(layer, shape, expected_output_shape=expected, expected_params=params)
    assert report["gradchecked"] == ["input", "kernel"] + (["bias"] if kwargs["use_bias"] else [])
    assert layer.kernel.shape == (kh, kw, c, f)


@given(conv_configs())
def test_set_weights_round_trip_and_frozen_layer(cfg):
    kwargs, shape, *_ = cfg
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    layer = Conv2D(**kwargs)
    before = layer(x).data.copy()
    clone = Conv2D(**kwargs)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, before)
    assert before.dtype == np.float32
    clone.trainable = False
    xt = Tensor(x, requires_grad=True)
    clone(xt).sum().backward()
    assert xt.grad is not None and all(w.grad is None for w in clone.weights)
    assert clone.trainable_weights == [] and clone.count_params() == layer.count_params()


@pytest.mark.parametrize(
    "kwargs, input_shape, output_shape, params",
    [
        (dict(filters=32, kernel_size=(3, 3)), (64, 64, 3), (None, 62, 62, 32), 896),
        (dict(filters=32, kernel_size=(3, 3)), (28, 28, 1), (None, 26, 26, 32), 320),
        (dict(filters=64, kernel_size=3), (13, 13, 32), (None, 11, 11, 64), 18496),
        (
            dict(filters=16, kernel_size=5, strides=2, padding="same"),
            (28, 28, 1),
            (None, 14, 14, 16),
            416,
        ),
        (dict(filters=8, kernel_size=3, dilation_rate=2), (10, 10, 3), (None, 6, 6, 8), 224),
        (
            dict(filters=8, kernel_size=3, use_bias=False, data_format="channels_first"),
            (3, 32, 32),
            (None, 8, 30, 30),
            216,
        ),
    ],
)
def test_known_keras_numbers(kwargs, input_shape, output_shape, params):
    layer = Conv2D(**kwargs, input_shape=input_shape)
    assert layer.build_for((None, *input_shape)) == output_shape
    assert layer.count_params() == params


def test_default_name_and_algebra():
    layer = Conv2D(32, (3, 3), activation="relu")
    layer.build_for((None, 28, 28, 1))
    assert layer.name == "conv2d"
    algebra = layer.algebra()
    assert algebra.text() == "im2col [B*26*26, 3*3*1] @ [3*3*1, 32] + [32] -> [B,26,26,32]; relu"
    assert algebra.count_text() == "3*3*1*32 + 32 = 320"
    plain = Conv2D(4, 2, use_bias=False, data_format="channels_first")
    plain.build_for((None, 3, 5, 5))
    assert plain.algebra().text() == "im2col [B*4*4, 2*2*3] @ [2*2*3, 4] -> [B,4,4,4]"
    assert plain.algebra().count_text() == "2*2*3*4 = 48"
    big = Conv2D(64, 3, activation="tanh")
    big.build_for((None, 13, 13, 32))
    assert big.algebra().count_text() == "3*3*32*64 + 64 = 18,496"
    assert big.algebra().text().endswith("; tanh") and big.algebra().activation == "tanh"


def test_same_padding_puts_the_extra_pixel_after_like_tensorflow():
    # 5 pixels, kernel 2, stride 1: one pixel of padding in total, and TF puts it after
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    layer = Conv2D(1, 2, padding="same", kernel_initializer="ones", use_bias=False)
    out = layer(x).data[0, :, :, 0]
    xp = np.pad(x[0, :, :, 0], ((0, 1), (0, 1)))
    expected = xp[:-1, :-1] + xp[1:, :-1] + xp[:-1, 1:] + xp[1:, 1:]
    np.testing.assert_array_equal(out, expected)


def test_config_round_trip_keeps_every_argument():
    layer = Conv2D(
        5,
        (2, 3),
        strides=(2, 1),
        padding="SAME",
        activation="relu",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer="l2",
        activity_regularizer="l1",
        fused=False,
        name="c",
        input_shape=(6, 6, 2),
    )
    config = layer.get_config()
    assert config["padding"] == "same" and config["kernel_size"] == (2, 3)
    assert config["strides"] == (2, 1) and config["dilation_rate"] == (1, 1)
    assert config["activation"] == "relu" and config["kernel_initializer"] == "he_normal"
    assert config["fused"] is False and config["input_shape"] == (6, 6, 2)
    clone = Conv2D.from_config(config)
    assert clone.get_config() == config


def test_regularizers_add_penalties():
    layer = Conv2D(2, 2, kernel_regularizer="l2", bias_regularizer="l1", activity_regularizer="l2")
    layer(np.ones((1, 3, 3, 1)))
    assert len(layer.regularization_losses()) == 3


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(filters=0, kernel_size=3), "filters"),
        (dict(filters=2.5, kernel_size=3), "filters"),
        (dict(filters=True, kernel_size=3), "filters"),
        (dict(filters=4, kernel_size=0), "kernel_size"),
        (dict(filters=4, kernel_size=(3,)), "kernel_size"),
        (dict(filters=4, kernel_size=3, strides=2, dilation_rate=2), "dilation"),
        (dict(filters=4, kernel_size=3, padding="smae"), "padding"),
        (dict(filters=4, kernel_size=3, padding="causal"), "padding"),
        (dict(filters=4, kernel_size=3, data_format="NHWC"), "data_format"),
        (dict(filters=4, kernel_size=3, activation="rleu"), "activation"),
        (dict(filters=4, kernel_size=3, kernel_initializer="glorot"), "initializer"),
        (dict(filters=4, kernel_size=3, kernal_size=3), "kernal_size"),
    ],
)
def test_invalid_config_raises_at_construction(kwargs, field):
    with pytest.raises(ConfigError) as info:
        Conv2D(**kwargs)
    err = info.value
    assert err.fix and err.got is not None
    assert field in f"{err.where} {err.expected} {err.got}"


def shape_error(layer, x):
    with pytest.raises(ShapeError) as info:
        layer(np.zeros(x) if isinstance(x, tuple) else x)
    err = info.value
    assert "conv2d" in err.where and err.expected and err.got and err.fix
    return err


def test_grayscale_batch_without_channel_axis():
    err = shape_error(Conv2D(4, 3), (8, 28, 28))
    assert "x[..., None]" in err.fix and "(8, 28, 28)" in err.got
    err = shape_error(Conv2D(4, 3, input_shape=(5, 5, 1)), (8, 5, 5))
    assert "x[..., None]" in err.fix
    assert "x[:, None]" in shape_error(Conv2D(4, 3, data_format="channels_first"), (8, 9, 9)).fix


def test_single_image_without_batch_axis():
    assert "x[None, ...]" in shape_error(Conv2D(4, 3), (28, 28, 3)).fix
    assert "x[None, ...]" in shape_error(Conv2D(4, 3, input_shape=(6, 6, 5)), (6, 6, 5)).fix
    assert "x[None, ..., None]" in shape_error(Conv2D(4, 3), (28, 28)).fix


def test_channels_first_data_given_to_a_channels_last_layer():
    built = Conv2D(4, 3)
    built(np.zeros((1, 28, 28, 1)))
    declared = Conv2D(4, 3, input_shape=(28, 28, 1))
    for layer in (built, declared, Conv2D(4, 3)):  # built, declared, and guessed from the data
        err = shape_error(layer, (2, 1, 28, 28))
        assert "channels_first" in err.fix and "transpose(0, 2, 3, 1)" in err.fix
    err = shape_error(Conv2D(4, 3, input_shape=(5, 6, 3)), (2, 3, 5, 6))
    assert "channels_first" in err.fix
    err = shape_error(Conv2D(4, 3, data_format="channels_first"), (2, 28, 28, 3))
    assert "channels_last" in err.fix and "transpose(0, 3, 1, 2)" in err.fix


def test_small_legitimate_images_are_not_mistaken_for_channels_first():
    assert Conv2D(2, 1)(np.zeros((2, 3, 7, 7))).shape == (2, 3, 7, 2)


@pytest.mark.parametrize(
    "kwargs, x, kernel, image",
    [
        (dict(kernel_size=5), (2, 4, 4, 3), "5x5", "4x4"),
        (dict(kernel_size=3, dilation_rate=3), (2, 6, 9, 3), "7x7", "6x9"),
        (dict(kernel_size=(2, 4), data_format="channels_first"), (2, 3, 6, 3), "2x4", "6x3"),
    ],
)
def test_kernel_larger_than_input(kwargs, x, kernel, image):
    err = shape_error(Conv2D(4, **kwargs), x)
    assert kernel in err.expected and image in err.got
    assert "padding='same'" in err.fix and "smaller kernel" in err.fix
    assert Conv2D(4, padding="same", **kwargs)(np.zeros(x)).shape[0] == 2


def test_kernel_check_happens_at_build_without_data():
    with pytest.raises(ShapeError):
        Conv2D(4, 5, input_shape=(3, 3, 1)).build_for((None, 3, 3, 1))


def test_wrong_channel_count_after_build():
    layer = Conv2D(4, 3)
    layer(np.zeros((1, 5, 5, 2)))
    err = shape_error(layer, (1, 5, 5, 3))
    assert "2" in err.fix and "3" in err.fix


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("activation", ["glu", "relu", "linear"])
def test_declared_output_shape_is_the_real_one_for_every_activation_shape(
    activation, data_format
):
    """glu halves the last axis: the conv must declare that, not its filter count."""
    layer = Conv2D(8, 3, activation=activation, data_format=data_format)
    x = np.zeros((2, 6, 6, 3) if data_format == "channels_last" else (2, 3, 6, 6))
    out = layer(x)
    assert layer.output_shape == (None, *out.shape[1:])
