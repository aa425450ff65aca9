"""tinygrad_edu -> to_torch -> from_torch gives back the same layers and configs, byte-equal weights
and byte-equal predictions, for every layer kind both directions support, at 1 and 64 units,
stacked, batch sizes 1 and 5; to_torch's model predicts the same on the way (skipped without
torch; fails under CI=1 without it - see conftest.py).

Where the layout does not allow it: torch's BatchNorm has both or neither of weight and bias, so
BatchNormalization with only one of center/scale comes back with both (same predictions).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_edu as tg
from tinygrad_edu.interop import from_torch, to_torch

UNITS = (1, 64)

L = tg.layers


def _our_cases(u: int) -> dict:
    """Every layer kind both directions support, at ``u`` units, stacked."""
    return {
        "mlp": lambda: [
            L.Dense(u, "relu", input_shape=(5,)),
            L.Dropout(0.5),
            L.Dense(u, "softmax"),
            L.Activation("tanh"),
            L.BatchNormalization(),
            L.Dense(3, use_bias=False),
        ],
        "cnn-channels-last": lambda: [
            L.Conv2D(u, 3, activation="relu", padding="same", strides=2, input_shape=(9, 9, 2)),
            L.BatchNormalization(),
            L.MaxPooling2D(),
            L.Conv2D(3, 2, activation="softmax"),
            L.AveragePooling2D(1),
            L.GlobalAveragePooling2D(keepdims=True),
            L.Flatten(),
            L.Dense(2),
        ],
        "cnn-channels-first": lambda: [
            L.Conv2D(
                u, (2, 3), dilation_rate=2, data_format="channels_first", input_shape=(2, 8, 9)
            ),
            L.MaxPooling2D(data_format="channels_first"),
            L.GlobalMaxPooling2D(data_format="channels_first", keepdims=True),
            L.Flatten(),
            L.Dense(2, "sigmoid"),
        ],
        "reshape-conv": lambda: [
            L.Reshape((4, 4, 1), input_shape=(16,)),
            L.Conv2D(u, 2),
            L.GlobalMaxPooling2D(),
            L.Dense(2),
        ],
        "recurrent": lambda: [
            L.SimpleRNN(u, activation="relu", return_sequences=True, input_shape=(5, 3)),
            L.LSTM(u, go_backwards=True, return_sequences=True),
            L.GRU(u, use_bias=False),
            L.Dense(2, "log_softmax"),
        ],
        "batchnorm-sequences": lambda: [
            L.LSTM(u, return_sequences=True, input_shape=(5, 3)),
            L.BatchNormalization(),  # over the features: torch's BatchNorm1d between permutes
            L.BatchNormalization(axis=1),  # over the steps: torch's dim 1
            L.Flatten(),
            L.Dense(2),
        ],
        "embedding": lambda: [
            L.Embedding(13, u, input_shape=(6,)),
            L.LSTM(4, use_bias=False),
            L.Dense(2),
        ],
    }


def test_batchnorm_with_only_one_of_center_and_scale_comes_back_with_both():
    """torch's affine=True has both weight and bias: the missing one goes as its neutral value
    (beta 0, gamma 1), and comes back as a learned weight - same predictions, not the same
    config. Neither or both round-trip exactly."""
    model = tg.models.Sequential([L.BatchNormalization(center=False, input_shape=(3,))])
    back = from_torch(to_torch(model), (3,))
    bn = back.layers[0]
    assert (bn.center, bn.scale) == (True, True)
    np.testing.assert_array_equal(dict(zip(bn.weight_names, bn.get_weights()))["beta"], 0)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert model.predict(x).tobytes() == back.predict(x).tobytes()
    neither = tg.models.Sequential(
        [L.BatchNormalization(center=False, scale=False, input_shape=(3,))]
    )
    assert from_torch(to_torch(neither), (3,)).layers[0].weight_names == [
        "moving_mean",
        "moving_variance",
    ]


def test_a_float64_model_goes_to_torch_and_back_in_float64():
    model = tg.models.Sequential(_our_cases(3)["recurrent"]())
    for layer in model.layers:
        layer.cast("float64")
    net = to_torch(model)
    assert {p.dtype for p in net.parameters()} == {torch.float64}
    back = from_torch(net, (5, 3))
    for ours, again in zip(model.get_weights(), back.get_weights()):
        assert again.dtype == np.float64 and ours.tobytes() == again.tobytes()
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    np.testing.assert_allclose(
        back.predict(x), net(torch.from_numpy(x)).detach().numpy(), rtol=1e-10
    )


def _config(layer) -> dict:
    """The layer's config without its name and with initializers by class (they have no __eq__)."""
    config = layer.get_config()
    config.pop("name")
    return {k: type(v).__name__ if "initializer" in k else v for k, v in config.items()}


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("name", sorted(_our_cases(1)))
def test_round_trip_gives_the_same_layers_weights_and_predictions(name, units):
    tg.set_seed(units)
    model = tg.models.Sequential(_our_cases(units)[name]())
    rng = np.random.default_rng(0)
    model.set_weights(  # every weight away from its initial value (statistics positive)
        [
            np.abs(w) + 0.5 if "variance" in n else w + rng.normal(0, 0.3, w.shape).astype(w.dtype)
            for n, w in zip(model.named_weights(), model.get_weights())
        ]
    )
    net = to_torch(model)
    back = from_torch(net, model.input_shape[1:])
    assert [type(a) for a in back.layers] == [type(a) for a in model.layers]
    assert [_config(a) for a in back.layers] == [_config(a) for a in model.layers]
    assert list(back.named_weights()) == list(model.named_weights())
    for ours, again in zip(model.get_weights(), back.get_weights()):
        assert ours.dtype == again.dtype and ours.tobytes() == again.tobytes()  # byte-equal
    for batch in (1, 5):
        x = rng.normal(size=(batch, *model.input_shape[1:])).astype(np.float32)
        if name == "embedding":
            x = rng.integers(0, 13, size=(batch, 6))
        assert model.predict(x).tobytes() == back.predict(x).tobytes()
        theirs = net(torch.from_numpy(x)).detach().numpy()  # and to_torch's model agrees
        np.testing.assert_allclose(model.predict(x), theirs, rtol=1e-4, atol=1e-5)
