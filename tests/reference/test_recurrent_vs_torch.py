"""SimpleRNN, LSTM and GRU against torch.nn.RNN / LSTM / GRU with the same weights (float64).

Keras -> torch layouts: ``weight_ih = kernel.T``, ``weight_hh = recurrent_kernel.T``,
``bias_ih = bias`` and ``bias_hh = 0`` (GRU: ``bias[0]`` and ``bias[1]``). LSTM gates are i, f, c, o
in both; torch's GRU orders its gates r, z, n where Keras has z, r, h, and computes Keras'
``reset_after=True`` variant. torch has no ``go_backwards``: it gets the reversed sequence instead.

Sizes: 1, 7 and 64 units (one unit, an odd size, a typical layer width), and stacks of 2-3
layers against torch's ``num_layers`` (each of our layers but the last returns sequences).
"""

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.layers import GRU, LSTM, SimpleRNN

torch = pytest.importorskip("torch")

B, T, F = 3, 6, 4
UNITS = [1, 7, 64]
TORCH_CLASSES = {SimpleRNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}


def gate_order(cls, units):
    """Column order taking Keras' gate blocks to torch's."""
    blocks = [1, 0, 2] if cls is GRU else range({SimpleRNN: 1, LSTM: 4}[cls])
    return np.concatenate([np.arange(k * units, (k + 1) * units) for k in blocks])


def copy_into(module, layer, index=0):
    """Our layer's weights into torch's layer ``index`` of ``module`` (same float64 values)."""
    cls = type(layer)
    kernel, recurrent, bias = (w.data for w in layer.weights)
    order = gate_order(cls, layer.units)
    b_ih, b_hh = (bias[0], bias[1]) if cls is GRU else (bias, np.zeros_like(bias))
    with torch.no_grad():
        for name, value in (
            ("weight_ih", kernel[:, order].T),
            ("weight_hh", recurrent[:, order].T),
            ("bias_ih", b_ih[order]),
            ("bias_hh", b_hh[order]),
        ):
            getattr(module, f"{name}_l{index}").copy_(torch.from_numpy(value.copy()))


def torch_twin(layer):
    module = TORCH_CLASSES[type(layer)](layer.weights[0].shape[0], layer.units, batch_first=True)
    module = module.double()
    copy_into(module, layer)
    return module


def random_float64_layer(cls, units, features, rng, **kwargs):
    layer = cls(units, **kwargs)
    layer.build_for((None, T, features))
    layer.cast(np.float64)
    kernel, recurrent, bias = layer.get_weights()
    layer.set_weights(
        [scaled_normal(kernel, rng), scaled_normal(recurrent, rng), bias_like(bias, rng)]
    )
    return layer


def scaled_normal(matrix, rng):
    """Weights of std 1/sqrt(fan in) (at most 0.5): pre-activations of order 1 at 64 units too,
    so tanh and sigmoid are not saturated and every gradient is far from zero."""
    return rng.normal(0, min(0.5, 1 / np.sqrt(matrix.shape[0])), matrix.shape)


def bias_like(bias, rng):
    return rng.normal(0, 0.5, bias.shape)


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "reference"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_outputs_states_and_gradients_match_torch(cls, go_backwards, fused, units):
    rng = np.random.default_rng(0)
    layer = random_float64_layer(
        cls,
        units,
        F,
        rng,
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        fused=fused,
    )
    x = rng.standard_normal((B, T, F))
    r = rng.standard_normal((B, T, units))

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
    order = gate_order(cls, units)
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


def run_stack(layers, x, r):
    """Our stack's output and input gradient for the loss sum(out * r)."""
    xt = Tensor(x, requires_grad=True)
    out = xt
    for layer in layers:
        out = layer(out)
    (out * Tensor(r)).sum().backward()
    return out.data, xt.grad


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "reference"])
@pytest.mark.parametrize("n_layers", [2, 3])
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_stacks_match_torch_num_layers(cls, n_layers, fused):
    """Our stack of n_layers recurrent layers == torch's ``num_layers=n_layers`` module: outputs,
    the input gradient and each layer's recurrent-kernel gradient. torch's stacked module gives
    every layer the same width, so all are 64 units wide."""
    rng = np.random.default_rng(1)
    units = 64
    layers = [
        random_float64_layer(
            cls, units, F if i == 0 else units, rng, return_sequences=True, fused=fused
        )
        for i in range(n_layers)
    ]
    module = TORCH_CLASSES[cls](F, units, num_layers=n_layers, batch_first=True).double()
    for i, layer in enumerate(layers):
        copy_into(module, layer, i)
    x, r = rng.standard_normal((B, T, F)), rng.standard_normal((B, T, units))
    out, dx = run_stack(layers, x, r)

    xs = torch.tensor(x, requires_grad=True)
    seq, _ = module(xs)
    (seq * torch.from_numpy(r)).sum().backward()
    np.testing.assert_allclose(out, seq.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dx, xs.grad.numpy(), rtol=1e-8, atol=1e-12)
    order = gate_order(cls, units)
    for i, layer in enumerate(layers):
        theirs = getattr(module, f"weight_hh_l{i}").grad.numpy()
        np.testing.assert_allclose(
            layer.recurrent_kernel.grad[:, order].T, theirs, rtol=1e-8, atol=1e-12
        )
