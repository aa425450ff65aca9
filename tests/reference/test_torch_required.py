"""The guarantee of conftest.py, checked in a subprocess with torch made unimportable: under CI
a reference module without torch fails (one ``torch_is_installed`` failure per module), without
CI it is skipped."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = "tests/reference/test_vs_torch.py"
WITHOUT_TORCH = (
    "import sys; sys.modules['torch'] = None  # import torch now raises ImportError\n"
    "import pytest\n"
    f"sys.exit(pytest.main(['-q', '-rfs', '-p', 'no:cacheprovider', {MODULE!r}]))\n"
)


def run_without_torch(ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_missing_torch_fails_the_reference_tests_under_ci():
    proc = run_without_torch(ci=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED tests/reference/test_vs_torch.py::torch_is_installed" in proc.stdout
    assert "pip install torch==2.13.0" in proc.stdout


def test_missing_torch_skips_the_reference_tests_locally():
    proc = run_without_torch(ci=False)
    assert proc.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, proc.stdout + proc.stderr
    assert "SKIPPED" in proc.stdout and "could not import 'torch'" in proc.stdout
