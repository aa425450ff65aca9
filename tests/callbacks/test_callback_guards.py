"""What the callbacks refuse: arguments of the wrong type or range (a typed ConfigError, never a
raw TypeError or a silent reinterpretation), rate-setting callbacks on a scheduled optimizer (at
the start of training), and - ModelCheckpoint - writing NaN/inf weights over a good file."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest

from tinygrad_edu import set_seed
from tinygrad_edu.callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
)
from tinygrad_edu.errors import ConfigError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD, ExponentialDecay


def regression(n: int = 8):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [3.0]], np.float32) + 5.0)


def regressor(learning_rate) -> Sequential:
    set_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(learning_rate=learning_rate), "mse")
    return model


def assert_teaches(err) -> None:
    assert err.where and err.fix and (err.expected is not None or err.got is not None), err


def assert_example_runs(err) -> None:
    """The call that ends the fix (``..., e.g. EarlyStopping(patience=5)``) works as written."""
    example = err.fix.rsplit("e.g. ", 1)[1]
    eval(example, globals())  # noqa: S307 - our own fix text


# ---------------------------------------------------------------------- ModelCheckpoint and NaN
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_checkpoint_keeps_the_good_file_when_training_diverges(tmp_path, capsys):
    """One batch per epoch; the second update overflows the weights after a finite (better)
    loss. The checkpoint of the best loss must still load as the epoch-1 weights."""
    path = str(tmp_path / "best.weights.npz")
    x, y = regression()
    model = regressor(lambda step: 0.01 if step < 1 else 1e38)
    cb = ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[cb])
    assert "Training stopped" in capsys.readouterr().out
    saved = regressor(0.01)
    saved.load_weights(path)
    assert all(np.isfinite(w).all() for w in saved.get_weights())
    for a, b in zip(saved.get_weights(), model.get_weights()):  # the last finite weights
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("best_only", [True, False])
def test_checkpoint_never_writes_non_finite_weights(tmp_path, best_only):
    path = str(tmp_path / "m.weights.npz")
    model = regressor(0.01)
    cb = ModelCheckpoint(path, monitor="loss", save_best_only=best_only, save_weights_only=True)
    cb.set_model(model)
    cb.on_epoch_end(0, {"loss": 2.0})
    good = open(path, "rb").read()
    best = cb.best
    model.weights[1].assign(np.nan)  # the bias becomes NaN (as after a diverged update)
    with pytest.warns(RuntimeWarning, match="dense/bias"):
        cb.on_epoch_end(1, {"loss": 1.0})  # "better" - but the weights are NaN
    assert open(path, "rb").read() == good
    assert cb.best == best  # a value whose weights were not saved is not the best


def test_checkpoint_with_a_nan_monitored_value_does_not_save(tmp_path):
    path = str(tmp_path / "m.weights.npz")
    model = regressor(0.01)
    cb = ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True)
    cb.set_model(model)
    cb.on_epoch_end(0, {"loss": math.nan})
    assert not os.path.exists(path) and cb.best == math.inf


# ---------------------------------------------------------------------- arguments
CASES = [
    (lambda: EarlyStopping(monitor=None), "monitor"),
    (lambda: EarlyStopping(monitor=3), "monitor"),
    (lambda: EarlyStopping(monitor=""), "monitor"),
    (lambda: EarlyStopping(mode="MIN"), "mode"),
    (lambda: EarlyStopping(mode=None), "mode"),
    (lambda: EarlyStopping(patience=2.5), "patience"),
    (lambda: EarlyStopping(patience=True), "patience"),
    (lambda: EarlyStopping(patience="3"), "patience"),
    (lambda: EarlyStopping(min_delta=math.nan), "min_delta"),
    (lambda: EarlyStopping(min_delta="0.1"), "min_delta"),
    (lambda: EarlyStopping(verbose=True), "verbose"),
    (lambda: EarlyStopping(baseline="0.5"), "baseline"),
    (lambda: EarlyStopping(baseline=math.nan), "baseline"),
    (lambda: EarlyStopping(restore_best_weights="no"), "restore_best_weights"),
    (lambda: EarlyStopping(start_from_epoch=-1), "start_from_epoch"),
    (lambda: ReduceLROnPlateau(monitor=None), "monitor"),
    (lambda: ReduceLROnPlateau(factor=1.0), "factor"),
    (lambda: ReduceLROnPlateau(factor=True), "factor"),
    (lambda: ReduceLROnPlateau(patience=1.5), "patience"),
    (lambda: ReduceLROnPlateau(cooldown=-1), "cooldown"),
    (lambda: ReduceLROnPlateau(min_lr=-0.1), "min_lr"),
    (lambda: ReduceLROnPlateau(verbose="1"), "verbose"),
    (lambda: ModelCheckpoint(b"model.npz"), "filepath"),
    (lambda: ModelCheckpoint(""), "filepath"),
    (lambda: ModelCheckpoint(None), "filepath"),
    (lambda: ModelCheckpoint("m.npz", monitor=None), "monitor"),
    (lambda: ModelCheckpoint("m.npz", save_best_only="yes"), "save_best_only"),
    (lambda: ModelCheckpoint("m.npz", save_weights_only=1), "save_weights_only"),
    (lambda: ModelCheckpoint("m.npz", verbose=2.0), "verbose"),
    (lambda: ModelCheckpoint("m.npz", initial_value_threshold="1"), "initial_value_threshold"),
    (lambda: ModelCheckpoint("m.npz", initial_value_threshold=math.nan), "initial_value"),
    (lambda: ModelCheckpoint("m.npz", save_freq=2.5), "save_freq"),
    (lambda: ModelCheckpoint("m.npz", save_freq=True), "save_freq"),
    (lambda: CSVLogger(b"log.csv"), "filename"),
    (lambda: CSVLogger("log.csv", append="yes"), "append"),
    (lambda: CSVLogger("log.csv", separator=3), "separator"),
    (lambda: LearningRateScheduler(0.1), "schedule"),
    (lambda: LearningRateScheduler(lambda e, lr: lr, verbose="1"), "verbose"),
    (lambda: ProgbarLogger(verbose=True), "verbose"),
    (lambda: ProgbarLogger(stream="stdout"), "stream"),
    (lambda: ProgbarLogger(live="yes"), "live"),
]


@pytest.mark.parametrize("make, name", CASES)
def test_bad_callback_arguments_are_config_errors(make, name):
    with pytest.raises(ConfigError) as err:
        make()
    assert_teaches(err.value)
    assert name in err.value.expected
    if name not in ("stream", "schedule"):  # those two fixes name objects the caller has
        assert_example_runs(err.value)


def test_good_callback_arguments_in_numpy_and_path_forms_are_accepted(tmp_path):
    checkpoint = ModelCheckpoint(
        tmp_path / "m.npz", verbose=np.int64(1), save_best_only=np.bool_(True)
    )
    stopping = EarlyStopping(
        patience=np.int64(2), min_delta=np.float32(0.1), baseline=np.float64(0.5)
    )
    ProgbarLogger(verbose=2, stream=io.StringIO(), live=False)
    CSVLogger(tmp_path / "log.csv", append=True)
    assert checkpoint.save_best_only is True and checkpoint.verbose == 1
    assert stopping.patience == 2 and stopping.min_delta == pytest.approx(0.1)


def highest_output(y_true, y_pred):  # a custom metric: higher is better, the name cannot say
    return float(np.max(y_pred))


@pytest.mark.parametrize(
    "callback",
    [
        lambda path: EarlyStopping(monitor="val_highest_output", patience=0),
        lambda path: ReduceLROnPlateau(monitor="highest_output"),
        lambda path: ModelCheckpoint(path, monitor="val_highest_output", save_best_only=True),
    ],
)
def test_mode_auto_refuses_a_custom_metric_before_training_instead_of_minimizing_it(
    callback, tmp_path
):
    """mode='auto' minimized every name without 'acc': ModelCheckpoint(save_best_only) on a
    custom 'auc' kept the worst model and EarlyStopping stopped when it improved - silently
    (Keras raises: it cannot tell the direction). Losses, mae/mse and accuracies still resolve;
    the fix (an explicit mode) runs."""
    x, y = regression()
    model = regressor(0.01)
    model.compile(SGD(learning_rate=0.01), "mse", metrics=[highest_output])
    before = model.get_weights()
    with pytest.raises(ConfigError, match="mode='max'") as err:
        model.fit(x, y, verbose=0, validation_split=0.25, callbacks=[callback(tmp_path / "m.npz")])
    for a, b in zip(before, model.get_weights()):  # refused before the first step
        np.testing.assert_array_equal(a, b)
    fix = err.value.fix.split("  #")[0].replace("'model.keras'", repr(str(tmp_path / "m.npz")))
    fixed = eval(fix)  # noqa: S307 - our own fix, as written (the file name in tmp_path)
    model.fit(x, y, verbose=0, epochs=2, validation_split=0.25, callbacks=[fixed])
    assert fixed.mode == "max"
    for name, mode in [("val_loss", "min"), ("out_a_mae", "min"), ("val_b_accuracy", "max")]:
        assert EarlyStopping(monitor=name).mode == mode


def test_a_misspelled_monitor_warns_with_the_closest_name():
    x, y = regression()
    model = regressor(0.01)
    with pytest.warns(UserWarning, match="did you mean 'loss'"):
        model.fit(x, y, verbose=0, callbacks=[EarlyStopping(monitor="los")])


@pytest.mark.parametrize(
    "callback",
    [
        lambda: ReduceLROnPlateau(monitor="loss", patience=0),
        lambda: LearningRateScheduler(lambda epoch, lr: lr * 0.5),
    ],
    ids=["ReduceLROnPlateau", "LearningRateScheduler"],
)
def test_rate_setting_callbacks_refuse_a_scheduled_optimizer_before_training(callback):
    x, y = regression()
    model = regressor(ExponentialDecay(0.01, decay_steps=10, decay_rate=0.5))
    before = model.get_weights()
    with pytest.raises(ConfigError) as err:
        model.fit(x, y, epochs=3, verbose=0, callbacks=[callback()])
    assert "schedule" in err.value.got
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
