"""1-D pooling: the contract (float64 gradcheck, both forms), the forward against numpy windows,
Keras' numbers, and the global pooling layers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ShapeError
from tinygrad_edu.layers import (
    AveragePooling1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from tinygrad_edu.testing.layers import check_layer


def pool1d_numpy(x, kind, p, s, padding):
    """Each window's max (or mean over its real steps), TF's "same" padding (extra step after)."""
    t = x.shape[1]
    steps = -(-t // s) if padding == "same" else (t - p) // s + 1
    before = max((steps - 1) * s + p - t, 0) // 2 if padding == "same" else 0
    out = []
    for o in range(steps):
        lo = o * s - before
        window = x[:, max(lo, 0) : min(lo + p, t)]
        out.append(window.max(axis=1) if kind == "max" else window.mean(axis=1))
    return np.stack(out, axis=1)


@settings(deadline=None)
@given(
    cls=st.sampled_from([MaxPooling1D, AveragePooling1D]),
    pool=st.integers(1, 3),
    stride=st.sampled_from([None, 1, 2]),
    padding=st.sampled_from(["valid", "same"]),
    channels=st.sampled_from([1, 64]),
    steps=st.integers(3, 7),
    fused=st.booleans(),
    channels_first=st.booleans(),
)
def test_pooling1d_contract(cls, pool, stride, padding, channels, steps, fused, channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    layer = cls(pool, stride, padding, fmt, fused=fused)
    shape = (2, channels, steps) if channels_first else (2, steps, channels)
    assert check_layer(layer, shape, expected_params=0)["gradchecked"] == ["input"]


@pytest.mark.parametrize("kind, cls", [("max", MaxPooling1D), ("avg", AveragePooling1D)])
@pytest.mark.parametrize(
    "pool, stride, padding", [(2, None, "valid"), (3, 1, "same"), (3, 2, "same")]
)
@pytest.mark.parametrize("fused", [True, False])
def test_forward_equals_numpy(kind, cls, pool, stride, padding, fused):
    x = np.random.default_rng(0).standard_normal((2, 8, 3))
    out = cls(pool, stride, padding, fused=fused, dtype="float64")(x).data
    expected = pool1d_numpy(x, kind, pool, stride or pool, padding)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@settings(deadline=None)
@given(
    cls=st.sampled_from([GlobalMaxPooling1D, GlobalAveragePooling1D]),
    channels=st.sampled_from([1, 64]),
    steps=st.integers(1, 5),
    keepdims=st.booleans(),
    channels_first=st.booleans(),
)
def test_global_pooling1d_contract(cls, channels, steps, keepdims, channels_first):
    fmt = "channels_first" if channels_first else "channels_last"
    shape = (2, channels, steps) if channels_first else (2, steps, channels)
    expected = (None, channels) if not keepdims else (None, channels, 1) if channels_first else (
        None, 1, channels)  # fmt: skip
    check_layer(cls(fmt, keepdims), shape, expected_output_shape=expected, expected_params=0)
    x = np.random.default_rng(0).standard_normal(shape)
    reduce = np.max if cls is GlobalMaxPooling1D else np.mean
    axis = 2 if channels_first else 1
    np.testing.assert_allclose(
        cls(fmt, keepdims, dtype="float64")(x).data, reduce(x, axis=axis, keepdims=keepdims)
    )


def test_keras_numbers_and_errors():
    assert MaxPooling1D()(np.zeros((1, 100, 64))).shape == (1, 50, 64)
    assert AveragePooling1D(3, padding="same")(np.zeros((1, 100, 64))).shape == (1, 34, 64)
    with pytest.raises(ShapeError):
        MaxPooling1D(5)(np.zeros((1, 3, 2)))
    with pytest.raises(ShapeError):
        GlobalAveragePooling1D()(np.zeros((4, 10)))
