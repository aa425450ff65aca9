"""Behaviour of the Keras callbacks, asserted on files and values (not wording)."""

from __future__ import annotations

import csv
import math
import os

import numpy as np
import pytest

from tinygrad_edu.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from tinygrad_edu.errors import CheckpointError, ConfigError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential, load_model
from tinygrad_edu.optimizers import SGD


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(24, 3)).astype(np.float32), rng.integers(0, 2, size=24)


def tiny_model(lr: float = 0.1) -> Sequential:
    model = Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dense(2, activation="softmax")]
    )
    model.compile(SGD(learning_rate=lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Script(Callback):
    """Overwrites a log value per epoch (runs before the callback under test) and records the
    weights and learning rate at each epoch's end."""

    def __init__(self, key: str = "val_loss", values=()):
        super().__init__()
        self.key, self.values = key, list(values)
        self.weights, self.lrs_begin = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.lrs_begin.append(float(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        if self.values:
            logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def fit(model, data, callbacks, epochs):
    return model.fit(
        *data, epochs=epochs, batch_size=8, verbose=0, shuffle=False, callbacks=callbacks
    )


def same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_after_patience_and_restores_best(data):
    model = tiny_model()
    script = Script(values=[1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = fit(model, data, [script, stop], epochs=8)
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1 and stop.best == 0.5
    assert model.stop_training
    assert same_weights(model.get_weights(), script.weights[1])
    assert not same_weights(model.get_weights(), script.weights[3])


def test_early_stopping_without_restore_keeps_last_weights(data):
    model = tiny_model()
    script = Script(values=[1.0, 2.0, 3.0, 4.0])
    history = fit(model, data, [script, EarlyStopping(patience=0)], epochs=4)
    assert history.epoch == [0, 1]
    assert same_weights(model.get_weights(), script.weights[1])


def test_early_stopping_max_mode_min_delta_and_start_epoch(data):
    script = Script("val_accuracy", [0.1, 0.9, 0.905, 0.906, 0.95, 0.96])
    stop = EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=2)
    assert stop.mode == "max"
    assert fit(tiny_model(), data, [script, stop], epochs=6).epoch == [0, 1, 2, 3]
    # the first epochs are ignored with start_from_epoch
    script = Script(values=[0.1, 5.0, 6.0, 7.0, 8.0])
    stop = EarlyStopping(patience=1, start_from_epoch=2)
    assert fit(tiny_model(), data, [script, stop], epochs=5).epoch == [0, 1, 2, 3]


def test_early_stopping_baseline(data):
    # improving, but never better than the baseline: stops after patience
    script = Script(values=[1.0, 0.9, 0.8, 0.7, 0.6])
    stop = EarlyStopping(patience=2, baseline=0.5)
    assert fit(tiny_model(), data, [script, stop], epochs=5).epoch == [0, 1]


def test_early_stopping_missing_key_warns_with_available_keys(data):
    with pytest.warns(UserWarning) as record:
        history = fit(tiny_model(), data, [EarlyStopping(monitor="val_loss")], epochs=3)
    assert history.epoch == [0, 1, 2]
    assert any("accuracy" in str(w.message) for w in record)


def test_early_stopping_on_real_validation_loss(data):
    x, y = data
    model = tiny_model(lr=0.5)
    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    history = model.fit(
        x,
        y,
        epochs=30,
        batch_size=8,
        verbose=0,
        shuffle=False,
        validation_data=(x[:8], y[:8]),
        callbacks=[stop],
    )
    losses = history.history["val_loss"]
    # the weights of the best epoch are back (Keras 3: also when training ran to the end)
    assert model.evaluate(x[:8], y[:8], return_dict=True)["loss"] == pytest.approx(min(losses))
    assert stop.best == pytest.approx(min(losses))


@pytest.mark.parametrize(
    "kwargs", [{"patience": -1}, {"mode": "bogus"}, {"patience": 1.5}, {"start_from_epoch": -2}]
)
def test_early_stopping_invalid_args(kwargs):
    with pytest.raises(ConfigError):
        EarlyStopping(**kwargs)


# ---------------------------------------------------------------------- ModelCheckpoint
def test_checkpoint_best_only_writes_on_improvement(tmp_path, data):
    script = Script(values=[1.0, 0.5, 0.7, 0.3, 0.4])
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.npz")
    fit(tiny_model(), data, [script, ModelCheckpoint(pattern, save_best_only=True)], epochs=5)
    assert sorted(os.listdir(tmp_path)) == [
        "ckpt-01-1.00.npz",
        "ckpt-02-0.50.npz",
        "ckpt-04-0.30.npz",
    ]


def test_checkpoint_fixed_path_holds_best_model(tmp_path, data):
    model = tiny_model()
    script = Script(values=[1.0, 0.5, 0.7, 0.8])
    path = tmp_path / "best.npz"
    cb = ModelCheckpoint(path, save_best_only=True)
    fit(model, data, [script, cb], epochs=4)
    assert cb.best == 0.5
    best = load_model(path)
    assert same_weights(best.get_weights(), script.weights[1])
    assert best.optimizer.iterations == 2 * 3  # saved after epoch 2 (3 batches per epoch)
    assert os.listdir(tmp_path) == ["best.npz"]


def test_checkpoint_every_epoch_and_weights_only(tmp_path, data):
    model = tiny_model()
    script = Script()
    cb = ModelCheckpoint(
        str(tmp_path / "sub" / "w{epoch}.npz"), save_weights_only=True, monitor="loss"
    )
    fit(model, data, [script, cb], epochs=3)
    assert sorted(os.listdir(tmp_path / "sub")) == ["w1.npz", "w2.npz", "w3.npz"]
    fresh = tiny_model()
    fresh.load_weights(tmp_path / "sub" / "w2.npz")
    assert same_weights(fresh.get_weights(), script.weights[1])
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "sub" / "w2.npz")


def test_checkpoint_max_mode_for_accuracy(tmp_path, data):
    script = Script("val_accuracy", [0.5, 0.4, 0.6])
    cb = ModelCheckpoint(
        str(tmp_path / "{epoch}.npz"), monitor="val_accuracy", save_best_only=True
    )
    fit(tiny_model(), data, [script, cb], epochs=3)
    assert sorted(os.listdir(tmp_path)) == ["1.npz", "3.npz"]


def test_checkpoint_save_freq_in_batches(tmp_path, data):
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.npz"), save_freq=2)
    fit(tiny_model(), data, [cb], epochs=2)  # 3 batches per epoch: saves after batches 2, 4, 6
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.npz", "e2-b1.npz", "e2-b3.npz"]


def test_checkpoint_missing_monitor_warns_and_skips(tmp_path, data):
    cb = ModelCheckpoint(str(tmp_path / "m.npz"), save_best_only=True)
    with pytest.warns(UserWarning):
        fit(tiny_model(), data, [cb], epochs=1)
    assert os.listdir(tmp_path) == []


def test_checkpoint_unknown_format_field(tmp_path, data):
    cb = ModelCheckpoint(str(tmp_path / "{val_loss:.2f}.npz"))
    with pytest.raises(ConfigError):
        fit(tiny_model(), data, [cb], epochs=1)


@pytest.mark.parametrize("kwargs", [{"save_freq": 0}, {"save_freq": "batch"}, {"mode": "up"}])
def test_checkpoint_invalid_args(tmp_path, kwargs):
    with pytest.raises(ConfigError):
        ModelCheckpoint(str(tmp_path / "m.npz"), **kwargs)


# ---------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau(data):
    model = tiny_model(lr=0.1)
    script = Script(values=[1.0] * 5)
    reduce = ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.02)
    history = fit(model, data, [script, reduce], epochs=5)
    # epoch 0 sets the best; each later epoch without improvement halves the rate (>= min_lr)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    assert script.lrs_begin == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    assert model.optimizer.learning_rate == pytest.approx(0.02)


def test_reduce_lr_waits_for_patience_and_cooldown(data):
    model = tiny_model(lr=0.1)
    script = Script(values=[1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    reduce = ReduceLROnPlateau(factor=0.1, patience=2, cooldown=1)
    fit(model, data, [script, reduce], epochs=7)
    # improvements at 0, 1; plateau from 2: reduce after epoch 3; epoch 4 is the cooldown (its
    # counter runs out at once, so it already counts, as in Keras); reduce again after epoch 5
    assert script.lrs_begin == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001])
    assert model.optimizer.learning_rate == pytest.approx(0.001)


def test_reduce_lr_keeps_rate_while_improving(data):
    model = tiny_model(lr=0.1)
    script = Script("val_accuracy", [0.1, 0.2, 0.3, 0.4])
    fit(model, data, [script, ReduceLROnPlateau("val_accuracy", patience=1)], epochs=4)
    assert model.optimizer.learning_rate == pytest.approx(0.1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"factor": 1.0},
        {"factor": 2},
        {"factor": 0},
        {"patience": -1},
        {"mode": "bogus"},
        {"min_lr": -1},
        {"cooldown": -1},
        {"bogus": 1},
    ],
)
def test_reduce_lr_invalid_args(kwargs):
    with pytest.raises(ConfigError):
        ReduceLROnPlateau(**kwargs)


def test_reduce_lr_missing_key_warns(data):
    model = tiny_model(lr=0.1)
    with pytest.warns(UserWarning):
        fit(model, data, [ReduceLROnPlateau(patience=0)], epochs=2)
    assert model.optimizer.learning_rate == pytest.approx(0.1)


# ---------------------------------------------------------------------- LearningRateScheduler
def test_learning_rate_scheduler_sets_rate_each_epoch(data):
    model = tiny_model(lr=0.1)
    sched = LearningRateScheduler(lambda epoch, lr: 0.2 * 0.5**epoch)
    script = Script()
    history = fit(model, data, [sched, script], epochs=4)
    expected = [0.2, 0.1, 0.05, 0.025]
    assert script.lrs_begin == pytest.approx(expected)
    assert history.history["learning_rate"] == pytest.approx(expected)


def test_learning_rate_scheduler_receives_current_rate_and_old_form(data):
    model = tiny_model(lr=0.1)
    seen = []

    def decay(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    fit(model, data, [LearningRateScheduler(decay)], epochs=3)
    assert seen == [(0, pytest.approx(0.1)), (1, pytest.approx(0.05)), (2, pytest.approx(0.025))]
    fit(model, data, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], epochs=2)
    assert model.optimizer.learning_rate == pytest.approx(0.02)


@pytest.mark.parametrize("bad", [None, "0.1", -0.1, 0.0, math.nan])
def test_learning_rate_scheduler_rejects_bad_rates(data, bad):
    with pytest.raises(ConfigError):
        fit(tiny_model(), data, [LearningRateScheduler(lambda epoch, lr: bad)], epochs=1)


def test_learning_rate_scheduler_needs_a_callable():
    with pytest.raises(ConfigError):
        LearningRateScheduler(0.1)


# ---------------------------------------------------------------------- CSVLogger
def read_rows(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_header_and_rows(tmp_path, data):
    x, y = data
    path = tmp_path / "log.csv"
    model = tiny_model()
    history = model.fit(
        x,
        y,
        epochs=3,
        batch_size=8,
        verbose=0,
        shuffle=False,
        validation_data=(x[:8], y[:8]),
        callbacks=[CSVLogger(path)],
    )
    rows = read_rows(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for key in ("loss", "val_accuracy"):
        column = [float(r[rows[0].index(key)]) for r in rows[1:]]
        assert column == pytest.approx(history.history[key])


def test_csv_logger_append_and_separator(tmp_path, data):
    path = tmp_path / "log.csv"
    model = tiny_model()
    fit(model, data, [CSVLogger(path, separator=";")], epochs=2)
    fit(model, data, [CSVLogger(path, separator=";", append=True)], epochs=1)
    rows = read_rows(path, ";")
    assert rows[0] == ["epoch", "accuracy", "loss"]
    assert len(rows) == 4 and [r[0] for r in rows[1:]] == ["0", "1", "0"]
    # without append, the file starts over
    fit(model, data, [CSVLogger(path, separator=";")], epochs=1)
    assert len(read_rows(path, ";")) == 2


def test_csv_logger_append_to_new_file_writes_header(tmp_path, data):
    path = tmp_path / "new.csv"
    fit(tiny_model(), data, [CSVLogger(path, append=True)], epochs=1)
    assert read_rows(path)[0] == ["epoch", "accuracy", "loss"]


def test_csv_logger_bad_separator():
    with pytest.raises(ConfigError):
        CSVLogger("x.csv", separator=",,")


# ---------------------------------------------------------------------- TerminateOnNaN
class _Stub:
    stop_training = False


@pytest.mark.parametrize("value,stops", [(math.nan, True), (math.inf, True), (1.0, False)])
def test_terminate_on_nan_hook(value, stops):
    cb = TerminateOnNaN()
    cb.set_model(_Stub())
    cb.on_train_batch_end(0, {"loss": value})
    assert cb.model.stop_training is stops


def test_terminate_on_nan_stops_fit(data):
    class PoisonBatch(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                logs["loss"] = math.nan

    history = fit(tiny_model(), data, [PoisonBatch(), TerminateOnNaN()], epochs=5)
    assert history.epoch == [0]  # fit checks stop_training at the end of each epoch


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_fit_stops_with_terminate_on_nan(data, capsys):
    x, y = data
    model = tiny_model(lr=1e30)
    history = model.fit(
        x * 1e10, y, epochs=5, batch_size=8, verbose=0, callbacks=[TerminateOnNaN()]
    )
    assert len(history.epoch) < 5
    assert all(np.isfinite(w).all() for w in model.get_weights())


class Recording(Sequential):
    """A model whose saves only record their path (ModelCheckpoint must go through them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved = []

    def save(self, path):
        self.saved.append(("save", path))

    def save_weights(self, path):
        self.saved.append(("save_weights", path))


@pytest.mark.parametrize("weights_only", [False, True])
def test_checkpoint_writes_through_the_models_own_save(tmp_path, data, weights_only):
    model = Recording([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    path = str(tmp_path / "m-{epoch}.npz")
    fit(model, data, [ModelCheckpoint(path, save_weights_only=weights_only)], epochs=2)
    kind = "save_weights" if weights_only else "save"
    assert model.saved == [(kind, path.format(epoch=e)) for e in (1, 2)]
