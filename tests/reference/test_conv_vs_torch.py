"""Cross-check Conv2D and pooling against PyTorch: same weights (converted to torch's layouts),
same outputs and gradients. TF's asymmetric "same" padding is applied to torch explicitly with
F.pad (torch's own padding is symmetric). Filters: 1 to 64 (``testing.unit_counts``)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.layers import AveragePooling2D, Conv2D, MaxPooling2D
from tinygrad_edu.ops.conv import spatial_pads
from tinygrad_edu.testing import unit_counts

torch = pytest.importorskip("torch")
F = torch.nn.functional


def to_torch(x_nhwc):
    return torch.tensor(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), requires_grad=True)


def nchw_to_nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def torch_pad(t, pads, value=0.0):
    (top, bottom), (left, right) = pads
    return F.pad(t, (left, right, top, bottom), value=value)


@st.composite
def geometry(draw, dilate=True):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s, d = (1, 1), (1, 1)
    if dilate and draw(st.booleans()):
        d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    else:
        s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    low = [dd * (kk - 1) + 1 if padding == "valid" else 1 for kk, dd in zip(k, d)]
    hw = tuple(draw(st.integers(lo, max(lo, 7))) for lo in low)
    return k, s, d, padding, hw


@given(geometry(), st.integers(1, 3), unit_counts(), st.integers(0, 2**16))
def test_conv2d_matches_torch(geo, c, f, seed):
    k, s, d, padding, hw = geo
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, *hw, c))
    layer = Conv2D(f, k, strides=s, dilation_rate=d, padding=padding)
    layer.build_for((None, *hw, c))
    layer.cast(np.float64)
    layer.set_weights([rng.standard_normal((*k, c, f)), rng.standard_normal(f)])
    xt = Tensor(x, requires_grad=True)
    out = layer(xt)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)

    xt_t = to_torch(x)
    w_t = torch.tensor(layer.kernel.data.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    b_t = torch.tensor(layer.bias.data.copy(), requires_grad=True)
    pads = spatial_pads(hw, k, s, padding, d)
    out_t = F.conv2d(torch_pad(xt_t, pads), w_t, b_t, stride=s, dilation=d)
    out_t.backward(torch.tensor(upstream.transpose(0, 3, 1, 2).copy()))

    np.testing.assert_allclose(out.data, nchw_to_nhwc(out_t), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(xt.grad, nchw_to_nhwc(xt_t.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        layer.kernel.grad, w_t.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(layer.bias.grad, b_t.grad.numpy(), rtol=1e-10, atol=1e-10)


@given(geometry(dilate=False), st.booleans(), st.integers(0, 2**16))
def test_pooling_matches_torch(geo, fused, seed):
    pool, s, _, padding, hw = geo
    rng = np.random.default_rng(seed)
    x = rng.permutation(2 * hw[0] * hw[1] * 2).reshape(2, *hw, 2) / 7.0  # distinct: no ties
    pads = spatial_pads(hw, pool, s, padding)
    for cls in (MaxPooling2D, AveragePooling2D):
        xt = Tensor(x, requires_grad=True)
        out = cls(pool, strides=s, padding=padding, fused=fused)(xt)
        upstream = rng.standard_normal(out.shape)
        out.backward(upstream)
        xt_t = to_torch(x)
        if cls is MaxPooling2D:
            out_t = F.max_pool2d(torch_pad(xt_t, pads, -np.inf), pool, s)
        else:  # TF divides by the real pixels only: sum-pool, then divide by the real count
            area = pool[0] * pool[1]
            total = F.avg_pool2d(torch_pad(xt_t, pads), pool, s) * area
            ones = torch.ones((1, 1, *hw), dtype=torch.float64)
            out_t = total / (F.avg_pool2d(torch_pad(ones, pads), pool, s) * area)
        out_t.backward(torch.tensor(upstream.transpose(0, 3, 1, 2).copy()))
        np.testing.assert_allclose(out.data, nchw_to_nhwc(out_t), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(xt.grad, nchw_to_nhwc(xt_t.grad), rtol=1e-10, atol=1e-12)


def test_channels_first_conv_matches_torch_without_transposes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    layer = Conv2D(4, 3, padding="same", data_format="channels_first")
    out = layer(x).data
    w_t = torch.tensor(layer.kernel.data.transpose(3, 2, 0, 1).copy())
    out_t = F.conv2d(torch.tensor(x), w_t, torch.tensor(layer.bias.data), padding=1)
    np.testing.assert_allclose(out, out_t.numpy(), rtol=1e-5, atol=1e-5)
