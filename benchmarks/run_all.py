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
``--only NAME``: one group (``mlp``, ``fit``, ``rss``, ``conv``, ``rnn``) or an MLP workload key
substring (``b512``, ``dropout``, ``784-32-10``).

Conv and RNN: a benchmark module that defines ``bench_rows(quick: bool) -> list[harness.Row]``
is called directly. Otherwise ``bench_conv.main(argv)`` (which returns ``{path: ms}``) is called
in-process and ``bench_rnn.py`` (which only prints) is run as a subprocess; their printed tables
are parsed into rows and also shown verbatim below the main table.

Usage: python benchmarks/run_all.py [--quick] [--only NAME] [--threads 2] [--json out.json]
Takes about 2-4 minutes on an idle 2-core machine (--quick: ~10 s). Expected last
line: the load average after the run (the main table comes just before the verbatim outputs).
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

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Dict, List, Optional, Sequence, Tuple  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

GROUPS = ("mlp", "fit", "conv", "rnn")
#: the rows an external benchmark must yield: (layer name as printed, our row's label)
EXTERNAL = {
    "conv": {"module": "bench_conv", "layers": ("Conv2D",), "limit": 1.0},
    "rnn": {"module": "bench_rnn", "layers": ("LSTM", "SimpleRNN"), "limit": 1.0},
}


# ---------------------------------------------------------------------------- external benches
def _quick_args(doc: str) -> List[str]:
    if "--quick" in doc:
        return ["--quick"]
    if "--repeats" in doc:
        return ["--repeats", "3"]
    return []


def _cell_float(text: str) -> Optional[float]:
    m = re.search(r"[-+]?\d+(?:\.\d+)?", text.replace(",", ""))
    return float(m.group()) if m else None


def parse_tables(text: str) -> List[Dict[str, str]]:
    """Every markdown table row in ``text`` as ``{header: cell}``."""
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


def _impl_kind(label: str) -> Optional[str]:
    low = label.lower()
    if "torch" in low:
        return "torch"
    if "numpy" in low:
        return "numpy"
    if "reference" in low:
        return "reference"
    if "fused" in low or "ours" in low or "tinygrad" in low:
        return "ours"
    return None


def rows_from_results(group: str, results: Dict[str, Dict[str, float]], limit: float,
                      note: str = "") -> List[harness.Row]:
    """``{layer: {"ours"|"numpy"|"torch"|"reference": ms}}`` -> one targeted row per layer (our
    default, fused path vs torch)."""
    out = []
    for layer, times in results.items():
        ref = times.get("reference")
        extra_note = f"our reference path {harness.fmt_ms(ref)} ms" if ref is not None else ""
        out.append(harness.Row(
            f"{layer} training step (ours: fused)", times.get("ours"), times.get("numpy"),
            times.get("torch"), against="torch", limit=limit, group=group,
            note="; ".join(n for n in (extra_note, note) if n), extra={"key": f"{group}-{layer}"}))
    return out


