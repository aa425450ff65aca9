"""Argument checks shared by the callbacks and the training API (``fit``, ``evaluate``, ...).

Each returns the argument in its usable form or raises a ``ConfigError`` with expected/got/fix.
Nothing is reinterpreted silently: ``True`` is not ``1``, ``"3"`` is not ``3``, ``32.5`` is not
``32``, and ``"False"`` is not false.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Optional

import numpy as np

from .. import validation as check
from ..errors import ConfigError
from ..validation import is_int

#: Keras' verbosity levels for fit/evaluate/predict; "auto" means 1 there
VERBOSE_LEVELS = (0, 1, 2)


def is_number(value: Any) -> bool:
    """A Python or numpy int or float, but not a bool (nor a string holding a number)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(where: str, name: str, value: Any, low: int = 0, example: str = "") -> int:
    """``value`` as an int ``>= low`` (a float, a bool or a string is refused)."""
    if is_int(value) and value >= low:
        return int(value)
    raise ConfigError(
        where=where,
        expected=f"{name} as an int >= {low}",
        got=repr(value),
        fix=f"e.g. {example or f'{name}={max(low, 1)}'} (a whole number, without quotes)",
    )


def check_flag(where: str, name: str, value: Any) -> bool:
    """``value`` if it is a bool: ``bool("False")`` is True, so strings and numbers are refused
    (``validation.flag``, the one flag check)."""
    return check.flag(name, value, where, f"{name}=True")


def check_verbose(where: str, value: Any, levels: tuple = VERBOSE_LEVELS) -> int:
    """A verbosity level from ``levels``; ``"auto"`` means 1 (Keras)."""
    if value == "auto" and isinstance(value, str):
        return 1
    if is_int(value) and value in levels:
        return int(value)
    raise ConfigError(
        where=where,
        expected="verbose " + ", ".join(str(v) for v in levels) + " or 'auto'",
        got=repr(value),
        fix="0 is silent, 1 prints a progress bar"
        + (", 2 one line per epoch" if 2 in levels else "")
        + "; write verbose=1 rather than verbose=True",
    )


def check_optional_number(where: str, name: str, value: Any) -> Optional[float]:
    """None, or ``value`` as a finite float."""
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if is_number(value) and math.isfinite(value):
        return float(value)
    raise ConfigError(
        where=where,
        expected=f"{name} as a finite number or None",
        got=repr(value),
        fix=f"e.g. {name}=0.5, or leave it out",
    )


def check_monitor(where: str, monitor: Any) -> str:
    """The name of a logged quantity: a non-empty string such as ``"val_loss"``."""
    if isinstance(monitor, str) and monitor.strip():
        return monitor
    raise ConfigError(
        where=where,
        expected="monitor as the name of a logged quantity",
        got=repr(monitor),
        fix="e.g. monitor='val_loss', 'loss', 'accuracy' or 'val_accuracy'",
    )


def check_path(where: str, name: str, value: Any, example: str) -> str:
    """A file path as a non-empty ``str`` (from a str or an ``os.PathLike``)."""
    try:
        path = os.fspath(value)
    except TypeError:
        path = None
    if isinstance(path, str) and path:
        return path
    raise ConfigError(
        where=where,
        expected=f"{name} as a non-empty str or pathlib.Path",
        got=repr(value),
        fix=f"e.g. {example}",
    )


__all__ = [
    "VERBOSE_LEVELS",
    "check_flag",
    "check_int",
    "check_monitor",
    "check_optional_number",
    "check_path",
    "check_verbose",
    "is_int",
    "is_number",
]
