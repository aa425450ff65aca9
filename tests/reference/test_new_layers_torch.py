"""Cross-check the issue-14 layers against PyTorch with the same weights: Embedding (and its
scattered gradient) vs nn.Embedding, Conv1D vs nn.Conv1d (kernel [k, C, F] -> [F, C, k]), the 1-D
poolings vs nn.MaxPool1d/AvgPool1d, LayerNormalization vs nn.LayerNorm(eps=1e-3), ZeroPadding2D
vs nn.ZeroPad2d and UpSampling2D vs nn.Upsample(mode="nearest")."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu import layers as L

torch = pytest.importorskip("torch")
F = torch.nn.functional


def both(layer, x, torch_fn, ids=False):
    """(ours, torch's) outputs and input/weight gradients for a random upstream gradient."""
    x_ours = x if ids else Tensor(x, requires_grad=True)
    out = layer(x_ours)
    g = np.random.default_rng(9).standard_normal(out.shape)
    (out * Tensor(g)).sum().backward()
    x_t = torch.tensor(x) if ids else torch.tensor(x, requires_grad=True)
    out_t, weights_t = torch_fn(x_t)
    (out_t * torch.tensor(g)).sum().backward()
    grads = [] if ids else [(x_ours.grad, x_t.grad.numpy())]
    return out.data, out_t.detach().numpy(), grads, weights_t


@settings(deadline=None)
@given(st.sampled_from([1, 64]), st.integers(1, 9), st.integers(1, 4))
def test_embedding_vs_torch(output_dim, input_dim, steps):
    layer = L.Embedding(input_dim, output_dim, dtype="float64")
    ids = np.random.default_rng(0).integers(0, input_dim, size=(3, steps))
    layer.build_for((None, steps))
    table = torch.tensor(layer.get_weights()[0], requires_grad=True)
    ours, theirs, _, _ = both(layer, ids, lambda t: (F.embedding(t, table), None), ids=True)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(layer.embeddings.grad, table.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(deadline=None)
@given(
    filters=st.sampled_from([1, 64]),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["valid", "causal"]),
)
def test_conv1d_vs_torch(filters, kernel, stride, dilation, padding):
    if stride > 1:
        dilation = 1
    layer = L.Conv1D(filters, kernel, stride, padding, dilation_rate=dilation, dtype="float64")
    x = np.random.default_rng(1).standard_normal((2, 7, 3))
    layer.build_for((None, 7, 3))
    w = torch.tensor(layer.get_weights()[0].transpose(2, 1, 0).copy(), requires_grad=True)
    b = torch.tensor(np.random.default_rng(2).standard_normal(filters), requires_grad=True)
    layer.set_weights([layer.get_weights()[0], b.detach().numpy()])
    before = dilation * (kernel - 1) if padding == "causal" else 0

    def run(t):
        t = F.pad(t.transpose(1, 2), (before, 0))
        return F.conv1d(t, w, b, stride=stride, dilation=dilation).transpose(1, 2), None

    ours, theirs, grads, _ = both(layer, x, run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(*grads[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        layer.kernel.grad, w.grad.numpy().transpose(2, 1, 0), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(layer.bias.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "cls, torch_pool", [(L.MaxPooling1D, F.max_pool1d), (L.AveragePooling1D, F.avg_pool1d)]
)
@pytest.mark.parametrize("pool, stride", [(2, None), (3, 1), (3, 2)])
def test_pooling1d_vs_torch(cls, torch_pool, pool, stride):
    x = np.random.default_rng(3).standard_normal((2, 9, 4))

    def run(t):
        out = torch_pool(t.transpose(1, 2), pool, stride=stride or pool)
        return out.transpose(1, 2), None

    ours, theirs, grads, _ = both(cls(pool, stride, dtype="float64"), x, run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(*grads[0], rtol=1e-12, atol=1e-12)


@settings(deadline=None)
@given(st.sampled_from([1, 64]), st.integers(1, 3))
def test_layer_norm_vs_torch(features, steps):
    layer = L.LayerNormalization(dtype="float64")
    x = np.random.default_rng(4).standard_normal((2, steps, features)) * 2 + 0.5
    layer.build_for((None, steps, features))
    rng = np.random.default_rng(5)
    layer.set_weights([rng.standard_normal(features), rng.standard_normal(features)])
    norm = torch.nn.LayerNorm(features, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor(layer.get_weights()[0]))
        norm.bias.copy_(torch.tensor(layer.get_weights()[1]))
    ours, theirs, grads, _ = both(layer, x, lambda t: (norm(t), None))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(*grads[0], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.gamma.grad, norm.weight.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.beta.grad, norm.bias.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("pads", [((1, 1), (1, 1)), ((0, 2), (3, 1))])
def test_zero_padding_vs_torch(pads):
    (t, b), (left, r) = pads
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    pad = torch.nn.ZeroPad2d((left, r, t, b))  # torch: (left, right, top, bottom), on [B, C, H, W]
    run = lambda u: (pad(u.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), None)
    ours, theirs, grads, _ = both(L.ZeroPadding2D(pads, dtype="float64"), x, run)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(*grads[0])


@pytest.mark.parametrize("size", [(2, 2), (1, 3)])
def test_upsampling_vs_torch(size):
    x = np.random.default_rng(7).standard_normal((2, 3, 4, 5))
    up = torch.nn.Upsample(scale_factor=size, mode="nearest")
    run = lambda u: (up(u.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), None)
    ours, theirs, grads, _ = both(L.UpSampling2D(size, dtype="float64"), x, run)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(*grads[0], rtol=1e-12, atol=1e-12)
