"""Dense and BatchNormalization against torch (same weights in torch's layouts): outputs and
every gradient, at unit counts from 1 to 64 (``testing.unit_counts``). Skipped when torch is not
installed (failed under CI, see conftest.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.layers import BatchNormalization, Dense
from tinygrad_edu.testing import unit_counts

torch = pytest.importorskip("torch")


def _pair(x):
    """The same float64 data as a tinygrad_edu Tensor and a torch tensor, both needing grads."""
    return Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)


@given(
    st.integers(1, 3),
    st.integers(1, 5),
    unit_counts(),  # 1..64 with the edges 1, 2, 7, 64 drawn often (300 under "thorough")
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_dense_matches_torch_linear(batch, n, units, fused, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(units, fused=fused)
    layer.build_for((None, n))
    layer.cast(np.float64)
    linear = torch.nn.Linear(n, units).double()
    with torch.no_grad():  # torch keeps weight as (out, in): Keras' kernel transposed
        linear.weight.copy_(torch.tensor(layer.kernel.data.T))
        linear.bias.copy_(torch.tensor(rng.standard_normal(units)))
    layer.bias.data[...] = linear.bias.detach().numpy()
    x, xt = _pair(rng.standard_normal((batch, n)))
    r = rng.standard_normal((batch, units))
    out, ref = layer(x), linear(xt)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    (out * Tensor(r)).sum().backward()
    (ref * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        layer.kernel.grad, linear.weight.grad.numpy().T, rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(layer.bias.grad, linear.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(
    st.integers(2, 6),
    unit_counts(),
    st.sampled_from([0.0, 0.9, 0.99]),
    st.integers(0, 2**31 - 1),
)
def test_batchnorm_training_matches_torch(batch, features, momentum, seed):
    """torch's momentum is 1 - Keras' (weight of the new batch), and its running variance uses
    the unbiased batch variance while Keras uses the biased one."""
    rng = np.random.default_rng(seed)
    layer = BatchNormalization(momentum=momentum)
    layer.build_for((None, features))
    layer.cast(np.float64)
    gamma, beta = rng.uniform(0.5, 2, features), rng.standard_normal(features)
    layer.set_weights([gamma, beta, np.zeros(features), np.ones(features)])
    bn = torch.nn.BatchNorm1d(features, eps=1e-3, momentum=1 - momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    bn.train()
    data = rng.standard_normal((batch, features)) * 2 + 1
    x, xt = _pair(data)
    out, ref = layer(x, training=True), bn(xt)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-9)
    r = rng.standard_normal((batch, features))
    (out * Tensor(r)).sum().backward()
    (ref * torch.tensor(r)).sum().backward()
    for ours, theirs in (
        (x.grad, xt.grad),
        (layer.gamma.grad, bn.weight.grad),
        (layer.beta.grad, bn.bias.grad),
    ):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        layer.moving_mean.data, bn.running_mean.numpy(), rtol=1e-10, atol=1e-12
    )
    biased, unbiased = data.var(axis=0), data.var(axis=0, ddof=1)
    np.testing.assert_allclose(
        layer.moving_variance.data - bn.running_var.numpy(),
        (1 - momentum) * (biased - unbiased),
        atol=1e-10,
    )


def test_batchnorm_channels_first_matches_torch_batchnorm2d():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 4, 2, 5))  # N, C, H, W
    layer = BatchNormalization(axis=1)
    layer.build_for((None, 4, 2, 5))
    layer.cast(np.float64)
    bn = torch.nn.BatchNorm2d(4, eps=1e-3, momentum=0.01).double().train()
    x, xt = _pair(data)
    np.testing.assert_allclose(
        layer(x, training=True).data, bn(xt).detach().numpy(), rtol=1e-9, atol=1e-9
    )
    bn.eval()  # inference: both use the (equal) running mean; variances differ by n/(n-1)
    layer.moving_variance.data[...] = bn.running_var.numpy()
    np.testing.assert_allclose(
        layer(x, training=False).data, bn(xt).detach().numpy(), rtol=1e-9, atol=1e-9
    )
