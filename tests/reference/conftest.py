"""The PyTorch reference tests are the suite's check that our answers are right, not just
consistent: under CI (env ``CI`` set, as ``.ci/run`` does) a missing torch **fails** them.

Each module here starts with ``torch = pytest.importorskip("torch")``. Locally without torch that
skips the module (``pip install torch`` to run it). Under CI the skip is turned into one failing
test per module, ``<module>::torch_is_installed``, that says how to install it, so a broken install
step shows up as red tests instead of a quietly shorter green run; the rest of the suite still runs.
"""

from __future__ import annotations

import os

import pytest

INSTALL = "pip install torch==2.13.0 (.ci/run installs it after the README's command)"


def torch_required() -> bool:
    """Under CI the reference tests must run."""
    return bool(os.environ.get("CI"))


def torch_missing() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return True
    return False


KERAS_INSTALL = "pip install keras==3.15.1 (after torch; .ci/run does) with KERAS_BACKEND=torch"


@pytest.fixture(scope="session")
def require_keras():
    """Real Keras 3 on its torch backend, imported once per session: ``def test_x(require_keras):
    keras = require_keras``. Locally a missing keras skips the test; under CI it fails it, as the
    torch rule below does for a whole module."""
    os.environ["KERAS_BACKEND"] = "torch"  # keras' default backend would need tensorflow
    try:
        import keras
    except ImportError as err:
        if torch_required():
            pytest.fail(f"keras is required under CI but {err}. Fix: {KERAS_INSTALL}", False)
        pytest.skip(f"could not import 'keras' ({err}); {KERAS_INSTALL}")
    if keras.backend.backend() != "torch":
        pytest.fail(f"keras runs on {keras.backend.backend()!r}. Fix: {KERAS_INSTALL}", False)
    return keras


class TorchIsInstalled(pytest.Item):
    """Stands in for a reference module that could not be imported without torch."""

    def __init__(self, *, skip_reason: str, **kwargs):
        super().__init__(**kwargs)
        self.skip_reason = skip_reason

    def runtest(self) -> None:
        pytest.fail(
            f"torch is required under CI (CI={os.environ.get('CI')!r}) but {self.skip_reason}; "
            f"this reference module did not run. Fix: {INSTALL}",
            pytrace=False,
        )

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if not (isinstance(collector, pytest.Module) and report.skipped):
        return
    if torch_required() and torch_missing():
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        item = TorchIsInstalled.from_parent(
            collector, name="torch_is_installed", skip_reason=reason
        )
        report.outcome, report.longrepr, report.result = "passed", None, [item]
