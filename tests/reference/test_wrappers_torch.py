"""Bidirectional(LSTM) against torch.nn.LSTM(bidirectional=True, batch_first=True), same
weights, float32: outputs equal to 1e-5.

Keras -> torch layouts per direction: ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``
(the gate order i, f, c, o is torch's i, f, g, o), ``bias_ih = bias``, ``bias_hh = 0``; torch's
``*_reverse`` weights are the backward layer's. torch's output is ``[fwd | bwd]`` per step, with
the backward direction already in time order: Keras' ``merge_mode="concat"``.
"""

import numpy as np
import pytest

from tinygrad_edu.layers import LSTM, Bidirectional

torch = pytest.importorskip("torch")

B, T, F = 3, 6, 4


def torch_twin(bi, units):
    net = torch.nn.LSTM(F, units, batch_first=True, bidirectional=True)
    for layer, suffix in ((bi.forward_layer, ""), (bi.backward_layer, "_reverse")):
        kernel, recurrent, bias = layer.get_weights()
        params = dict(net.named_parameters())
        with torch.no_grad():
            params[f"weight_ih_l0{suffix}"].copy_(torch.from_numpy(kernel.T.copy()))
            params[f"weight_hh_l0{suffix}"].copy_(torch.from_numpy(recurrent.T.copy()))
            params[f"bias_ih_l0{suffix}"].copy_(torch.from_numpy(bias))
            params[f"bias_hh_l0{suffix}"].zero_()
    return net


@pytest.mark.parametrize("units", [1, 7, 64])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_lstm_equals_torch(units, return_sequences):
    x = np.random.default_rng(units).standard_normal((B, T, F)).astype(np.float32)
    bi = Bidirectional(LSTM(units, return_sequences=return_sequences))
    bi.build((None, T, F))
    bi.set_weights([w + 0.1 for w in bi.get_weights()])  # a nonzero bias on both sides
    ours = bi(x).numpy()
    seq, (h_n, _) = torch_twin(bi, units)(torch.from_numpy(x))
    if return_sequences:
        want = seq.detach().numpy()
    else:  # Keras: the last state of each direction (the backward one after reading x_1)
        want = torch.cat([h_n[0], h_n[1]], dim=-1).detach().numpy()
    assert ours.shape == want.shape
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-5)


def test_bidirectional_lstm_states_equal_torch():
    """return_state=True: ``[y, h_fwd, c_fwd, h_bwd, c_bwd]`` are torch's ``h_n``, ``c_n``."""
    x = np.random.default_rng(5).standard_normal((B, T, F)).astype(np.float32)
    bi = Bidirectional(LSTM(7, return_state=True))
    bi.build((None, T, F))
    _, h_f, c_f, h_b, c_b = bi(x)
    _, (h_n, c_n) = torch_twin(bi, 7)(torch.from_numpy(x))
    for ours, want in zip((h_f, c_f, h_b, c_b), (h_n[0], c_n[0], h_n[1], c_n[1])):
        np.testing.assert_allclose(ours.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-5)
