"""Argument checks shared by layers, losses, metrics, activations, initializers and regularizers.

Each helper returns the argument in its canonical form (a Python int, a tuple of ints, a float, a
lower-case name) or raises a ``ConfigError`` that names the argument, says what it must be, shows
what came (value and type), and ends its fix with a call that works as written::

    ConfigError in layer 'dense' (Dense): expected input_shape as a tuple of positive ints (None
    for a size that varies), without the batch axis, got '784' (str).
    Fix: write the sizes as a tuple of ints, not a string, e.g. Dense(32, input_shape=(784,))

Rules every helper follows: strings, floats and bools are never read as integers (``"33"`` is not
``(3, 3)``, ``2.5`` is not ``2``, ``True`` is not ``1``); numpy integers and floats count as ints
and floats; ``None`` is refused unless the helper is told it is allowed; NaN and infinities are
refused where a number is expected; nothing is truncated or clipped silently.

>>> positive_int("units", 32, "Dense")
32
>>> int_tuple("kernel_size", 3, "Conv2D", length=2)
(3, 3)
"""

from __future__ import annotations

import math
from typing import Any, NoReturn, Optional, Sequence, Tuple

import numpy as np

from .errors import ConfigError, suggest

#: the most values one weight may hold (2**28 = 1 GiB of float32): beyond it a size is a typo
MAX_WEIGHT_VALUES = 2**28

#: the layer dtypes: the ops compute in float32 (default) or float64 (gradient checks)
FLOAT_DTYPES = (np.float32, np.float64)


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
def _hint(value: Any, what: str) -> str:
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
    fix = hint or _hint(value, expected)
    raise ConfigError(
        where=where,
        expected=f"{name} as {expected}",
        got=describe(value),
        fix=f"{fix}, e.g. {example}" if example else fix,
    )


# ------------------------------------------------------------------------------ integers
def positive_int(
    name: str, value: Any, where: str, example: str = "", allow_none: bool = False
) -> Optional[int]:
    """``value`` as an int >= 1 (``None`` passes through if ``allow_none``)."""
    if value is None and allow_none:
        return None
    if is_int(value) and value >= 1:
        return int(value)
    refuse(name, value, where, "a positive int (1, 2, 3, ...)", example)


def int_tuple(
    name: str, value: Any, where: str, example: str = "", length: int = 2, minimum: int = 1
) -> Tuple[int, ...]:
    """An int (repeated ``length`` times) or a tuple/list of ``length`` ints, each >= ``minimum``:
    Keras' form of kernel sizes, strides, pool sizes and dilation rates."""
    items = [value] * length if is_int(value) else _sequence_items(value)
    if items is not None and len(items) == length and all(is_int(v) for v in items):
        if min(items) >= minimum:
            return tuple(int(v) for v in items)
    kind = "positive int" if minimum == 1 else f"int >= {minimum}"
    expected = f"a {kind} or a tuple of {length} {kind}s"
    refuse(name, value, where, expected, example, _tuple_hint(value, items, length, minimum))


def _sequence_items(value: Any) -> Optional[list]:
    """The items of a tuple, list or 1-d integer array; None for anything else (strings too)."""
    if isinstance(value, (tuple, list)):
        return list(value)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
        return list(value)
    return None


def _tuple_hint(value: Any, items: Optional[list], length: int, minimum: int) -> str:
    if isinstance(value, (str, bytes)):
        return "write the sizes as ints, not a string (each character is not a size)"
    if items is not None and len(items) != length:
        return f"give exactly {length} sizes (one per spatial axis) or a single int"
    if items is not None and all(is_int(v) for v in items):
        return f"every size must be at least {minimum}"
    if items is not None:
        bad = next(v for v in items if not is_int(v))
        return f"{describe(bad)} is not an int: " + _hint(bad, "ints")
    return _hint(value, "ints")


def seed(name: str, value: Any, where: str, example: str = "") -> Optional[int]:
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
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number (not a bool, string or complex) inside the interval, as a float."""
    ok = is_finite_real(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return float(value) + 0.0  # -0.0 -> 0.0 (numpy refuses a scale of -0.0)
    expected = _interval_text(low, high, low_open, high_open)
    hint = f"{value!r} is outside: use {expected}" if is_finite_real(value) else ""
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


# ------------------------------------------------------------------------------ flags, names
def flag(
    name: str, value: Any, where: str, example: str = "", allow_none: bool = False
) -> Optional[bool]:
    """True or False (numpy bools too); ``None`` only if ``allow_none``. ``"False"`` and ``0``
    are refused: ``bool("False")`` is True, which is never what was meant."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    expected = "True or False" + (" (or None)" if allow_none else "")
    refuse(name, value, where, expected, example, hint="write True or False (no quotes)")


