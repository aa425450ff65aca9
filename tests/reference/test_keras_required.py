"""The keras rule of conftest.py (``require_keras``), checked in a subprocess with keras made
unimportable: under CI a Keras comparison fails and says how to install keras; locally it is
skipped."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = "tests/reference/test_keras_model_outputs.py"
WITHOUT_KERAS = (
    "import sys; sys.modules['keras'] = None  # import keras now raises ImportError\n"
    "import pytest\n"
    f"sys.exit(pytest.main(['-q', '-rfs', '-p', 'no:cacheprovider', {MODULE!r}]))\n"
)


def run_without_keras(ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_KERAS],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )


def test_missing_keras_fails_the_keras_comparisons_under_ci():
    proc = run_without_keras(ci=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "keras is required under CI" in proc.stdout
    assert "pip install keras==3.15.1" in proc.stdout


def test_missing_keras_skips_the_keras_comparisons_locally():
    proc = run_without_keras(ci=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKIPPED" in proc.stdout and "could not import 'keras'" in proc.stdout
