"""Subclassed models: layers assigned as attributes are tracked (nested lists included), call is
plain Tensor code, and the same object trains through fit and through the PyTorch-style loop."""

import copy

import numpy as np
import pytest

from tinygrad_edu.errors import NotBuiltError
from tinygrad_edu.layers import Dense
from tinygrad_edu.losses import MeanSquaredError
from tinygrad_edu.models import Model, Sequential
from tinygrad_edu.optimizers import SGD
from tinygrad_edu.saving import load_model, register_model_class

rng = np.random.default_rng(0)


class MLP(Model):
    def __init__(self):
        super().__init__(name="mlp")
        self.head = Dense(1, name="head")
        self.blocks = [Dense(8, activation="relu", name="b1"), [Dense(8, name="b2")]]
        self.config = {"width": 8}  # not a layer: not tracked
        self._private = Dense(2, name="private")  # underscore: the model's own bookkeeping

    def call(self, x, training=False):
        x = self.blocks[0](x)
        x = self.blocks[1][0](x).tanh()
        return self.head(x)


def test_layers_assigned_as_attributes_are_tracked_in_assignment_order_as_keras():
    model = MLP()
    assert [layer.name for layer in model.layers] == ["head", "b1", "b2"]
    assert not model.built
    model.build((None, 3))  # call uses b1, b2, head: the order stays (test_subclassed_order.py)
    assert [layer.name for layer in model.layers] == ["head", "b1", "b2"]
    assert model.count_params() == (3 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    assert len(model.trainable_weights) == 6
    lines = []
    model.summary(print_fn=lines.append)  # Keras 3's summary: assignment order too
    assert lines[4].lstrip().startswith("head (Dense)") and "b2 (Dense)" in lines[6]


def test_fit_and_the_pytorch_loop_give_the_same_weights():
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    a, b = MLP(), MLP()
    a.build((None, 3))
    b.build((None, 3))
    start = a.get_weights()
    b.set_weights(start)
    a.compile(SGD(learning_rate=0.1), "mse")
    a.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    opt = SGD(b.trainable_weights, learning_rate=0.1)
    opt.zero_grad()
    loss = MeanSquaredError()(y, b(x, training=True))
    loss.backward()
    opt.step()
    assert not np.allclose(a.get_weights()[0], start[0])  # the step moved the weights
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_save_weights_load_weights_round_trip(tmp_path):
    model = MLP()
    x = rng.normal(size=(4, 3)).astype(np.float32)
    before = model.predict(x)
    model.save_weights(tmp_path / "w.npz")
    other = MLP()
    other.build((None, 3))
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(x), before)


def test_unbuilt_subclassed_model_says_how_to_build():
    with pytest.raises(NotBuiltError, match="call the model on data"):
        MLP().count_params()


def test_explain_and_activations_record_the_layer_calls_of_call():
    model = MLP()
    x = rng.normal(size=(2, 3)).astype(np.float32)
    rows = model.explain(x, print_fn=None)
    assert [r["layer"] for r in rows] == ["b1", "b2", "head"] and all(r["shape_ok"] for r in rows)
    acts = model.activations(x)
    np.testing.assert_allclose(acts["head"], model.predict(x), rtol=1e-6)
    assert "call" not in vars(model.head)  # the recording wrappers are gone


def test_sequential_and_functional_keep_their_own_layer_lists():
    seq = Sequential([Dense(2, input_shape=(3,))])
    seq.spare = Dense(5)  # an attribute, not a layer of the stack
    assert len(seq.layers) == 1


class Block(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = Dense(3, activation="tanh")

    def call(self, x, training=False):
        return x + self.inner(x)


@register_model_class
class WithInnerModels(Model):
    """A Sequential and a list of subclassed models as attributes (Keras tracks their weights)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = Sequential([Dense(3, activation="relu")])
        self.blocks = [Block(), Block()]
        self.head = Dense(1)

    def call(self, x, training=False):
        h = self.encoder(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def test_models_inside_a_subclassed_model_are_trained_counted_and_saved(tmp_path):
    """Their layers join model.layers in place: before, the encoder's and the blocks' 36
    weights were missing from weights, count_params, the optimizer and the saved file, and fit
    silently never changed them."""
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    model = WithInnerModels()
    model.build((None, 3))
    inner = [model.encoder.layers[0], model.blocks[0].inner, model.blocks[1].inner]
    assert model.layers == [*inner, model.head]
    assert model.count_params() == 3 * (3 * 3 + 3) + (3 + 1)
    before = [layer.get_weights()[0].copy() for layer in inner]
    model.compile(SGD(learning_rate=0.1), "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert all(not np.allclose(layer.get_weights()[0], w) for layer, w in zip(inner, before))
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "m.npz").predict(x), model.predict(x))


class Grown(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = []
        for _ in range(2):
            self.hidden.append(Dense(3, activation="tanh"))
        self.hidden += [Dense(3)]
        self.heads = {}
        self.heads["out"] = Dense(1)

    def call(self, x, training=False):
        for layer in self.hidden:
            x = layer(x)
        return self.heads["out"](x)


def test_layers_added_to_an_assigned_list_or_dict_later_are_tracked_as_keras():
    """``self.hidden = []`` then ``append``: before, those layers were in no weight list, so
    fit never trained them (here: every layer - fit refused; with one layer assigned directly,
    the appended ones stayed at their initial values silently)."""
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    model = Grown()
    model.build((None, 3))
    assert model.layers == [*model.hidden, model.heads["out"]]
    assert model.count_params() == 3 * (3 * 3 + 3) + (3 + 1)
    before = model.get_weights()
    model.compile(SGD(learning_rate=0.1), "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    twin = copy.deepcopy(model)  # the copy's containers track into the copy
    twin.hidden.append(Dense(2))
    assert len(twin.layers) == 5 and len(model.layers) == 4
