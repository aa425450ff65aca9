"""Conv1D: the contract at 1 and 64 filters (float64 gradcheck, both forms), the forward against a
numpy loop over taps, causal padding that never looks ahead, Keras' numbers, and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError
from tinygrad_edu.layers import Conv1D
from tinygrad_edu.testing.layers import check_layer


def conv1d_numpy(x, w, b, stride, padding, dilation):
    """out[b, t, f] = sum_{i,c} xp[b, t*s + i*d, c] * w[i, c, f] + b[f], one tap at a time."""
    k, t = w.shape[0], x.shape[1]
    span = dilation * (k - 1)
    if padding == "causal":
        before, after = span, 0
    elif padding == "same":
        total = max((-(-t // stride) - 1) * stride + span + 1 - t, 0)
        before, after = total // 2, total - total // 2
    else:
        before = after = 0
    xp = np.pad(x, ((0, 0), (before, after), (0, 0)))
    steps = (xp.shape[1] - span - 1) // stride + 1
    out = np.zeros((x.shape[0], steps, w.shape[2])) + b
    for o in range(steps):
        for i in range(k):
            out[:, o] += xp[:, o * stride + i * dilation] @ w[i]
    return out


@settings(deadline=None)
@given(
    filters=st.sampled_from([1, 64]),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same", "causal"]),
    channels=st.integers(1, 3),
    steps=st.integers(5, 7),
    fused=st.booleans(),
    channels_first=st.booleans(),
)
def test_conv1d_contract(
    filters, kernel, stride, dilation, padding, channels, steps, fused, channels_first
):
    if stride > 1:
        dilation = 1  # Keras refuses both
    fmt = "channels_first" if channels_first else "channels_last"
    layer = Conv1D(filters, kernel, stride, padding, fmt, dilation, activation="tanh", fused=fused)
    shape = (2, channels, steps) if channels_first else (2, steps, channels)
    report = check_layer(layer, shape, expected_params=kernel * channels * filters + filters)
    assert report["gradchecked"] == ["input", "kernel", "bias"]
    assert layer.kernel.shape == (kernel, channels, filters)  # Keras' layout


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("fused", [True, False])
def test_forward_equals_numpy(padding, stride, dilation, fused):
    layer = Conv1D(4, 3, stride, padding, dilation_rate=dilation, fused=fused, dtype="float64")
    x = np.random.default_rng(1).standard_normal((2, 9, 3))
    out = layer(x).data
    w, b = layer.get_weights()
    b = np.random.default_rng(2).standard_normal(4)
    layer.set_weights([w, b])
    np.testing.assert_allclose(
        layer(x).data, conv1d_numpy(x, w, b, stride, padding, dilation), rtol=1e-12, atol=1e-12
    )
    assert out.shape[1:] == layer.compute_output_shape((None, 9, 3))[1:]


def test_causal_output_never_sees_the_future():
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = np.random.default_rng(0).standard_normal((1, 10, 2))
    later = x.copy()
    later[:, 6:] += 100.0  # change only steps 6..9
    a, b = layer(x).data, layer(later).data
    np.testing.assert_array_equal(a[:, :6], b[:, :6])
    assert np.abs(a[:, 6:] - b[:, 6:]).max() > 0


def test_keras_numbers():
    layer = Conv1D(64, 5, activation="relu")
    layer.build_for((None, 100, 128))
    assert layer.count_params() == 5 * 128 * 64 + 64 == 41_024
    assert layer.output_shape == (None, 96, 64)
    assert layer.algebra().text() == "im2col [B*96, 5*128] @ [5*128, 64] + [64] -> [B,96,64]; relu"


def test_errors_teach():
    with pytest.raises(ConfigError, match="padding"):
        Conv1D(4, 3, padding="full")
    with pytest.raises(ConfigError, match="dilation"):
        Conv1D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ShapeError) as err:
        Conv1D(4, 5)(np.zeros((1, 3, 2)))
    assert "padding='same'" in err.value.fix
    assert Conv1D(4, 5, padding="causal")(np.zeros((1, 3, 2))).shape == (1, 3, 4)
    with pytest.raises(ShapeError):
        Conv1D(4, 3)(np.zeros((2, 10)))  # a sequence needs [B, T, C]


@settings(deadline=None, max_examples=15)
@given(
    groups=st.sampled_from([2, 3]),
    per_group=st.sampled_from([1, 64]),
    channels_per_group=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same", "causal"]),
    fused=st.booleans(),
)
def test_grouped_conv1d_contract(groups, per_group, channels_per_group, padding, fused):
    """groups: a kernel [k, C/g, F], k*C/g*F + F parameters, float64 gradcheck of the input,
    the kernel and the bias; 1 and 64 filters per group. A smooth activation: relu's kink made
    the numeric gradient of a bias off by a pre-activation within the step of 0, for some
    random weights (the fused relu path is held to the plain one in the next test)."""
    channels, filters = groups * channels_per_group, groups * per_group
    layer = Conv1D(filters, 2, padding=padding, groups=groups, activation="tanh", fused=fused)
    report = check_layer(
        layer, (2, 5, channels), expected_params=2 * channels_per_group * filters + filters
    )
    assert report["gradchecked"] == ["input", "kernel", "bias"]
    assert layer.kernel.shape == (2, channels_per_group, filters)


@settings(deadline=None, max_examples=10)
@given(
    groups=st.sampled_from([2, 3]),
    per_group=st.sampled_from([1, 64]),
    padding=st.sampled_from(["valid", "same", "causal"]),
    batch=st.integers(1, 4),
)
def test_grouped_conv1d_fused_relu_equals_the_plain_layer(groups, per_group, padding, batch):
    """The fused relu path gives the plain path's outputs and gradients, weights shared."""
    channels, filters = groups * 2, groups * per_group
    fused, plain = (
        Conv1D(filters, 2, padding=padding, groups=groups, activation="relu", fused=f)
        for f in (True, False)
    )
    x = np.random.default_rng(batch).standard_normal((batch, 5, channels)).astype(np.float32)
    fused.build((None, 5, channels))
    plain.build((None, 5, channels))
    plain.set_weights(fused.get_weights())
    grads = []
    for layer in (fused, plain):
        out = layer(x)
        (out * out).sum().backward()
        grads.append((out.numpy(), layer.kernel.grad, layer.bias.grad))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_grouped_conv1d_is_one_convolution_per_group():
    """Group j's filters see only group j's channels: the numpy convolution of each slice."""
    layer = Conv1D(6, 3, padding="same", groups=3, dtype="float64")
    x = np.random.default_rng(3).standard_normal((2, 7, 6))
    out = layer(x).data
    w, b = layer.get_weights()
    b = np.random.default_rng(4).standard_normal(6)
    layer.set_weights([w, b])
    want = np.concatenate(
        [
            conv1d_numpy(
                x[..., 2 * j : 2 * j + 2],
                w[..., 2 * j : 2 * j + 2],
                b[2 * j : 2 * j + 2],
                1,
                "same",
                1,
            )
            for j in range(3)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-12, atol=1e-12)
    assert out.shape == (2, 7, 6) and Conv1D.from_config(layer.get_config()).groups == 3


def test_groups_that_do_not_divide_are_refused():
    with pytest.raises(ConfigError, match="filters divisible by groups") as err:
        Conv1D(8, 3, groups=3)
    assert eval(err.value.fix, {"Conv1D": Conv1D}).groups == 3
    with pytest.raises(ShapeError, match="divisible by groups=4"):
        Conv1D(8, 3, groups=4)(np.zeros((1, 10, 6)))
    with pytest.raises(ConfigError):
        Conv1D(8, 3, groups=0)
