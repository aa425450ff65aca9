"""The teaching examples run with --quick and end with the last line their docstrings promise.

(The lead's table in ``test_examples.py`` will hold the same entries; this file duplicates them
until it does.) The plotting options are passed too: with matplotlib the PNGs are written, without
it the examples print a note and carry on - either way the last line must match.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

LAST_LINES = {
    "shapes_explained.py": r"^all questions answered by the library's own output$",
    "hidden_units_sweep.py": r"^best: \d+ units, [1-3] hidden layer\(s\): test accuracy 0\.\d{4}$",
    "what_hidden_layers_learn.py": r"^test accuracy: 0\.[5-9]\d{3}$",
}
PLOT_ARGS = {
    "hidden_units_sweep.py": lambda tmp: ["--plot", str(tmp / "sweep.png")],
    "what_hidden_layers_learn.py": lambda tmp: ["--plot-dir", str(tmp / "plots")],
}


def run(name: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # small matrices on 2 shared cores: BLAS threads fighting other processes cost far more than
    # they save (an LSTM's orthogonal init alone can take seconds); the user can still override
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return subprocess.run([sys.executable, str(EXAMPLES / name), "--quick", "--seed", "0", *extra],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
                          check=False)


@pytest.mark.parametrize("name", sorted(LAST_LINES))
def test_teaching_example_runs_quick(name, tmp_path):
    extra = PLOT_ARGS.get(name, lambda tmp: [])(tmp_path)
    proc = run(name, *extra)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert re.match(LAST_LINES[name], last), f"{name} ended with {last!r}"
    if extra:
        assert "saved" in proc.stdout or "skipped" in proc.stdout
