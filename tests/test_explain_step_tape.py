"""``tinygrad_edu.explain.training_step``: the tape of one training step, taken on a copy.

It must leave the model exactly as it was (weights, moving statistics, optimizer state and step
count, dropout generators), name every phase and every layer, and refuse an uncompiled model
with a fix that runs.
"""

from __future__ import annotations

import copy
import doctest
import re

import numpy as np
import pytest

from tinygrad_edu import set_seed
from tinygrad_edu.errors import ConfigError
from tinygrad_edu.explain import step_tape, training_step
from tinygrad_edu.layers import BatchNormalization, Dense, Dropout
from tinygrad_edu.models import Sequential

LINE = re.compile(r"^\s*(\d+) (forward|loss|backward|update)\s+(\S*)\s+(.*)$")


def model_and_batch(compiled: bool = True):
    set_seed(0)
    model = Sequential(
        [
            Dense(8, activation="relu", input_shape=(6,), kernel_regularizer="l2"),
            BatchNormalization(),
            Dropout(0.5),
            Dense(3, activation="softmax"),
        ]
    )
    if compiled:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    return model, rng.standard_normal((4, 6)).astype(np.float32), rng.integers(0, 3, 4)


def everything(model) -> list:
    """Every array and counter a training step may change, as bytes."""
    state = [w.numpy().tobytes() for w in model.weights]
    state += [a.tobytes() for a in model.optimizer.state_arrays()]
    state.append(model.optimizer.iterations)
    state.append(copy.deepcopy(model.layers[2]._rng.bit_generator.state))
    return state


def tape_lines(text: str) -> list:
    return [m.groups() for m in map(LINE.match, text.splitlines()) if m]


def test_the_model_is_left_exactly_as_it_was() -> None:
    model, x, y = model_and_batch()
    model.train_on_batch(x, y)  # optimizer slots and a step count to keep
    before = everything(model)
    training_step(model, x, y)
    assert everything(model) == before


def test_the_tape_names_every_phase_and_layer_in_order() -> None:
    model, x, y = model_and_batch()
    lines = tape_lines(training_step(model, x, y))
    numbers = [int(n) for n, *_ in lines]
    assert numbers == list(range(1, len(lines) + 1))
    phases = [phase for _, phase, _, _ in lines]
    assert {"forward", "loss", "backward", "update"} <= set(phases)
    assert phases.index("forward") < phases.index("loss") < phases.index("backward")
    assert phases.index("backward") < phases.index("update")
    labels = " ".join(label + " " + code for _, _, label, code in lines)
    for layer in model.layers:
        assert layer.name in labels, f"{layer.name} missing from the tape"


def test_an_unbuilt_model_is_built_on_the_copy_only() -> None:
    _, x, y = model_and_batch()
    model = Sequential([Dense(8, activation="relu"), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert not model.built
    assert tape_lines(training_step(model, x, y))
    assert not model.built


def test_an_uncompiled_model_is_refused_with_a_fix_that_runs() -> None:
    model, x, y = model_and_batch(compiled=False)
    with pytest.raises(ConfigError, match="compile") as err:
        training_step(model, x, y)
    exec(err.value.fix, {"model": model})  # noqa: S102 - our own fix text
    assert tape_lines(training_step(model, x, np.ones((4, 3), np.float32)))


def test_the_module_docstring_examples_pass() -> None:
    result = doctest.testmod(step_tape, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0, result
