"""Saving a whole subclassed model (``save("m.npz")`` / ``load_model``), as Keras 3 does it: the
class is registered (``@register_model_class``, Keras' ``register_keras_serializable``) or given
to ``load_model(path, custom_objects={"Net": Net})``; ``get_config()`` returns the arguments of
``__init__``; ``from_config(config)`` (default ``cls(**config)``) rebuilds it, ``load_model``
builds it for the saved input shape and loads weights, compile settings and optimizer state."""

import json

import numpy as np
import pytest

from tinygrad_edu.errors import CheckpointError, ConfigError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Model, subclassing
from tinygrad_edu.saving import load_model, register_model_class
from tinygrad_edu.saving.archive import read_archive
from tinygrad_edu.saving.atomic import write_atomic
from tinygrad_edu.summary import weights_without_storage

X = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
Y = np.random.default_rng(1).standard_normal((6, 2)).astype(np.float32)


@register_model_class
class ResidualNet(Model):
    """Keras' pattern: the arguments of __init__ in get_config, the base's name included."""

    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.proj = Dense(units, activation="relu")
        self.block = Dense(units, activation="tanh")
        self.out = Dense(2)

    def call(self, x, training=False):
        h = self.proj(x)
        return self.out(h + self.block(h))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Unregistered(Model):
    """Keras' other pattern: a from_config of its own (Keras' signature), no registration."""

    def __init__(self, width):
        super().__init__()
        self.width = width
        self.hidden = Dense(width, activation="relu")
        self.head = Dense(2)

    def call(self, x, training=False):
        return self.head(self.hidden(x))

    def get_config(self):
        return {"width": self.width}

    @classmethod
    def from_config(cls, config, layers=None):
        return cls(config["width"])


class NoConfig(Model):
    def __init__(self, units):
        super().__init__()
        self.dense = Dense(units)

    def call(self, x, training=False):
        return self.dense(x)


def trained(model):
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, Y, epochs=2, batch_size=3, verbose=0)
    return model


def test_registered_subclassed_model_round_trips_and_keeps_training(tmp_path):
    model = trained(ResidualNet(units=5, name="resnet"))
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert type(loaded) is ResidualNet and loaded.units == 5 and loaded.name == "resnet"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [w.name for w in loaded.layers] == [w.name for w in model.layers]
    # the optimizer state came along: one more epoch on both gives the same weights
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    loaded.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_unregistered_class_loads_with_custom_objects(tmp_path):
    model = Unregistered(4)
    model.build((None, 3))
    model.save(tmp_path / "u.npz")
    loaded = load_model(tmp_path / "u.npz", custom_objects={"Unregistered": Unregistered})
    assert isinstance(loaded, Unregistered) and loaded.width == 4
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_unknown_class_error_shows_the_decorator_and_custom_objects(tmp_path):
    model = Unregistered(4)
    model.build((None, 3))
    model.save(tmp_path / "u.npz")
    with pytest.raises(CheckpointError, match="unknown model class 'Unregistered'") as err:
        load_model(tmp_path / "u.npz")
    assert "@register_model_class" in err.value.fix
    assert "custom_objects={'Unregistered': Unregistered}" in err.value.fix
    with pytest.raises(ConfigError, match="custom_objects"):
        load_model(tmp_path / "u.npz", custom_objects=["Unregistered"])


def test_get_config_that_cannot_rebuild_the_model_is_refused_at_save(tmp_path):
    model = NoConfig(3)
    model.build((None, 3))
    with pytest.raises(ConfigError, match="get_config") as err:
        model.save(tmp_path / "n.npz")
    assert "def get_config(self)" in err.value.fix
    assert not (tmp_path / "n.npz").exists()


def test_unbuilt_subclassed_model_is_refused_at_save(tmp_path):
    with pytest.raises(Exception, match="call the model on data"):
        ResidualNet().save(tmp_path / "x.npz")


def test_a_config_asking_for_more_weights_than_the_file_holds_is_refused(tmp_path, monkeypatch):
    """load_model builds the subclassed model with placeholder weights first: a file whose
    arguments were edited to ask for 4 million parameters, holding 45, allocates nothing."""
    small = ResidualNet(units=2)
    small.build((None, 3))
    small.save(tmp_path / "m.npz")
    data = read_archive(tmp_path / "m.npz")
    config = json.loads(str(data["model_config"]))
    config["arguments"]["units"] = 2000
    data["model_config"] = np.array(json.dumps(config))
    write_atomic(tmp_path / "m.npz", data)
    placeholders = []  # the layers built with placeholder weights

    def spy(layers):
        layers = list(layers)
        placeholders.extend(layer.name for layer in layers)
        return weights_without_storage(layers)

    monkeypatch.setattr(subclassing, "weights_without_storage", spy)
    with pytest.raises(CheckpointError, match="parameters the config asks for"):
        load_model(tmp_path / "m.npz")
    assert placeholders == ["dense", "dense_1", "dense_2"]  # the model's own, before any build


def test_automatic_layer_names_are_unique_and_given_ones_checked(tmp_path):
    class TwoDense(Model):
        def __init__(self, clash=False):
            super().__init__()
            self.a = Dense(3, name="same" if clash else None)
            self.b = Dense(2, name="same" if clash else None)

        def call(self, x, training=False):
            return self.b(self.a(x))

    model = TwoDense()
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    model.build((None, 3))
    model.save_weights(tmp_path / "w.npz")  # two layers called "dense" lost one before
    other = TwoDense()
    other.build((None, 3))
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
    with pytest.raises(ConfigError, match="a second layer named 'same'"):
        TwoDense(clash=True)
