"""A captured step whose Python reads or writes tensor values is refused, never replayed without
them: a replay runs the tape (ops, the optimizer's update, the layers' own state) and not the
step's Python. Before, ``w.data[...] -= lr * w.grad`` - the micrograd-style update - silently
stopped happening at the first replay (the loss froze at its capture value), and
``if loss.item() > 3: opt.step()`` kept stepping after the loss fell below 3.

Refused at the first call (which ran eagerly), with our ConfigError: raw writes through a
handed-out array (before or after the optimizer's update), ``assign``, item assignment,
``t.data = new``, a decision or a log made with ``item()``. Values the step returns
(``return loss.item()``) and the optimizer's own writes replay as before."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Tensor, jit, no_grad
from tinygrad_edu.errors import ConfigError
from tinygrad_edu.optimizers import SGD

X = np.array([1.0, 1.0])


def _weight() -> Tensor:
    return Tensor(np.array([1.0, 2.0]), requires_grad=True)


def _raw_sgd(w):
    w.data[...] -= 0.1 * w.grad


def _assign(w):
    with no_grad():
        w.assign(w - 0.1 * w.grad)


def _item(w):
    w[0] = 0.0


def _replace(w):
    w.data = w._data - 0.1 * w.grad


@pytest.mark.parametrize("write", [_raw_sgd, _assign, _item, _replace], ids=lambda f: f.__name__)
def test_a_write_outside_the_tape_is_refused_at_the_first_call(write):
    w = _weight()

    @jit
    def step(x):
        loss = (w * x).sum()
        loss.backward()
        write(w)
        w.grad = None
        return loss

    with pytest.raises(ConfigError, match="a replay runs no Python"):
        step(X)
    assert not np.array_equal(w.numpy(), [1.0, 2.0])  # the eager call wrote once
    assert step.stats["replay"] == 0


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_raw_write_next_to_the_optimizer_update_is_refused(when):
    w = _weight()
    opt = SGD([w], learning_rate=0.1)

    @jit
    def step(x):
        (w * x).sum().backward()
        if when == "before":
            w.data[...] *= 0.99  # a hand-made decay, then the optimizer
        opt.step()
        if when == "after":
            w.data[...] = np.clip(w.data, -1.5, 1.5)  # a hand-made constraint after it
        opt.zero_grad()

    with pytest.raises(ConfigError, match=r"t.data read the values of the tensor of shape \(2,\)"):
        step(X)


@pytest.mark.parametrize("use", ["decide", "log"])
def test_a_value_read_for_a_decision_or_a_log_is_refused(use):
    w = _weight()
    opt = SGD([w], learning_rate=0.1)
    logged = []

    @jit
    def step(x):
        loss = (w * w * x).sum()
        loss.backward()
        if use == "log":
            logged.append(loss.item())  # a replay would not append
            opt.step()
        elif loss.item() > 3.0:  # a replay would keep stepping after the loss fell below 3
            opt.step()
        opt.zero_grad()

    with pytest.raises(ConfigError, match=r"t.item\(\) read the values"):
        step(X)


def test_returned_values_and_the_optimizer_update_replay_as_eager():
    def make():
        w = _weight()
        opt = SGD([w], learning_rate=0.1)

        def step(x):
            loss = (w * x).sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.item(), w.numpy()  # returned: the replay recomputes them

        return w, step

    w_eager, eager = make()
    w_jit, replayed = make()
    replayed = jit(replayed)
    for _ in range(5):
        (got, got_w), (want, want_w) = replayed(X), eager(X)
        assert got == want
        np.testing.assert_array_equal(got_w, want_w)
    assert replayed.stats["replay"] == 3
    np.testing.assert_array_equal(w_jit.numpy(), w_eager.numpy())
