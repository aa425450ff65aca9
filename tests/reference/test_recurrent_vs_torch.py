"""SimpleRNN, LSTM and GRU against torch.nn.RNN / LSTM / GRU with the same weights (float64).

Keras -> torch layouts: ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``,
``bias_ih = bias`` and ``bias_hh = 0`` (GRU: ``bias[0]`` and ``bias[1]``). LSTM gates are i, f, c, o
in both; torch's GRU orders its gates r, z, n where Keras has z, r, h, and computes Keras'
``reset_after=True`` variant. torch has no ``go_backwards``: it gets the reversed sequence instead.
"""

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.layers import GRU, LSTM, SimpleRNN

torch = pytest.importorskip("torch")

B, T, F, U = 3, 6, 4, 5


def gate_order(cls):
    """Column order taking Keras' gate blocks to torch's."""
    blocks = [1, 0, 2] if cls is GRU else range({SimpleRNN: 1, LSTM: 4}[cls])
    return np.concatenate([np.arange(k * U, (k + 1) * U) for k in blocks])


def torch_twin(layer):
    cls = type(layer)
    module = {SimpleRNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}[cls](
        F, U, batch_first=True
    ).double()
    kernel, recurrent, bias = (w.data for w in layer.weights)
    order = gate_order(cls)
    b_ih, b_hh = (bias[0], bias[1]) if cls is GRU else (bias, np.zeros_like(bias))
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(kernel[:, order].T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(recurrent[:, order].T.copy()))
        module.bias_ih_l0.copy_(torch.from_numpy(b_ih[order].copy()))
        module.bias_hh_l0.copy_(torch.from_numpy(b_hh[order].copy()))
    return module


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "reference"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_outputs_states_and_gradients_match_torch(cls, go_backwards, fused):
    rng = np.random.default_rng(0)
    layer = cls(U, return_sequences=True, return_state=True, go_backwards=go_backwards, fused=fused)
    layer.build_for((None, T, F))
    layer.cast(np.float64)
    layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    x = rng.standard_normal((B, T, F))
    r = rng.standard_normal((B, T, U))

    xt = Tensor(x, requires_grad=True)
    ours = layer(xt)
    (ours[0] * Tensor(r)).sum().backward()

    module = torch_twin(layer)
    xs = torch.tensor(x[:, ::-1].copy() if go_backwards else x, requires_grad=True)
    seq, states = module(xs)
    (seq * torch.from_numpy(r)).sum().backward()
    states = states if isinstance(states, tuple) else (states,)

    np.testing.assert_allclose(ours[0].data, seq.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(ours[1:], states):  # h_T (and c_T)
        np.testing.assert_allclose(mine.data, theirs[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    dx = xs.grad.numpy()
    np.testing.assert_allclose(xt.grad, dx[:, ::-1] if go_backwards else dx, rtol=1e-9, atol=1e-12)
    order = gate_order(cls)
    np.testing.assert_allclose(
        layer.kernel.grad[:, order].T, module.weight_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        layer.recurrent_kernel.grad[:, order].T,
        module.weight_hh_l0.grad.numpy(),
        rtol=1e-9,
        atol=1e-12,
    )
    db = layer.bias.grad
    np.testing.assert_allclose(
        (db[0] if cls is GRU else db)[order], module.bias_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        (db[1] if cls is GRU else db)[order], module.bias_hh_l0.grad.numpy(), rtol=1e-9, atol=1e-12
    )
