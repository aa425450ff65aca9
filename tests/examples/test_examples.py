"""Every example runs with --quick, ends with the last line its docstring promises, and its
--quick run shows what the example claims (``CLAIMS``): a model that trains to a stated accuracy,
an LSTM that beats the naive baseline by a wide margin. A format match alone would pass an
example whose model learned nothing.

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

# example -> regex its last line must match
LAST_LINES = {
    "mnist_mlp.py": r"^test accuracy: [01]\.\d{4}$",
    "mnist_mlp_loop.py": r"^test accuracy: [01]\.\d{4}$",
    "mnist_cnn.py": r"^test accuracy: [01]\.\d{4}$",
    "sequence_rnn.py": r"^LSTM test mse: \d+\.\d{4} \(baseline \d+\.\d{4}\)$",
    "custom_layer_gradcheck.py": r"^all checks behaved as expected$",
    "shapes_explained.py": r"^all questions answered by the library's own output$",
    "hidden_units_sweep.py": (
        r"^best: \d+ units, [1-3] hidden layer\(s\): test accuracy [01]\.\d{4}$"
    ),
    "what_hidden_layers_learn.py": r"^test accuracy: [01]\.\d{4}$",
}
PLOT_ARGS = {
    "hidden_units_sweep.py": lambda tmp: ["--plot", str(tmp / "sweep.png")],
    "what_hidden_layers_learn.py": lambda tmp: ["--plot-dir", str(tmp / "plots")],
}

#: the --quick (seed 0) test accuracy each classifier must reach; measured on 2 cores:
#: mnist_mlp 0.969, mnist_mlp_loop 0.971, mnist_cnn 0.964, hidden_units_sweep 0.874 (its best
#: model), what_hidden_layers_learn 0.836 (--quick trains on 3,000 images for 2 epochs)
MIN_QUICK_ACCURACY = {
    "mnist_mlp.py": 0.95,
    "mnist_mlp_loop.py": 0.95,
    "mnist_cnn.py": 0.95,
    "hidden_units_sweep.py": 0.80,
    "what_hidden_layers_learn.py": 0.80,
}
#: "beats the baseline by a wide margin": the LSTM's test mse is at most 1/WIDE_MARGIN of the
#: repeat-the-last-value baseline's (measured with --quick: 0.071 vs 1.004, 14x; default: ~70x)
WIDE_MARGIN = 5.0


#: one BLAS thread unless the caller says otherwise: the examples' small matrix products gain
#: little from a second thread, and on a busy machine BLAS threads wait for each other (measured
#: at load 7 on 2 cores: mnist_cnn --quick 182 s with two threads, 22 s with one)
BLAS_THREADS = {
    name: os.environ.get(name, "1")
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
}


def run_quick(name: str, *extra: str) -> str:
    """Run an example with --quick --seed 0; return its stdout (failing on a non-zero exit)."""
    path = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env = {**os.environ, **BLAS_THREADS, "PYTHONPATH": path}
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
    return proc.stdout


def last_line(stdout: str) -> str:
    return stdout.strip().splitlines()[-1]


def number_after(label: str, text: str) -> float:
    """The number printed right after ``label`` (the last such line)."""
    found = re.findall(re.escape(label) + r":?\s*(\d+\.\d+)", text)
    assert found, f"no {label!r} in the output"
    return float(found[-1])


def test_every_example_is_listed():
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(LAST_LINES)


def check_claim(name: str, stdout: str) -> None:
    """Assert what the example's --quick run claims (accuracy bound, LSTM vs baseline)."""
    last = last_line(stdout)
    assert re.match(LAST_LINES[name], last), f"{name} ended with {last!r}"
    if name in MIN_QUICK_ACCURACY:
        accuracy = number_after("test accuracy", last)
        assert accuracy >= MIN_QUICK_ACCURACY[name], f"{name}: {last!r}"
    if name == "sequence_rnn.py":
        lstm, baseline = number_after("LSTM test mse:", last), number_after("baseline", last)
        assert lstm <= baseline / WIDE_MARGIN, f"LSTM mse {lstm} vs baseline {baseline}"
        assert number_after("SimpleRNN test mse:", stdout) < baseline  # it learned something too


@pytest.mark.parametrize("name", sorted(LAST_LINES))
def test_example_runs_quick_and_shows_its_claim(name):
    check_claim(name, run_quick(name))


@pytest.mark.parametrize("name", sorted(PLOT_ARGS))
def test_example_with_plots(name, tmp_path):
    check_claim(name, run_quick(name, *PLOT_ARGS[name](tmp_path)))


@pytest.mark.parametrize(
    "name, stdout",
    [
        ("mnist_cnn.py", "test accuracy: 0.7380\n"),
        ("mnist_mlp.py", "test accuracy: 0.9090\n"),
        ("sequence_rnn.py", "SimpleRNN test mse: 0.3969\nLSTM test mse: 0.4521 (baseline 0.9992)"),
        ("sequence_rnn.py", "SimpleRNN test mse: 1.1\nLSTM test mse: 0.1000 (baseline 0.9992)"),
    ],
)
def test_a_weak_run_fails_the_claim(name, stdout):
    """The old --quick results (a CNN at 0.738, an LSTM at half the baseline) fail the claims."""
    with pytest.raises(AssertionError):
        check_claim(name, stdout)
