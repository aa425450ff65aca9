"""Argument checks shared by layers, losses, metrics, activations, initializers, regularizers,
optimizers, learning-rate schedules, callbacks and the training API (``fit``, ``evaluate``, ...).

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

The checks live in four modules, all importable from here: ``core`` (the predicates ``is_int``,
``is_real``, ``is_finite_real`` and ``refuse``, the error they all raise), ``scalars`` (counts,
verbosity, seeds, axes, reals in an interval), ``names`` (flags, names, file paths, dtypes) and
``shapes`` (kernel sizes, input shapes, weight sizes).

>>> positive_int("units", 32, "Dense")
32
>>> int_tuple("kernel_size", 3, "Conv2D", length=2)
(3, 3)
"""

from __future__ import annotations

from .core import describe, is_finite_real, is_int, is_real, refuse
from .names import FLOAT_DTYPES, choice, file_path, flag, float_dtype, name_or_none, numpy_dtype
from .scalars import (
    VERBOSE_LEVELS,
    axis,
    fraction,
    non_negative_int,
    non_negative_real,
    positive_int,
    positive_real,
    rate,
    real,
    seed,
    verbosity,
)
from .shapes import MAX_WEIGHT_VALUES, batch_shape, int_tuple, shape, weight_size

__all__ = [
    "FLOAT_DTYPES",
    "MAX_WEIGHT_VALUES",
    "VERBOSE_LEVELS",
    "axis",
    "batch_shape",
    "choice",
    "describe",
    "file_path",
    "flag",
    "float_dtype",
    "fraction",
    "int_tuple",
    "is_finite_real",
    "is_int",
    "is_real",
    "name_or_none",
    "non_negative_int",
    "non_negative_real",
    "numpy_dtype",
    "positive_int",
    "positive_real",
    "rate",
    "real",
    "refuse",
    "seed",
    "shape",
    "verbosity",
    "weight_size",
]
