"""Shared benchmark machinery: thread pinning, interleaved timing, result rows, tables, peak RSS,
and the check that a hand-written numpy reference step computes what ours computes.

Rules every benchmark here follows (machines are shared and noisy):

- ratios, never absolute times: every contender is timed in the same process, in the same rounds;
- each round runs every contender once (a block of calls), in a fresh random order, so a load
  change hits all of them alike; a contender's result is the median over the rounds, after
  warm-up;
- contenders on different thread pools (torch's OpenMP vs numpy's OpenBLAS) are separated by an
  untimed pause, because the pool that just worked keeps spinning and slows the other one down
  (measured: torch 10x slower right after numpy on 2 cores);
- float32 and 2 BLAS threads (``pin_threads`` must run before numpy is imported: importing this
  module does it, so import it first);
- a numpy reference is only worth comparing against once it is shown to compute the same numbers
  (``check_same_step``);
- OpenBLAS picks its own kernels: a script run directly re-executes itself once without
  ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (``reexec_without_openblas_env``; this machine sets
  them for older OpenBLAS builds, and they force a current numpy onto old, slower kernels), and
  every header says which core type runs (``blas_text``).

Nothing here asserts on time. Importing this module imports nothing but the standard library and
numpy (torch only when ``limit_torch_threads`` is called).
"""

from __future__ import annotations

import math
import os
import random
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DEFAULT_THREADS = 2
#: untimed pause when ``interleaved`` switches between thread pools (numpy <-> torch)
SWITCH_SETTLE_MS = float(os.environ.get("BENCH_SWITCH_SETTLE_MS", "250"))


def pin_threads(n: int | None = None) -> bool:
    """Ask BLAS for ``n`` threads (default ``$BENCH_THREADS`` or 2) through the environment.

    Only effective before numpy is first imported (OpenBLAS reads the variables when it loads);
    returns False when numpy was already imported, so callers can warn.
    """
    if "numpy" in sys.modules:  # too late for this process; leave the environment alone
        return False
    n = n if n is not None else int(os.environ.get("BENCH_THREADS", DEFAULT_THREADS))
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    return True


_PINNED_BEFORE_NUMPY = pin_threads()

#: set on some machines because older OpenBLAS builds crash on their CPU; a current numpy then
#: runs OpenBLAS's old "Haswell" kernels (measured here: the LSTM step ~3.5-3.9 ms instead of
#: ~2.6-2.8 ms with the "SkylakeX" kernels OpenBLAS picks by itself)
OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
KEEP_OPENBLAS_FLAG = "--keep-openblas-env"
#: set in the re-executed process: what was removed (``"OPENBLAS_CORETYPE=Haswell ..."``)
REEXEC_MARK = "BENCH_REMOVED_OPENBLAS_ENV"


def reexec_without_openblas_env(argv: Sequence[str] | None = None) -> None:
    """Replace this process, once, by the same command without ``OPENBLAS_ENV`` in its
    environment, so OpenBLAS picks the kernels of this CPU. Does nothing when none of them is
    set, when ``--keep-openblas-env`` is among the arguments, or in the re-executed process
    (``REEXEC_MARK`` is set there). Call it from a script's ``__main__`` block only: tests and CI
    keep the environment they were given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    removed = {var: os.environ[var] for var in OPENBLAS_ENV if var in os.environ}
    if not removed or KEEP_OPENBLAS_FLAG in argv or REEXEC_MARK in os.environ:
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_ENV}
    env[REEXEC_MARK] = " ".join(f"{k}={v}" for k, v in removed.items())
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, sys.argv[0], *argv], env)


def add_openblas_flag(parser: Any) -> None:
    """The ``--keep-openblas-env`` option of every benchmark script (see ``reexec_...``)."""
    parser.add_argument(
        KEEP_OPENBLAS_FLAG,
        action="store_true",
        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (default: re-run without)",
    )


import numpy as np

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO / "benchmarks"))

from probes import (
    current_rss_mb,
    idle_rss_mb,
    last_mode,
    minor_faults_per_step,
    peak_rss_mb,
    replay_jit,
    reset_peak_rss,
    run_in_subprocess,
)
from results import (
    HEADER,
    Row,
    StepResult,
    check_same_step,
    fmt_met,
    fmt_ms,
    fmt_ratio,
    ratio,
    render_table,
)


def threads() -> int:
    return int(os.environ.get("OPENBLAS_NUM_THREADS", DEFAULT_THREADS))


def torch_module() -> Any:
    """``torch`` with ``threads()`` intra-op threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    if torch.get_num_threads() != threads():
        torch.set_num_threads(threads())
    return torch


limit_torch_threads = torch_module


