"""``Model``: the one base of every model kind. Its API lives on it once; what a subclass must
provide is a contract that fails loudly (``ModelContractError`` with a fix) when missing; a model
that is not a stack of layers (a residual block here) gets training, inference, weights,
description and saving from the base alone."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import set_seed
from tinygrad_edu.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    InplaceModificationError,
    NotBuiltError,
    TinygradEduError,
)
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Model, ModelContractError, Sequential, load_model
from tinygrad_edu.models.keras_arguments import KerasArguments
from tinygrad_edu.optimizers import Adam
from tinygrad_edu.saving import register_model_class

API = [
    "compile",
    "fit",
    "evaluate",
    "predict",
    "train_on_batch",
    "summary",
    "save",
    "save_weights",
    "load_weights",
    "get_weights",
    "set_weights",
    "parameters",
    "explain",
    "activations",
]


class Residual(Model):
    """``out = Dense(relu(Dense(x))) + Dense_skip(x)``: two paths from one input, no stack."""

    def __init__(self, hidden: int = 6, units: int = 2, name=None) -> None:
        super().__init__(name=name)
        self.hidden, self.units = hidden, units
        self.layers = [
            Dense(hidden, activation="relu", name="inner"),
            Dense(units, name="outer"),
            Dense(units, use_bias=False, name="skip"),
        ]

    def build(self, input_shape) -> None:
        inner, outer, skip = self.layers
        self.input_shape = (None, *tuple(input_shape)[1:])
        outer.build_for(inner.build_for(self.input_shape))
        skip.build_for(self.input_shape)

    @property
    def output_shape(self):
        return self.layers[1].output_shape if self.built else None

    def layer_calls(self, x, training=None):
        inner, outer, skip = self.layers
        h = inner(x, training=training)
        yield inner, x, h
        out = outer(h, training=training)
        yield outer, h, out
        yield skip, x, skip(x, training=training)

    def call(self, x, training=None):
        outputs = [out for _, _, out in self.layer_calls(x, training)]
        return outputs[1] + outputs[2]


@register_model_class
class SavableResidual(Residual):
    def get_config(self):
        return {
            "name": self.name,
            "hidden": self.hidden,
            "units": self.units,
            "input_shape": list(self.input_shape[1:]),
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
        }

    @classmethod
    def from_config(cls, config, layers):
        model = cls(config["hidden"], config["units"], name=config["name"])
        model.layers = layers
        model.build((None, *config["input_shape"]))
        return model


def linear_data(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.0]], np.float32))


def residual(cls=Residual) -> Residual:
    set_seed(0)
    model = cls()
    model.build((None, 3))
    model.compile(Adam(learning_rate=0.02), "mse", metrics=["mae"])
    return model


# ---------------------------------------------------------------------- one base, no mixin
def test_the_api_lives_once_on_model_and_sequential_inherits_it():
    assert Model.__bases__ == (KerasArguments,)  # it holds no API: it checks the arguments
    assert Sequential.__mro__ == (Sequential, Model, KerasArguments, object)
    assert not set(API) & set(vars(KerasArguments))
    for name in API:
        assert name in vars(Model), name
        assert name not in vars(Sequential), name
    assert tinygrad_edu.Model is Model and issubclass(ModelContractError, NotImplementedError)


def test_model_declares_its_state():
    model = Sequential([Dense(1, input_shape=(2,))], name="m")
    assert (model.name, model.optimizer, model.loss_fn, model.history) == ("m", None, None, None)
    assert model.metric_fns == [] and model.stop_training is False and model.diverged is False


# ---------------------------------------------------------------------- the contract
class Bare(Model):
    """A subclass that provides nothing."""


@pytest.mark.parametrize(
    "use, method",
    [
        (lambda m: m(np.ones((2, 3))), "call"),
        (lambda m: m.build((None, 3)), "build"),
        (lambda m: m.layer_calls(np.ones((2, 3))), "layer_calls"),
        (lambda m: m.get_config(), "get_config"),
        (lambda m: Bare.from_config({}, []), "from_config"),
    ],
    ids=["call", "build", "layer_calls", "get_config", "from_config"],
)
def test_a_missing_contract_method_says_which_and_how(use, method):
    with pytest.raises(ModelContractError) as err:
        use(Bare(name="bare"))
    assert isinstance(err.value, TinygradEduError) and isinstance(err.value, NotImplementedError)
    assert f"{method}(" in err.value.expected and "define" in err.value.fix


def test_training_a_model_without_build_stops_at_the_contract():
    model = Bare()
    model.compile("sgd", "mse")
    with pytest.raises(ModelContractError) as err:
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert "build(self, input_shape)" in err.value.fix
    assert Bare().output_shape is None and not Bare().built


def test_the_name_is_checked_for_every_model_kind():
    with pytest.raises(ConfigError) as err:
        Bare(name=3)
    assert err.value.where == "Bare()"
    assert Bare().name == "bare" and Sequential().name == "sequential"


# ---------------------------------------------------------------------- a model that is no stack
def test_a_subclassed_model_trains_evaluates_and_predicts():
    x, y = linear_data()
    model = residual()
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 30 and losses[-1] < 0.2 * losses[0]
    assert model.evaluate(x, y, return_dict=True).keys() == {"loss", "mae"}
    assert model.predict(x).shape == (64, 2)
    logs = model.train_on_batch(x[:8], y[:8])
    assert set(logs) == {"loss", "mae"} and model.optimizer.iterations == 30 * 4 + 1


def test_a_subclassed_model_describes_itself():
    x, _ = linear_data(n=4)
    model = residual()
    acts = model.activations(x)
    assert list(acts) == ["inner", "outer", "skip"] and acts["skip"].shape == (4, 2)
    rows = model.explain(x, print_fn=None)
    assert [r["input_shape"] for r in rows] == [(4, 3), (4, 6), (4, 3)]
    lines = []
    model.summary(print_fn=lines.append)
    assert any("Total params: 44" in line for line in lines)  # 3*6+6 + 6*2+2 + 3*2
    assert model.count_params() == 44 and len(model.parameters()) == 5


def test_a_subclassed_model_keeps_its_weights_by_name(tmp_path):
    x, y = linear_data()
    model = residual()
    model.fit(x, y, epochs=2, verbose=0)
    model.save_weights(tmp_path / "w.npz")
    other = residual()
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    third = residual()
    third.set_weights(model.get_weights())
    np.testing.assert_array_equal(third.predict(x), model.predict(x))


def test_save_refuses_an_unregistered_class_and_says_how_to_register(tmp_path):
    with pytest.raises(CheckpointError) as err:
        residual().save(tmp_path / "m.npz")
    assert "register_model_class" in err.value.fix and "save_weights" in err.value.fix
    assert not (tmp_path / "m.npz").exists()


def test_a_registered_model_class_round_trips_through_load_model(tmp_path):
    x, y = linear_data()
    model = residual(SavableResidual)
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert type(loaded) is SavableResidual and loaded.name == model.name
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.iterations == model.optimizer.iterations


# ---------------------------------------------------------------------- predict and set_weights
def test_predict_checks_verbose_as_fit_does(capsys):
    model = Sequential([Dense(2, input_shape=(3,))])
    for bad in (True, 3, "1", None):
        with pytest.raises(ConfigError) as err:
            model.predict(np.ones((2, 3)), verbose=bad)
        assert "verbose" in err.value.expected
    model.predict(np.ones((5, 3)), verbose="auto", batch_size=2)
    assert capsys.readouterr().out == "5 samples predicted in 3 batches\n"
    model.predict(np.ones((5, 3)), verbose=0)
    assert capsys.readouterr().out == ""


def test_set_weights_writes_through_assign():
    """In place and counted as a modification: a graph made before the write refuses to run
    backward on the old values."""
    model = Sequential([Dense(2, input_shape=(3,))])
    arrays = [w._data for w in model.weights]
    versions = [w._version for w in model.weights]
    loss = model(np.ones((2, 3)), training=True).sum()
    model.set_weights([np.full_like(w, 0.5) for w in model.get_weights()])
    assert all(w._data is a for w, a in zip(model.weights, arrays))
    assert all(w._version > v for w, v in zip(model.weights, versions))
    assert all((w._data == 0.5).all() for w in model.weights)
    with pytest.raises(InplaceModificationError):
        loss.backward()


def test_set_weights_refuses_bools_and_changes_nothing():
    model = Sequential([Dense(2, input_shape=(3,))])
    before = model.get_weights()
    with pytest.raises(DataError) as err:
        model.set_weights([np.ones((3, 2), bool), np.zeros(2)])
    assert "bool" in err.value.got and "astype" in err.value.fix
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(NotBuiltError):
        Sequential([Dense(2)]).set_weights([])
