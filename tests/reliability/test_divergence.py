"""Divergence: a run whose loss becomes NaN/inf stops at that batch, says to lower the learning
rate, and leaves the model with finite weights - the last finite ones - so nothing is lost.

The diverging setting is real, not simulated: plain SGD with a huge learning rate on an unscaled
MSE regression (inputs ~1e3) overflows float32 within a few steps.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinygrad_edu import set_seed
from tinygrad_edu.callbacks import Callback
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD


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


def diverging_fit(learning_rate, epochs=5, batch_size=8, scale=1e3):
    set_seed(0)
    x, y = unscaled_regression(scale=scale)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(learning_rate=learning_rate), "mse")
    rec = Recorder()
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # float32 overflow is the point here
        history = model.fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=False, callbacks=[rec]
        )
    return model, history, rec, (x, y)


def test_huge_learning_rate_stops_at_the_first_non_finite_loss(capsys):
    model, history, rec, (x, _) = diverging_fit(1e3)
    out = capsys.readouterr().out
    # it really diverged, within the first epoch, and stopped right there
    began = len(rec.weights_at_begin)
    assert 1 < began < 8, "expected divergence after a few steps of the first epoch"
    assert rec.ended == began - 1  # the diverging batch never completed
    assert model.optimizer.iterations == rec.ended  # no update from the non-finite loss
    assert rec.epochs_ended == 0 and model.stop_training
    # the message says what happened and what to do
    assert "learning rate" in out and "1000" in out
    assert "smaller" in out or "lower" in out
    assert ("nan" in out.lower()) or ("inf" in out.lower())
    # the weights are finite: those the diverging batch started from (the last finite ones)
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    for w, last in zip(weights, rec.weights_at_begin[-1]):
        np.testing.assert_array_equal(w, last)
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
    assert all(np.isfinite(w).all() for w in model.get_weights())
    for w, last in zip(model.get_weights(), rec.weights_at_begin[-1]):
        np.testing.assert_array_equal(w, last)


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


def _jump_schedule(step):
    """A fine rate for 10 steps, then one that overflows the weights themselves."""
    return 1e-2 if step < 10 else 1e38


def _fit_with_non_finite_weights():
    set_seed(0)
    x, y = unscaled_regression(scale=1.0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(learning_rate=_jump_schedule), "mse")
    rec = Recorder()
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False, callbacks=[rec])
    return model, rec


def test_weights_that_became_non_finite_are_replaced_by_finite_ones(capsys):
    model, rec = _fit_with_non_finite_weights()
    assert "learning rate" in capsys.readouterr().out
    # step 11 (epoch 2, batch 3) met the inf weights written by step 10
    assert not all(np.isfinite(w).all() for w in rec.weights_at_begin[-1])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.predict(np.ones((2, 3)))).all()


def test_weights_that_became_non_finite_are_restored_to_the_epoch_start(capsys):
    """Documented limitation (fit's docstring): an update that itself overflowed the weights is
    undone by restoring the epoch-start snapshot; copying every weight before every step would
    cost ~10% of an MLP step. The common case (a non-finite loss) keeps the last finite weights."""
    model, rec = _fit_with_non_finite_weights()
    capsys.readouterr()
    assert any(
        all(np.allclose(w, s) for w, s in zip(model.get_weights(), ws))
        for ws in rec.weights_at_begin
    )


def test_a_moderate_learning_rate_does_not_trigger_the_guard(capsys):
    set_seed(0)
    x, y = unscaled_regression(scale=1.0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(learning_rate=0.05), "mse")
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert len(history.history["loss"]) == 5
    assert "Training stopped" not in capsys.readouterr().out
    assert not model.stop_training
