"""Divergence: a step whose loss, gradients or updated weights are NaN/inf is undone - weights,
moving statistics and optimizer state - so a model is never left with non-finite weights. ``fit``
stops there with a message saying to lower the learning rate (also in ``History.stop_reason``);
``train_on_batch`` raises ``DivergenceError``.

The diverging settings are real, not simulated: plain SGD with a huge learning rate on an unscaled
MSE regression (inputs ~1e3) overflows float32 within a few steps; a learning rate of 1e35
overflows the weights in the very first update (after a finite loss).
"""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest

from tinygrad_edu import set_seed
from tinygrad_edu.callbacks import Callback, DivergenceGuard
from tinygrad_edu.errors import DivergenceError
from tinygrad_edu.layers import BatchNormalization, Dense, Dropout
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD, Adam

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # float32 overflow is the point

#: overflows float32 weights in the first update on unscaled data (|grad| ~ 1e7)
OVERFLOWING_LR = 1e35


class Recorder(Callback):
    """Weights at the start of every batch, and how many batches ended."""

    def __init__(self) -> None:
        super().__init__()
        self.weights_at_begin, self.ended, self.epochs_ended = [], 0, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.weights_at_begin.append([w.copy() for w in self.model.get_weights()])

    def on_train_batch_end(self, batch, logs=None):
        self.ended += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_ended += 1


def unscaled_regression(n: int = 64, scale: float = 1e3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * scale
    return x, x @ np.array([1.0, -2.0, 3.0]) + 5.0


def regressor(optimizer) -> Sequential:
    set_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer, "mse")
    return model


def quiet_fit(model, x, y, **kwargs):
    rec = Recorder()
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        kwargs = {"verbose": 0, "shuffle": False, **kwargs}
        history = model.fit(x, y, callbacks=[rec], **kwargs)
    return history, rec


def diverging_fit(learning_rate, epochs=5, batch_size=8, scale=1e3):
    x, y = unscaled_regression(scale=scale)
    model = regressor(SGD(learning_rate=learning_rate))
    history, rec = quiet_fit(model, x, y, batch_size=batch_size, epochs=epochs)
    return model, history, rec, (x, y)


def all_finite(weights) -> bool:
    return all(np.isfinite(w).all() for w in weights)


def assert_same_weights(actual, expected) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


# ------------------------------------------------------------------ a NaN/inf loss
def test_huge_learning_rate_stops_at_the_first_non_finite_loss(capsys):
    model, history, rec, (x, _) = diverging_fit(1e3)
    out = capsys.readouterr().out
    # it really diverged, within the first epoch, and stopped right there
    began = len(rec.weights_at_begin)
    assert 1 < began < 8, "expected divergence after a few steps of the first epoch"
    assert rec.ended == began - 1  # the diverging batch never completed
    assert model.optimizer.iterations == rec.ended  # no update from the non-finite loss
    assert rec.epochs_ended == 0 and model.stop_training and model.diverged
    # the message says what happened and what to do
    assert "learning rate" in out and "1000" in out
    assert "smaller" in out or "lower" in out
    assert ("nan" in out.lower()) or ("inf" in out.lower())
    # the weights are finite: those the diverging batch started from (the last finite ones)
    assert all_finite(model.get_weights())
    assert_same_weights(model.get_weights(), rec.weights_at_begin[-1])
    assert history is model.history


def test_divergence_in_a_later_epoch_keeps_the_earlier_history(capsys):
    """A smaller (still too large) rate diverges in epoch 2: epoch 1 stays in the history."""
    # per-step growth ~ lr * 2 * E[x^2] = lr * 2e6: lr = 1e-6 survives epoch 1, not epoch 2
    model, history, rec, _ = diverging_fit(1.6e-6, epochs=20)
    out = capsys.readouterr().out
    assert "learning rate" in out
    assert 1 <= rec.epochs_ended < 20
    assert len(history.history["loss"]) == rec.epochs_ended
    assert np.isfinite(history.history["loss"]).all()
    assert all_finite(model.get_weights())
    assert_same_weights(model.get_weights(), rec.weights_at_begin[-1])


