"""Replay equals eager through Keras' entry points: ``compile(..., jit_compile=True)``.

Twins (``twins.py``) compiled alike, one with ``jit_compile=False`` (eager, the oracle) and one
with ``jit_compile=True``: ``train_on_batch``, ``fit``, and ``evaluate``/``predict`` between
steps leave the same bytes everywhere (see ``test_lockstep.py`` for what is compared), and the
jitted model really replayed (``model.train_function``/``predict_function`` stats).
"""

from __future__ import annotations

import copy
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import OPTIMIZERS, data, mlp, same_batches
from twins import Twin, assert_replayed, run_lockstep

try:  # until tinygrad_edu.jit lands (another helper builds it), collecting must not fail
    from tinygrad_edu.jit import jit  # noqa: F401 - the replay these tests need
except ImportError:
    pytest.skip("tinygrad_edu.jit is not built yet", allow_module_level=True)
from tinygrad_edu.models import Model

if "jit_compile" not in inspect.signature(Model.compile).parameters:  # being built (issue 15)
    pytest.skip("compile(jit_compile=...) is not there yet", allow_module_level=True)


def compiled_twins(model, make_opt, metrics=("accuracy",)) -> tuple:
    twins = []
    for jit_compile, m in ((False, model), (True, copy.deepcopy(model))):
        m.compile(
            optimizer=make_opt(None),
            loss="sparse_categorical_crossentropy",
            metrics=list(metrics),
            jit_compile=jit_compile,
        )
        twins.append(Twin(m, m.optimizer, m.train_on_batch))
    assert twins[0].model.train_function is None
    return tuple(twins)


@pytest.mark.parametrize("name", ["sgd-nesterov", "adamw-schedule", "clipvalue"])
def test_train_on_batch_with_jit_compile(name) -> None:
    eager, jitted = compiled_twins(mlp((16,), dropout=0.5), OPTIMIZERS[name])
    run_lockstep(eager, jitted, same_batches([8, 8, 8, 3, 8, 3, 3, 8]))
    assert_replayed(jitted)


def test_evaluate_and_predict_between_compiled_steps() -> None:
    x_eval, y_eval = data(n=10, seed=9)

    def between(i: int, twin: Twin) -> Any:
        scores = twin.model.evaluate(x_eval, y_eval, batch_size=5, verbose=0)
        return scores, twin.model.predict(x_eval, batch_size=5, verbose=0)

    model = mlp((16,), dropout=0.5, batchnorm=True)
    eager, jitted = compiled_twins(model, OPTIMIZERS["adam-schedule"])
    run_lockstep(eager, jitted, same_batches([8] * 6), between=between)
    assert_replayed(jitted)
    assert jitted.model.predict_function.stats["replay"] > 0


def test_fit_epochs_with_jit_compile() -> None:
    x, y = data(n=45, seed=11)  # batches 16, 16, 13: the ragged last batch recurs every epoch

    def fit_step(model):
        def step(xb, yb):
            history = model.fit(xb, yb, batch_size=16, epochs=2, verbose=0, shuffle=False)
            return history.history

        return step

    eager, jitted = compiled_twins(mlp((16,), dropout=0.2, batchnorm=True), OPTIMIZERS["rmsprop"])
    eager.step, jitted.step = fit_step(eager.model), fit_step(jitted.model)
    run_lockstep(eager, jitted, [(x, y)] * 3)
    assert_replayed(jitted)
