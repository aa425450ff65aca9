"""Checks of numbers: counts, verbosity levels, seeds, axes, and reals inside an interval."""

from __future__ import annotations

from typing import Any

from .core import is_finite_real, is_int, refuse, usual_mistake

#: Keras' verbosity levels of fit/evaluate/predict and the callbacks ("auto" means 1)
VERBOSE_LEVELS = (0, 1, 2)


# ------------------------------------------------------------------------------ integers
def positive_int(
    name: str, value: Any, where: str, example: str = "", allow_none: bool = False
) -> int | None:
    """``value`` as an int >= 1 (``None`` passes through if ``allow_none``)."""
    if value is None and allow_none:
        return None
    if is_int(value) and value >= 1:
        return int(value)
    refuse(name, value, where, "a positive int (1, 2, 3, ...)", example)


def non_negative_int(name: str, value: Any, where: str, example: str = "") -> int:
    """``value`` as an int >= 0: epochs, a patience or a cooldown in epochs."""
    if is_int(value) and value >= 0:
        return int(value)
    refuse(name, value, where, "an int >= 0 (0, 1, 2, ...)", example)


def verbosity(
    name: str, value: Any, where: str, example: str = "", levels: tuple[int, ...] = VERBOSE_LEVELS
) -> int:
    """A verbosity level among ``levels``, or ``"auto"`` (1, as in Keras). ``True`` is refused:
    it is not a level."""
    if isinstance(value, str) and value == "auto":
        return 1
    if is_int(value) and value in levels:
        return int(value)
    meaning = "0 is silent, 1 prints a progress bar" + (
        ", 2 a line per epoch" if 2 in levels else ""
    )
    expected = ", ".join(str(v) for v in levels) + " or 'auto'"
    refuse(name, value, where, expected, example, f"{meaning}; write 1 rather than True")


def seed(name: str, value: Any, where: str, example: str = "") -> int | None:
    """``None`` (a fresh seed drawn from the global generator) or an int >= 0."""
    if value is None or (is_int(value) and value >= 0):
        return None if value is None else int(value)
    refuse(name, value, where, "None or an int >= 0", example)


def axis(name: str, value: Any, where: str, example: str = "") -> int:
    """An int axis (its range is checked once the rank is known)."""
    if is_int(value):
        return int(value)
    refuse(name, value, where, "an int (an axis index, -1 for the last axis)", example)


# ------------------------------------------------------------------------------ real numbers
def real(
    name: str,
    value: Any,
    where: str,
    example: str = "",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    why: str = "",
    allow_none: bool = False,
) -> float | None:
    """A finite number (not a bool, string or complex) inside the interval, as a float (``None``
    passes through if ``allow_none``). ``why`` says what the number means; the fix repeats it."""
    if value is None and allow_none:
        return None
    ok = is_finite_real(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return float(value) + 0.0  # -0.0 -> 0.0 (numpy refuses a scale of -0.0)
    expected = _interval_text(low, high, low_open, high_open) + (" (or None)" if allow_none else "")
    hint = f"{value!r} is outside: use {expected}" if is_finite_real(value) else ""
    if why:
        hint = f"{hint or usual_mistake(value, expected)}; {why}"
    refuse(name, value, where, expected, example, hint)


def _interval_text(low, high, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"a number in {left}{low:g}, {high:g}{right}"


def rate(name: str, value: Any, where: str, example: str = "") -> float:
    """A fraction in [0, 1): Dropout's rate, validation_split."""
    return real(name, value, where, example, low=0, high=1, high_open=True)


def fraction(name: str, value: Any, where: str, example: str = "") -> float:
    """A number in [0, 1]: momentum, label_smoothing."""
    return real(name, value, where, example, low=0, high=1)


def positive_real(name: str, value: Any, where: str, example: str = "") -> float:
    """A finite number > 0: epsilon, Huber's delta, variance scales."""
    return real(name, value, where, example, low=0, low_open=True)


def non_negative_real(name: str, value: Any, where: str, example: str = "") -> float:
    """A finite number >= 0: regularization factors, standard deviations."""
    return real(name, value, where, example, low=0)
