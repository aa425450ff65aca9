"""The benchmark suite still runs, and its numpy references still compute what we compute.

No test here times anything: ``run_all.py --quick`` must exit 0 and print a row for every
workload (targets against torch read ``n/a`` where torch is not installed, as in CI); the
hand-written numpy steps must equal ours on one batch (a correctness check that keeps the speed
comparison honest), and that check must catch a wrong reference. The smoke run keeps the
OpenBLAS environment it is given (``--keep-openblas-env``): tests never change it.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_conv
import bench_fit
import bench_mlp
import harness
import numpy_floor
import run_all

SPECS = bench_mlp.WORKLOADS
IDS = [s.key for s in SPECS]
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_JIT = bench_mlp.jit is not None
#: compile(jit_compile=True) (issue 15), being built: the rows it feeds read n/a until then
HAS_JIT_COMPILE = "jit_compile" in inspect.signature(bench_fit.Sequential.compile).parameters
#: rows whose target is a ratio to torch: without torch they can only say n/a
TORCH_ROWS = [f"{layer} training step (ours: fused)" for layer in ("Conv2D", "LSTM", "SimpleRNN")]


def table_rows(text: str) -> dict:
    """First cell -> all cells, for every data row of the markdown tables in ``text``."""
    return {r[next(iter(r))]: r for r in run_all.parse_tables(text)}


@pytest.fixture(scope="module")
def quick_output() -> str:
    # 1 BLAS thread: a smoke run must not depend on how loaded the (shared) machine is
    env = dict(os.environ, PYTHONPATH=str(REPO), BENCH_THREADS="1")
    cmd = [
        sys.executable,
        str(BENCH / "run_all.py"),
        "--quick",
        "--threads",
        "1",
        "--keep-openblas-env",
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=600, cwd=REPO, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_run_all_quick_prints_every_workload(quick_output: str) -> None:
    rows = table_rows(quick_output)
    expected = [f"{s.name} ({how})" for s in SPECS for how in ("loop", "train_on_batch")]
    expected += [name for name in rows if name.startswith("fit epoch vs sum of its steps")][:1]
    expected += [name for name in rows if name.startswith("fit epoch peak RSS")][:1]
    assert len(expected) == 2 * len(SPECS) + 2, sorted(rows)
    expected += TORCH_ROWS
    missing = [name for name in expected if name not in rows]
    assert not missing, f"rows missing from the table: {missing}\n{quick_output}"
    for name in expected:
        assert rows[name]["ours"] != "–", f"no measurement for {name}"
        verdicts = ("yes", "**NO**") if HAS_TORCH or name not in TORCH_ROWS else ("n/a",)
        assert rows[name]["met"] in verdicts, (name, rows[name]["met"])
    for spec in SPECS:
        row = rows[f"{spec.name} (loop)"]
        assert row["numpy"] != "–" and row["ours/numpy"].endswith("x")
        assert row["floor"] != "–" and row["ours/floor"].endswith("x")
        for how, exists in (("replay", HAS_JIT), ("train_on_batch, jit_compile", HAS_JIT_COMPILE)):
            replay = rows[f"{spec.name} ({how})"]  # n/a only while the jit is missing
            assert (replay["ours"] != "–") == exists, (how, replay)
            assert "<= 1.15x floor" in replay["target"] and "not replayed" not in replay["target"]
    conv = rows["Conv2D training step (ours: fused)"]
    assert conv["numpy"] != "–" and conv["ours/numpy"].endswith("x")
    assert (conv["torch"] != "–") == HAS_TORCH
    assert "targets met:" in quick_output and "OpenBLAS core type" in quick_output


def test_conv_numpy_reference_equals_ours() -> None:
    """``contenders`` checks ours (fused and reference) against the numpy im2col step."""
    steps = bench_conv.contenders(batch=4, filters=3)
    assert {bench_conv.OURS, bench_conv.REFERENCE, bench_conv.NUMPY} <= set(steps)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_numpy_reference_equals_ours(spec: bench_mlp.MLPSpec) -> None:
    diffs = bench_mlp.check_references(spec)
    assert {"loss", "output", "grad[0]", "param_after[0]"} <= set(diffs)
    assert {"floor loss", "floor output", "floor grad[0]", "floor param_after[0]"} <= set(diffs)
    assert len([k for k in diffs if k.startswith("grad[")]) == 2 * (len(spec.sizes) - 1)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[4], SPECS[5]], ids=[IDS[0], IDS[4], IDS[5]])
def test_floor_check_catches_a_wrong_floor(spec, monkeypatch) -> None:
    """A floor that forgets the bias update, or folds a wrong learning rate into the loss
    gradient, fails the check before it could be timed."""
    real_step = numpy_floor.FloorMLP.step

    def no_bias_update(self, x, y):
        biases = [b.copy() for b in self.bs]
        loss = real_step(self, x, y)
        for b, old in zip(self.bs, biases):
            b[...] = old
        return loss

    def lr_doubled(self, x, y):
        self.lr = np.float32(2 * bench_mlp.LR)
        return real_step(self, x, y)

    for wrong in (no_bias_update, lr_doubled):
        monkeypatch.setattr(numpy_floor.FloorMLP, "step", wrong)
        with pytest.raises(AssertionError, match="numpy floor"):
            bench_mlp.check_references(spec)
    monkeypatch.setattr(numpy_floor.FloorMLP, "step", real_step)
    assert bench_mlp.check_references(spec)["floor loss"] < 1e-4


def test_reference_check_catches_a_wrong_backward() -> None:
    spec = SPECS[2]
    model = bench_mlp.build_ours(spec)
    x, y = bench_mlp.make_batches(spec, 1)[0]
    out = model(x, training=True)
    loss = bench_mlp.losses.sparse_categorical_crossentropy(y, out)
    loss.backward()
    ours = harness.StepResult(float(loss.data), out.data, [p.grad for p in model.parameters()])

    loss_r, out_r, grads_r = bench_mlp.NumpyMLP(model.get_weights()).forward_backward(x, y)
    harness.check_same_step(ours, harness.StepResult(loss_r, out_r, grads_r))
    off_by_1pct = [g * np.float32(1.01) if i == 2 else g for i, g in enumerate(grads_r)]
    no_batch_mean = [g * np.float32(len(y)) for g in grads_r]  # forgot dz /= B
    for wrong in (off_by_1pct, no_batch_mean):
        with pytest.raises(AssertionError):
            harness.check_same_step(ours, harness.StepResult(loss_r, out_r, wrong))


def test_steps_sum_walks_the_same_batches_as_fit() -> None:
    """The sum-of-steps baseline trains on fit's batches in fit's order: same final weights."""
    rng = np.random.default_rng(0)
    x = rng.random((200, 784), dtype=np.float32)
    y = rng.integers(0, 10, 200).astype(np.uint8)
    a, b = bench_fit.build_model(), bench_fit.build_model()
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=bench_fit.BATCH, epochs=1, verbose=0, shuffle=True, seed=3)
    b._prepare_optimizer(x)
    bench_fit.steps_sum_ms(b, x, y, seed=3)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_replayed_rows_need_both_the_numpy_and_the_floor_target() -> None:
    both = harness.Row("a", 0.9, numpy_ms=1.0, limit=1.0, floor_ms=0.85, floor_limit=1.15)
    floor_missed = harness.Row("b", 0.9, numpy_ms=1.0, limit=1.0, floor_ms=0.7, floor_limit=1.15)
    numpy_missed = harness.Row("c", 1.1, numpy_ms=1.0, limit=1.0, floor_ms=1.0, floor_limit=1.15)
    no_replay = harness.Row("d", None, numpy_ms=1.0, limit=1.0, floor_ms=1.0, floor_limit=1.15)
    assert [r.met for r in (both, floor_missed, numpy_missed, no_replay)] == [
        True,
        False,
        False,
        None,
    ]
    rows = table_rows(harness.render_table([both, floor_missed]))
    assert rows["a"]["ours/floor"] == "1.06x" and rows["b"]["floor"] == "0.700"
    assert rows["b"]["met"] == "**NO**" and rows["a"]["target"] == "<= 1x numpy, <= 1.15x floor"


def test_row_targets_and_table() -> None:
    fast = harness.Row("w", 1.0, numpy_ms=1.0, torch_ms=2.0, limit=1.15)
    slow = harness.Row("w2", 3.0, numpy_ms=2.0, torch_ms=2.0, against="torch", limit=1.0)
    custom = harness.Row(
        "fit", 110.0, against="custom", limit=1.15, custom_ratio=1.1, target="<= 1.15x sum of steps"
    )
    unknown = harness.Row("conv", None, against="torch", limit=1.0)
    assert (fast.met, slow.met, custom.met, unknown.met) == (True, False, True, None)
    assert fast.ratio_torch == 0.5 and slow.ratio == 1.5
    rows = table_rows(harness.render_table([fast, slow, custom, unknown]))
    assert rows["w2"]["met"] == "**NO**" and rows["conv"]["met"] == "n/a"
    assert rows["fit"]["target"].endswith("1.10x")


def test_reexec_drops_the_openblas_variables_once(monkeypatch) -> None:
    """Nothing is executed here: ``os.execve`` is replaced by a recorder."""
    calls: list = []
    monkeypatch.setattr(harness.os, "execve", lambda *args: calls.append(args))
    for var in harness.OPENBLAS_ENV:
        monkeypatch.setenv(var, "x")
    monkeypatch.delenv(harness.REEXEC_MARK, raising=False)
    harness.reexec_without_openblas_env(["--keep-openblas-env"])
    assert calls == []
    harness.reexec_without_openblas_env(["--quick"])
    ((exe, argv, env),) = calls
    assert argv[0] == exe and argv[-1] == "--quick"
    assert not set(harness.OPENBLAS_ENV) & set(env) and env[harness.REEXEC_MARK]
    monkeypatch.setenv(harness.REEXEC_MARK, env[harness.REEXEC_MARK])  # the re-executed run
    harness.reexec_without_openblas_env(["--quick"])
    assert len(calls) == 1 and "removed for this run" in harness.blas_text()


def test_interleaved_rounds_shuffle_and_keep_pools_together() -> None:
    calls: list = []
    names = ("ours", "ours_tob", "numpy", "torch")
    contenders = {n: (lambda n=n: calls.append(n)) for n in names}
    timings = harness.interleaved(contenders, repeats=20, warmup=1, inner=1, switch_settle_ms=0)
    assert set(timings) == set(names) and all(len(t.samples) == 20 for t in timings.values())
    rounds = [calls[-4 * (r + 1) : len(calls) - 4 * r] for r in range(20)]
    assert all(sorted(r) == sorted(names) for r in rounds)
    # torch (its own pool) never sits between two numpy-pool blocks of the same round
    assert all(r.index("torch") in (0, 3) for r in rounds)
    # no contender always follows the same one
    before_ours = {r[r.index("ours") - 1] for r in rounds if r.index("ours") > 0}
    assert len(before_ours) > 1
