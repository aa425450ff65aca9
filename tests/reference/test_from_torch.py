"""interop.from_torch: a torch nn.Sequential becomes our Sequential with torch's predictions
(skipped without torch; fails under CI=1 without it - see conftest.py). The round trip from
tinygrad_edu is in test_from_torch_round_trip.py, the refusals in test_from_torch_refusals.py.

torch -> ours is checked in float64 (the mapping is exact, so only summation order differs:
1e-10) and in float32 (torch's own rounding: 1e-4), at 1 and 64 units and batch sizes 1 and 4.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import tinygrad_edu as tg
from tinygrad_edu import gradcheck, gradcheck_tensors
from tinygrad_edu.interop import RecurrentOutput, from_torch, tables, to_torch

UNITS = (1, 64)
BATCHES = (1, 4)


# ---------------------------------------------------------------------- torch -> ours
def _torch_cases(u: int) -> dict:
    """name -> (torch net, input shape without the batch axis); one per module kind and option."""
    return {
        "mlp": (
            nn.Sequential(
                nn.Linear(5, u), nn.ReLU(), nn.Dropout(0.3), nn.Linear(u, 3), nn.Softmax(-1)
            ),
            (5,),
        ),
        "activations": (
            nn.Sequential(
                nn.Linear(5, u),
                nn.GELU(),
                nn.Linear(u, u),
                nn.ELU(),
                nn.Linear(u, u),
                nn.SiLU(),
                nn.Linear(u, u),
                nn.LeakyReLU(0.2),
                nn.Tanh(),
                nn.Sigmoid(),
                nn.LogSoftmax(dim=1),
            ),
            (5,),
        ),
        "cnn": (
            nn.Sequential(
                nn.Conv2d(2, u, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(u, 4, (2, 3), stride=2),
                nn.BatchNorm2d(4),
                nn.Tanh(),
                nn.Flatten(),
                nn.Linear(8, 3),
            ),
            (2, 8, 8),
        ),
        "cnn-padding": (
            nn.Sequential(
                nn.ZeroPad2d((0, 1, 0, 1)),
                nn.Conv2d(1, u, 2),
                nn.AvgPool2d(2, stride=1),
                nn.ZeroPad2d((1, 0, 2, 0)),
                nn.Conv2d(u, 2, 3, dilation=2),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(2, 2),
            ),
            (1, 7, 7),
        ),
        "cnn-same": (
            nn.Sequential(
                nn.Conv2d(1, u, 3, padding="same", bias=False),
                nn.Softmax(dim=-1),
                nn.AdaptiveMaxPool2d((1, 1)),
                nn.Flatten(),
                nn.Linear(u, 2),
            ),
            (1, 5, 6),
        ),
        "batchnorm1d": (
            nn.Sequential(nn.Linear(4, u), nn.BatchNorm1d(u), nn.ReLU(), nn.Linear(u, 2)),
            (4,),
        ),
        "batchnorm1d-channels": (
            nn.Sequential(nn.BatchNorm1d(3, affine=False), nn.Flatten(), nn.Linear(15, 2)),
            (3, 5),
        ),
        "lstm-gru": (
            nn.Sequential(
                RecurrentOutput(nn.LSTM(3, u, batch_first=True), return_sequences=True),
                RecurrentOutput(nn.GRU(u, 4, batch_first=True)),
                nn.Linear(4, 2),
            ),
            (6, 3),
        ),
        "rnn-stacked": (
            nn.Sequential(
                RecurrentOutput(
                    nn.RNN(3, u, num_layers=2, nonlinearity="relu", dropout=0.2, batch_first=True)
                ),
                nn.Linear(u, 2),
            ),
            (5, 3),
        ),
        "lstm-backwards-no-bias": (
            nn.Sequential(
                RecurrentOutput(
                    nn.LSTM(3, u, num_layers=2, bias=False, batch_first=True),
                    return_sequences=True,
                    go_backwards=True,
                ),
                nn.Linear(u, 2),
            ),
            (4, 3),
        ),
        "gru-bare-last": (nn.Sequential(nn.Linear(3, 4), nn.GRU(4, u, batch_first=True)), (5, 3)),
        "embedding": (
            nn.Sequential(
                nn.Embedding(11, u),
                RecurrentOutput(nn.LSTM(u, 4, batch_first=True)),
                nn.Linear(4, 2),
            ),
            (6,),
        ),
        "nested": (
            nn.Sequential(
                nn.Sequential(nn.Linear(4, u), nn.ReLU()),
                nn.Identity(),
                nn.Sequential(nn.Linear(u, 2)),
            ),
            (4,),
        ),
    }


CASE_NAMES = sorted(_torch_cases(1))


def _randomized(net, seed: int = 0):
    """Every parameter and BatchNorm statistic away from its default (non-zero bias_hh too)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.5)
        for name, b in net.named_buffers():
            if "running_mean" in name:
                b.copy_(torch.randn(b.shape, generator=gen, dtype=b.dtype))
            elif "running_var" in name:
                b.copy_(torch.rand(b.shape, generator=gen, dtype=b.dtype) + 0.5)
    return net.eval()


