"""Conv1D(groups=g) against torch.nn.functional.conv1d(groups=g), same weights, float64.

Layouts: our (Keras') kernel ``[k, C/g, F]`` is torch's ``[F, C/g, k]`` (``transpose(2, 1, 0)``);
both give group j the filters ``j*F/g ..`` and the channels ``j*C/g ..``. Causal padding is
torch's left pad of ``d*(k-1)`` zeros."""

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.layers import Conv1D

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.mark.parametrize("groups, per_group", [(2, 1), (2, 64), (4, 3), (6, 1)])
@pytest.mark.parametrize("padding", ["valid", "causal"])
@pytest.mark.parametrize("dilation", [1, 2])
def test_grouped_conv1d_equals_torch(groups, per_group, padding, dilation):
    channels, filters, k = 6 if groups != 4 else 8, groups * per_group, 3
    layer = Conv1D(
        filters, k, padding=padding, dilation_rate=dilation, groups=groups, dtype="float64"
    )
    rng = np.random.default_rng(groups * per_group)
    x = rng.standard_normal((2, 9, channels))
    layer.build((None, 9, channels))
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    xt = Tensor(x, requires_grad=True)
    out = layer(xt)
    g = rng.standard_normal(out.shape)
    out.backward(g)

    kernel, bias = (torch.tensor(w, requires_grad=True) for w in layer.get_weights())
    xt_torch = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    before = dilation * (k - 1) if padding == "causal" else 0
    want = F.conv1d(
        F.pad(xt_torch, (before, 0)),
        kernel.permute(2, 1, 0),
        bias,
        dilation=dilation,
        groups=groups,
    )
    want.backward(torch.tensor(g.transpose(0, 2, 1)))
    np.testing.assert_allclose(out.data, want.detach().numpy().transpose(0, 2, 1), atol=1e-12)
    np.testing.assert_allclose(xt.grad, xt_torch.grad.numpy().transpose(0, 2, 1), atol=1e-12)
    np.testing.assert_allclose(layer.kernel.grad, kernel.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, bias.grad.numpy(), atol=1e-12)
