"""Targets an operator lifts into a constant are read afresh at every replay.

``(out - y) ** 2`` with a float64 ``y`` and a float32 ``out`` lifts ``y`` into a float32 copy.
The tape took that copy for a constant whenever ``y`` was an argument of the step ("the
signature holds its value" - true of a Python number, not of an array): every replay trained on
the capture batch's targets, silently. The same lift from a converted copy (Keras'
``binary_crossentropy`` with 0/1 targets under ``compile(jit_compile=True)``) was refused as a
number "computed from the batch". Both now read the batch's targets at every replay.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import FEATURES, OPTIMIZERS, mlp, run_loop
from test_lockstep_compiled import compiled_twins
from twins import assert_replayed, run_lockstep

from tinygrad_edu import Tensor, set_seed
from tinygrad_edu.errors import DataError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential


def regression_batches(n_batches: int, target_dtype) -> list:
    rng = np.random.default_rng(4)
    return [
        (
            rng.standard_normal((8, FEATURES)).astype(np.float32),
            rng.standard_normal((8, 5)).astype(target_dtype),
        )
        for _ in range(n_batches)
    ]


def squared_error(y, out: Tensor) -> Tensor:
    return ((out - y) ** 2).mean()  # y: a numpy array, lifted by the operator


@pytest.mark.parametrize("target_dtype", [np.float64, np.float32, np.int64])
def test_a_hand_written_loss_reads_each_batch_targets(target_dtype) -> None:
    twin = run_loop(
        mlp((16,)), OPTIMIZERS["sgd-momentum"], regression_batches(6, target_dtype), squared_error
    )
    assert twin.step.stats["replay"] >= 4


def binary_model() -> Sequential:
    set_seed(5)
    model = Sequential([Dense(8, "relu", input_shape=(FEATURES,)), Dense(1, "sigmoid")])
    model.build((None, FEATURES))
    return model


@pytest.mark.parametrize(
    "loss, targets",
    [
        ("binary_crossentropy", lambda rng: rng.integers(0, 2, (8, 1)).astype(np.float64)),
        ("binary_crossentropy", lambda rng: rng.integers(0, 2, (8, 1))),
        ("mse", lambda rng: rng.standard_normal((8, 1))),
    ],
)
def test_compiled_losses_with_array_targets_replay(loss, targets) -> None:
    rng = np.random.default_rng(6)
    batches = [
        (rng.standard_normal((8, FEATURES)).astype(np.float32), targets(rng)) for _ in range(6)
    ]
    eager, jitted = compiled_twins(binary_model(), OPTIMIZERS["adamw-schedule"], metrics=())
    for twin in (eager, jitted):
        twin.model.compile(optimizer=twin.optimizer, loss=loss, jit_compile=twin is jitted)
    run_lockstep(eager, jitted, batches)
    assert_replayed(jitted)


@pytest.mark.parametrize("bad", [-1.0, 7.0, 0.5])
def test_binary_targets_outside_0_1_are_refused_by_a_replayed_step_as_by_eager(bad) -> None:
    """binary_crossentropy checks its targets in eager; a replay never ran that check, so a
    target of 7 trained silently once the loss could replay. 0.5 is in range: it trains."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, FEATURES)).astype(np.float32)
    y = rng.integers(0, 2, (8, 1)).astype(np.float64)
    eager, jitted = compiled_twins(binary_model(), OPTIMIZERS["sgd"], metrics=())
    for twin in (eager, jitted):
        twin.model.compile(
            optimizer=twin.optimizer, loss="binary_crossentropy", jit_compile=twin is jitted
        )
    run_lockstep(eager, jitted, [(x, y)] * 4)
    assert_replayed(jitted)
    y_bad = y.copy()
    y_bad[3, 0] = bad
    outcomes = []
    for twin in (eager, jitted):
        try:
            outcomes.append(twin.model.train_on_batch(x, y_bad))
        except DataError as err:
            outcomes.append(err.expected)
    assert outcomes[0] == outcomes[1]
    assert ("targets in [0, 1]" in str(outcomes[0])) is (bad != 0.5)
    run_lockstep(eager, jitted, [(x, y)] * 2)  # same weights after; and still in lockstep
