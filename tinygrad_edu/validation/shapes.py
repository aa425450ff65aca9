"""Checks of sizes and shapes: Keras' int-or-tuple arguments, input shapes, weight sizes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from .core import describe, is_int, refuse, usual_mistake

#: the most values one weight may hold (2**28 = 1 GiB of float32): beyond it a size is a typo
MAX_WEIGHT_VALUES = 2**28


# ------------------------------------------------------------------------------ shapes
def int_tuple(
    name: str, value: Any, where: str, example: str = "", length: int = 2, minimum: int = 1
) -> tuple[int, ...]:
    """An int (repeated ``length`` times) or a tuple/list of ``length`` ints, each >= ``minimum``:
    Keras' form of kernel sizes, strides, pool sizes and dilation rates."""
    items = [value] * length if is_int(value) else _sequence_items(value)
    ints = items is not None and len(items) == length and all(is_int(v) for v in items)
    if ints and min(items) >= minimum:
        return tuple(int(v) for v in items)
    kind = "positive int" if minimum == 1 else f"int >= {minimum}"
    expected = f"a {kind} or a tuple of {length} {kind}s"
    refuse(name, value, where, expected, example, _tuple_hint(value, items, length, minimum))


def _sequence_items(value: Any) -> list | None:
    """The items of a tuple, list or 1-d integer array; None for anything else (strings too)."""
    if isinstance(value, (tuple, list)):
        return list(value)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
        return list(value)
    return None


def _tuple_hint(value: Any, items: list | None, length: int, minimum: int) -> str:
    if isinstance(value, (str, bytes)):
        return "write the sizes as ints, not a string (each character is not a size)"
    if items is not None and len(items) != length:
        return f"give exactly {length} sizes (one per spatial axis) or a single int"
    if items is not None and all(is_int(v) for v in items):
        return f"every size must be at least {minimum}"
    if items is not None:
        bad = next(v for v in items if not is_int(v))
        return f"{describe(bad)} is not an int: " + usual_mistake(bad, "ints")
    return usual_mistake(value, "ints")


def shape(
    name: str,
    value: Any,
    where: str,
    example: str = "",
    allow_none: bool = True,
    allow_int: bool = False,
) -> tuple[int | None, ...]:
    """A non-empty tuple/list of positive ints (``None`` for a size that varies, if
    ``allow_none``); with ``allow_int`` a single int ``n`` is the shape ``(n,)``."""
    items = [value] if allow_int and is_int(value) else _sequence_items(value)
    if items and all(_is_size(d, allow_none) for d in items):
        return tuple(None if d is None else int(d) for d in items)
    expected = "a tuple of positive ints" + (" (None for a size that varies)" if allow_none else "")
    refuse(name, value, where, expected, example, _shape_hint(value, items, allow_none))


def _is_size(d: Any, allow_none: bool) -> bool:
    return (d is None and allow_none) or (is_int(d) and d >= 1)


def _shape_hint(value: Any, items: list | None, allow_none: bool = True) -> str:
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
        return f"{describe(bad)} is not a size: " + usual_mistake(bad, "ints")
    return usual_mistake(value, "a tuple of ints")


def batch_shape(name: str, value: Any, where: str, example: str = "") -> tuple[int | None, ...]:
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
