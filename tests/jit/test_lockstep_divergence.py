"""A step that diverges fails alike under replay: same error at the same step, same state after.

A learning rate raised to 1e30 between steps makes the weights overflow and the next gradients
NaN. Eager raises ``DivergenceError`` (``Optimizer.step`` checks every gradient before writing
any weight; ``train_on_batch`` also undoes a step whose loss or updated weights are not finite);
the replayed twin must raise it at the same step, from a replayed step, and leave the same bytes.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import OPTIMIZERS, SPARSE_CE, mlp, same_batches
from twins import Twin, loop_twins, run_lockstep

from tinygrad_edu.errors import DivergenceError
from tinygrad_edu.models import Model
from tinygrad_edu.optimizers import SGD

try:  # until tinygrad_edu.jit lands (another helper builds it), collecting must not fail
    from tinygrad_edu.jit import jit
except ImportError:
    pytest.skip("tinygrad_edu.jit is not built yet", allow_module_level=True)


def failing(step) -> Any:
    """``step`` returning the DivergenceError's class and place instead of raising it."""

    def guarded(x, y):
        try:
            return step(x, y)
        except DivergenceError as err:
            return ("DivergenceError", err.where)

    return guarded


def explode(i: int, twin: Twin) -> float:
    if i == 4:
        twin.optimizer.learning_rate = 1e30
    return twin.optimizer.learning_rate


def test_a_diverging_loop_step_raises_alike() -> None:
    eager, jitted = loop_twins(mlp((16,)), OPTIMIZERS["sgd"](None), SPARSE_CE, jit)
    eager.optimizer.set_params(eager.model.parameters())
    jitted.optimizer.set_params(jitted.model.parameters())
    results = []
    eager.step, plain = failing(eager.step), jitted.step
    jitted.step = failing(plain)

    def between(i: int, twin: Twin) -> float:
        if twin is jitted:
            results.append(plain.last_mode)
        return explode(i, twin)

    run_lockstep(eager, jitted, same_batches([8] * 8), between)
    assert "replay" in results[4:], results  # diverging steps were replayed, not eager


@pytest.mark.skipif(
    "jit_compile" not in inspect.signature(Model.compile).parameters,
    reason="compile(jit_compile=...) is being built",
)
def test_a_diverging_train_on_batch_is_undone_alike() -> None:
    twins = []
    for jit_compile, model in ((False, mlp((16,))), (True, mlp((16,)))):
        model.compile(
            optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit_compile
        )
        twins.append(Twin(model, model.optimizer, failing(model.train_on_batch)))
    eager, jitted = twins
    run_lockstep(eager, jitted, same_batches([8] * 8), explode)
    assert jitted.model.train_function.stats["replay"] >= 1


@pytest.mark.parametrize(
    "make_opt", [lambda: SGD(None, 1e-26), lambda: SGD(None, 1e-26, momentum=0.9, weight_decay=0.1)]
)
def test_finite_gradients_whose_squares_overflow_are_not_divergence(make_opt) -> None:
    """float32 gradients of ~1e25 are finite, but the sum of their squares the replay checks
    overflows to inf. Eager's check then looks at each gradient exactly, finds none non-finite
    and steps on; the replay raised a raw AssertionError ('a non-finite gradient that
    checked_grads accepts') instead of stepping on."""

    def huge(y, out):
        return SPARSE_CE(y, out) * 1e25

    eager, jitted = loop_twins(mlp((16,)), make_opt(), huge, jit)
    for twin in (eager, jitted):
        twin.optimizer.set_params(twin.model.parameters())
    run_lockstep(eager, jitted, same_batches([8] * 5))
    assert jitted.step.stats["replay"] >= 3
    assert all(w.grad is None for w in jitted.model.weights)  # zero_grad's state, as eager's
