"""What ``fit`` costs beyond its training steps, and how much memory an epoch takes.

Model: the one of ``examples/mnist_mlp.py`` - ``Dense(128, relu) -> Dense(10, softmax)``, Adam,
sparse categorical cross-entropy, accuracy metric - trained on 60,000 synthetic 28x28 digits
(``load_synthetic_digits``, flattened to 784 float32 values in [0, 1]) at batch 32.

1. Loop overhead: one ``fit`` epoch (``verbose=0``, shuffled with a seed) against the sum of the
   step times of the same batches in the same order (each ``model._train_step(xb, yb)`` timed
   alone, so gathering the batches, callbacks, logs and data checks are what the ratio shows).
   The two are interleaved over several rounds on one model; the medians are compared.
   Target: fit epoch <= 1.15x the sum of its steps.
   With ``compile(..., jit_compile=True)`` (issue 15's replay; the row is left out where
   ``compile`` does not take ``jit_compile`` yet): the same comparison, each step a replay of the captured
   step. Target: fit epoch <= 1.05x the sum of its replayed steps.
2. Peak RSS of one epoch, in a fresh subprocess: data prepared, the generator's cache dropped,
   the peak counter reset (``/proc/self/clear_refs``), then ``fit``; the peak is compared with
   the bytes of data + weights + optimizer state. Target: <= 1.5x that + 100 MB. The RSS of an
   idle ``python -c "import numpy"`` is reported too (the floor every process pays).

Usage: python benchmarks/bench_fit.py [--quick] [--n 60000] [--rounds 5]
Takes about 40-70 s (data generation ~5 s in each of two processes); --quick about 5 s.
Expected last line: the RSS row of the table.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import numpy as np

from tinygrad_edu import set_seed
from tinygrad_edu.datasets import batches, load_synthetic_digits
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential

BATCH = 32
FULL_N, QUICK_N = 60000, 3000
SEED = 0
FIT_LIMIT, RSS_FACTOR, RSS_SLACK_MB = 1.15, 1.5, 100.0
REPLAY_FIT_LIMIT = 1.05  # issue 15: a replayed fit epoch within 5% of its replayed steps
MB = 1024 * 1024


def load_data(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``n`` training digits as (n, 784) float32 in [0, 1] and uint8 labels; one float copy only,
    and the generator's per-process cache emptied so the data is held once."""
    (x8, y), _ = load_synthetic_digits(n_train=n, n_test=0, seed=seed)
    x = x8.reshape(n, 784).astype(np.float32)
    x /= 255
    del x8
    from tinygrad_edu.datasets import synthetic_digits

    getattr(synthetic_digits, "_CACHE", {}).clear()
    gc.collect()
    return x, y


def build_model(seed: int = SEED, **jit_compile: bool) -> Sequential:
    """examples/mnist_mlp.py's model, compiled the same way (``jit_compile=True``: replayed)."""
    set_seed(seed)
    model = Sequential([Dense(128, "relu", input_shape=(784,)), Dense(10, "softmax")])
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **jit_compile,
    )
    return model


def fit_epoch_ms(model: Sequential, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True, seed=seed)
    return (time.perf_counter() - start) * 1e3


