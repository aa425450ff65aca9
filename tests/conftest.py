"""Load the hypothesis profile (``ci`` unless ``HYPOTHESIS_PROFILE`` says otherwise)."""

import importlib.util
import os

# Poisoned work buffers for the whole session (tinygrad_edu.workspace, checked mode). The setting
# is read once, when tinygrad_edu.workspace is first imported: set it before any tinygrad_edu
# import. Every buffer an op gives back is then filled with NaN, so a view that outlives its
# release fails loudly. Subprocesses started by tests inherit it.
os.environ["TINYGRAD_EDU_POISON_WORKSPACE"] = "1"

from tinygrad_edu import workspace

if not workspace.POOL.checked:  # tinygrad_edu was imported before this file ran
    raise RuntimeError("tests/conftest.py: tinygrad_edu was imported before checked mode was set")

if importlib.util.find_spec("hypothesis") is not None:
    from tinygrad_edu.testing import load_profile

    PROFILE = load_profile()

    def pytest_report_header(config):
        return f"hypothesis profile: {PROFILE}"
