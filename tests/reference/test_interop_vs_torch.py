"""interop.to_torch gives a torch model with the same predictions (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu.interop import to_torch  # noqa: E402
from tinygrad_edu.layers import (  # noqa: E402
    GRU,
    LSTM,
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
    SimpleRNN,
)
from tinygrad_edu.models import Sequential  # noqa: E402

CASES = {
    "mlp": (
        lambda: [Dense(7, "relu", input_shape=(5,)), Dropout(0.5), Dense(3, "softmax")],
        (4, 5),
    ),
    "cnn-same-stride": (
        lambda: [
            Conv2D(4, 3, activation="relu", input_shape=(9, 9, 2), padding="same", strides=2),
            MaxPooling2D(),
            Flatten(),
            Dense(5, activation="softmax"),
        ],
        (3, 9, 9, 2),
    ),
    "cnn-channels-first": (
        lambda: [
            Conv2D(3, (2, 3), input_shape=(2, 8, 7), data_format="channels_first"),
            AveragePooling2D(data_format="channels_first"),
            Flatten(),
            Dense(2),
        ],
        (2, 2, 8, 7),
    ),
    "cnn-global-bn": (
        lambda: [
            Conv2D(4, 3, input_shape=(6, 6, 1)),
            BatchNormalization(),
            GlobalAveragePooling2D(),
            Dense(2),
        ],
        (3, 6, 6, 1),
    ),
    "lstm-gru": (
        lambda: [
            LSTM(6, input_shape=(5, 3), return_sequences=True),
            GRU(4, go_backwards=True),
            Dense(2),
        ],
        (3, 5, 3),
    ),
    # an axis-dependent activation on a conv: over the channels, dim 1 of torch's NCHW tensor
    "cnn-softmax-channels": (
        lambda: [
            Conv2D(4, 3, activation="softmax", input_shape=(6, 5, 2)),
            Activation("log_softmax"),
            Conv2D(6, 2, activation="glu"),
            Flatten(),
            Dense(2),
        ],
        (3, 6, 5, 2),
    ),
    "mlp-keras3-activations": (
        lambda: [
            Dense(6, "mish", input_shape=(5,)),
            Dense(6, "hard_sigmoid"),
            Dense(6, "hard_silu"),
            Dense(6, "celu"),
            Dense(6, "relu6"),
            Dense(6, "soft_shrink"),
            Dense(6, "hard_shrink"),
            Dense(6, "softsign"),
            Dense(6, "tanh_shrink"),
            Dense(6, "log_sigmoid"),
            Dense(6, "hard_tanh"),
            Dense(4, "glu"),
        ],
        (4, 5),
    ),
    "rnn-bn": (
        lambda: [SimpleRNN(6, input_shape=(5, 3)), BatchNormalization(), Dense(2, "tanh")],
        (3, 5, 3),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_predictions(name):
    tg.set_seed(0)
    layers, shape = CASES[name]
    model = Sequential(layers())
    rng = np.random.default_rng(1)
    # non-trivial weights everywhere (biases and BatchNorm statistics too)
    model.set_weights(
        [
            w + rng.normal(0, 0.1, w.shape).astype(np.float32)
            if "variance" not in n
            else np.abs(w) + 0.5
            for n, w in zip(model.named_weights(), model.get_weights())
        ]
    )
    x = rng.normal(size=shape).astype(np.float32)
    with torch.no_grad():
        theirs = to_torch(model)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model.predict(x), theirs, rtol=1e-4, atol=1e-5)


def test_lstm_parameter_counts_differ_by_the_second_bias():
    model = Sequential([LSTM(300, input_shape=(20, 1))])
    torch_model = to_torch(model)
    assert model.count_params() == 362_400
    assert sum(p.numel() for p in torch_model.parameters()) == 363_600


def test_an_activation_without_a_torch_module_is_named_in_the_refusal():
    model = Sequential([Dense(3, "sparsemax", input_shape=(4,))])
    with pytest.raises(tg.ConfigError) as err:
        to_torch(model)
    assert "'sparsemax'" in err.value.got and "hard_sigmoid" in err.value.fix
