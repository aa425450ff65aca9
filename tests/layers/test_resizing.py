"""ZeroPadding2D and UpSampling2D: the contract (float64 gradcheck) at 1 and 64 channels, the
forward against numpy (np.pad, np.repeat), Keras' spellings and numbers, and refused arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, Tensor
from tinygrad_edu.layers import UpSampling2D, ZeroPadding2D
from tinygrad_edu.testing.layers import check_layer

SIDES = st.integers(0, 2)


@settings(deadline=None)
@given(
    pads=st.tuples(st.tuples(SIDES, SIDES), st.tuples(SIDES, SIDES)),
    channels=st.sampled_from([1, 64]),
    channels_first=st.booleans(),
)
def test_zero_padding_contract_and_numpy(pads, channels, channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    shape = (2, channels, 3, 2) if channels_first else (2, 3, 2, channels)
    layer = ZeroPadding2D(pads, data_format=fmt)
    assert check_layer(layer, shape, expected_params=0)["gradchecked"] == ["input"]
    x = np.random.default_rng(0).standard_normal(shape)
    spec = ((0, 0), (0, 0), *pads) if channels_first else ((0, 0), *pads, (0, 0))
    np.testing.assert_array_equal(
        ZeroPadding2D(pads, fmt, dtype="float64")(x).data, np.pad(x, spec)
    )


@settings(deadline=None)
@given(
    size=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    channels=st.sampled_from([1, 64]),
    channels_first=st.booleans(),
)
def test_upsampling_contract_and_numpy(size, channels, channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    shape = (2, channels, 2, 3) if channels_first else (2, 2, 3, channels)
    assert check_layer(UpSampling2D(size, fmt), shape, expected_params=0)["params"] == 0
    x = np.random.default_rng(0).standard_normal(shape)
    h, w = (2, 3) if channels_first else (1, 2)
    expected = np.repeat(np.repeat(x, size[0], axis=h), size[1], axis=w)
    np.testing.assert_array_equal(UpSampling2D(size, fmt, dtype="float64")(x).data, expected)


def test_upsampling_gradient_sums_the_copies():
    layer = UpSampling2D((2, 3), dtype="float64")
    x = Tensor(np.zeros((1, 2, 2, 1)), requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 2, 2, 1), 6.0))


@pytest.mark.parametrize(
    "padding, pairs",
    [(1, ((1, 1), (1, 1))), ((2, 3), ((2, 2), (3, 3))), (((0, 1), (2, 3)), ((0, 1), (2, 3)))],
)
def test_keras_padding_spellings(padding, pairs):
    layer = ZeroPadding2D(padding)
    assert layer.get_config()["padding"] == pairs
    (t, b), (left, r) = pairs
    assert layer(np.zeros((1, 4, 5, 2))).shape == (1, 4 + t + b, 5 + left + r, 2)
    assert ZeroPadding2D.from_config(layer.get_config()).padding == pairs


def test_refused_arguments_have_fixes_that_run():
    with pytest.raises(ConfigError, match="nearest") as err:
        UpSampling2D(interpolation="bicubic")
    fixed = eval(err.value.fix, {"UpSampling2D": UpSampling2D})
    assert fixed(np.zeros((1, 2, 2, 1))).shape == (1, 4, 4, 1)
    with pytest.raises(ConfigError):
        ZeroPadding2D(-1)
    with pytest.raises(ConfigError):
        ZeroPadding2D(((1, 2, 3), (1, 1)))
    with pytest.raises(ConfigError):
        UpSampling2D(size=0)


@settings(deadline=None, max_examples=10)
@given(
    size=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    channels=st.sampled_from([1, 64]),
    channels_first=st.booleans(),
)
def test_bilinear_upsampling_contract(size, channels, channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    shape = (2, channels, 3, 1) if channels_first else (2, 3, 1, channels)
    layer = UpSampling2D(size, data_format=fmt, interpolation="bilinear")
    assert check_layer(layer, shape, expected_params=0)["gradchecked"] == ["input"]


def bilinear_by_loops(x, sh, sw):
    """Keras' half-pixel bilinear resize written pixel by pixel (channels_last, float64)."""
    b, h, w, c = x.shape
    out = np.zeros((b, sh * h, sw * w, c))
    for i in range(sh * h):
        for j in range(sw * w):
            r = min(max((i + 0.5) / sh - 0.5, 0), h - 1)
            q = min(max((j + 0.5) / sw - 0.5, 0), w - 1)
            r0, q0 = int(r), int(q)
            r1, q1, fr, fq = min(r0 + 1, h - 1), min(q0 + 1, w - 1), r - r0, q - q0
            top = (1 - fq) * x[:, r0, q0] + fq * x[:, r0, q1]
            bottom = (1 - fq) * x[:, r1, q0] + fq * x[:, r1, q1]
            out[:, i, j] = (1 - fr) * top + fr * bottom
    return out


@pytest.mark.parametrize("size,shape", [((2, 2), (2, 3, 4, 2)), ((3, 1), (1, 1, 5, 3))])
def test_bilinear_upsampling_equals_the_formula(size, shape):
    x = np.random.default_rng(1).standard_normal(shape)
    layer = UpSampling2D(size, interpolation="bilinear", dtype="float64")
    np.testing.assert_allclose(layer(x).data, bilinear_by_loops(x, *size), atol=1e-12)
    row = UpSampling2D((1, 2), interpolation="bilinear")(np.array([[[[0.0], [1.0]]]]))
    np.testing.assert_allclose(row.numpy().ravel(), [0, 0.25, 0.75, 1])  # edges clamped
