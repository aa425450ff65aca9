"""Every example runs with --quick and ends with the last line its docstring promises."""

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
}


def test_every_example_is_listed():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(LAST_LINES)


@pytest.mark.parametrize("name", sorted(LAST_LINES))
def test_example_runs_quick(name):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick", "--seed", "0"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert re.match(LAST_LINES[name], last), f"{name} ended with {last!r}"
