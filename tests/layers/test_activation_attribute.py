"""A layer's ``activation`` set after construction (Keras' ``model.layers[-1].activation = None``
to read logits, or a name) is resolved like the constructor argument: None is linear, a name its
function, an unknown name a ``ConfigError`` - never a raw ``TypeError`` at the next call."""

import numpy as np
import pytest

from tinygrad_edu import ConfigError, Tensor, activations
from tinygrad_edu.layers import GRU, LSTM, Activation, Conv1D, Conv2D, Dense, SimpleRNN

RNG = np.random.default_rng(0)
X2 = RNG.normal(size=(3, 4))
X3 = RNG.normal(size=(3, 5, 4))
X4 = RNG.normal(size=(2, 5, 5, 3))

LAYERS = {
    "dense": (lambda: Dense(3, "softmax", dtype="float64"), X2),
    "conv2d": (lambda: Conv2D(2, 3, activation="relu", dtype="float64"), X4),
    "conv1d": (lambda: Conv1D(2, 3, activation="sigmoid", dtype="float64"), X3),
    "activation": (lambda: Activation("softmax"), X2),
}


def linear_output(layer, x) -> np.ndarray:
    """The layer's pre-activation output, from its own weights (an independent formula for Dense;
    the same layer built with activation=None for the others)."""
    twin = type(layer).from_config({**layer.get_config(), "activation": None})
    twin(Tensor(x))
    twin.set_weights(layer.get_weights())
    return twin(Tensor(x)).numpy()


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_activation_none_after_construction_gives_the_linear_output(name) -> None:
    make, x = LAYERS[name]
    layer = make()
    before = layer(Tensor(x)).numpy()
    layer.activation = None
    logits = layer(Tensor(x)).numpy()
    assert layer.activation is activations.linear
    np.testing.assert_array_equal(logits, linear_output(layer, x))
    assert not np.allclose(logits, before)
    if name == "dense":
        kernel, bias = layer.get_weights()
        np.testing.assert_allclose(logits, x @ kernel + bias, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_activation_name_after_construction_is_resolved(name) -> None:
    make, x = LAYERS[name]
    layer = make()
    layer(Tensor(x))
    layer.activation = "tanh"
    assert layer.activation is activations.tanh
    np.testing.assert_allclose(layer(Tensor(x)).numpy(), np.tanh(linear_output(layer, x)))
    assert layer.get_config()["activation"] == "tanh"
    with pytest.raises(ConfigError) as err:
        layer.activation = "tanhh"
    assert "tanh" in err.value.fix
    assert layer.activation is activations.tanh  # a refused value leaves the old one


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_recurrent_activations_after_construction(cls) -> None:
    layer = cls(4, dtype="float64")
    layer(Tensor(X3))
    layer.activation = "relu"
    twin = cls(4, activation="relu", dtype="float64")
    twin(Tensor(X3))
    twin.set_weights(layer.get_weights())
    np.testing.assert_array_equal(layer(Tensor(X3)).numpy(), twin(Tensor(X3)).numpy())
    if cls is not SimpleRNN:
        layer.recurrent_activation = "hard_sigmoid"
        assert layer.get_config()["recurrent_activation"] == "hard_sigmoid"
    with pytest.raises(ConfigError):
        layer.activation = 3
