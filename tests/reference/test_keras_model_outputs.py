"""The models of issue 14's "Done when", against real Keras 3 (torch backend) with the same weights:
a residual functional MLP, a two-input model, a subclassed model and the text model of
``examples/text_sentiment.py`` (Embedding -> Bidirectional(LSTM) -> Dense).

Each model is one function written once against a namespace ``L`` that holds either Keras'
names (``keras.layers`` + ``Model``, ``Sequential``) or ours, so both are built by the same code.
Keras' model gets random weights; ours receives them through ``model.get_weights()`` /
``set_weights`` (equal layouts and equal order); parameter counts and ``predict`` on batches of 1
and 5 must be equal (float32 tolerances: ``keras_twins.py``).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from keras_twins import BATCHES, assert_close, keras_numpy, normal, random_weights

import tinygrad_edu.layers as ours_layers
import tinygrad_edu.models as ours_models

VOCABULARY, LENGTH = 26, 12  # examples/text_sentiment.py's sizes


def namespace(keras=None) -> SimpleNamespace:
    if keras is None:
        names = {n: getattr(ours_layers, n) for n in ours_layers.__all__}
        return SimpleNamespace(**names, Model=ours_models.Model, Sequential=ours_models.Sequential)
    return SimpleNamespace(**vars(keras.layers), Model=keras.Model, Sequential=keras.Sequential)


def residual_mlp(L):
    inputs = L.Input(shape=(6,))
    h = L.Dense(16, activation="relu")(inputs)
    block = L.Dense(16, activation="relu")(h)
    summed = L.Add()([h, block])
    return L.Model(inputs=inputs, outputs=L.Dense(3, activation="softmax")(summed))


def two_inputs(L):
    image = L.Input(shape=(6, 6, 1))
    meta = L.Input(shape=(4,))
    a = L.Flatten()(L.MaxPooling2D()(L.Conv2D(4, 3, activation="relu")(image)))
    b = L.Dense(8, activation="tanh")(meta)
    joined = L.Concatenate()([a, b])
    return L.Model(inputs=[image, meta], outputs=L.Dense(1, activation="sigmoid")(joined))


def subclassed(L):
    class ResidualNet(L.Model):
        def __init__(self):
            super().__init__()
            self.proj = L.Dense(8, activation="relu")
            self.block = L.Dense(8, activation="tanh")
            self.out = L.Dense(2)

        def call(self, x, training=False):
            h = self.proj(x)
            return self.out(h + self.block(h))

    net = ResidualNet()
    net(np.zeros((1, 5), dtype=np.float32))  # build both by calling
    return net


def assigned_not_called(L):
    """Assigned late, [b1, [b2]], early; called early, b2, b1, late: Keras lists the weights in
    the assignment order, and every kernel is (4, 4), so a swap would only show in the outputs."""

    class Twisted(L.Model):
        def __init__(self):
            super().__init__()
            self.late = L.Dense(4, name="late")
            self.blocks = [L.Dense(4, activation="relu", name="b1"), [L.Dense(4, name="b2")]]
            self.early = L.Dense(4, activation="tanh", name="early")

        def call(self, x, training=False):
            return self.late(self.blocks[0](self.blocks[1][0](self.early(x))))

    net = Twisted()
    if L.Model is ours_models.Model:
        net.build((None, 4))  # the way fit builds ours (build once reordered layers by call)
    else:
        net(np.zeros((1, 4), dtype=np.float32))  # Keras' build of a subclassed model: a call
    return net


def nested_models(L):
    """Models inside a subclassed model - a Sequential and a list of subclassed blocks: Keras
    counts, orders and trains their weights as those of layers in the assignment order."""

    class Block(L.Model):
        def __init__(self):
            super().__init__()
            self.inner = L.Dense(4, activation="tanh")

        def call(self, x, training=False):
            return x + self.inner(x)

    class Nested(L.Model):
        def __init__(self):
            super().__init__()
            self.encoder = L.Sequential([L.Dense(4, activation="relu")])
            self.blocks = [Block(), Block()]
            self.head = L.Dense(2)

        def call(self, x, training=False):
            h = self.encoder(x)
            for block in self.blocks:
                h = block(h)
            return self.head(h)

    net = Nested()
    net(np.zeros((1, 5), dtype=np.float32))
    return net


def added_later(L):
    """Layers appended to a list (and set in a dict) after it was assigned: Keras 3 tracks
    them, in the order they were added."""

    class Grown(L.Model):
        def __init__(self):
            super().__init__()
            self.hidden = []
            for units in (6, 4):
                self.hidden.append(L.Dense(units, activation="tanh"))
            self.heads = {}
            self.heads["out"] = L.Dense(2)

        def call(self, x, training=False):
            for layer in self.hidden:
                x = layer(x)
            return self.heads["out"](x)

    net = Grown()
    net(np.zeros((1, 5), dtype=np.float32))
    return net


def text_model(L):
    return L.Sequential(
        [
            L.Input(shape=(LENGTH,)),
            L.Embedding(VOCABULARY, 16),
            L.Bidirectional(L.LSTM(16)),
            L.Dense(1, activation="sigmoid"),
        ]
    )


def shared_twice(L):
    """One layer instance used twice in a Sequential: one set of weights (Keras counts 24 and
    lists 4 weights, not 36 and 6), its gradient summed over both uses."""
    shared = L.Dense(3, activation="tanh")
    return L.Sequential([L.Input(shape=(3,)), L.Dense(3), shared, shared])


def review_ids(batch: int):
    return np.random.default_rng(batch).integers(0, VOCABULARY, size=(batch, LENGTH))


MODELS = {
    "residual_mlp": (residual_mlp, normal((6,))),
    "two_inputs": (two_inputs, normal(((6, 6, 1), (4,)))),
    "subclassed": (subclassed, normal((5,))),
    "assigned_not_called": (assigned_not_called, normal((4,))),
    "nested_models": (nested_models, normal((5,))),
    "added_later": (added_later, normal((5,))),
    "text_model": (text_model, review_ids),
    "shared_twice": (shared_twice, normal((3,))),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_model_equals_keras_for_the_same_weights(require_keras, name):
    build, make_x = MODELS[name]
    k_model, model = build(namespace(require_keras)), build(namespace())
    names = [w.path for w in k_model.weights]
    k_model.set_weights(random_weights(names, k_model.get_weights(), seed=3))
    model.set_weights(k_model.get_weights())
    assert model.count_params() == k_model.count_params()
    for batch in BATCHES:
        x = make_x(batch)
        theirs = keras_numpy(require_keras, k_model.predict(x, verbose=0))
        assert assert_close(model.predict(x), theirs) <= 1e-3


def test_subclassed_weights_copy_from_ours_into_keras_in_keras_order(require_keras):
    """The other direction, and the order itself: layers, weights and summary rows as Keras'."""
    k_model, model = assigned_not_called(namespace(require_keras)), assigned_not_called(namespace())
    assert [layer.name for layer in model.layers] == [layer.name for layer in k_model.layers]
    assert [layer.name for layer in model.layers] == ["late", "b1", "b2", "early"]
    model.set_weights(random_weights(["w"] * 8, model.get_weights(), seed=4))
    k_model.set_weights(model.get_weights())
    for batch in BATCHES:
        x = normal((4,))(batch)
        theirs = keras_numpy(require_keras, k_model.predict(x, verbose=0))
        assert assert_close(model.predict(x), theirs) <= 1e-3
    k_lines, lines = [], []
    k_model.summary(print_fn=lambda text, **_: k_lines.extend(text.splitlines()))
    model.summary(print_fn=lines.append)
    rows = [re.findall(r"(\w+) \(Dense\)", "\n".join(t)) for t in (k_lines, lines)]
    assert rows[0] == rows[1] == ["late", "b1", "b2", "early"]
