"""Keras arguments our model methods do not take are a ``ConfigError`` naming them, for every
model kind (``models/keras_arguments.py``); before, Python's bare ``TypeError: ... got an
unexpected keyword argument``. ``train_on_batch`` takes Keras' ``return_dict``."""

import numpy as np
import pytest

from tinygrad_edu.errors import ConfigError
from tinygrad_edu.layers import Dense, Input
from tinygrad_edu.models import Model, Sequential

X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
Y = np.random.default_rng(1).normal(size=(6, 2)).astype(np.float32)


class Net(Model):
    def __init__(self):
        super().__init__()
        self.out = Dense(2)

    def call(self, x, training=False):
        return self.out(x)


def kinds():
    inp = Input((3,))
    models = [Sequential([Dense(2, input_shape=(3,))]), Model(inp, Dense(2)(inp)), Net()]
    for model in models:
        model.compile("sgd", "mse", metrics=["mae"])
        model.build((None, 3))
    return models


KERAS_CALLS = [
    ("compile", lambda m: m.compile("sgd", "mse", run_eagerly=True), "run_eagerly"),
    ("compile", lambda m: m.compile("sgd", "mse", weighted_metrics=["mae"]), "weighted_metrics"),
    ("compile", lambda m: m.compile("sgd", "mse", steps_per_execution=4), "steps_per_execution"),
    ("evaluate", lambda m: m.evaluate(X, Y, workers=2), "workers"),
    ("predict", lambda m: m.predict(X, use_multiprocessing=True), "use_multiprocessing"),
    ("predict_on_batch", lambda m: m.predict_on_batch(X, verbose=0), "verbose"),
    ("summary", lambda m: m.summary(expand_nested=True), "expand_nested"),
    ("save", lambda m: m.save("never_written.npz", overwrite=True), "overwrite"),
    ("load_weights", lambda m: m.load_weights("never_read.npz", skip_mismatch=True), "skip_"),
]


@pytest.mark.parametrize("method, call, name", KERAS_CALLS)
def test_keras_arguments_we_do_not_take_are_config_errors_for_every_model_kind(
    method, call, name
):
    for model in kinds():
        with pytest.raises(ConfigError) as err:
            call(model)
        assert err.value.where.endswith(f".{method}") and name in err.value.got
        assert method in err.value.expected


def test_a_misspelt_argument_gets_the_closest_name_and_too_many_gets_help():
    model = kinds()[1]
    with pytest.raises(ConfigError) as err:
        model.evaluate(X, Y, batchsize=2)
    assert "batch_size" in err.value.fix
    with pytest.raises(ConfigError) as err:
        model.save("a.npz", "b.npz")
    assert "positional" in err.value.got
    exec(err.value.fix, {"model": model, "help": lambda f: f.__doc__})  # noqa: S102


def test_a_type_error_from_inside_a_method_is_not_relabelled():
    """Only a call whose arguments do not bind is refused; a TypeError the method raises itself
    (here: a loss function calling len on a number) reaches the caller as it was."""
    for model in kinds():
        model.compile("sgd", lambda y, out: len(3))
        with pytest.raises(TypeError, match="has no len"):
            model.evaluate(X, Y)


def test_train_on_batch_takes_keras_return_dict():
    for model in kinds():
        dict_form = model.train_on_batch(X, Y)
        assert list(dict_form) == ["loss", "mae"]
        assert list(model.train_on_batch(X, Y, return_dict=True)) == ["loss", "mae"]
        values = model.train_on_batch(X, Y, return_dict=False)  # Keras: [loss, *metrics]
        assert isinstance(values, list) and len(values) == 2
        with pytest.raises(ConfigError, match="True or False"):
            model.train_on_batch(X, Y, return_dict="yes")
