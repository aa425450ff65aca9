"""``tinygrad_edu.jit``: the modes a step goes through, guards that send a call back to eager, the
refusals at capture, results that are copies, and the printed tape.

Every replayed result is compared by bytes with an eager twin (a deep copy taking the same
batches); the lockstep tests (``test_lockstep*.py``) cover the optimizers and layers at length.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor, losses, set_seed
from tinygrad_edu.errors import ConfigError, DataError, DivergenceError
from tinygrad_edu.jit import JitStep, jit
from tinygrad_edu.layers import Dense, Dropout
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD

LINE = re.compile(r"^\s*(\d+) (forward|loss|backward|update)\s+(\S+)\s+(\S.*)$")


def model(dropout: float = 0.0) -> Sequential:
    set_seed(0)
    layers = [Dense(8, activation="relu", input_shape=(5,))]
    layers += [Dropout(dropout, seed=1)] if dropout else []
    return Sequential([*layers, Dense(3, activation="softmax")])


def step_for(m: Sequential, lr: float = 0.1):
    opt = SGD(m.parameters(), learning_rate=lr)

    def step(x, y):
        out = m(x, training=True)
        loss = losses.sparse_categorical_crossentropy(y, out)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return out, loss

    step.opt, step.model = opt, m
    return step


def twins(dropout: float = 0.0):
    m = model(dropout)
    return step_for(m), jit(step_for(copy.deepcopy(m)))


def batch(k: int, n: int = 4):
    rng = np.random.default_rng(k)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)


def same_state(eager, jitted) -> bool:
    a, b = eager.model.weights, jitted.fn.model.weights
    return all(p.numpy().tobytes() == q.numpy().tobytes() for p, q in zip(a, b))


def same_results(r1, r2) -> bool:
    return all(a.numpy().tobytes() == b.numpy().tobytes() for a, b in zip(r1, r2))


def test_the_modes_eager_capture_replay_and_their_counts() -> None:
    eager, jitted = twins()
    assert isinstance(jitted, JitStep) and tinygrad_edu.jit is jit
    modes = []
    for k in range(5):
        assert same_results(eager(*batch(k)), jitted(*batch(k)))
        modes.append(jitted.last_mode)
    assert modes == ["eager", "capture", "replay", "replay", "replay"]
    assert jitted.stats == {"eager": 1, "capture": 1, "replay": 3}
    assert same_state(eager, jitted)


def test_a_new_signature_gets_its_own_tape_and_the_old_one_keeps_replaying() -> None:
    eager, jitted = twins(dropout=0.5)
    modes = []
    for k, n in enumerate([4, 4, 4, 3, 4, 3, 3, 4]):  # a ragged last batch of 3 that recurs
        assert same_results(eager(*batch(k, n)), jitted(*batch(k, n)))
        modes.append(jitted.last_mode)
    assert modes == ["eager", "capture", "replay", "eager", "replay", "capture", "replay", "replay"]
    assert same_state(eager, jitted)
    assert jitted.fn.model.layers[1]._rng.bit_generator.state == (
        eager.model.layers[1]._rng.bit_generator.state
    )


@pytest.mark.parametrize("change", ["rate", "train", "learning_rate"])
def test_a_changed_setting_is_never_replayed_stale(change: str) -> None:
    eager, jitted = twins(dropout=0.5)
    for k in range(3):
        eager(*batch(k)), jitted(*batch(k))
    for step in (eager, jitted.fn):
        if change == "rate":
            step.model.layers[1].rate = 0.25
        elif change == "train":
            step.model.train()  # the layers' default mode (model(x, training=True) overrides)
        else:
            step.opt.learning_rate = 0.5  # a live number: replay reads it, no guard needed
    modes = []
    for k in range(3, 7):
        assert same_results(eager(*batch(k)), jitted(*batch(k)))
        modes.append(jitted.last_mode)
    if change == "learning_rate":
        assert modes == ["replay"] * 4
    else:  # two misses run eagerly and drop the tape; the next calls capture it again
        assert modes[:2] == ["eager", "eager"] and modes[2:] == ["eager", "capture"]
    assert same_state(eager, jitted)


def test_labels_out_of_range_raise_the_eager_error() -> None:
    _eager, jitted = twins()
    for k in range(3):
        jitted(*batch(k))
    x, _ = batch(9)
    with pytest.raises(DataError, match="labels in 0..2"):
        jitted(x, np.array([0, 1, 3, 0]))
    assert jitted.last_mode == "replay"  # the guard missed; the call ran eagerly and raised


def test_a_non_finite_gradient_raises_before_any_weight_changes() -> None:
    _, jitted = twins()
    for k in range(3):
        jitted(*batch(k))
    before = [w.numpy().copy() for w in jitted.fn.model.weights]
    x, y = batch(5)
    x[0, 0] = np.nan
    with pytest.raises(DivergenceError, match="NaN"):
        jitted(x, y)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, jitted.fn.model.weights))


def test_results_are_copies_that_the_next_step_does_not_touch() -> None:
    eager, jitted = twins()
    for k in range(3):
        eager(*batch(k)), jitted(*batch(k))
    out, _loss = jitted(*batch(3))
    kept = out.numpy().copy()
    out.data[...] = 7.0  # the caller's copy: the tape never reads it
    eager(*batch(3))
    assert same_results(eager(*batch(4)), jitted(*batch(4)))
    assert jitted.last_mode == "replay" and same_state(eager, jitted)
    assert not np.array_equal(kept, jitted(*batch(5))[0].numpy())
    assert out.numpy().max() == 7.0 and not out.requires_grad and out.op is None


def test_an_array_computed_from_the_batch_outside_the_ops_is_refused() -> None:
    m = model()
    opt = SGD(m.parameters())

    def step(x, y):
        scaled = Tensor(x * 2)  # numpy, outside the ops: the tape would freeze it
        loss = losses.sparse_categorical_crossentropy(y, m(scaled, training=True))
        loss.backward()
        opt.step()
        return loss

    jitted = jit(step)
    jitted(*batch(0))
    with pytest.raises(ConfigError, match="made outside the ops") as err:
        jitted(*batch(1))
    assert "pass it as an argument" in err.value.fix


def test_a_returned_int_is_refused_and_a_returned_float_is_recomputed() -> None:
    m = model()
    opt = SGD(m.parameters())

    def step(x, y, as_int):
        loss = losses.sparse_categorical_crossentropy(y, m(x, training=True))
        loss.backward()
        opt.step()
        opt.zero_grad()
        return int(loss.item() * 1000) if as_int else loss.item()

    jitted = jit(step)
    floats = [jitted(*batch(k), False) for k in range(4)]
    assert jitted.last_mode == "replay" and all(isinstance(f, float) for f in floats)
    assert len(set(floats)) == 4
    with pytest.raises(ConfigError, match=r"t.item\(\) read the values"):  # int(...) of it
        jitted(*batch(0), True)  # refused at once: the step's Python used the value


def test_the_tape_text_is_numbered_and_labelled_by_phase_and_layer() -> None:
    _, jitted = twins(dropout=0.5)
    with pytest.raises(ConfigError, match="captured step"):
        jitted.tape_text()
    jitted(*batch(0)), jitted(*batch(1))
    lines = [LINE.match(line) for line in jitted.tape_text().splitlines()]
    assert all(lines)
    numbers = [int(m.group(1)) for m in lines]
    assert numbers == list(range(1, len(lines) + 1))
    phases = [m.group(2) for m in lines]
    assert phases.index("forward") < phases.index("loss") < phases.index("backward")
    assert phases.index("backward") < phases.index("update") and phases[-1] == "update"
    labels = {m.group(3) for m in lines}
    assert {"dense", "dropout", "dense_1", "loss", "dense/kernel", "dense_1/bias"} <= labels
    assert "np.matmul(x" in jitted.tape_text() and "needs_input_grad" not in jitted.tape_source()
    with pytest.raises(ConfigError, match="signature_index"):
        jitted.tape_text(3)


def test_a_gradient_edited_between_backward_and_step_is_refused() -> None:
    m = model()
    opt = SGD(m.parameters())

    def step(x, y):
        loss = losses.sparse_categorical_crossentropy(y, m(x, training=True))
        loss.backward()
        for p in m.parameters():
            np.clip(p.grad, -0.1, 0.1, out=p.grad)  # in place: the tape would skip it
        opt.step()
        opt.zero_grad()
        return loss

    jitted = jit(step)
    jitted(*batch(0))
    with pytest.raises(ConfigError, match="written in place after backward") as err:
        jitted(*batch(1))
    assert "clipnorm" in err.value.fix


def test_a_number_computed_from_the_batch_is_refused_even_when_equal_twice() -> None:
    m = model()
    opt = SGD(m.parameters())

    def step(x, y):
        share = float((y == 0).mean())  # 0.5 in both batches below: still per batch
        loss = losses.sparse_categorical_crossentropy(y, m(x, training=True)) * share
        loss.backward()
        opt.step()
        return loss

    jitted = jit(step)
    x, _ = batch(0)
    jitted(x, np.array([0, 1, 0, 2]))
    with pytest.raises(ConfigError, match="made anew at every call") as err:
        jitted(x, np.array([2, 0, 1, 0]))
    assert "argument" in err.value.fix


def test_a_constant_equal_to_an_input_by_chance_stays_a_constant() -> None:
    """binary cross-entropy's ``+ 1`` and a label 1.0 in a batch of one: the tape must keep
    the constant, not read the next label in its place."""
    set_seed(0)
    m = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1, "sigmoid")])
    twin = copy.deepcopy(m)

    def step_of(net):
        opt = SGD(net.parameters(), learning_rate=0.1)

        def step(x, y):
            loss = losses.binary_crossentropy(y, net(x, training=True))
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.item()

        return step

    eager, jitted = step_of(m), jit(step_of(twin))
    x = np.ones((1, 3), np.float32)
    for label in [1.0, 1.0, 0.0, 1.0, 0.0]:
        y = np.array([[label]], np.float32)
        assert eager(x, y) == jitted(x, y)
    assert jitted.stats["replay"] == 3


def test_gradient_accumulation_over_slices_of_the_batch_replays() -> None:
    eager, jitted = (step_for(m) for m in (model(), model()))

    def accumulate(step):
        m, opt = step.model, step.opt

        def acc(x, y):
            for part in (slice(0, 2), slice(2, None)):
                loss = losses.sparse_categorical_crossentropy(y[part], m(x[part], training=True))
                loss.backward()
            opt.step()
            opt.zero_grad()
            return loss

        acc.model = m
        return acc

    eager, jitted = accumulate(eager), jit(accumulate(jitted))
    for k in range(5):
        assert eager(*batch(k)).numpy().tobytes() == jitted(*batch(k)).numpy().tobytes()
    assert jitted.stats["replay"] == 3 and same_state(eager, jitted)


def test_a_weight_given_a_new_array_runs_eagerly_then_is_captured_again() -> None:
    eager, jitted = twins()
    for k in range(3):
        eager(*batch(k)), jitted(*batch(k))
    for step in (eager, jitted.fn):
        kernel = step.model.layers[0].kernel
        kernel.data = kernel.numpy() * 0.5  # a new array object: the tape's is stale
    modes = []
    for k in range(3, 8):
        assert same_results(eager(*batch(k)), jitted(*batch(k)))
        modes.append(jitted.last_mode)
    assert modes == ["eager", "eager", "eager", "capture", "replay"]
    assert same_state(eager, jitted)


def test_a_jitted_function_inside_a_captured_step_runs_eagerly_for_it() -> None:
    eager, inner = twins()
    outer = jit(lambda x, y: inner(x, y))
    for k in range(3):
        inner(*batch(k))  # the inner step alone: eager, capture, replay
    assert inner.last_mode == "replay"
    for k in range(3, 7):
        outer(*batch(k))
    assert outer.last_mode == "replay" and inner.stats["replay"] == 1
    for k in range(7):
        eager(*batch(k))
    assert same_state(eager, inner)


def test_compile_jit_functions_and_a_deep_copy_that_trains_itself() -> None:
    m = model()
    m.compile("sgd", "sparse_categorical_crossentropy")
    assert (m.train_function, m.test_function, m.predict_function) == (None, None, None)
    with pytest.raises(ConfigError, match="jit_compile"):
        m.compile("sgd", "sparse_categorical_crossentropy", jit_compile="yes")
    assert m.train_function is None and m.jit_compile is False
    m.compile("sgd", "sparse_categorical_crossentropy", jit_compile=True)
    assert isinstance(m.train_function, JitStep) and m.jit_compile is True
    for k in range(3):
        m.train_function(*batch(k))
    assert m.train_function.last_mode == "replay"
    twin = copy.deepcopy(m)  # its step trains the copy, and captures its own tape
    before = [w.numpy().copy() for w in m.weights]
    for k in range(3):
        twin.train_function(*batch(k))
    assert twin.train_function.stats == {"eager": 1, "capture": 1, "replay": 1}
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, m.weights))


def test_a_trainable_tensor_made_anew_from_the_batch_is_refused() -> None:
    m = model()
    opt = SGD(m.parameters())

    def step(x, y):
        scaled = Tensor(x * 2, requires_grad=True)  # requires grad, but made per call
        loss = losses.sparse_categorical_crossentropy(y, m(scaled, training=True))
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    jitted = jit(step)
    jitted(*batch(0))
    with pytest.raises(ConfigError, match="made outside the ops"):
        jitted(*batch(1))
