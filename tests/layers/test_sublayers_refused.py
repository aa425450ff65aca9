"""A custom Layer that holds other layers (``self.a = Dense(4)``) is refused at its first call
on data: their weights are not among its own, so they would never be trained, counted or
saved - before, ``Sequential([Block(input_shape=(5,)), Dense(1)])`` listed 2 weights (5
parameters; Keras tracks the block's too: 49), and ``fit`` silently never trained the block.
A layer holding no layers, the wrappers (which own their inner layers' weights) and a Model
subclass holding layers are unaffected."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu.errors import ConfigError
from tinygrad_edu.layers import LSTM, Bidirectional, Dense, Layer, TimeDistributed
from tinygrad_edu.models import Model, Sequential

X = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)


class Block(Layer):
    def __init__(self, held: str = "attribute", **kwargs):
        super().__init__(**kwargs)
        if held == "attribute":
            self.a, self.b = Dense(4, activation="relu"), Dense(4)
        else:  # in a list
            self.stack = [Dense(4, activation="relu"), Dense(4)]

    def call(self, x, training=False):
        for layer in getattr(self, "stack", None) or (self.a, self.b):
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 4)


@pytest.mark.parametrize("held", ["attribute", "list"])
def test_a_layer_holding_layers_is_refused_at_its_first_call(held):
    model = Sequential([Block(held, input_shape=(5,)), Dense(1)])
    with pytest.raises(ConfigError, match=r"self\.(a|stack) = Dense\(\.\.\.\) with 2 weight"):
        model.predict(X, verbose=0)
    with pytest.raises(ConfigError, match="never be trained or saved"):
        Block(held)(X)  # on its own too


def test_layers_that_own_their_inner_weights_and_models_are_not_refused():
    seq = np.random.default_rng(1).normal(size=(4, 3, 2)).astype(np.float32)
    assert Bidirectional(LSTM(3))(seq).shape == (4, 6)
    assert TimeDistributed(Dense(2))(seq).shape == (4, 3, 2)

    class Net(Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = Dense(4, activation="relu"), Dense(1)

        def call(self, x, training=False):
            return self.b(self.a(x))

    net = Net()
    assert net(X).shape == (8, 1) and net.count_params() == 5 * 4 + 4 + 4 + 1

    class Plain(Layer):  # a custom layer with its own weight, no sublayers
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1], 2))

        def call(self, x, training=False):
            return x @ self.w

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], 2)

    assert Plain()(X).shape == (8, 2)