def _inputs(name: str, shape: tuple, batch: int, dtype) -> np.ndarray:
    rng = np.random.default_rng(batch)
    if name == "embedding":
        return rng.integers(0, 11, size=(batch, *shape))
    return rng.normal(size=(batch, *shape)).astype(dtype)


def _theirs(net, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out = net(torch.from_numpy(x))
    return (out[0] if isinstance(out, tuple) else out).numpy()


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize(
    "dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)], ids=["float64", "float32"]
)
def test_torch_models_predict_the_same_here(name, units, dtype, tol):
    net, shape = _torch_cases(units)[name]
    net = _randomized(net.double() if dtype == np.float64 else net)
    model = from_torch(net, shape)
    assert model.count_params() > 0
    for batch in BATCHES:
        x = _inputs(name, shape, batch, dtype)
        ours = model.predict(x)
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, _theirs(net, x), rtol=tol, atol=tol)


def test_images_keep_torchs_layout_and_flatten_order():
    """Conv2d -> Conv2D(channels_first): the same NCHW arrays go in, and Flatten needs no
    permutation, so the Linear after it is only transposed."""
    net, shape = _torch_cases(4)["cnn"]
    model = from_torch(_randomized(net), shape)
    formats = {
        type(lay).__name__: lay.data_format for lay in model.layers if hasattr(lay, "data_format")
    }
    assert formats == {
        "Conv2D": "channels_first",
        "MaxPooling2D": "channels_first",
        "Flatten": "channels_last",  # "as the array lies": no transpose before flattening
    }
    assert [lay.axis for lay in model.layers if type(lay).__name__ == "BatchNormalization"] == [1]
    dense = model.layers[-1]
    np.testing.assert_array_equal(dense.kernel.data, net[-1].weight.detach().numpy().T)


def test_activations_fold_into_the_layer_before_when_exact():
    """ReLU after Linear is Dense(activation='relu'); a second activation in a row, or one after a
    layer without an activation slot, is an Activation layer."""
    net, shape = _torch_cases(3)["activations"]
    model = from_torch(net, shape)
    kinds = [(type(lay).__name__, tg.activations.serialize(lay.activation)) for lay in model.layers]
    assert kinds == [
        ("Dense", "gelu"),
        ("Dense", "elu"),
        ("Dense", "silu"),
        ("Dense", "leaky_relu"),
        ("Activation", "tanh"),
        ("Activation", "sigmoid"),
        ("Activation", "log_softmax"),
    ]