def steps_sum_ms(model: Sequential, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """The same batches as ``fit(..., seed=seed)``'s first epoch; only the steps are timed."""
    total = 0.0
    for xb, yb in batches(x, y, BATCH, shuffle=True, seed=seed):
        start = time.perf_counter()
        model._train_step(xb, yb)
        total += time.perf_counter() - start
    return total * 1e3


def loop_overhead(
    n: int,
    rounds: int,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    jit_compile: bool = False,
) -> dict[str, Any]:
    """Median fit-epoch ms and median sum-of-steps ms over ``rounds`` interleaved rounds
    (``jit_compile=True``: the model replays its captured step, in fit and in the steps)."""
    if x is None or y is None:
        x, y = load_data(n)
    model = build_model(**({"jit_compile": True} if jit_compile else {}))
    fit_epoch_ms(model, x[:2048], y[:2048], SEED)  # warm-up; also hands the params to Adam
    fits, sums = [], []
    for r in range(rounds):
        pair = [("fit", fit_epoch_ms), ("steps", steps_sum_ms)]
        for name, fn in pair if r % 2 == 0 else pair[::-1]:
            (fits if name == "fit" else sums).append(fn(model, x, y, SEED + r))
    fit_ms, steps_ms = float(np.median(fits)), float(np.median(sums))
    n_steps = -(-len(x) // BATCH)
    return {
        "fit_ms": fit_ms,
        "steps_ms": steps_ms,
        "n_steps": n_steps,
        "overhead_us_per_step": (fit_ms - steps_ms) * 1e3 / n_steps,
        "fits": fits,
        "sums": sums,
        "mode": harness.last_mode(model.train_on_batch) if jit_compile else "eager",
    }


def rss_child(n: int, seed: int = SEED) -> dict[str, Any]:
    """Run in a fresh process (``harness.run_in_subprocess``): peak RSS of one fit epoch."""
    after_imports = harness.current_rss_mb()
    x, y = load_data(n, seed)
    model = build_model(seed)
    gc.collect()
    before_fit = harness.current_rss_mb()
    reset = harness.reset_peak_rss()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True, seed=seed)
    peak = harness.peak_rss_mb()
    state = model.optimizer.state_dict()
    opt_bytes = sum(v.nbytes for v in state.values() if isinstance(v, np.ndarray))
    return {
        "peak_mb": peak,
        "peak_reset": reset,
        "rss_after_imports_mb": after_imports,
        "rss_before_fit_mb": before_fit,
        "data_mb": (x.nbytes + y.nbytes) / MB,
        "weights_mb": sum(w.data.nbytes for w in model.weights) / MB,
        "optimizer_state_mb": opt_bytes / MB,
    }


def memory(n: int) -> dict[str, Any]:
    res = harness.run_in_subprocess("bench_fit", "rss_child", n)
    res["idle_python_numpy_mb"] = harness.idle_rss_mb(("numpy",))
    res["payload_mb"] = res["data_mb"] + res["weights_mb"] + res["optimizer_state_mb"]
    res["budget_mb"] = RSS_FACTOR * res["payload_mb"] + RSS_SLACK_MB
    return res


def bench_rows(
    quick: bool = False,
    only: str | None = None,
    n: int | None = None,
    rounds: int | None = None,
) -> list[harness.Row]:
    """The loop-overhead row and the peak-RSS row (``only="rss"`` or ``"fit-time"``: just one)."""
    n = n or (QUICK_N if quick else FULL_N)
    rows: list[harness.Row] = []
    label = f"{n:,} images, batch {BATCH}, Adam"
    rounds = rounds or (1 if quick else 5)
    if only != "rss":
        x, y = load_data(n)
        t = loop_overhead(n, rounds, x, y)
        rows.append(
            harness.Row(
                f"fit epoch vs sum of its steps ({label})",
                t["fit_ms"],
                against="custom",
                limit=FIT_LIMIT,
                custom_ratio=t["fit_ms"] / t["steps_ms"],
                group="fit",
                target=f"<= {FIT_LIMIT:g}x sum of steps ({harness.fmt_ms(t['steps_ms'])} ms)",
                note=f"{t['overhead_us_per_step']:.0f} us/step outside the steps",
                extra={"key": "fit-epoch", **t},
            )
        )
    if only != "rss" and "jit_compile" in inspect.signature(Sequential.compile).parameters:
        rows.append(replayed_row(n, rounds, label, x, y))
        del x, y
    if only != "fit-time":
        m = memory(n)
        rows.append(
            harness.Row(
                f"fit epoch peak RSS ({label})",
                m["peak_mb"],
                unit="MB",
                against="custom",
                limit=1.0,
                custom_ratio=m["peak_mb"] / m["budget_mb"],
                group="fit",
                target=f"<= {RSS_FACTOR:g} x {m['payload_mb']:.0f} MB (data + weights + optimizer "
                f"state) + {RSS_SLACK_MB:.0f} MB = {m['budget_mb']:.0f} MB; ratio = peak/budget",
                note=f"idle python+numpy {m['idle_python_numpy_mb']:.0f} MB, before fit "
                f"{m['rss_before_fit_mb']:.0f} MB"
                + ("" if m["peak_reset"] else ", peak not resettable: includes data prep"),
                extra={"key": "fit-rss", **m},
            )
        )
    return rows


def replayed_row(n: int, rounds: int, label: str, x: np.ndarray, y: np.ndarray) -> harness.Row:
    """fit with ``compile(..., jit_compile=True)`` against the sum of its replayed steps."""
    t = loop_overhead(n, rounds, x, y, jit_compile=True)
    replayed = t["mode"] == "replay"
    return harness.Row(
        f"fit epoch, jit_compile=True, vs sum of its replayed steps ({label})",
        t["fit_ms"],
        against="custom",
        limit=REPLAY_FIT_LIMIT,
        custom_ratio=t["fit_ms"] / t["steps_ms"],
        group="fit",
        target=f"<= {REPLAY_FIT_LIMIT:g}x sum of steps ({harness.fmt_ms(t['steps_ms'])} ms)",
        note=f"{t['overhead_us_per_step']:.0f} us/step outside the steps"
        + ("" if replayed else f"; last step ran as {t['mode']}, not replayed"),
        extra={"key": "fit-epoch-jit", **t},
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_N} images, one round")
    parser.add_argument("--n", type=int, default=None, help=f"images (default {FULL_N})")
    parser.add_argument("--rounds", type=int, default=None, help="fit/steps rounds (default 5)")
    args = parser.parse_args(argv)
    print(f"fit loop overhead and memory, {harness.threads()} threads\n")
    print(harness.render_table(bench_rows(args.quick, n=args.n, rounds=args.rounds)))


if __name__ == "__main__":
    main()
