"""Every example runs with --quick and ends with the last line its docstring promises.

The plotting examples also run with their plot options: with matplotlib the PNGs are written,
without it they print a note and carry on - either way the last line must match.
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

# example -> regex its last line must match (the --quick run: accuracies are lower than default)
LAST_LINES = {
    "mnist_mlp.py": r"^test accuracy: 0\.[6-9]\d{3}$",
    "mnist_mlp_loop.py": r"^test accuracy: 0\.[6-9]\d{3}$",
    "mnist_cnn.py": r"^test accuracy: 0\.[3-9]\d{3}$",
    "sequence_rnn.py": r"^LSTM test mse: \d\.\d{4} \(baseline \d\.\d{4}\)$",
    "custom_layer_gradcheck.py": r"^all checks behaved as expected$",
    "shapes_explained.py": r"^all questions answered by the library's own output$",
    "hidden_units_sweep.py": r"^best: \d+ units, [1-3] hidden layer\(s\): test accuracy 0\.\d{4}$",
    "what_hidden_layers_learn.py": r"^test accuracy: 0\.[5-9]\d{3}$",
}
PLOT_ARGS = {
    "hidden_units_sweep.py": lambda tmp: ["--plot", str(tmp / "sweep.png")],
    "what_hidden_layers_learn.py": lambda tmp: ["--plot-dir", str(tmp / "plots")],
}


def run_quick(name: str, *extra: str) -> str:
    """Run an example with --quick; return its last line (failing on a non-zero exit)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--quick", "--seed", "0", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not extra or "saved" in proc.stdout or "skipped" in proc.stdout
    return proc.stdout.strip().splitlines()[-1]


def test_every_example_is_listed():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(LAST_LINES)


@pytest.mark.parametrize("name", sorted(LAST_LINES))
def test_example_runs_quick(name):
    last = run_quick(name)
    assert re.match(LAST_LINES[name], last), f"{name} ended with {last!r}"


@pytest.mark.parametrize("name", sorted(PLOT_ARGS))
def test_example_with_plots(name, tmp_path):
    last = run_quick(name, *PLOT_ARGS[name](tmp_path))
    assert re.match(LAST_LINES[name], last), f"{name} ended with {last!r}"
