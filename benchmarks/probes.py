"""What a benchmark reads about the library and the process: the replay mode when it exists
(``replay_jit``, ``last_mode``), minor page faults per step, resident memory (current, peak,
its reset), and runs in a fresh interpreter (``run_in_subprocess``, ``idle_rss_mb``).
``harness`` re-exports all of it.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- replay
def replay_jit() -> Any:
    """``tinygrad_edu.jit.jit`` (issue 15's replay mode), or None where it does not exist yet:
    the replayed rows then read n/a."""
    try:
        from tinygrad_edu.jit import jit
    except ImportError:
        return None
    return jit


def last_mode(step: Any) -> str:
    """How a jitted step's last call ran (``"replay"`` when all is well): ``step`` is a JitStep
    or a model's bound ``train_on_batch`` (its ``model.train_function`` is asked)."""
    owner = getattr(step, "__self__", step)
    jitted = getattr(owner, "train_function", None) or owner
    mode = getattr(jitted, "last_mode", "unknown")
    return "eager (the JitStep was never called)" if mode is None else str(mode)


def minor_faults_per_step(fn: Callable[[], Any], steps: int = 10, warmup: int = 3) -> float:
    """Median minor page faults of one call of ``fn`` (``ru_minflt``), after ``warmup`` calls:
    memory a step maps afresh each time (temporaries large enough for their own mmap, freed at
    the end of the step). Measure in a fresh process (``run_in_subprocess``): glibc raises its
    mmap threshold once big blocks are freed, so a process that ran other work first shows 0."""
    for _ in range(warmup):
        fn()
    counts = []
    for _ in range(steps):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        fn()
        counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return float(statistics.median(counts))


# ---------------------------------------------------------------------------- memory
def _status_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def current_rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


def peak_rss_mb() -> float:
    """This process's peak resident set since start (or since ``reset_peak_rss``), in MB."""
    kb = _status_kb("VmHWM")
    if kb is None:  # not Linux: ru_maxrss (KB on Linux, bytes on macOS)
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if sys.platform == "darwin":
            kb //= 1024
    return kb / 1024


def reset_peak_rss() -> bool:
    """Reset the peak (VmHWM) to the current RSS (Linux >= 4.0); False when not possible, then
    the peak keeps counting from process start."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


RESULT_MARK = "@@BENCH_RESULT@@"


def run_in_subprocess(module: str, func: str, *args: Any, timeout: float = 600) -> dict[str, Any]:
    """Run ``module.func(*args)`` (JSON-able args and dict result) in a fresh interpreter with the
    same thread settings, so its memory peak is its own; returns the dict."""
    code = (
        "import json, sys, importlib\n"
        f"sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'benchmarks')!r}]\n"
        f"mod = importlib.import_module({module!r})\n"
        f"res = getattr(mod, {func!r})(*json.loads(sys.argv[1]))\n"
        f"print({RESULT_MARK!r} + json.dumps(res))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(
        f"{module}.{func} failed in a subprocess (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def idle_rss_mb(imports: Sequence[str] = ("numpy",)) -> float:
    """Peak RSS of a fresh python that only imports ``imports``: the floor every process pays."""
    code = "".join(f"import {m}\n" for m in imports) + (
        "import resource\n"
        "try:\n"
        "    kb = [int(line.split()[1]) for line in open('/proc/self/status')\n"
        "          if line.startswith('VmHWM:')][0]\n"
        "except (OSError, IndexError):\n"
        "    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(kb / 1024)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])