def test_padding_folds_into_same_only_when_it_is_kerass_same():
    net, shape = _torch_cases(2)["cnn-padding"]
    model = from_torch(net, shape)
    kinds = [type(lay).__name__ for lay in model.layers]
    assert kinds[:4] == ["Conv2D", "AveragePooling2D", "ZeroPadding2D", "Conv2D"]
    assert [lay.padding for lay in model.layers if kinds[model.layers.index(lay)] == "Conv2D"] == [
        "same",  # ZeroPad2d((0, 1, 0, 1)) + a 2x2 kernel: TF's "same" (the extra pixel after)
        "valid",
    ]
    assert model.layers[2].padding == ((2, 0), (1, 0))  # torch's (left, right, top, bottom)


@pytest.mark.parametrize(
    "net",
    [
        nn.Sequential(nn.ZeroPad2d((0, 1, 1, 1)), nn.Conv2d(1, 2, (3, 2))),
        nn.Sequential(nn.Conv2d(1, 2, (3, 1), padding=(1, 0))),
    ],
    ids=["ZeroPad2d", "padding="],
)
def test_explicit_padding_equal_to_same_folds_per_axis(net):
    """Height and width pad differently here (1, 1) and (0, 1): each axis is compared with its
    own "same" padding."""
    model = from_torch(_randomized(net), (1, 5, 6))
    assert [(type(lay).__name__, lay.padding) for lay in model.layers] == [("Conv2D", "same")]
    x = _inputs("", (1, 5, 6), 2, np.float32)
    np.testing.assert_allclose(model.predict(x), _theirs(net, x), rtol=1e-5, atol=1e-6)


def test_recurrent_mapping_stacks_layers_and_sums_the_two_biases():
    net, shape = _torch_cases(3)["rnn-stacked"]
    model = from_torch(net, shape)
    kinds = [(type(lay).__name__, getattr(lay, "return_sequences", None)) for lay in model.layers]
    assert kinds == [("SimpleRNN", True), ("Dropout", None), ("SimpleRNN", False), ("Dense", None)]
    rnn = net[0].rnn
    expected = (rnn.bias_ih_l1 + rnn.bias_hh_l1).detach().numpy()
    np.testing.assert_array_equal(model.layers[2].bias.data, expected)
    gru = from_torch(*_torch_cases(2)["lstm-gru"]).layers[1]
    assert gru.reset_after and gru.bias.shape == (2, 12)  # torch's ih and hh rows, z, r, h


def test_batchnorm_momentum_and_epsilon_are_converted():
    model = from_torch(nn.Sequential(nn.BatchNorm1d(3, eps=1e-5, momentum=0.1)), (3,))
    bn = model.layers[0]
    assert (bn.momentum, bn.epsilon, bn.axis) == (0.9, 1e-5, -1)
    ours = tg.models.Sequential([tg.layers.BatchNormalization(momentum=0.99, input_shape=(3,))])
    assert to_torch(ours)[0].momentum == pytest.approx(0.01)
    assert from_torch(to_torch(ours), (3,)).layers[0].momentum == 0.99  # exactly: 1 - (1 - m)


def test_summary_explain_and_gradcheck_work_on_a_torch_model():
    net = _randomized(
        nn.Sequential(
            nn.Conv2d(1, 2, 3),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(18, 4),
            nn.Sigmoid(),
            nn.Linear(4, 2),
        ).double()
    )
    model = from_torch(net, (1, 5, 5))
    lines: list = []
    model.summary(print_fn=lines.append)
    assert any("Conv2D" in line for line in lines) and any("Dense" in line for line in lines)
    assert f"{sum(p.numel() for p in net.parameters()):,}" in "\n".join(lines)
    x = np.random.default_rng(0).normal(size=(2, 1, 5, 5))
    assert len(model.explain(x, print_fn=lambda *a: None)) == len(model.layers)
    assert gradcheck(lambda t: model(t), x)
    assert gradcheck_tensors(lambda: model(x), model.trainable_weights)


def test_the_tables_examples_run():
    assert doctest.testmod(tables).failed == 0
    assert set(tables.KERAS_GATES) == set(tables.TORCH_ORDER)
    for kind, order in tables.TORCH_ORDER.items():  # each order is its own inverse
        assert [order[g] for g in order] == list(range(len(order))), kind