def test_the_model_stays_usable_after_divergence(capsys):
    model, _, _, (x, y) = diverging_fit(1e3)
    capsys.readouterr()
    assert np.isfinite(model.predict(x / 1e3)).all()
    model.compile(SGD(learning_rate=1e-2), "mse")  # the advice, followed: lower lr, scaled data
    model.set_weights([np.zeros((3, 1), np.float32), np.zeros(1, np.float32)])
    history = model.fit(x / 1e3, y / 1e3, batch_size=8, epochs=30, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 30 and losses[-1] < losses[0]
    assert "Training stopped" not in capsys.readouterr().out
    assert history.stop_reason is None and not model.diverged


# ------------------------------------------------------------------ an update that overflows
@pytest.mark.parametrize("epochs", [1, 3])
def test_one_batch_epochs_never_end_with_non_finite_weights(capsys, epochs):
    """The update after a finite loss overflows the weights; with one batch per epoch no later
    loss would reveal it: the weights themselves are checked after each update."""
    x, y = unscaled_regression(n=8)
    model = regressor(SGD(learning_rate=OVERFLOWING_LR))
    before = model.get_weights()
    history, _ = quiet_fit(model, x, y, batch_size=8, epochs=epochs)
    out = capsys.readouterr().out
    assert all_finite(model.get_weights())
    assert_same_weights(model.get_weights(), before)  # the last finite ones: the update undone
    assert np.isfinite(model.predict(x)).all()
    assert model.optimizer.iterations == 0
    assert "Training stopped" in out and "'dense/kernel'" in out and "learning rate" in out
    assert history.stop_reason is not None and "'dense/kernel'" in history.stop_reason
    assert history.history == {} and model.diverged


def _jump_schedule(step):
    """A fine rate for 10 steps, then one that overflows the weights themselves."""
    return 1e-2 if step < 10 else 1e38


def test_an_overflowing_update_is_undone_to_the_weights_it_started_from(capsys):
    """Step 10 (epoch 2, batch 3) overflows: the model keeps the weights that step started from,
    not the epoch's start, and the optimizer does not count the step."""
    x, y = unscaled_regression(scale=1.0)
    model = regressor(SGD(learning_rate=_jump_schedule))
    history, rec = quiet_fit(model, x, y, batch_size=8, epochs=3)
    assert "learning rate" in capsys.readouterr().out
    assert len(rec.weights_at_begin) == 11 and rec.ended == 10  # stopped at step 10
    assert all_finite(model.get_weights())
    assert_same_weights(model.get_weights(), rec.weights_at_begin[10])
    assert model.optimizer.iterations == 10
    assert len(history.history["loss"]) == 1 and history.stop_reason is not None
    assert np.isfinite(model.predict(np.ones((2, 3)))).all()


def test_the_last_batch_of_an_epoch_is_checked_too(capsys):
    """20 samples in batches of 8: the overflow comes with the short last batch (step 2)."""
    x, y = unscaled_regression(n=20, scale=1.0)
    model = regressor(SGD(learning_rate=lambda step: 1e-2 if step < 2 else 1e38))
    history, rec = quiet_fit(model, x, y, batch_size=8, epochs=1)
    assert "Training stopped" in capsys.readouterr().out
    assert len(rec.weights_at_begin) == 3
    assert all_finite(model.get_weights())
    assert_same_weights(model.get_weights(), rec.weights_at_begin[2])
    assert history.stop_reason is not None


def test_the_optimizer_state_is_undone_with_the_weights(capsys):
    """Momentum would carry the overflowing velocity into the next step: it is undone too, so
    training can go on from the restored model with a lower rate."""
    x, y = unscaled_regression(n=8)
    optimizer = SGD(learning_rate=1e-9, momentum=0.9)
    model = regressor(optimizer)
    quiet_fit(model, x, y, batch_size=8, epochs=2)  # two sane steps: a non-zero velocity
    state = optimizer.state_dict()
    assert state["iterations"] == 2 and np.abs(state["sgd/velocity/0"]).max() > 0
    optimizer.learning_rate = OVERFLOWING_LR
    quiet_fit(model, x, y, batch_size=8, epochs=1)
    assert "Training stopped" in capsys.readouterr().out
    after = optimizer.state_dict()
    assert after.keys() == state.keys()
    for key in set(state) - {"learning_rate"}:  # the velocity and the step count
        np.testing.assert_array_equal(after[key], state[key])
    optimizer.learning_rate = 1e-9  # the advice, followed, on the same optimizer
    history, _ = quiet_fit(model, x, y, batch_size=8, epochs=3)
    assert history.stop_reason is None and np.isfinite(history.history["loss"]).all()


def test_moving_statistics_are_undone_with_the_weights(capsys):
    """A BatchNormalization layer updates its moving statistics in the forward pass, before the
    loss is known: a diverging step must not leave them changed either."""
    set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(1)])
    model.compile(SGD(learning_rate=0.01), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    y = np.full((8, 1), 1e30, np.float32)  # (out - y)**2 overflows: an inf loss, finite data
    before = model.get_weights()
    history, _ = quiet_fit(model, x, y, batch_size=8, epochs=1)
    assert history.stop_reason is not None and "inf" in history.stop_reason
    assert_same_weights(model.get_weights(), before)


def _norm_loss(y_true, y_pred):
    """|y_pred| written as sqrt(y_pred**2): finite (0) at y_pred = 0, where its gradient is
    0 * inf = NaN - a finite loss with a NaN gradient."""
    return (y_pred * y_pred).sqrt().mean()


def test_a_nan_gradient_behind_a_finite_loss_stops_fit_before_any_update(capsys):
    x, y = unscaled_regression(n=8, scale=1.0)
    model = Sequential([Dense(1, input_shape=(3,), kernel_initializer="zeros")])
    model.compile(SGD(learning_rate=0.1), _norm_loss)
    before = model.get_weights()
    history, _ = quiet_fit(model, x, y, batch_size=8, epochs=2)
    out = capsys.readouterr().out
    assert "Training stopped" in out and "gradient of weight 'dense/" in out
    assert_same_weights(model.get_weights(), before)
    assert model.optimizer.iterations == 0 and history.stop_reason is not None
    assert all(w.grad is None for w in model.trainable_weights)  # no stale NaN gradient kept


# ------------------------------------------------------------------ train_on_batch
def test_train_on_batch_refuses_an_update_that_overflows_the_weights():
    x, y = unscaled_regression(n=8)
    optimizer = SGD(learning_rate=OVERFLOWING_LR, momentum=0.9)
    model = regressor(optimizer)
    before, state = model.get_weights(), optimizer.state_dict()
    with pytest.raises(DivergenceError) as err:
        model.train_on_batch(x, y)
    assert isinstance(err.value, FloatingPointError)
    assert "'dense/kernel'" in err.value.got and "learning rate" in err.value.fix
    assert "train_on_batch" in err.value.where
    assert_same_weights(model.get_weights(), before)
    assert optimizer.iterations == 0
    np.testing.assert_array_equal(optimizer.state_dict()["sgd/velocity/0"], state["sgd/velocity/0"])


def test_train_on_batch_refuses_a_non_finite_loss_and_changes_nothing():
    set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(1)])
    model.compile(Adam(learning_rate=0.01), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    before = model.get_weights()
    with pytest.raises(DivergenceError) as err:
        model.train_on_batch(x, np.full((8, 1), 1e30, np.float32))
    assert "loss" in err.value.got and "inf" in err.value.got
    assert_same_weights(model.get_weights(), before)  # moving statistics included
    assert model.optimizer.iterations == 0
    model.train_on_batch(x, np.zeros((8, 1), np.float32))  # and the next sane step works
    assert model.optimizer.iterations == 1


# ------------------------------------------------------------------ evaluate
def test_evaluate_changes_no_weight_even_when_the_loss_is_not_finite():
    set_seed(0)
    model = Sequential(
        [Dense(4, input_shape=(3,)), BatchNormalization(), Dropout(0.5, seed=0), Dense(1)]
    )
    model.compile(SGD(learning_rate=0.01), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    before = model.get_weights()
    with np.errstate(over="ignore", invalid="ignore"):
        loss = model.evaluate(x, np.full((8, 1), 1e30, np.float32))
    assert not np.isfinite(loss)  # reported as it is, not hidden
    assert_same_weights(model.get_weights(), before)


# ------------------------------------------------------------------ no shared state
def test_a_moderate_learning_rate_does_not_trigger_the_guard(capsys):
    x, y = unscaled_regression(scale=1.0)
    model = regressor(SGD(learning_rate=0.05))
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert len(history.history["loss"]) == 5
    assert "Training stopped" not in capsys.readouterr().out
    assert not model.stop_training and history.stop_reason is None


def _late_overflow(step):
    return 0.01 if step < 20 else 1e38


def test_models_trained_in_parallel_threads_do_not_share_state():
    """Grad mode and the undo buffers are per thread / per model: two fits running at once, one
    of them diverging at step 20, give exactly what they give one after the other. The threads
    switch every few microseconds, so the steps of the two fits interleave. (The models are built
    in this thread: initializers draw from the process-wide seeded generator.)"""
    x, y = unscaled_regression(n=32, scale=1.0)
    schedules = (0.01, _late_overflow)

    def train(model):
        history, _ = quiet_fit(model, x, y, batch_size=4, epochs=5, seed=0)
        return model.get_weights(), history.history, history.stop_reason

    serial = [train(regressor(SGD(learning_rate=s))) for s in schedules]
    assert serial[0][2] is None and serial[1][2] is not None
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(3):
            models = [regressor(SGD(learning_rate=s)) for s in schedules]
            parallel = [None, None]
            threads = [
                threading.Thread(target=lambda i=i, m=m, out=parallel: out.__setitem__(i, train(m)))
                for i, m in enumerate(models)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for got, want in zip(parallel, serial):
                assert_same_weights(got[0], want[0])
                assert got[1] == want[1] and got[2] == want[2]
    finally:
        sys.setswitchinterval(interval)


def test_a_step_of_another_model_inside_a_diverging_step_is_kept_apart():
    """The deterministic form of the test above: model B's loss function runs a whole step of
    model A (as another thread could at that moment), then B's step diverges. Undoing B's step
    must restore B's weights, and leave A's finished step alone."""
    x, y = unscaled_regression(n=8, scale=1.0)
    twin_a = regressor(SGD(learning_rate=0.01))
    twin_a.train_on_batch(x, y)
    model_a = regressor(SGD(learning_rate=0.01))

    def nested_then_nan(y_true, y_pred):
        model_a.train_on_batch(x, y)
        return (y_pred * 0.0).mean() + float("nan")

    set_seed(1)
    model_b = Sequential([Dense(1, input_shape=(3,))])
    model_b.compile(SGD(learning_rate=0.01), nested_then_nan)
    before_b = model_b.get_weights()
    with pytest.raises(DivergenceError):
        model_b.train_on_batch(x, y)
    assert_same_weights(model_b.get_weights(), before_b)
    assert_same_weights(model_a.get_weights(), twin_a.get_weights())


# ------------------------------------------------------------------ the guard is a callback
class Hears(Callback):
    """What a user callback sees of a diverged step."""

    def __init__(self, forgive: bool = False) -> None:
        super().__init__()
        self.forgive, self.diverged, self.ended = forgive, [], []

    def on_train_batch_diverged(self, batch, error):
        # the guard ran first: it has decided already
        self.diverged.append((batch, error, self.model.stop_training, self.model.diverged))
        if self.forgive:
            self.model.stop_training = False  # overrule: go on without that batch

    def on_train_batch_end(self, batch, logs=None):
        self.ended.append(batch)


def test_fit_hands_a_diverged_step_to_its_guard_first_then_to_the_callbacks(capsys):
    x, y = unscaled_regression()
    model = regressor(SGD(learning_rate=1e3))
    hears = Hears()
    with np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[hears])
    [(batch, error, stopped, diverged)] = hears.diverged
    assert isinstance(error, DivergenceError) and "learning rate" in error.fix
    assert stopped and diverged  # decided by the guard before this callback heard of it
    assert batch not in hears.ended and hears.ended == list(range(batch))
    assert history.stop_reason.startswith("Training stopped: ")
    assert history.stop_reason in capsys.readouterr().out


def test_a_callback_may_overrule_the_guard_and_fit_goes_on_without_the_batch(capsys):
    """Targets of 1e30 in the second batch overflow the loss in every epoch: each time that
    step is undone, the guard stops, the callback overrules, and the epoch's mean leaves the
    batch out."""
    x, y = unscaled_regression(n=24, scale=1.0)
    y = y.reshape(-1, 1).astype(np.float32)
    y[8:16] = 1e30
    model = regressor(SGD(learning_rate=0.01))
    hears = Hears(forgive=True)
    with np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(
            x, y, batch_size=8, epochs=3, verbose=0, shuffle=False, callbacks=[hears]
        )
    assert [batch for batch, *_ in hears.diverged] == [1, 1, 1]
    assert hears.ended == [0, 2] * 3 and len(history.history["loss"]) == 3
    assert np.isfinite(history.history["loss"]).all() and all_finite(model.get_weights())
    assert model.optimizer.iterations == 6 and model.diverged
    assert capsys.readouterr().out.count("Training stopped") == 3


def test_the_divergence_guard_alone():
    """The guard's whole job, on a stand-in model: say it, record it, stop."""

    class StandIn:
        stop_training, diverged = False, True

        class history:
            stop_reason = None

    guard = DivergenceGuard()
    guard.set_model(StandIn())
    guard.on_train_begin()
    assert guard.model.diverged is False and guard.stop_reason is None
    guard.on_epoch_begin(2)
    error = DivergenceError(expected="a finite loss", got="the loss became nan", fix="lower it")
    guard.on_train_batch_diverged(4, error)
    assert guard.model.stop_training and guard.model.diverged
    assert guard.stop_reason == guard.model.history.stop_reason
    assert "the loss became nan at epoch 3, batch 5" in guard.stop_reason
    assert guard.stop_reason.endswith("Fix: lower it.")
