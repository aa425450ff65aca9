"""Load the hypothesis profile (``ci`` unless ``HYPOTHESIS_PROFILE`` says otherwise)."""

import importlib.util

if importlib.util.find_spec("hypothesis") is not None:
    from tinygrad_edu.testing import load_profile

    PROFILE = load_profile()

    def pytest_report_header(config):
        return f"hypothesis profile: {PROFILE}"
