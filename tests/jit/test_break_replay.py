"""The lockstep harness can fail: replay broken on purpose, three ways, makes the twins diverge.

Each test breaks one thing the replayed step must redo every time (issue 15, item 5), inside the
test only (``monkeypatch``), and asserts that ``run_lockstep`` reports the divergence - at a
replayed step, naming what differs:

- the dropout mask is not redrawn (the tape keeps the captured draw);
- the learning rate is baked in (the tape keeps the captured ``step_scalars()``);
- BatchNormalization's moving-statistics update is dropped from the tape.

Without the break the same scenario passes (``test_lockstep.py`` runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import OPTIMIZERS, SPARSE_CE, mlp, same_batches
from twins import Twin, fingerprint, first_difference, loop_twins, run_lockstep

try:  # until tinygrad_edu.jit lands (another helper builds it), collecting must not fail
    from tinygrad_edu import ops
    from tinygrad_edu.jit import build, jit, lowerings
except ImportError:
    pytest.skip("tinygrad_edu.jit is not built yet", allow_module_level=True)


def divergence(model, make_opt, batches, between=None) -> str:
    """The harness's message when the twins part, after checking the jit did replay."""
    eager, jitted = loop_twins(model, make_opt(model.parameters()), SPARSE_CE, jit)
    with pytest.raises(AssertionError, match="diverged") as err:
        run_lockstep(eager, jitted, batches, between)
    assert jitted.step.stats["replay"] >= 1 and jitted.step.last_mode == "replay"
    return str(err.value)


def drop_lines(e, marker: str, start: int) -> int:
    """Remove the tape lines from index ``start`` whose code contains ``marker``."""
    kept = e.body[:start] + [line for line in e.body[start:] if marker not in line[2]]
    removed = len(e.body) - len(kept)
    e.body[:] = kept
    return removed


def test_a_mask_not_redrawn_is_caught(monkeypatch) -> None:
    real = lowerings.LOWERINGS[ops.DropoutDraw]

    class StaleMask(type(real)):
        def forward(self, e, op) -> None:
            start = len(e.body)
            super().forward(e, op)
            assert drop_lines(e, ".random(out=", start) == 1

    monkeypatch.setitem(lowerings.LOWERINGS, ops.DropoutDraw, StaleMask())
    message = divergence(mlp((16,), dropout=0.5), OPTIMIZERS["sgd"], same_batches([8] * 5))
    assert "step 3" in message, message  # the first replay


def test_a_learning_rate_baked_in_is_caught(monkeypatch) -> None:
    real = build.write_update

    def baked(e, r, ev, grads) -> None:
        start = len(e.body)
        real(e, r, ev, grads)
        for i in range(start, len(e.body)):
            phase, label, code = e.body[i]
            if code.endswith(".step_scalars()"):
                frozen = e.const(ev.opt.step_scalars(), "BAKED")
                e.body[i] = (phase, label, f"{code.split(' = ')[0]} = {frozen}")

    monkeypatch.setattr(build, "write_update", baked)

    def between(i: int, twin: Twin) -> float:
        if i == 4:
            twin.optimizer.learning_rate = 0.003
        return twin.optimizer.learning_rate

    message = divergence(mlp((16,)), OPTIMIZERS["sgd"], same_batches([8] * 6), between)
    assert "step 5" in message and "weights" in message, message


def test_a_schedule_baked_in_is_caught(monkeypatch) -> None:
    real = build.write_update

    def baked(e, r, ev, grads) -> None:
        real(e, r, ev, grads)
        sc = next(code for _, _, code in e.body if code.endswith(".step_scalars()"))
        opt_name = sc.split(" = ")[1].split(".")[0]
        e.ns[opt_name] = _FrozenScalars(e.ns[opt_name])

    monkeypatch.setattr(build, "write_update", baked)
    message = divergence(mlp((16,)), OPTIMIZERS["adam-schedule"], same_batches([8] * 5))
    assert "step 4" in message, message  # step 3 asks once (right); step 4 reuses it


class _FrozenScalars:
    """An optimizer whose ``step_scalars()`` always answers as on the first call."""

    def __init__(self, opt) -> None:
        self._opt, self._frozen = opt, None

    def step_scalars(self):
        if self._frozen is None:
            self._frozen = self._opt.step_scalars()
        return self._frozen

    def __getattr__(self, name):
        return getattr(self._opt, name)


def test_a_dropped_moving_statistics_update_is_caught(monkeypatch) -> None:
    monkeypatch.setattr(build.Builder, "stateful", lambda self, ev: None)
    model = mlp((16,), batchnorm=True)
    message = divergence(model, OPTIMIZERS["sgd"], same_batches([8] * 5))
    assert "step 3" in message and "moving" in message, message
    assert np.all(np.isfinite(model.layers[1].moving_mean.numpy()))


def test_the_fingerprints_see_every_bit() -> None:
    """-0.0 vs 0.0, float32 vs float64, [2] vs [1, 2] all differ; NaN equals the same NaN."""
    zero, minus = np.array([0.0, 1.0]), np.array([-0.0, 1.0])
    assert zero.tolist() == minus.tolist()  # equal as numbers ...
    assert fingerprint(zero) != fingerprint(minus)  # ... not as bytes
    assert fingerprint(zero) != fingerprint(zero.astype(np.float32))
    assert fingerprint(zero) != fingerprint(zero.reshape(1, 2))
    assert fingerprint(-0.0) != fingerprint(0.0)
    assert fingerprint(np.array([np.nan])) == fingerprint(np.array([np.nan]))
    found = first_difference({"w": [fingerprint(zero)]}, {"w": [fingerprint(minus)]})
    assert found == ".w[0]: bytes differ (1 of 2, max |diff| 0, first at flat index 0)", found
