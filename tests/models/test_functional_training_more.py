"""Training a functional model with several outputs: metrics and logs, ``predict``'s structure,
per-output ``sample_weight`` and ``class_weight`` - each as Keras 3.15.1 does it (checked with
real Keras, torch backend; the values themselves against Keras: tests/reference/
test_keras_functional_logs.py).

What Keras does, and so what we do:

- ``metrics=`` for several outputs: a dict by output name (outputs left out get none) or a list
  with one entry per output (a metric, a list or None). A flat list of another length raises
  (``ValueError: Invalid metrics``); we raise ``ConfigError`` with the dict form as the fix.
- logs: ``loss``, ``<output>_loss`` for each output (only with several outputs), then
  ``<output>_<metric>``; ``evaluate`` lists them in that order with the metrics sorted by name;
  ``val_`` in front for validation data.
- ``predict``: ``outputs={...}`` -> a dict by those keys (also for one output), a list of
  several -> a list, ``outputs=[one]`` or one tensor -> the array.
- ``sample_weight``: a list or a dict by output name (all outputs: a partial dict raises), or one
  array used for every output; each ``<output>_loss`` is ``sum_i(w_i * l_i) / B``.
- ``class_weight`` with several outputs raises ``ValueError: class_weight is only supported for
  Models with a single output`` (fit; train_on_batch fails inside numpy): ``ConfigError`` here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu.errors import ConfigError, DataError
from tinygrad_edu.layers import Concatenate, Dense, Input
from tinygrad_edu.models import Model

rng = np.random.default_rng(0)
N = 12
X = rng.normal(size=(N, 4)).astype(np.float32)
Y_A = rng.normal(size=(N, 1)).astype(np.float32)
Y_B = np.arange(N) % 3
LOSSES = {"out_a": "mse", "out_b": "sparse_categorical_crossentropy"}


def heads(as_dict=False, keys=("out_a", "out_b")):
    """One input, a hidden layer, a regression head 'out_a' and a 3-class head 'out_b'."""
    tinygrad_edu.set_seed(0)
    inp = Input(shape=(4,), name="x")
    h = Dense(8, activation="relu", name="h")(inp)
    a, b = Dense(1, name="out_a")(h), Dense(3, activation="softmax", name="out_b")(h)
    return Model(inp, dict(zip(keys, (a, b))) if as_dict else [a, b])


def manual_losses(model, w_a=None, w_b=None):
    """Each output's loss by hand: Keras' sum(w * l) / B (w = 1: the mean)."""
    p_a, p_b = model.predict(X)
    w_a = np.ones(N) if w_a is None else w_a
    w_b = np.ones(N) if w_b is None else w_b
    l_a = (p_a[:, 0] - Y_A[:, 0]) ** 2
    l_b = -np.log(p_b[np.arange(N), Y_B])
    return np.sum(w_a * l_a) / N, np.sum(w_b * l_b) / N


# ---------------------------------------------------------------------- metrics and logs
@pytest.mark.parametrize(
    "metrics",
    [
        {"out_a": "mae", "out_b": ["accuracy"]},
        [["mae"], ["accuracy"]],
        ["mae", "accuracy"],  # a list of one entry per output: one metric each (Keras)
    ],
)
def test_metrics_per_output_are_logged_by_name_in_keras_order(metrics):
    model = heads()
    model.compile("sgd", loss=LOSSES, loss_weights=[1.0, 0.5], metrics=metrics)
    names = ["loss", "out_a_loss", "out_b_loss", "out_a_mae", "out_b_accuracy"]
    assert model.metrics_names == names
    logs = model.evaluate(X, [Y_A, Y_B], return_dict=True)
    assert list(logs) == names
    loss_a, loss_b = manual_losses(model)
    p_a, p_b = model.predict(X)
    expected = [loss_a + 0.5 * loss_b, loss_a, loss_b]
    expected += [np.mean(np.abs(p_a - Y_A)), np.mean(p_b.argmax(-1) == Y_B)]
    np.testing.assert_allclose(model.evaluate(X, [Y_A, Y_B]), expected, rtol=1e-5)
    history = model.fit(
        X, [Y_A, Y_B], epochs=1, verbose=0, validation_data=(X, {"out_a": Y_A, "out_b": Y_B})
    ).history
    assert list(history) == names + [f"val_{n}" for n in names]


def test_metrics_left_out_and_metrics_sorted_by_name():
    model = heads()
    model.compile("sgd", loss=LOSSES, metrics=[None, ["sparse_categorical_accuracy", "accuracy"]])
    assert model.metrics_names[3:] == ["out_b_accuracy", "out_b_sparse_categorical_accuracy"]
    logs = model.train_on_batch(X, [Y_A, Y_B])
    assert set(logs) == set(model.metrics_names) and np.isfinite(list(logs.values())).all()


def test_metric_forms_keras_refuses_are_config_errors():
    model = heads()
    model.compile("sgd", loss=LOSSES)  # a good compile, kept by the refusals below
    with pytest.raises(ConfigError, match="a dict by output name") as err:
        model.compile("sgd", loss=LOSSES, metrics=["mae", "mse", "accuracy"])
    assert "metrics={'out_a': ['mae'], 'out_b': ['mae']}" in err.value.fix
    with pytest.raises(ConfigError, match="output names"):
        model.compile("sgd", loss=LOSSES, metrics={"nope": "mae"})
    with pytest.raises(ConfigError, match="metric name"):
        model.compile("sgd", loss=LOSSES, metrics={"out_a": "not_a_metric"})
    assert model.metrics_names == ["loss", "out_a_loss", "out_b_loss"]


def test_one_output_keeps_plain_names_and_total_loss_includes_penalties():
    tinygrad_edu.set_seed(0)
    inp = Input(shape=(4,))
    reg = Dense(1, name="o", kernel_regularizer="l2")
    single = Model(inp, {"o": reg(inp)})
    single.compile("sgd", loss={"o": "mse"}, metrics={"o": "mae"})
    assert single.metrics_names == ["loss", "mae"]  # Keras: no 'o_loss' for one output
    two = heads()
    two.compile("sgd", loss=LOSSES)
    logs = two.evaluate(X, [Y_A, Y_B], return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["out_a_loss"] + logs["out_b_loss"], rtol=1e-6)
    penalty = float(single.regularization_losses()[0].data)
    logs = single.evaluate(X, Y_A, return_dict=True)
    mse = np.mean((single.predict(X)["o"] - Y_A) ** 2)
    np.testing.assert_allclose(logs["loss"], mse + penalty, rtol=1e-5)


# ---------------------------------------------------------------------- predict's structure
def test_predict_returns_the_structure_the_outputs_were_given_in():
    as_dict = heads(as_dict=True, keys=("first", "second"))
    found = as_dict.predict(X)
    assert list(found) == ["first", "second"] and found["second"].shape == (N, 3)
    assert list(as_dict.predict_on_batch(X)) == ["first", "second"]
    as_list = heads()
    assert isinstance(as_list.predict(X), list) and len(as_list.predict_on_batch(X)) == 2
    np.testing.assert_allclose(as_list.predict(X)[1], found["second"], rtol=1e-6)
    inp = Input(shape=(4,))
    out = Dense(2, name="o")(inp)
    assert isinstance(Model(inp, [out]).predict(X), np.ndarray)  # Keras 3: the array
    assert isinstance(Model(inp, out).predict(X), np.ndarray)
    assert list(Model(inp, {"o": out}).predict(X)) == ["o"]  # Keras 3: a dict even for one


def test_dict_outputs_name_losses_and_logs_and_survive_the_config_round_trip():
    model = heads(as_dict=True, keys=("first", "second"))
    assert model.output_names == ["first", "second"]
    model.compile("sgd", loss={"first": "mse", "second": "sparse_categorical_crossentropy"})
    assert model.metrics_names == ["loss", "first_loss", "second_loss"]
    config = model.get_config()
    rebuilt = type(model).from_config(config, model.layers)
    assert rebuilt.output_names == ["first", "second"]
    np.testing.assert_allclose(rebuilt.predict(X)["first"], model.predict(X)["first"])


# ---------------------------------------------------------------------- sample and class weights
@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0.0, 3.0), min_size=N, max_size=N), st.booleans())
def test_per_output_sample_weights_weight_each_output_as_keras(weights, as_dict):
    model = heads()
    model.compile("sgd", loss=LOSSES, loss_weights=[1.0, 0.5])
    w_a, w_b = np.array(weights), np.array(weights[::-1])
    sw = {"out_a": w_a, "out_b": w_b} if as_dict else [w_a, w_b]
    logs = model.evaluate(X, [Y_A, Y_B], sample_weight=sw, return_dict=True)
    loss_a, loss_b = manual_losses(model, w_a, w_b)
    found = [logs["loss"], logs["out_a_loss"], logs["out_b_loss"]]
    np.testing.assert_allclose(found, [loss_a + 0.5 * loss_b, loss_a, loss_b], rtol=1e-5, atol=1e-7)


def test_one_sample_weight_array_weights_every_output():
    model = heads()
    model.compile("sgd", loss=LOSSES)
    w = np.linspace(0, 2, N)
    logs = model.test_on_batch(X, {"out_a": Y_A, "out_b": Y_B}, sample_weight=w, return_dict=True)
    np.testing.assert_allclose(
        [logs["out_a_loss"], logs["out_b_loss"]], manual_losses(model, w, w), rtol=1e-5
    )
    before = model.get_weights()
    model.train_on_batch(X, [Y_A, Y_B], sample_weight=[np.zeros(N), np.zeros(N)])
    for old, new in zip(before, model.get_weights()):  # zero weights: zero gradient
        np.testing.assert_array_equal(old, new)


def test_bad_sample_weights_are_refused_with_the_form_to_use():
    model = heads()
    model.compile("sgd", loss=LOSSES)
    with pytest.raises(DataError, match="one sample_weight array per output") as err:
        model.fit(X, [Y_A, Y_B], sample_weight={"out_a": np.ones(N)}, verbose=0)
    assert "'out_b': np.ones(12)" in err.value.fix
    with pytest.raises(ConfigError, match="one entry per output"):
        model.evaluate(X, [Y_A, Y_B], sample_weight=[np.ones(N)] * 3)
    with pytest.raises(DataError, match=r"shape \(12,\)"):
        model.evaluate(X, [Y_A, Y_B], sample_weight=[np.ones(N), np.ones(N - 1)])
    with pytest.raises(DataError, match="finite sample weights >= 0"):
        model.train_on_batch(X, [Y_A, Y_B], sample_weight=[np.ones(N), -np.ones(N)])


def test_class_weight_is_refused_for_several_outputs_and_works_for_one():
    model = heads()
    model.compile("sgd", loss=LOSSES)
    for call in (
        lambda: model.fit(X, [Y_A, Y_B], class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0),
        lambda: model.train_on_batch(X, [Y_A, Y_B], class_weight={0: 1.0, 1: 2.0, 2: 1.0}),
    ):
        with pytest.raises(ConfigError, match="single output") as err:
            call()
        assert "sample_weight={'out_b'" in err.value.fix
    tinygrad_edu.set_seed(0)
    inp = Input(shape=(4,))
    one = Model(inp, {"cls": Dense(3, activation="softmax", name="cls")(inp)})
    one.compile("sgd", loss={"cls": "sparse_categorical_crossentropy"}, loss_weights={"cls": 2.0})
    table = {0: 1.0, 1: 3.0, 2: 0.5}
    w = np.array([table[c] for c in Y_B])
    p = one.predict(X)["cls"]
    expected = 2.0 * np.sum(w * -np.log(p[np.arange(N), Y_B])) / N
    np.testing.assert_allclose(one.evaluate(X, Y_B, sample_weight=w), expected, rtol=1e-5)
    logs = one.train_on_batch(X, Y_B, class_weight=table)  # the loss before the step
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)
    with pytest.raises(ConfigError, match="not both"):
        one.train_on_batch(X, Y_B, sample_weight=np.ones(N), class_weight=table)


def test_targets_in_another_form_within_one_call_are_refused_not_mis_split():
    model = heads()
    model.compile("sgd", loss={"out_a": "mse", "out_b": "categorical_crossentropy"})
    one_hot = np.eye(3)[Y_B]
    model.fit(X, [Y_A, one_hot], epochs=1, verbose=0)
    with pytest.raises(DataError, match="output 'out_b'"):  # labels where one-hot rows are
        model.fit(X, [Y_A, one_hot], validation_data=(X, [Y_A, Y_B[:, None]]), verbose=0)
    sparse = heads()
    sparse.compile("sgd", loss=LOSSES)
    with pytest.raises(DataError, match="one form"):  # labels (N,) then (N, 1): both valid
        sparse.fit(X, [Y_A, Y_B], validation_data=(X, [Y_A, Y_B[:, None]]), verbose=0)
    with pytest.raises(DataError, match=r"none for \['out_b'\]"):
        model.evaluate(X, {"out_a": Y_A})
    with pytest.raises(DataError, match="same number of samples"):
        model.evaluate(X, [Y_A, one_hot[:-1]])


def two_inputs():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    return Model([a, b], Dense(1)(Concatenate()([a, b])))


def test_jit_compile_runs_a_one_input_one_output_model_and_refuses_the_others():
    """Keras' compile(jit_compile=True): a functional model took no such argument (a raw
    TypeError). One input, one output and one loss replay as Sequential does (same numbers as
    eager); several inputs or outputs, or per-output settings, are refused before anything
    changes - their packed data would meet the replay's capture only at fit's first step."""
    histories = []
    for jit_compile in (False, True):
        tinygrad_edu.set_seed(0)
        inp = Input(shape=(4,))
        model = Model(inp, Dense(3, activation="softmax")(Dense(8, activation="relu")(inp)))
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], None, jit_compile)
        histories.append(model.fit(X, Y_B, epochs=3, batch_size=5, verbose=0, seed=1).history)
    assert model.train_function is not None and histories[0] == histories[1]
    for model, chosen in [
        (heads(), {"loss": "mse"}),
        (heads(), {"loss": LOSSES}),
        (heads(), {"loss": ["mse", None]}),
        (two_inputs(), {"loss": "mse"}),
    ]:
        with pytest.raises(ConfigError, match="one input and one output") as err:
            model.compile("sgd", jit_compile=True, **chosen)
        assert model.optimizer is None
        exec(err.value.fix, {"model": model})  # noqa: S102 - our own fix, run as written
        assert model.train_function is None
    inp = Input(shape=(4,))
    one_output = Model(inp, Dense(1)(inp))
    with pytest.raises(ConfigError, match="per-output"):
        one_output.compile("sgd", loss=["mse"], jit_compile=True)


@pytest.mark.parametrize("metrics", [[["mae"]], [None], ["mae"], "mae", [("mae", "mse")]])
def test_one_output_takes_its_metrics_in_each_keras_form(metrics):
    """One output: metrics=[['mae']] (the one-entry-per-output list), [None], ['mae'], 'mae' or
    [('mae', 'mse')], as Keras 3 takes them; [['mae']] was refused ("expected a metric name,
    got ['mae']")."""
    inp = Input(shape=(4,))
    model = Model(inp, Dense(1, name="out")(inp))
    model.compile("sgd", loss=["mse"], loss_weights=[0.5], metrics=metrics)
    logs = model.evaluate(X, Y_A, return_dict=True)
    p = model.predict(X)
    expected = {"loss": 0.5 * np.mean((p - Y_A) ** 2)}
    if metrics != [None]:
        expected["mae"] = np.mean(np.abs(p - Y_A))
    if metrics == [("mae", "mse")]:
        expected["mse"] = np.mean((p - Y_A) ** 2)
    assert logs == pytest.approx(expected, rel=1e-5)
