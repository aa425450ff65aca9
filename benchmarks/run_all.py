"""Run every benchmark and print ONE markdown table with the targets of the performance issue.

Rows: the MLP training steps (``bench_mlp``: ours - PyTorch-style loop and ``train_on_batch`` -
vs a hand-written numpy step vs torch), the fit loop overhead and the peak RSS of a fit epoch
(``bench_fit``), the Conv2D step (``bench_conv``) and the LSTM / SimpleRNN steps (``bench_rnn``).
Targets: every MLP <= 1.15x numpy (<= 1.10x at batch 512, <= 1.3x with dropout); Conv2D, LSTM
and SimpleRNN <= 1.0x torch; fit epoch <= 1.15x the sum of its steps; peak RSS <= 1.5x (data +
weights + optimizer state) + 100 MB.

BLAS runs on ``--threads`` threads (default 2; ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` are
set here, before numpy is imported; torch gets ``torch.set_num_threads``). Every time is a median
over rounds that interleave the contenders (see ``harness``); nothing asserts on time. The exit
status is 0 whether targets are met or not (1 only if a benchmark crashes); ``--json PATH``
writes the rows for tooling.

``--quick``: a smoke run for CI - 3 rounds of tiny blocks, 3,000 images - that checks every
benchmark still runs (and that every numpy reference still equals ours); its times mean nothing.
``--only NAME``: one group (``mlp``, ``fit``, ``rss``, ``conv``, ``rnn``), one recurrent layer
(``LSTM``, ``SimpleRNN``) or an MLP workload key substring (``b512``, ``dropout``, ``784-32-10``).

Every group is a module with ``bench_rows(quick, ...) -> list[harness.Row]`` (``bench_mlp``,
``bench_fit``, ``bench_conv``, ``bench_rnn``), called in this process.

OpenBLAS: when ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are set (this machine sets them for
older OpenBLAS builds; they force a current numpy onto old, slower kernels), the script first
re-executes itself once without them (``--keep-openblas-env``: keep them); the header says
which OpenBLAS core type runs (read with threadpoolctl when installed, else "unknown").

Usage: python benchmarks/run_all.py [--quick] [--only NAME] [--threads 2] [--json out.json]
       [--keep-openblas-env]
Takes about 3-6 minutes on an idle 2-core machine (--quick: ~20 s). Expected last
line: the load average after the run (after the table, and the traceback of any group that
crashed).
"""

from __future__ import annotations

import os
import sys


def _threads_from_argv(argv) -> str:
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return os.environ.get("BENCH_THREADS", "2")


# before anything imports numpy: BLAS reads these when it loads
os.environ["BENCH_THREADS"] = _threads_from_argv(sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = os.environ["BENCH_THREADS"]

import argparse
import importlib
import json
import math
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness

GROUPS = ("mlp", "fit", "conv", "rnn")
RNN_LAYERS = ("lstm", "simplernn")  # bench_rnn.LAYERS, lower case: --only picks one


def parse_tables(text: str) -> list[dict[str, str]]:
    """Every markdown table row in ``text`` as ``{header: cell}`` (for tests and tooling)."""
    rows, header = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
        elif not all(set(c) <= set("-: ") for c in cells):
            rows.append(dict(zip(header, cells)))
    return rows


# ---------------------------------------------------------------------------- main
def selected(group: str, only: str | None) -> bool:
    if not only:
        return True
    only = only.lower()
    if group == "fit" and only == "rss":
        return True
    if group == "rnn" and only in RNN_LAYERS:
        return True
    if group == "mlp" and only not in GROUPS + RNN_LAYERS and only != "rss":
        import bench_mlp

        return bool(bench_mlp.select(only))
    return only == group


def load_text() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def run(
    quick: bool = False, only: str | None = None
) -> tuple[list[harness.Row], list[str], list[str]]:
    """(rows, tracebacks of the groups that crashed, names of those groups)."""
    rows: list[harness.Row] = []
    crashes: list[str] = []
    failures = []
    for group in GROUPS:
        if not selected(group, only):
            continue
        start = time.perf_counter()
        try:
            if group == "mlp":
                import bench_mlp

                rows += bench_mlp.bench_rows(quick, None if only in (None, "mlp") else only)
            elif group == "fit":
                import bench_fit

                rows += bench_fit.bench_rows(quick, only="rss" if only == "rss" else None)
            elif group == "rnn" and only and only.lower() in RNN_LAYERS:
                import bench_rnn

                rows += bench_rnn.bench_rows(quick, only=only)
            else:
                rows += importlib.import_module(f"bench_{group}").bench_rows(quick=quick)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            failures.append(group)
            crashes.append(f"### {group} FAILED\n\n```\n{traceback.format_exc()}```")
        print(f"[{group}: {time.perf_counter() - start:.1f} s]", file=sys.stderr)
    return rows, crashes, failures


def _report(
    rows: Sequence[harness.Row], crashes: Sequence[str], quick: bool, load_before: str = ""
) -> None:
    torch = harness.torch_module()
    title = " (--quick: smoke run, times mean nothing)" if quick else ""
    print(
        f"## tinygrad_edu benchmarks{title}"
        f"\n\nmedian ms per training step (forward + backward + update unless stated), float32, "
        f"{harness.blas_text()}; numpy {harness.np.__version__}, torch "
        f"{torch.__version__ if torch else 'not installed'}, python {sys.version.split()[0]}; "
        f"load average before: {load_before or load_text()}\n"
    )
    print(harness.render_table(rows))
    met = [r.met for r in rows if r.met is not None]
    print(f"\ntargets met: {sum(met)}/{len(met)}")
    spreads = [
        (v, r.workload, k)
        for r in rows
        for k, v in (r.extra.get("spread") or {}).items()
        if not math.isnan(v)
    ]
    if spreads:
        v, workload, who = max(spreads)
        print(
            f"noise: largest IQR/median of any contender {v:.0%} ({who}, {workload}); "
            "above ~10% treat the ratios with care"
        )
    for block in crashes:
        print(f"\n{block}")
    print(f"\nload average after: {load_text()}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run (< 30 s)")
    parser.add_argument(
        "--only", default=None, help="mlp|fit|rss|conv|rnn|LSTM|SimpleRNN or an MLP key part"
    )
    parser.add_argument(
        "--threads", default=os.environ["BENCH_THREADS"], help="BLAS/torch threads (default 2)"
    )
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    harness.add_openblas_flag(parser)
    args = parser.parse_args(argv)
    if not harness._PINNED_BEFORE_NUMPY:
        print("warning: numpy was imported before the thread variables were set", file=sys.stderr)
    load_before = load_text()
    rows, crashes, failures = run(args.quick, args.only)
    _report(rows, crashes, args.quick, load_before)
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in rows], indent=1, default=str))
    if failures:
        raise SystemExit(f"benchmarks that crashed: {', '.join(failures)}")


if __name__ == "__main__":
    harness.reexec_without_openblas_env()
    main()