def parse_external(text: str, layers: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """The (layer, implementation, ms) triples of a printed table, grouped by layer."""
    results: Dict[str, Dict[str, float]] = {}
    for row in parse_tables(text):
        ms_key = next((k for k in row if "ms" in k), None)
        if ms_key is None:
            continue
        ms = _cell_float(row[ms_key])
        texts = [v for k, v in row.items() if k != ms_key and _cell_float(v) is None]
        impl = next((t for t in texts if _impl_kind(t)), None)
        if ms is None or impl is None:
            continue
        layer = next((name for name in layers if any(name.lower() in t.lower() for t in texts)),
                     layers[0] if len(layers) == 1 else None)
        if layer is not None:
            results.setdefault(layer, {}).setdefault(_impl_kind(impl), ms)
    return results


def run_external(group: str, quick: bool) -> Tuple[List[harness.Row], str]:
    """Rows and verbatim output of ``bench_conv``/``bench_rnn``, whatever interface they offer."""
    spec = EXTERNAL[group]
    path = HERE / f"{spec['module']}.py"
    missing = [harness.Row(f"{layer} training step (ours: fused)", None, against="torch",
                           limit=spec["limit"], group=group, extra={"key": f"{group}-{layer}"})
               for layer in spec["layers"]]
    if not path.exists():
        for row in missing:
            row.note = f"benchmarks/{path.name} not found"
        return missing, ""
    doc = path.read_text()
    argv = _quick_args(doc) if quick else []
    try:
        mod = importlib.import_module(spec["module"])
    except Exception:  # noqa: BLE001 - report, keep the other benchmarks running
        mod, text = None, traceback.format_exc()
    if mod is not None and hasattr(mod, "bench_rows"):
        return list(mod.bench_rows(quick=quick)), ""
    main = getattr(mod, "main", None)
    if main is not None and "argv" in inspect.signature(main).parameters:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            returned = main(argv)
        text = buf.getvalue()
        if isinstance(returned, dict):
            results: Dict[str, Dict[str, float]] = {}
            for label, ms in returned.items():
                if _impl_kind(label):
                    results.setdefault(spec["layers"][0], {}).setdefault(_impl_kind(label), ms)
            if results and len(spec["layers"]) == 1:
                return rows_from_results(group, results, spec["limit"]), text
    else:
        proc = subprocess.run([sys.executable, str(path), *argv], capture_output=True,
                              text=True, env=dict(os.environ), timeout=900, check=False)
        text = proc.stdout + (f"\n(exit {proc.returncode})\n{proc.stderr[-2000:]}"
                              if proc.returncode else "")
    results = parse_external(text, spec["layers"])
    rows = rows_from_results(group, {k: v for k, v in results.items()}, spec["limit"])
    found = {r.extra["key"] for r in rows}
    for row in missing:
        if row.extra["key"] not in found:
            row.note = "not found in its output (see below)"
            rows.append(row)
    order = {layer: i for i, layer in enumerate(spec["layers"])}
    rows.sort(key=lambda r: order.get(r.extra["key"].split("-", 1)[1], 99))
    return rows, text


# ---------------------------------------------------------------------------- main
def selected(group: str, only: Optional[str]) -> bool:
    if not only:
        return True
    only = only.lower()
    if group == "fit" and only == "rss":
        return True
    if group == "mlp" and only not in GROUPS and only != "rss":
        import bench_mlp

        return bool(bench_mlp.select(only))
    return only == group


def load_text() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def run(quick: bool = False, only: Optional[str] = None
        ) -> Tuple[List[harness.Row], List[str], List[str]]:
    """(rows, verbatim outputs, names of the groups that crashed)."""
    rows: List[harness.Row] = []
    verbatim: List[str] = []
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
            else:
                ext_rows, text = run_external(group, quick)
                rows += ext_rows
                if text.strip():
                    verbatim.append(f"### {EXTERNAL[group]['module']}.py\n\n{text.strip()}")
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            failures.append(group)
            verbatim.append(f"### {group} FAILED\n\n```\n{traceback.format_exc()}```")
        print(f"[{group}: {time.perf_counter() - start:.1f} s]", file=sys.stderr)
    return rows, verbatim, failures


def _report(rows: Sequence[harness.Row], verbatim: Sequence[str], quick: bool,
            load_before: str = "") -> None:
    torch = harness.torch_module()
    title = " (--quick: smoke run, times mean nothing)" if quick else ""
    print(f"## tinygrad_edu benchmarks{title}"
          f"\n\nmedian ms per training step (forward + backward + update unless stated), float32, "
          f"{harness.threads()} BLAS threads; numpy {harness.np.__version__}, torch "
          f"{torch.__version__ if torch else 'not installed'}, python {sys.version.split()[0]}; "
          f"load average before: {load_before or load_text()}\n")
    print(harness.render_table(rows))
    met = [r.met for r in rows if r.met is not None]
    print(f"\ntargets met: {sum(met)}/{len(met)}")
    spreads = [(v, r.workload, k) for r in rows
               for k, v in (r.extra.get("spread") or {}).items() if v == v]
    if spreads:
        v, workload, who = max(spreads)
        print(f"noise: largest IQR/median of any contender {v:.0%} ({who}, {workload}); "
              "above ~10% treat the ratios with care")
    for block in verbatim:
        print(f"\n{block}")
    print(f"\nload average after: {load_text()}")


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run (< 30 s)")
    parser.add_argument("--only", default=None, help="mlp|fit|rss|conv|rnn or an MLP key part")
    parser.add_argument("--threads", default=os.environ["BENCH_THREADS"],
                        help="BLAS/torch threads (default 2)")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    if not harness._PINNED_BEFORE_NUMPY:
        print("warning: numpy was imported before the thread variables were set",
              file=sys.stderr)
    load_before = load_text()
    rows, verbatim, failures = run(args.quick, args.only)
    _report(rows, verbatim, args.quick, load_before)
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in rows], indent=1,
                                              default=str))
    if failures:
        raise SystemExit(f"benchmarks that crashed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