def choice(name: str, value: Any, valid: Sequence[str], where: str, example: str = "") -> str:
    """One of the names in ``valid`` (case-insensitive), lower-cased."""
    key = value.lower() if isinstance(value, str) else None
    if key in valid:
        return key
    hint = suggest(str(value), valid) if isinstance(value, str) else _hint(value, "a name")
    if not isinstance(value, str):
        hint += "; valid names: " + ", ".join(repr(v) for v in valid)
    refuse(name, value, where, f"one of {tuple(valid)}", example, hint)


def name_or_none(name: str, value: Any, where: str, example: str = "") -> Optional[str]:
    """``None`` (an automatic name) or a non-empty string."""
    if value is None or (isinstance(value, str) and value):
        return value
    refuse(name, value, where, "a non-empty string (or None for an automatic one)", example)


def numpy_dtype(value: Any) -> Optional[np.dtype]:
    """``np.dtype(value)`` for a name, a type or a dtype; None if numpy does not read it as one
    (anything else - numbers, None, lists - is None too: ``np.dtype(None)`` would be float64)."""
    if not isinstance(value, (str, type, np.dtype)):
        return None
    try:
        return np.dtype(value)
    except (TypeError, ValueError, SyntaxError):  # np.dtype(",") parses the string as code
        return None


def float_dtype(name: str, value: Any, where: str, example: str = "") -> Optional[type]:
    """``None`` (the default), or float32/float64 given as a name, a numpy type or a dtype."""
    if value is None:
        return None
    dtype = numpy_dtype(value)
    if dtype is not None and dtype.type in FLOAT_DTYPES:
        return dtype.type
    expected = "'float32' or 'float64' (the dtypes the ops compute in)"
    refuse(name, value, where, expected, example, "use a float dtype")


# ------------------------------------------------------------------------------ shapes
def shape(
    name: str,
    value: Any,
    where: str,
    example: str = "",
    allow_none: bool = True,
    allow_int: bool = False,
) -> Tuple[Optional[int], ...]:
    """A non-empty tuple/list of positive ints (``None`` for a size that varies, if
    ``allow_none``); with ``allow_int`` a single int ``n`` is the shape ``(n,)``."""
    items = [value] if allow_int and is_int(value) else _sequence_items(value)
    if items and all(_is_size(d, allow_none) for d in items):
        return tuple(None if d is None else int(d) for d in items)
    expected = "a tuple of positive ints" + (" (None for a size that varies)" if allow_none else "")
    refuse(name, value, where, expected, example, _shape_hint(value, items, allow_none))


def _is_size(d: Any, allow_none: bool) -> bool:
    return (d is None and allow_none) or (is_int(d) and d >= 1)


def _shape_hint(value: Any, items: Optional[list], allow_none: bool = True) -> str:
    if isinstance(value, (str, bytes)):
        return "write the sizes as a tuple of ints, not a string"
    if is_int(value):
        return f"write a tuple: ({value},) - the comma makes it one"
    if items == []:
        return "give at least one size"
    if items is not None:
        bad = next(d for d in items if not _is_size(d, allow_none))
        if bad is None:
            return "every size must be known here (None is not allowed)"
        if is_int(bad):
            return f"sizes are at least 1, not {bad}"
        return f"{describe(bad)} is not a size: " + _hint(bad, "ints")
    return _hint(value, "a tuple of ints")


def batch_shape(name: str, value: Any, where: str, example: str = "") -> Tuple[Optional[int], ...]:
    """A shape with the batch axis first (None or a positive int) and at least one more axis."""
    items = _sequence_items(value)
    if items is None or len(items) < 2:
        hint = (
            "include the batch axis first (None for any batch size), then the sample's sizes"
            if items is not None
            else _shape_hint(value, items)
        )
        refuse(
            name, value, where, "a tuple (batch, *sizes) of positive ints or None", example, hint
        )
    return shape(name, items, where, example)


def weight_size(shape_: Sequence[int], where: str, what: str) -> None:
    """Refuse a weight of more than ``MAX_WEIGHT_VALUES`` values before numpy tries to allocate
    it (a huge unit count or kernel size is a typo, not a model)."""
    values = math.prod(shape_)
    if values > MAX_WEIGHT_VALUES:
        raise ConfigError(
            where=where,
            expected=f"{what} of at most {MAX_WEIGHT_VALUES:,} values (1 GiB of float32)",
            got=f"shape {tuple(shape_)} = {values:,} values",
            fix="check the unit count / kernel size for a typo (an extra zero?), e.g. Dense(32)",
        )


__all__ = [
    "MAX_WEIGHT_VALUES",
    "FLOAT_DTYPES",
    "is_int",
    "is_real",
    "is_finite_real",
    "describe",
    "refuse",
    "positive_int",
    "int_tuple",
    "seed",
    "axis",
    "real",
    "rate",
    "fraction",
    "positive_real",
    "non_negative_real",
    "flag",
    "choice",
    "name_or_none",
    "float_dtype",
    "numpy_dtype",
    "shape",
    "batch_shape",
    "weight_size",
]
