"""The predicates every check uses, and ``refuse``: the one ``ConfigError`` they all raise
(``expected {name} as {what}, got {value} ({type})``, a fix ending in a working example).

>>> is_int(3), is_int(True), is_int(3.0)
(True, False, False)
>>> describe("784")
"'784' (str)"
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

import numpy as np

from ..errors import ConfigError


# ------------------------------------------------------------------------------ predicates
def is_int(value: Any) -> bool:
    """A Python or numpy integer, but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """A Python or numpy int or float (NaN included), but not a bool or a complex."""
    return is_int(value) or isinstance(value, (float, np.floating))


def is_finite_real(value: Any) -> bool:
    """A real number that is not NaN/inf and fits a float (``10**400`` does not)."""
    if not is_real(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def describe(value: Any, limit: int = 60) -> str:
    """``repr(value)`` (cut to ``limit`` characters) and its type: ``'784' (str)``."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


# ------------------------------------------------------------------------------ the error
def usual_mistake(value: Any, what: str) -> str:
    """Why ``value`` is not ``what``, in the words of the usual mistake."""
    if value is None:
        return "None is not a value here: give one"
    if isinstance(value, (bool, np.bool_)):
        return "True/False are not numbers here: write the number"
    if isinstance(value, (str, bytes)):
        return "remove the quotes" if _looks_numeric(value) else f"use {what}, not a string"
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
        return f"write {int(value)} (an int), not {value!r}"
    if is_real(value) and not is_finite_real(value):
        return "use a finite number"
    return f"use {what}"


def _looks_numeric(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def refuse(
    name: str, value: Any, where: str, expected: str, example: str = "", hint: str = ""
) -> NoReturn:
    """Raise the ``ConfigError`` every helper raises: ``expected {name} as {expected}``."""
    fix = hint or usual_mistake(value, expected)
    raise ConfigError(
        where=where,
        expected=f"{name} as {expected}",
        got=describe(value),
        fix=f"{fix}, e.g. {example}" if example else fix,
    )
