"""Keras' training API: compile, fit (History, validation, epochs, shuffling, progress output),
evaluate, train_on_batch, regularization in the reported loss, and a model that really learns."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import losses, metrics, set_seed
from tinygrad_edu.callbacks import Callback, History
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.errors import DataError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from model_helpers import Probe
from tinygrad_edu.optimizers import SGD, Adam, RMSprop


@pytest.fixture
def separable():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def classifier(n_in: int = 4, optimizer=None, metrics_=("accuracy",), **first) -> Sequential:
    set_seed(0)
    model = Sequential(
        [Dense(8, activation="relu", input_shape=(n_in,), **first), Dense(2, activation="softmax")]
    )
    model.compile(
        optimizer or Adam(learning_rate=0.01),
        "sparse_categorical_crossentropy",
        metrics=list(metrics_) if metrics_ else None,
    )
    return model


def indexed(n: int = 20):
    """x whose first column is the row index (to see which rows a model was fed), y regression."""
    x = np.stack([np.arange(n), np.linspace(-1, 1, n)], axis=1).astype(np.float32)
    return x, (0.1 * x[:, :1] - x[:, 1:]).astype(np.float32)


def probed_regressor(lr: float = 1e-3):
    probe = Probe(input_shape=(2,))
    model = Sequential([probe, Dense(1)])
    model.compile(Adam(learning_rate=lr), "mse")
    return model, probe


def row_ids(batches) -> list:
    return [[int(i) for i in b[:, 0]] for b in batches]


# ---------------------------------------------------------------------- compile
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "Adam"])
@pytest.mark.parametrize(
    "loss,target",
    [
        ("sparse_categorical_crossentropy", "labels"),
        ("categorical_crossentropy", "one_hot"),
        ("mse", "one_hot"),
    ],
)
def test_compile_with_keras_strings(separable, optimizer, loss, target):
    x, y = separable
    model = classifier()
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    targets = y if target == "labels" else np.eye(2, dtype=np.float32)[y]
    history = model.fit(x, targets, epochs=1, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert np.isfinite(history.history["loss"][0]) and 0 <= history.history["accuracy"][0] <= 1


def test_compile_binary_crossentropy_string():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)[:, None]
    set_seed(0)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and "accuracy" in history.history


def test_compile_with_objects(separable):
    x, y = separable
    model = classifier()
    opt = RMSprop(learning_rate=0.01)
    model.compile(
        optimizer=opt,
        loss=losses.SparseCategoricalCrossentropy(),
        metrics=[metrics.sparse_categorical_accuracy],
    )
    assert model.optimizer is opt
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}
    # by identity: == on Tensors is elementwise, so `p in list` would compare values
    assert all(any(p is q for q in opt.params) for p in model.parameters())


def test_compile_with_a_plain_loss_function(separable):
    x, y = separable
    model = classifier()
    model.compile("sgd", losses.sparse_categorical_crossentropy)
    assert len(model.fit(x, y, verbose=0).history["loss"]) == 1


# ---------------------------------------------------------------------- fit and History
def test_fit_returns_a_history_with_one_value_per_epoch(separable):
    x, y = separable
    model = classifier()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert isinstance(history, History) and model.history is history
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_fit_epoch_loss_is_the_batch_size_weighted_mean_of_the_steps(separable):
    """fit == the same train_on_batch steps by hand (SGD, no shuffling, last batch smaller)."""
    x, y = separable
    x, y = x[:40], y[:40]
    a = classifier(optimizer=SGD(learning_rate=0.1))
    b = classifier(optimizer=SGD(learning_rate=0.1))
    b.set_weights(a.get_weights())
    history = a.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    logs = [
        (b.train_on_batch(x[s : s + 16], y[s : s + 16]), len(x[s : s + 16]))
        for s in range(0, 40, 16)
    ]
    for key in ("loss", "accuracy"):
        expected = sum(log[key] * n for log, n in logs) / 40
        assert history.history[key][0] == pytest.approx(expected, rel=1e-5)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_validation_split_holds_out_the_last_rows_before_shuffling():
    x, y = indexed(20)
    model, probe = probed_regressor()
    history = model.fit(
        x, y, epochs=2, batch_size=4, validation_split=0.25, shuffle=True, verbose=0, seed=3
    )
    trained = row_ids(probe.seen(training=True))
    validated = row_ids(probe.seen(training=False))
    assert sorted(i for b in trained for i in b) == sorted(list(range(15)) * 2)  # never 15..19
    assert [i for b in validated for i in b] == list(range(15, 20)) * 2  # in order, each epoch
    assert [i for b in trained for i in b][:15] != list(range(15))  # shuffled
    assert set(history.history) == {"loss", "val_loss"}
    assert len(history.history["val_loss"]) == 2
    # the reported val_loss is the loss on exactly those rows after the epoch
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[15:], y[15:]), rel=1e-5
    )


@given(n=st.integers(2, 40), split=st.floats(0.01, 0.95))
def test_validation_split_holds_out_as_many_rows_as_keras(n, split):
    """Keras 3 trains on the first floor(n * (1 - split)) rows and validates on the rest (11
    rows at 0.3: 4 held out, where int(11 * 0.3) would hold out 3); it refuses a split that
    leaves one side empty."""
    at = int(np.floor(n * (1.0 - split)))  # keras/src/trainers/data_adapters/array_slicing.py
    x, y = indexed(n)
    model, probe = probed_regressor()
    if at in (0, n):
        with pytest.raises(DataError):
            model.fit(x, y, epochs=1, batch_size=n, validation_split=split, verbose=0)
        return
    model.fit(x, y, epochs=1, batch_size=n, validation_split=split, shuffle=False, verbose=0)
    assert row_ids(probe.seen(training=True)) == [list(range(at))]
    assert row_ids(probe.seen(training=False)) == [list(range(at, n))]


def test_validation_split_gives_val_metrics(separable):
    x, y = separable
    history = classifier().fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 2 for v in history.history.values())


def test_validation_data_is_evaluated_each_epoch_and_never_trained_on():
    x, y = indexed(20)
    model, probe = probed_regressor()
    x_val, y_val = x[:6] + 100, y[:6]
    history = model.fit(
        x[6:], y[6:], epochs=3, batch_size=5, validation_data=(x_val, y_val), verbose=0
    )
    assert all(b[:, 0].max() < 100 for b in probe.seen(training=True))
    validated = probe.seen(training=False)
    assert all(b[:, 0].min() >= 100 for b in validated)
    assert sum(len(b) for b in validated) == 3 * 6
    assert all(not grad for _, mode, grad in probe.calls if not mode)  # no graph for validation
    assert len(history.history["val_loss"]) == 3
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x_val, y_val), rel=1e-5)


def test_validation_data_wins_over_validation_split():
    x, y = indexed(20)
    model, probe = probed_regressor()
    model.fit(
        x,
        y,
        epochs=1,
        batch_size=20,
        validation_split=0.5,
        validation_data=(x[:2], y[:2]),
        verbose=0,
    )
    assert sum(len(b) for b in probe.seen(training=True)) == 20
    assert row_ids(probe.seen(training=False)) == [[0, 1]]


def test_epochs_zero_trains_nothing(separable, capsys):
    x, y = separable
    model = classifier()
    before = model.get_weights()
    history = model.fit(x, y, epochs=0)
    assert history.history == {} and history.epoch == []
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert capsys.readouterr().out == ""


def test_initial_epoch_resumes_the_count(separable, capsys):
    x, y = separable
    history = classifier().fit(x, y, epochs=4, initial_epoch=2, verbose=2)
    assert history.epoch == [2, 3] and len(history.history["loss"]) == 2
    out = capsys.readouterr().out
    assert "Epoch 3/4" in out and "Epoch 4/4" in out and "Epoch 1/4" not in out


def test_initial_epoch_equal_to_epochs_trains_nothing(separable):
    x, y = separable
    model = classifier()
    before = model.get_weights()
    assert model.fit(x, y, epochs=2, initial_epoch=2, verbose=0).epoch == []
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shuffle_false_feeds_the_rows_in_order_every_epoch():
    x, y = indexed(10)
    model, probe = probed_regressor()
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert row_ids(probe.seen(training=True)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] * 2


def test_shuffle_true_feeds_every_row_once_per_epoch_in_a_new_order():
    x, y = indexed(12)
    model, probe = probed_regressor()
    model.fit(x, y, epochs=2, batch_size=5, shuffle=True, verbose=0, seed=1)
    trained = row_ids(probe.seen(training=True))
    assert [len(b) for b in trained] == [5, 5, 2] * 2
    first = [i for b in trained[:3] for i in b]
    second = [i for b in trained[3:] for i in b]
    assert sorted(first) == sorted(second) == list(range(12))
    assert first != list(range(12)) and first != second


def test_fit_with_the_same_seed_is_reproducible(separable):
    x, y = separable
    results = []
    for _ in range(2):
        model = classifier()
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=7)
        results.append((history.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_callbacks_see_every_batch_and_epoch(separable):
    class Count(Callback):
        def __init__(self):
            super().__init__()
            self.batches, self.epochs = 0, []

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(dict(logs))

    x, y = separable
    counter = Count()
    classifier().fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[counter])
    assert counter.batches == 2 * 5 and len(counter.epochs) == 2
    assert set(counter.epochs[0]) == {"loss", "accuracy"}


# ---------------------------------------------------------------------- evaluate
def test_evaluate_without_metrics_returns_a_float(separable):
    x, y = separable
    model = classifier(metrics_=())
    value = model.evaluate(x, y)
    assert isinstance(value, float) and value > 0


def test_evaluate_with_metrics_returns_loss_then_metrics(separable):
    x, y = separable

    def positive_rate(y_true, y_pred):
        return float(np.mean(np.asarray(y_pred).argmax(axis=1) == 1))

    model = classifier(metrics_=("accuracy", positive_rate))
    values = model.evaluate(x, y)
    assert isinstance(values, list) and len(values) == 3
    assert values == list(model.evaluate(x, y, return_dict=True).values())
    assert list(model.evaluate(x, y, return_dict=True)) == ["loss", "accuracy", "positive_rate"]
    assert values[2] == pytest.approx(float(np.mean(model.predict(x).argmax(axis=1) == 1)))


def test_evaluate_return_dict(separable):
    x, y = separable
    out = classifier().evaluate(x, y, return_dict=True)
    assert isinstance(out, dict) and list(out) == ["loss", "accuracy"]


@pytest.mark.parametrize("batch_size", [7, 48, 100])
def test_evaluate_equals_the_loss_and_accuracy_on_the_whole_set(separable, batch_size):
    x, y = separable
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0)
    loss, acc = model.evaluate(x, y, batch_size=batch_size)
    probs = model.predict(x)
    assert loss == pytest.approx(
        float(losses.sparse_categorical_crossentropy(y, probs).data), rel=1e-5
    )
    assert acc == pytest.approx(float(np.mean(probs.argmax(axis=1) == y)), abs=1e-12)


@given(n=st.integers(1, 30), batch_size=st.integers(1, 40))
def test_evaluate_is_the_size_weighted_mean_over_batches(n, batch_size):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = rng.normal(size=(n, 2)).astype(np.float32)
    set_seed(0)
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mae"])
    loss, mae = model.evaluate(x, y, batch_size=batch_size)
    pred = model.predict(x)
    assert loss == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-4, abs=1e-7)
    assert mae == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-4, abs=1e-7)


def test_evaluate_changes_nothing(separable):
    x, y = separable
    model = Sequential([Dense(8, input_shape=(4,)), Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.get_weights()
    model.evaluate(x, y)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert all(w.grad is None for w in model.weights)


# ---------------------------------------------------------------------- train_on_batch
def test_train_on_batch_returns_the_batch_logs_and_updates_the_weights(separable):
    x, y = separable
    xb, yb = x[:8], y[:8]
    model = classifier()
    probs = model.predict(xb)
    before = model.get_weights()
    logs = model.train_on_batch(xb, yb)
    assert set(logs) == {"loss", "accuracy"}
    # the logs describe the batch as it was before the step
    assert logs["loss"] == pytest.approx(
        float(losses.sparse_categorical_crossentropy(yb, probs).data), rel=1e-5
    )
    assert logs["accuracy"] == pytest.approx(float(np.mean(probs.argmax(1) == yb)))
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert all(w.grad is None or not np.any(w.grad) for w in model.weights)


def test_train_on_batch_repeated_lowers_the_batch_loss(separable):
    x, y = separable
    model = classifier()
    first = model.train_on_batch(x, y)["loss"]
    for _ in range(20):
        last = model.train_on_batch(x, y)["loss"]
    assert last < first


# ---------------------------------------------------------------------- regularization
def test_regularization_penalties_are_in_the_reported_loss(separable):
    x, y = separable
    model = classifier(kernel_regularizer="l2")  # Keras' default factor 0.01
    probs = model.predict(x)
    data_loss = float(losses.sparse_categorical_crossentropy(y, probs).data)
    kernel = model.layers[0].kernel.data.astype(np.float64)
    penalty = 0.01 * float(np.sum(kernel**2))
    assert penalty > 1e-3
    assert model.evaluate(x, y)[0] == pytest.approx(data_loss + penalty, rel=1e-5)
    logs = model.train_on_batch(x, y)
    assert logs["loss"] == pytest.approx(data_loss + penalty, rel=1e-5)
    assert len(model.regularization_losses()) == 1


@pytest.mark.parametrize("batch", [1, 5, 48])
def test_an_activity_penalty_is_per_sample_as_keras(separable, batch):
    """Keras 3 divides an activity regularizer's penalty by the batch size (layer.py:
    ``divide_no_nan(loss, batch_size)``): l1 of a Dense's outputs over 5 samples adds
    0.01 * sum|h| / 5. Before, the sum itself was added (Keras 1.197, ours 2.339 on a 5-sample
    batch), and the penalty grew with the batch size."""
    x, y = separable
    model = classifier(metrics_=None, activity_regularizer="l1")
    xb, yb = x[:batch], y[:batch]
    probs = model.predict(xb)
    data_loss = float(losses.sparse_categorical_crossentropy(yb, probs).data)
    kernel, bias = (w.data.astype(np.float64) for w in model.layers[0].weights)
    hidden = np.maximum(xb.astype(np.float64) @ kernel + bias, 0)
    penalty = 0.01 * np.abs(hidden).sum() / batch
    assert model.evaluate(xb, yb, batch_size=batch) == pytest.approx(data_loss + penalty, rel=1e-5)
    assert model.train_on_batch(xb, yb)["loss"] == pytest.approx(data_loss + penalty, rel=1e-5)


def test_regularization_shows_up_in_the_fit_history(separable):
    x, y = separable
    plain, regular = classifier(), classifier(kernel_regularizer="l2")
    regular.set_weights(plain.get_weights())
    kernel = plain.layers[0].kernel.data.astype(np.float64)
    p = plain.fit(x, y, epochs=1, batch_size=48, shuffle=False, verbose=0)
    r = regular.fit(x, y, epochs=1, batch_size=48, shuffle=False, verbose=0)
    # one step on one batch: the reported loss is taken before the update
    assert r.history["loss"][0] - p.history["loss"][0] == pytest.approx(
        0.01 * float(np.sum(kernel**2)), rel=1e-4
    )


# ---------------------------------------------------------------------- progress output
def test_verbose_1_prints_epochs_and_a_finished_bar(separable, capsys):
    x, y = separable
    classifier().fit(x, y, epochs=2, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line]
    assert lines[0] == "Epoch 1/2" and "Epoch 2/2" in lines
    bars = [line for line in lines if "[" in line]
    assert len(bars) == 2
    for bar in bars:
        assert re.match(
            r"3/3 \[=+\] - \d+s \d+(ms|us)/step - loss: \d+\.\d{4} - "
            r"accuracy: \d\.\d{4}$",
            bar,
        ), bar
    assert "\r" not in out  # a captured stream gets only the finished line


def test_verbose_2_prints_one_line_per_epoch_without_a_bar(separable, capsys):
    x, y = separable
    classifier().fit(x, y, epochs=2, batch_size=16, verbose=2, validation_split=0.25)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines[0::2] == ["Epoch 1/2", "Epoch 2/2"] and len(lines) == 4
    for line in lines[1::2]:
        assert "[" not in line and "=" not in line
        assert re.match(
            r"3/3 - \d+s \d+(ms|us)/step - loss: .* - val_loss: \d+\.\d{4} - "
            r"val_accuracy: \d\.\d{4}$",
            line,
        ), line


def test_verbose_0_is_silent(separable, capsys):
    x, y = separable
    model = classifier()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    model.evaluate(x, y)
    model.predict(x)
    model.train_on_batch(x, y)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------- learning
def test_a_small_mlp_learns_synthetic_digits():
    (x_train, y_train), (x_test, y_test) = load_synthetic_digits(600, 200)
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    set_seed(0)
    model = Sequential(
        [Dense(64, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]
    _, accuracy = model.evaluate(x_test, y_test)
    assert accuracy > 0.5  # chance is 0.1


def test_regression_with_mae_and_mse_metrics():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    set_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(Adam(learning_rate=0.05), "mse", metrics=["mae", "mse"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "mae", "mse"}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    for got, want in zip(history.history["mse"], history.history["loss"]):
        assert got == pytest.approx(want, rel=1e-5)  # mse metric == mse loss
    loss, mae, mse = model.evaluate(x, y)
    pred = model.predict(x)
    assert mae == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)
    assert mse == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-5)
    assert loss == pytest.approx(mse, rel=1e-5)


# ---------------------------------------------------------------------- arguments
def _refused(call, separable, **kwargs):
    """``call`` refuses ``kwargs`` with a ConfigError that teaches, before changing any weight."""
    from tinygrad_edu.errors import ConfigError

    x, y = separable
    model = classifier()
    before = model.get_weights()
    fn = {
        "fit": lambda: model.fit(x, y, **{"verbose": 0, **kwargs}),
        "evaluate": lambda: model.evaluate(x, y, **kwargs),
        "train_on_batch": lambda: model.train_on_batch(x, y, **kwargs),
    }[call]
    with pytest.raises(ConfigError) as err:
        fn()
    e = err.value
    assert e.where and e.fix and e.expected is not None and e.got is not None
    assert call in e.where
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    return e


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_size": 32.5}, "batch_size"),
        ({"batch_size": np.float64(32)}, "batch_size"),
        ({"epochs": "3"}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"epochs": 2.0}, "epochs"),
        ({"initial_epoch": True}, "initial_epoch"),
        ({"epochs": 2, "initial_epoch": 3}, "initial_epoch"),
        ({"verbose": True}, "verbose"),
        ({"verbose": "1"}, "verbose"),
        ({"verbose": 1.0}, "verbose"),
        ({"verbose": 3}, "verbose"),
        ({"verbose": -1}, "verbose"),
        ({"verbose": None}, "verbose"),
        ({"shuffle": "false"}, "shuffle"),
        ({"shuffle": 0}, "shuffle"),
        ({"shuffle": None}, "shuffle"),
        ({"check_finite": "no"}, "check_finite"),
        ({"seed": 1.5}, "seed"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"validation_split": True}, "validation_split"),
        ({"sample_weight": np.ones(48), "class_weight": {0: 1.0, 1: 2.0}}, "sample_weight"),
        ({"class_weight": {0: "high"}}, "class_weight"),
    ],
)
def test_fit_refuses_arguments_it_would_have_to_reinterpret(separable, kwargs, name):
    e = _refused("fit", separable, **kwargs)
    assert name in e.expected


def test_validation_data_of_four_items_is_refused_not_ignored(separable):
    x, y = separable
    e = _refused("fit", separable, validation_data=(x, y, np.ones(len(x)), np.ones(len(x))))
    assert "length 4" in e.got and "(x_val, y_val)" in e.expected


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"verbose": True}, "verbose"),
        ({"verbose": "0"}, "verbose"),
        ({"return_dict": "yes"}, "return_dict"),
        ({"check_finite": 1}, "check_finite"),
        ({"batch_size": 8.0}, "batch_size"),
    ],
)
def test_evaluate_refuses_bad_arguments(separable, kwargs, name):
    e = _refused("evaluate", separable, **kwargs)
    assert name in e.expected


@pytest.mark.parametrize("name", ["sample_weight", "class_weight"])
def test_train_on_batch_refuses_both_weights(separable, name):
    both = {"sample_weight": np.ones(48), "class_weight": {0: 1.0, 1: 1.0}}
    e = _refused("train_on_batch", separable, **both)
    assert name in e.expected


def test_numpy_ints_and_verbose_auto_are_accepted(separable, capsys):
    x, y = separable
    model = classifier()
    history = model.fit(
        x, y, batch_size=np.int64(16), epochs=np.int32(2), verbose="auto", seed=np.int64(3)
    )
    assert len(history.history["loss"]) == 2
    assert "Epoch 2/2" in capsys.readouterr().out
    model.evaluate(x, y, batch_size=np.int64(16), verbose="auto")
