"""The benchmark table before and after: this tree's training steps against a past revision's,
timed in one process.

    python benchmarks/compare_revisions.py 62109b3 [--without-guarantees] [--rounds 40]

The past revision is imported next to this tree as a renamed package (``revisions.export``);
both build the same models from the same seed, and every workload's step is timed in rounds that
interleave the contenders (``harness.interleaved``), so load changes hit all of them alike. Per
workload the table shows each contender's median µs per step and, against the past revision,
the ratio of the minimums and the median of the per-round ratios with its 10th-90th percentile
(a ratio whose percentiles straddle 1.00 is no measurable difference). Before timing, each
workload runs one step from the same weights in every contender: "same step" says whether the
updated weights agree (the numbers must be the same work, or the times mean nothing).

``--without-guarantees`` adds a third contender: this tree with the per-step numeric checks of
issue 11 taken out (``guarantees_off``: measurement only), which separates what those checks
cost from what the rest of the code costs.

Workloads (float32, SGD lr 0.01 unless said): the PyTorch-style loop (forward, loss, backward,
``step``, ``zero_grad``) on MLPs 784-32-10 (batch 32), 784-128-64-10 (batch 64 and 512) and
20-64-64-10 with Dropout(0.5) (batch 32); ``train_on_batch`` on 784-32-10 with SGD and with Adam
plus an accuracy metric; the loop on Conv2D(32, 3x3) -> Dense(10) (28x28x1, batch 64) and on
LSTM(128) / SimpleRNN(128) over 20 steps -> Dense(20) (batch 64, MSE). Only public API that
both revisions have. One BLAS thread unless ``BENCH_THREADS`` says otherwise: the least noisy.

Nothing asserts on time. ``--quick``: 3 short rounds (a smoke run; its times mean nothing).
Takes about 2-4 minutes (``--only KEY`` for a subset). Expected last line: the load average.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
if __name__ == "__main__" and "numpy" not in sys.modules:  # before numpy loads (harness too)
    os.environ.setdefault("BENCH_THREADS", "1")

import argparse
import importlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import harness  # first: pins the BLAS threads before numpy loads

import guarantees_off
import numpy as np
import revisions

Step = Callable[[], Any]


def _mlp(pkg: ModuleType, sizes: Sequence[int], dropout: float = 0.0) -> Any:
    layers, models = (importlib.import_module(f"{pkg.__name__}.{m}") for m in ("layers", "models"))
    pkg.set_seed(0)
    stack = []
    for i, units in enumerate(sizes[1:-1]):
        extra = {"input_shape": (sizes[0],)} if i == 0 else {}
        stack.append(layers.Dense(units, activation="relu", **extra))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(sizes[-1], activation="softmax"))
    return models.Sequential(stack)


def _conv(pkg: ModuleType) -> Any:
    layers, models = (importlib.import_module(f"{pkg.__name__}.{m}") for m in ("layers", "models"))
    pkg.set_seed(0)
    return models.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _rnn(kind: str) -> Callable[[ModuleType], Any]:
    def build(pkg: ModuleType) -> Any:
        layers, models = (
            importlib.import_module(f"{pkg.__name__}.{m}") for m in ("layers", "models")
        )
        pkg.set_seed(0)
        rnn = getattr(layers, kind)(128, input_shape=(20, 1))
        return models.Sequential([rnn, layers.Dense(20)])

    return build


def _batches(x_shape: tuple, classes: int | None, batch: int) -> list[tuple]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(4):
        x = rng.random((batch, *x_shape), dtype=np.float32)
        y = rng.integers(0, classes, batch) if classes else rng.random((batch, 20), np.float32)
        out.append((x, y))
    return out


@dataclass(frozen=True)
class Workload:
    key: str
    build: Callable[[ModuleType], Any]  # pkg -> model (seeded)
    x_shape: tuple
    classes: int | None  # None: a regression target of 20 values (MSE)
    batch: int
    train_on_batch: str | None = None  # the compile() optimizer, or None: the PyTorch loop

    def step(self, pkg: ModuleType) -> tuple[Step, Any]:
        """``(step, model)``: a step cycling over 4 fixed batches."""
        model, pool = self.build(pkg), _batches(self.x_shape, self.classes, self.batch)
        at = [0]

        def batch() -> tuple:
            at[0] += 1
            return pool[at[0] % 4]

        if self.train_on_batch:
            metrics = ["accuracy"] if self.train_on_batch == "adam" else None
            loss = "sparse_categorical_crossentropy" if self.classes else "mse"
            model.compile(optimizer=self.train_on_batch, loss=loss, metrics=metrics)
            return (lambda: model.train_on_batch(*batch())), model
        losses = importlib.import_module(f"{pkg.__name__}.losses")
        optimizers = importlib.import_module(f"{pkg.__name__}.optimizers")
        loss_fn = losses.sparse_categorical_crossentropy if self.classes else losses.mse
        model(pool[0][0][:1])  # built before its parameters are handed to the optimizer
        opt = optimizers.SGD(model.parameters(), learning_rate=0.01)

        def loop_step() -> None:
            x, y = batch()
            loss = loss_fn(y, model(x, training=True))
            loss.backward()
            opt.step()
            opt.zero_grad()

        return loop_step, model


WORKLOADS = [
    Workload("784-32-10 b32 loop", lambda p: _mlp(p, (784, 32, 10)), (784,), 10, 32),
    Workload(
        "784-32-10 b32 train_on_batch SGD", lambda p: _mlp(p, (784, 32, 10)), (784,), 10, 32, "sgd"
    ),
    Workload(
        "784-32-10 b32 train_on_batch Adam+acc",
        lambda p: _mlp(p, (784, 32, 10)),
        (784,),
        10,
        32,
        "adam",
    ),
    Workload("784-128-64-10 b64 loop", lambda p: _mlp(p, (784, 128, 64, 10)), (784,), 10, 64),
    Workload("784-128-64-10 b512 loop", lambda p: _mlp(p, (784, 128, 64, 10)), (784,), 10, 512),
    Workload(
        "20-64-64-10 dropout b32 loop", lambda p: _mlp(p, (20, 64, 64, 10), 0.5), (20,), 10, 32
    ),
    Workload("Conv2D(32) b64 loop", _conv, (28, 28, 1), 10, 64),
    Workload("LSTM(128) b64 loop", _rnn("LSTM"), (20, 1), None, 64),
    Workload("SimpleRNN(128) b64 loop", _rnn("SimpleRNN"), (20, 1), None, 64),
]


def same_step(workload: Workload, pkgs: Sequence[ModuleType]) -> str:
    """One step in each package from the same seed: "yes", or the largest weight difference."""
    finals = []
    for pkg in pkgs:
        step, model = workload.step(pkg)
        step()
        finals.append(model.get_weights())
    worst = 0.0
    for other in finals[1:]:
        for a, b in zip(finals[0], other):
            worst = max(worst, float(np.max(np.abs(a - b) / (np.abs(a) + 1e-6))))
    return "yes" if worst <= 1e-4 else f"no (rel. {worst:.1e})"


def compare(
    workload: Workload, pkgs: dict[str, ModuleType], repeats: int, quick: bool = False
) -> dict[str, Any]:
    """Time ``workload`` in every package (``{label: pkg}``, the first is the "before")."""
    steps = {label: workload.step(pkg)[0] for label, pkg in pkgs.items()}
    timings = harness.interleaved(
        steps,
        repeats=3 if quick else repeats,
        warmup=2 if quick else 50,
        min_block_ms=0.5 if quick else 8.0,
        seed=0,
    )
    first = list(pkgs)[0]
    before = np.array(timings[first].samples)
    row: dict[str, Any] = {"workload": workload.key}
    row["same step"] = same_step(workload, list(pkgs.values()))
    for label, t in timings.items():
        row[label] = t
        if label != first:
            paired = np.array(t.samples) / before  # round by round: the same load for both
            row[f"{label}/{first}"] = (
                min(t.samples) / before.min(),
                float(np.median(paired)),
                float(np.percentile(paired, 10)),
                float(np.percentile(paired, 90)),
            )
    return row


def render(rows: list[dict[str, Any]], labels: Sequence[str]) -> str:
    first, rest = labels[0], labels[1:]
    head = ["workload", *(f"{lb} µs" for lb in labels)]
    head += [f"{lb} / {first}: min, median [p10-p90]" for lb in rest] + ["same step"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["workload"], *(f"{row[lb].median * 1e3:.1f}" for lb in labels)]
        for lb in rest:
            lo, med, p10, p90 = row[f"{lb}/{first}"]
            cells.append(f"{lo:.3f}, {med:.3f} [{p10:.2f}-{p90:.2f}]")
        lines.append("| " + " | ".join([*cells, row["same step"]]) + " |")
    return "\n".join(lines)


def packages(rev: str, without_guarantees: bool, where: Path) -> dict[str, ModuleType]:
    """``{label: package}``: the revision, this tree, and (optionally) this tree stripped."""
    name, dest = revisions.export(rev, where)
    pkgs = {rev: revisions.load(name, dest), "now": importlib.import_module("tinygrad_edu")}
    if without_guarantees:
        copy = "tinygrad_edu_unchecked"
        revisions.renamed_copy(revisions.REPO / revisions.PACKAGE, copy, where)
        pkgs["now, checks off"] = guarantees_off.strip(revisions.load(copy, where))
    return pkgs


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the past revision (commit, tag, HEAD~n)")
    parser.add_argument("--without-guarantees", action="store_true")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--only", help="workloads whose key contains this (any case)")
    parser.add_argument("--quick", action="store_true")
    harness.add_openblas_flag(parser)
    args = parser.parse_args(argv)
    chosen = [w for w in WORKLOADS if not args.only or args.only.lower() in w.key.lower()]
    with tempfile.TemporaryDirectory(prefix="tinygrad-edu-compare-") as tmp:
        pkgs = packages(args.rev, args.without_guarantees, Path(tmp))
        print(f"{harness.blas_text()}; {args.rounds} rounds; µs per step, medians", flush=True)
        rows = []
        for w in chosen:
            rows.append(compare(w, pkgs, args.rounds, args.quick))
            print(f"  {w.key}: done", file=sys.stderr, flush=True)
        print(render(rows, list(pkgs)))
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    return rows


if __name__ == "__main__":
    harness.reexec_without_openblas_env()
    main()
