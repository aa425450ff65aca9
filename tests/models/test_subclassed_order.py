"""A subclassed model lists its layers, weights and optimizer parameters in the order ``__init__``
ASSIGNS them, as Keras 3 does - not the order ``call`` uses them (real Keras:
``tests/reference/test_keras_model_outputs.py``). Every Dense here maps 4 -> 4, so all kernels
are (4, 4) and all biases (4,): weights put on the wrong layer would pass every shape check."""

import json

import numpy as np
import pytest

from tinygrad_edu.errors import CheckpointError
from tinygrad_edu.layers import BatchNormalization, Dense
from tinygrad_edu.models import Model
from tinygrad_edu.saving import load_model, register_model_class
from tinygrad_edu.saving.archive import read_archive
from tinygrad_edu.saving.atomic import write_atomic

ASSIGNED = ["late", "b1", "b2", "norm", "early"]
CALLED = ["early", "b2", "norm", "b1", "late"]
X = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
Y = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)


@register_model_class
class Twisted(Model):
    """Assigns late, a nested list, a normalization, then early; call runs them the other way."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.late = Dense(4, name="late")
        self.blocks = [Dense(4, name="b1"), [Dense(4, name="b2")]]
        self.norm = BatchNormalization(name="norm")  # non-trainable weights in the middle
        self.early = Dense(4, activation="tanh", name="early")

    def call(self, x, training=False):
        x = self.blocks[1][0](self.early(x))
        x = self.blocks[0](self.norm(x, training=training))
        return self.late(x)


def built():
    model = Twisted()
    model.build((None, 4))
    return model


def weights_in(model, names, kind="weights"):
    return [w for name in names for w in getattr(model.get_layer(name), kind)]


def same_tensors(a, b):
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def test_layers_weights_and_optimizer_follow_assignment_order_after_build_and_fit():
    model = built()
    assert [layer.name for layer in model.layers] == ASSIGNED
    assert same_tensors(model.weights, weights_in(model, ASSIGNED))
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    assert [layer.name for layer in model.layers] == ASSIGNED
    assert same_tensors(model.trainable_weights, weights_in(model, ASSIGNED, "trainable_weights"))
    assert same_tensors(model.optimizer.params, model.trainable_weights)
    assert list(model.named_weights())[:2] == ["late/kernel", "late/bias"]  # save_weights' order


def test_set_weights_puts_each_array_on_the_layer_keras_lists_at_its_position():
    model = built()
    rng = np.random.default_rng(2)
    arrays = [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in model.weights]
    model.set_weights(arrays)
    lk, lb, k1, b1, k2, b2, gamma, beta, mean, var, ek, eb = arrays  # Keras' order: assigned
    h = np.tanh(X @ ek + eb) @ k2 + b2
    h = gamma * (h - mean) / np.sqrt(var + 1e-3) + beta
    expected = (h @ k1 + b1) @ lk + lb
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)
    for got, given in zip(model.get_weights(), arrays):
        np.testing.assert_array_equal(got, given)


def test_summary_lists_the_assignment_order_and_explain_the_call_order():
    model = built()
    lines = []
    model.summary(print_fn=lines.append, show_algebra=False)
    rows = [line.split()[0] for line in lines if "(Dense)" in line or "(BatchNorm" in line]
    assert rows == ASSIGNED  # Keras 3's summary of a subclassed model: model.layers
    assert [row["layer"] for row in model.explain(X[:2], print_fn=None)] == CALLED


def test_a_whole_model_file_keeps_training_where_it_stopped(tmp_path):
    model = built()
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, Y, epochs=2, batch_size=3, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    for m in (model, loaded):  # Adam's moments must sit on the weights they belong to
        m.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_file_listing_the_layers_in_call_order_is_refused_not_misread(tmp_path):
    """Files written before this order followed Keras list the layers in call order, and their
    optimizer state by that position: loading it onto the assignment order would give each
    kernel another kernel's Adam moments (same shapes). The weights still load by name."""
    model = built()
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    model.save(tmp_path / "old.npz")
    data = read_archive(tmp_path / "old.npz")
    config = json.loads(str(data["model_config"]))
    by_name = {spec["config"]["name"]: spec for spec in config["layers"]}
    config["layers"] = [by_name[name] for name in CALLED]  # the old file's order
    data["model_config"] = np.array(json.dumps(config))
    write_atomic(tmp_path / "old.npz", data)
    with pytest.raises(CheckpointError, match="call order") as err:
        load_model(tmp_path / "old.npz")
    scope = {"Twisted": Twisted, "path": tmp_path / "old.npz"}
    exec(err.value.fix, scope)  # noqa: S102 - our own fix text, run as written
    np.testing.assert_array_equal(scope["model"].predict(X), model.predict(X))
