"""Helpers shared by the model, summary and training tests."""

from __future__ import annotations

from tinygrad_edu import is_grad_enabled
from tinygrad_edu.layers import Conv2D, Dense, Dropout, Flatten, Layer, MaxPooling2D
from tinygrad_edu.models import Sequential


class Probe(Layer):
    """Identity layer recording every batch it sees: (rows, training mode, grad mode)."""

    feature_axis = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def call(self, x, training=False):
        self.calls.append((x.data.copy(), training, is_grad_enabled()))
        return x

    def seen(self, training: bool) -> list:
        return [x for x, mode, _ in self.calls if mode == training]


def issue_cnn() -> Sequential:
    """The model of the layers issue's closing note."""
    return Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.5),
            Dense(10, activation="softmax"),
        ]
    )
