"""Pooling layers: the contract over hypothesis configs (pool sizes, strides, valid/same padding,
data formats), Keras' numbers, TF's "same" averaging over real pixels only, and errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor
from tinygrad_edu.layers import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from tinygrad_edu.testing.layers import check_layer, pooling_configs


def out_len(n, p, s, padding):
    return math.ceil(n / s) if padding == "same" else (n - p) // s + 1


@given(
    pooling_configs(max_spatial=7), st.sampled_from([MaxPooling2D, AveragePooling2D]), st.booleans()
)
def test_pooling_contract(cfg, cls, fused):
    kwargs, shape = cfg["kwargs"], cfg["input_shape"]
    pool = (
        kwargs["pool_size"]
        if isinstance(kwargs["pool_size"], tuple)
        else (kwargs["pool_size"],) * 2
    )
    strides = pool if kwargs["strides"] is None else (kwargs["strides"],) * 2
    first = kwargs["data_format"] == "channels_first"
    b, c, h, w = shape if first else (shape[0], shape[3], shape[1], shape[2])
    oh, ow = (out_len(n, p, s, kwargs["padding"]) for n, p, s in zip((h, w), pool, strides))
    expected = (None, c, oh, ow) if first else (None, oh, ow, c)
    layer = cls(**kwargs, fused=fused)
    report = check_layer(layer, shape, expected_output_shape=expected, expected_params=0)
    assert report["gradchecked"] == ["input"]
    assert layer.get_config()["strides"] == strides


@given(
    st.integers(1, 3),
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from(["channels_last", "channels_first"]),
    st.booleans(),
    st.sampled_from([GlobalMaxPooling2D, GlobalAveragePooling2D]),
)
def test_global_pooling_contract(b, h, w, c, fmt, keepdims, cls):
    first = fmt == "channels_first"
    shape = (b, c, h, w) if first else (b, h, w, c)
    expected = (None, c) if not keepdims else (None, c, 1, 1) if first else (None, 1, 1, c)
    check_layer(
        cls(data_format=fmt, keepdims=keepdims),
        shape,
        expected_output_shape=expected,
        expected_params=0,
    )


@pytest.mark.parametrize(
    "layer, input_shape, output_shape",
    [
        (MaxPooling2D(), (26, 26, 32), (None, 13, 13, 32)),
        (MaxPooling2D((2, 2)), (7, 7, 3), (None, 3, 3, 3)),
        (MaxPooling2D(2, padding="same"), (7, 7, 3), (None, 4, 4, 3)),
        (AveragePooling2D(3, strides=1, padding="same"), (5, 6, 2), (None, 5, 6, 2)),
        (AveragePooling2D((3, 2), strides=(2, 1)), (9, 4, 1), (None, 4, 3, 1)),
        (MaxPooling2D(data_format="channels_first"), (16, 10, 8), (None, 16, 5, 4)),
        (GlobalAveragePooling2D(), (7, 7, 64), (None, 64)),
        (GlobalMaxPooling2D(keepdims=True), (7, 7, 64), (None, 1, 1, 64)),
    ],
)
def test_known_keras_numbers(layer, input_shape, output_shape):
    assert layer.build_for((None, *input_shape)) == output_shape
    assert layer.count_params() == 0


def test_default_names_and_algebra():
    layer = MaxPooling2D()
    layer.build_for((None, 26, 26, 32))
    assert layer.name == "max_pooling2d"
    text, params = layer.algebra().text(), layer.algebra().count_text()
    assert "2x2" in text and "[B,26,26,32] -> [B,13,13,32]" in text and params == "0"
    assert GlobalAveragePooling2D().name == "global_average_pooling2d"


def test_values_max_and_mean_with_a_dropped_remainder():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    img = x[0, :, :, 0]
    for fused in (True, False):
        out = MaxPooling2D(fused=fused)(x).data[0, :, :, 0]
        np.testing.assert_array_equal(out, [[img[1, 1], img[1, 3]], [img[3, 1], img[3, 3]]])
        out = AveragePooling2D(fused=fused)(x).data[0, :, :, 0]
        np.testing.assert_array_equal(out[0, 0], img[:2, :2].mean())
        assert out.dtype == np.float32


def test_same_average_counts_only_real_pixels():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    img = x[0, :, :, 0]
    for fused in (True, False):
        out = AveragePooling2D(3, strides=1, padding="same", fused=fused)(x).data[0, :, :, 0]
        assert out[0, 0] == pytest.approx(img[:2, :2].mean())  # 4 real pixels, not 9
        assert out[1, 1] == pytest.approx(img.mean())
        assert out[2, 1] == pytest.approx(img[1:, :].mean())


def test_same_max_pool_ignores_padding_even_for_negative_images():
    x = -np.ones((1, 3, 3, 1), dtype=np.float32)
    for fused in (True, False):
        out = MaxPooling2D(2, padding="same", fused=fused)(x).data
        np.testing.assert_array_equal(out, -np.ones((1, 2, 2, 1)))


def test_max_pool_gradient_goes_to_the_maximum():
    x = np.array([[1.0, 5.0], [3.0, 2.0]], dtype=np.float32).reshape(1, 2, 2, 1)
    for fused in (True, False):
        xt = Tensor(x, requires_grad=True)
        MaxPooling2D(fused=fused)(xt).sum().backward()
        np.testing.assert_array_equal(xt.grad[0, :, :, 0], [[0, 1], [0, 0]])


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_pool_larger_than_input(cls):
    with pytest.raises(ShapeError) as info:
        cls(pool_size=(3, 5))(np.zeros((2, 4, 4, 3)))
    err = info.value
    assert "pooling2d" in err.where and "3x5" in err.expected and "4x4" in err.got
    assert "padding='same'" in err.fix and "smaller pool" in err.fix
    assert cls(pool_size=(3, 5), padding="same")(np.zeros((2, 4, 4, 3))).shape == (2, 2, 1, 3)


@pytest.mark.parametrize("cls", [MaxPooling2D, GlobalAveragePooling2D])
def test_image_recognizers(cls):
    with pytest.raises(ShapeError) as info:
        cls()(np.zeros((8, 28, 28)))
    assert "x[..., None]" in info.value.fix
    with pytest.raises(ShapeError) as info:
        cls()(np.zeros((8, 1, 28, 28)))
    assert "channels_first" in info.value.fix
    layer = cls(input_shape=(28, 28, 1))
    with pytest.raises(ShapeError) as info:
        layer(np.zeros((8, 1, 28, 28)))
    assert "transpose(0, 2, 3, 1)" in info.value.fix


@pytest.mark.parametrize(
    "make",
    [
        lambda: MaxPooling2D(pool_size=0),
        lambda: MaxPooling2D(pool_size=(2, 2, 2)),
        lambda: AveragePooling2D(strides=-1),
        lambda: AveragePooling2D(padding="full"),
        lambda: MaxPooling2D(data_format="nchw"),
        lambda: GlobalMaxPooling2D(data_format="channels"),
        lambda: GlobalAveragePooling2D(keep_dims=True),
    ],
)
def test_invalid_config_raises_at_construction(make):
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.fix and info.value.got is not None