def openblas_cores() -> str:
    """The core type(s) the loaded OpenBLAS runs (``"SkylakeX"``, ``"Haswell"``, ...), read with
    threadpoolctl when it is installed (it is not a dependency), else ``"unknown"``."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (no threadpoolctl)"
    cores = sorted(
        {
            str(info.get("architecture"))
            for info in threadpool_info()
            if info.get("internal_api") == "openblas"
        }
    )
    return ", ".join(cores) or "none loaded"


def blas_text() -> str:
    """One line for a benchmark's header: BLAS threads, OpenBLAS core type, and what happened
    to ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE``."""
    text = f"{threads()} BLAS threads, OpenBLAS core type {openblas_cores()}"
    if os.environ.get(REEXEC_MARK):
        return (
            f"{text}; {os.environ[REEXEC_MARK]} removed for this run "
            f"({KEEP_OPENBLAS_FLAG} keeps them)"
        )
    kept = " ".join(f"{v}={os.environ[v]}" for v in OPENBLAS_ENV if v in os.environ)
    return f"{text}; {kept} kept" if kept else text


# ---------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Per-call milliseconds of one contender: one sample per round (a block of ``inner`` calls)."""

    samples: list[float]
    inner: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """Inter-quartile range / median: how noisy the rounds were (0.05 = 5 %)."""
        if len(self.samples) < 4:
            return float("nan")
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / self.median


def _block_ms(fn: Callable[[], Any], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) * 1e3 / inner


def default_group(name: str) -> str:
    """Contenders named ``*torch*`` run on torch's thread pool (OpenMP), the others on numpy's
    (OpenBLAS); see ``interleaved``."""
    return "torch" if "torch" in name.lower() else "numpy"


def interleaved(
    contenders: Mapping[str, Callable[[], Any]],
    repeats: int = 31,
    warmup: int = 5,
    min_block_ms: float = 5.0,
    inner: int | None = None,
    groups: Mapping[str, str] | None = None,
    switch_settle_ms: float | None = None,
    seed: int = 0,
) -> dict[str, Timing]:
    """Time several step functions in interleaved rounds; returns ``{name: Timing}`` (ms per call).

    Warm-up: ``warmup`` calls of each (BLAS threads, allocator, caches). Then ``repeats`` rounds;
    in each, every contender runs one block of ``inner`` calls, in a fresh random order (seeded),
    so no contender always follows the same one. ``inner`` (the same for all, so blocks are
    comparable) is chosen so the fastest contender's block lasts at least ``min_block_ms``, which
    keeps timer and scheduler noise small next to microsecond-scale steps.

    Thread pools: after a call, OpenBLAS workers keep spinning for ~0.1 s and OpenMP workers for a
    while; a torch block right after numpy work measured 10x slow on 2 cores (and numpy after torch
    ~2x) while the other pool's threads still spun. So contenders are grouped by pool (``groups``:
    name -> label, default ``default_group``); within a round a group's blocks run back to back,
    and whenever the next block belongs to another group the harness sleeps ``switch_settle_ms``
    (default ``SWITCH_SETTLE_MS``, 250 ms) and runs 3 calls, all untimed, so each contender
    sees its own pool's steady state, as it would alone.
    """
    names = list(contenders)
    group_of = {n: (groups or {}).get(n) or default_group(n) for n in names}
    labels = sorted(set(group_of.values()))
    settle = (SWITCH_SETTLE_MS if switch_settle_ms is None else switch_settle_ms) / 1e3
    last = [None]

    def run(name: str, calls: int) -> float:
        if last[0] is not None and last[0] != group_of[name] and settle:
            time.sleep(settle)
            _block_ms(contenders[name], 3)  # untimed: wake the pool's threads up again
        last[0] = group_of[name]
        return _block_ms(contenders[name], calls)

    for name in sorted(names, key=group_of.get):
        run(name, max(warmup, 1))
    if inner is None:
        fastest = min(run(n, 1) for n in sorted(names, key=group_of.get))
        inner = max(1, math.ceil(min_block_ms / max(fastest, 1e-3)))
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(repeats):
        for label in rng.sample(labels, len(labels)):
            members = [n for n in names if group_of[n] == label]
            for name in rng.sample(members, len(members)):
                samples[name].append(run(name, inner))
    return {n: Timing(samples[n], inner) for n in names}


def median_ms(
    fn: Callable[[], Any], repeats: int = 31, warmup: int = 5, min_block_ms: float = 5.0
) -> float:
    """Median ms per call of one function (``interleaved`` with a single contender)."""
    return interleaved({"fn": fn}, repeats, warmup, min_block_ms)["fn"].median


__all__ = [
    "HEADER",
    "OPENBLAS_ENV",
    "REPO",
    "SWITCH_SETTLE_MS",
    "Row",
    "StepResult",
    "Timing",
    "add_openblas_flag",
    "blas_text",
    "check_same_step",
    "current_rss_mb",
    "default_group",
    "fmt_met",
    "fmt_ms",
    "fmt_ratio",
    "idle_rss_mb",
    "interleaved",
    "last_mode",
    "limit_torch_threads",
    "median_ms",
    "minor_faults_per_step",
    "np",
    "openblas_cores",
    "peak_rss_mb",
    "pin_threads",
    "ratio",
    "reexec_without_openblas_env",
    "render_table",
    "replay_jit",
    "reset_peak_rss",
    "run_in_subprocess",
    "threads",
    "torch_module",
]
