"""Hypothesis profiles: ``ci`` (the default: fast) and ``thorough`` (many examples, for a deep run).

Pick one with the environment variable ``HYPOTHESIS_PROFILE``::

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/ops

Test suites call ``load_profile()`` once (our ``tests/conftest.py`` does).

The profile also sets how big the layer-config strategies go by default (``MAX_UNITS``): unit
counts up to 64 under ``ci``, up to 300 (the tutorials' ``LSTM(300)``) under ``thorough``.

>>> load_profile("ci")
'ci'
"""

from __future__ import annotations

import os
from typing import Optional

from hypothesis import HealthCheck, settings

from ..errors import ConfigError, suggest

#: name -> settings keyword arguments. ``derandomize`` is off on a developer's machine (every run
#: explores new examples) and on under continuous integration (env ``CI`` set, as hypothesis itself
#: does): a submission's tests then see the same examples every time, so a red run is
#: reproducible. ``print_blob`` prints how to reproduce a failure (``@reproduce_failure``).
PROFILES = {
    "ci": dict(
        max_examples=15,
        deadline=None,
        print_blob=True,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow],
    ),
    "thorough": dict(
        max_examples=300,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    ),
}
DEFAULT_PROFILE = "ci"
ENV_VAR = "HYPOTHESIS_PROFILE"
#: profile -> the largest Dense units / Conv2D filters / recurrent units drawn by default
MAX_UNITS = {"ci": 64, "thorough": 300}
_last_loaded = {"name": DEFAULT_PROFILE}


def register_profiles() -> None:
    """Register every profile in ``PROFILES`` with hypothesis (safe to call again)."""
    for name, kwargs in PROFILES.items():
        settings.register_profile(name, **kwargs)


def load_profile(name: Optional[str] = None) -> str:
    """Register the profiles and load ``name`` (default: ``$HYPOTHESIS_PROFILE``, else ``ci``).

    Returns the loaded profile's name; an unknown name raises ``ConfigError``.
    """
    name = name or os.environ.get(ENV_VAR) or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ConfigError(
            where="tinygrad_edu.testing.load_profile",
            expected="a registered hypothesis profile",
            got=repr(name),
            fix=suggest(name, PROFILES) + f" (set {ENV_VAR} to one of them)",
        )
    register_profiles()
    settings.load_profile(name)
    _last_loaded["name"] = name
    return name


def active_profile() -> str:
    """The profile in force: hypothesis' record of the loaded one when it is one of ours (so a
    direct ``settings.load_profile("thorough")`` counts too), else the last ``load_profile``."""
    name = getattr(settings, "_current_profile", None)
    return name if name in PROFILES else _last_loaded["name"]


def default_max_units() -> int:
    """The largest unit count the layer-config strategies draw when not told: 64 under ``ci``,
    300 under ``thorough``."""
    return MAX_UNITS.get(active_profile(), MAX_UNITS[DEFAULT_PROFILE])


__all__ = [
    "PROFILES",
    "DEFAULT_PROFILE",
    "ENV_VAR",
    "MAX_UNITS",
    "register_profiles",
    "load_profile",
    "active_profile",
    "default_max_units",
]
