"""Checks of flags, names, file paths and dtypes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import suggest
from .core import refuse, usual_mistake

#: the layer dtypes: the ops compute in float32 (default) or float64 (gradient checks)
FLOAT_DTYPES = (np.float32, np.float64)


# ------------------------------------------------------------------------------ flags, names
def flag(
    name: str, value: Any, where: str, example: str = "", allow_none: bool = False
) -> bool | None:
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
    hint = suggest(str(value), valid) if isinstance(value, str) else usual_mistake(value, "a name")
    if not isinstance(value, str):
        hint += "; valid names: " + ", ".join(repr(v) for v in valid)
    refuse(name, value, where, f"one of {tuple(valid)}", example, hint)


def name_or_none(name: str, value: Any, where: str, example: str = "") -> str | None:
    """``None`` (an automatic name) or a non-empty string."""
    if value is None or (isinstance(value, str) and value):
        return value
    refuse(name, value, where, "a non-empty string (or None for an automatic one)", example)


def file_path(name: str, value: Any, where: str, example: str = "") -> str:
    """A file path as a non-empty ``str``, from a ``str`` or an ``os.PathLike`` (a
    ``pathlib.Path``); bytes paths are refused."""
    try:
        path = os.fspath(value)
    except TypeError:
        path = None
    if isinstance(path, str) and path:
        return path
    hint = "write the path as text, not bytes" if isinstance(path, bytes) else "give a file name"
    refuse(name, value, where, "a non-empty str or pathlib.Path", example, hint)


def numpy_dtype(value: Any) -> np.dtype | None:
    """``np.dtype(value)`` for a name, a type or a dtype; None if numpy does not read it as one
    (anything else - numbers, None, lists - is None too: ``np.dtype(None)`` would be float64)."""
    if not isinstance(value, (str, type, np.dtype)):
        return None
    try:
        return np.dtype(value)
    except (TypeError, ValueError, SyntaxError):  # np.dtype(",") parses the string as code
        return None


def float_dtype(name: str, value: Any, where: str, example: str = "") -> type | None:
    """``None`` (the default), or float32/float64 given as a name, a numpy type or a dtype."""
    if value is None:
        return None
    dtype = numpy_dtype(value)
    if dtype is not None and dtype.type in FLOAT_DTYPES:
        return dtype.type
    expected = "'float32' or 'float64' (the dtypes the ops compute in)"
    refuse(name, value, where, expected, example, "use a float dtype")
