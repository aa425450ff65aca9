"""What interop refuses, by name: from_torch names the torch module (its path in the Sequential) and
the option it would otherwise compute differently; to_torch the Keras option torch's recurrent
modules do not compute (skipped without torch; fails under CI=1 without it - see conftest.py)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import tinygrad_edu as tg
from tinygrad_edu.errors import ConfigError, ShapeError
from tinygrad_edu.interop import RecurrentOutput, from_torch, to_torch

L = tg.layers


@pytest.mark.parametrize(
    "layer, option",
    [
        (lambda: L.LSTM(3, activation="relu", input_shape=(4, 2)), "activation"),
        (
            lambda: L.GRU(3, recurrent_activation="hard_sigmoid", input_shape=(4, 2)),
            "recurrent_activation",
        ),
        (lambda: L.GRU(3, reset_after=False, input_shape=(4, 2)), "reset_after"),
        (lambda: L.SimpleRNN(3, activation="sigmoid", input_shape=(4, 2)), "activation"),
    ],
)
def test_to_torch_refuses_recurrent_options_torch_does_not_compute(layer, option):
    with pytest.raises(ConfigError) as err:
        to_torch(tg.models.Sequential([layer()]))
    assert err.value.got.startswith(f"{option}=")


# ---------------------------------------------------------------------- what from_torch refuses
REFUSED = {
    "groups": (lambda: nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)), (2, 5, 5), "groups"),
    "padding_mode": (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")),
        (1, 5, 5),
        "padding_mode",
    ),
    "pool-padding": (lambda: nn.Sequential(nn.MaxPool2d(2, padding=1)), (1, 5, 5), "padding"),
    "ceil_mode": (lambda: nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), (1, 5, 5), "ceil_mode"),
    "pool-dilation": (lambda: nn.Sequential(nn.MaxPool2d(2, dilation=2)), (1, 5, 5), "dilation"),
    "divisor_override": (
        lambda: nn.Sequential(nn.AvgPool2d(2, divisor_override=3)),
        (1, 4, 4),
        "divisor_override",
    ),
    "adaptive-size": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(2)), (1, 4, 4), "output_size"),
    "batch_first": (lambda: nn.Sequential(RecurrentOutput(nn.LSTM(3, 4))), (5, 3), "batch_first"),
    "bidirectional": (
        lambda: nn.Sequential(RecurrentOutput(nn.GRU(3, 4, batch_first=True, bidirectional=True))),
        (5, 3),
        "bidirectional",
    ),
    "proj_size": (
        lambda: nn.Sequential(RecurrentOutput(nn.LSTM(3, 4, batch_first=True, proj_size=2))),
        (5, 3),
        "proj_size",
    ),
    "leaky-slope": (lambda: nn.Sequential(nn.Linear(3, 3), nn.LeakyReLU()), (3,), "negative_slope"),
    "elu-alpha": (lambda: nn.Sequential(nn.ELU(alpha=0.5)), (3,), "alpha"),
    "gelu-tanh": (lambda: nn.Sequential(nn.GELU(approximate="tanh")), (3,), "approximate"),
    "softmax-dim": (lambda: nn.Sequential(nn.Softmax(dim=1)), (4, 3), "dim"),
    "softmax-no-dim": (lambda: nn.Sequential(nn.Softmax()), (3,), "dim"),
    "softmax-channels": (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 1), nn.Softmax(dim=1)),
        (1, 3, 3),
        "dim",
    ),
    "running-stats": (
        lambda: nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False)),
        (3,),
        "track_running_stats",
    ),
    "cumulative-momentum": (
        lambda: nn.Sequential(nn.BatchNorm1d(3, momentum=None)),
        (3,),
        "momentum",
    ),
    "padding_idx": (lambda: nn.Sequential(nn.Embedding(5, 2, padding_idx=0)), (4,), "padding_idx"),
    "max_norm": (lambda: nn.Sequential(nn.Embedding(5, 2, max_norm=1.0)), (4,), "max_norm"),
    "flatten-dims": (lambda: nn.Sequential(nn.Flatten(start_dim=2)), (2, 3, 3), "start_dim"),
    "module-type": (lambda: nn.Sequential(nn.Linear(3, 3), nn.Conv1d(1, 1, 1)), (3,), "Conv1d"),
    "subclass": (lambda: nn.Sequential(type("MyLinear", (nn.Linear,), {})(3, 2)), (3,), "MyLinear"),
    "after-a-tuple": (
        lambda: nn.Sequential(nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 2)),
        (5, 3),
        "tuple",
    ),
    "mixed-dtypes": (
        lambda: nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2).double()),
        (3,),
        "dtype",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refusals_name_the_module_and_the_option(name):
    make, shape, option = REFUSED[name]
    with pytest.raises(ConfigError) as err:
        from_torch(make(), shape)
    assert option in str(err.value)
    assert name == "mixed-dtypes" or "module '" in err.value.where
    assert err.value.fix


@pytest.mark.parametrize(
    "net, shape, text",
    [
        (nn.Sequential(nn.Linear(5, 3)), (4,), "in_features"),
        (nn.Sequential(nn.Conv2d(3, 2, 1)), (1, 4, 4), "in_channels"),
        (nn.Sequential(nn.Conv2d(1, 2, 1)), (4,), "rank 4"),
        (nn.Sequential(nn.BatchNorm2d(2)), (2,), "rank 4"),
        (nn.Sequential(RecurrentOutput(nn.GRU(3, 2, batch_first=True))), (5, 4), "input_size"),
    ],
)
def test_shape_mismatches_are_shape_errors(net, shape, text):
    with pytest.raises(ShapeError) as err:
        from_torch(net, shape)
    assert text in str(err.value) and "module '0'" in err.value.where


def test_arguments_are_checked():
    with pytest.raises(ConfigError, match="Sequential"):
        from_torch(nn.Linear(3, 2), (3,))
    with pytest.raises(ConfigError, match="input_shape"):
        from_torch(nn.Sequential(nn.Linear(3, 2)), "3")
    with pytest.raises(ConfigError, match="at least one module"):
        from_torch(nn.Sequential(nn.Identity()), (3,))
