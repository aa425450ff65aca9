"""Data checks of the training and inference API: unusable inputs and targets are refused early,
with a ``DataError`` that says what to do, before any step runs.

``samples`` turns ``x`` into an array of samples (batch axis first); ``samples_and_targets`` does
the same for ``(x, y)`` and checks they pair up (and, unless told not to, hold no NaN/inf);
``check_targets`` runs the loss's own label checks on all of ``y`` before the first epoch.
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from .._shapes import as_numeric_array
from ..errors import DataError
from ..layers.recognizers import forgotten_flatten
from ..tensor import Tensor, no_grad


def samples(model: Any, x: Any, where: str) -> np.ndarray:
    """``x`` as an array of at least one sample, its shape accepted by the model."""
    arr = _numeric(model, x, where)
    if arr.ndim == 0 or len(arr) == 0:
        raise DataError(
            where=f"model '{model.name}'.{where}",
            expected="at least one sample (batch axis first)",
            got=f"shape {arr.shape}",
            fix="check how x was built or sliced",
        )
    model.accept_input_shape(arr.shape)
    return arr


def samples_and_targets(
    model: Any, x: Any, y: Any, where: str, check_finite: bool
) -> Tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` as arrays of the same length; with ``check_finite``, free of NaN/inf."""
    if y is None:
        raise DataError(
            where=f"model '{model.name}'.{where}",
            expected="targets y",
            got="y=None",
            fix=f"call {where}(x, y, ...)",
        )
    x = samples(model, x, where)
    y = _numeric(model, y, where)
    if y.ndim == 0:
        raise DataError(
            where=f"model '{model.name}'.{where}",
            expected=f"one target per sample ({len(x)})",
            got=f"a scalar {y!r}",
            fix="pass an array of targets, e.g. y of shape (n,) or (n, classes)",
        )
    if len(y) != len(x):
        raise DataError(
            where=f"model '{model.name}'.{where}",
            expected=f"one target per sample ({len(x)})",
            got=f"{len(y)} targets",
            fix="x and y must have the same length",
        )
    if check_finite:
        for name, arr in (("x", x), ("y", y)):
            check_finite_values(arr, name, f"model '{model.name}'.{where}")
    return x, y


def _numeric(model: Any, x: Any, where: str) -> np.ndarray:
    """``x`` (an array, a Tensor, nested lists) as a numeric array (``as_numeric_array``); a
    numeric array is taken as it is, without building the error location first."""
    if type(x) is np.ndarray and x.dtype.kind in "iuf":  # as_numeric_array's own fast path
        return x
    return x._data if isinstance(x, Tensor) else as_numeric_array(x, f"model '{model.name}'.{where}")


def check_finite_values(arr: np.ndarray, name: str, where: str) -> None:
    """A ``DataError`` naming the first rows with NaN/inf, and how to drop them."""
    if arr.dtype.kind != "f" or np.isfinite(arr).all():
        return
    bad_rows = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))
    raise DataError(
        where=where,
        expected=f"finite values in {name}",
        got=f"{int((~np.isfinite(arr)).sum())} NaN/inf values in {len(bad_rows)} rows "
        f"(first rows: {bad_rows[:5].tolist()})",
        fix=f"clean or drop those rows (e.g. {name}[np.isfinite({name}).all(axis=1)]), "
        "or pass check_finite=False if you mean it",
    )


def check_targets(model: Any, y: np.ndarray) -> None:
    """Run the loss's own target checks on all of ``y`` against the model's output shape (a
    stand-in output of 0.5s: cheap), so label mistakes surface before training. Skipped when
    the output shape is not known in full. A model mistake the labels reveal (no Flatten before
    a Dense) is named first, before the loss would blame the labels."""
    out_shape = model.output_shape
    if not _known_shape(out_shape):
        return
    forgotten_flatten(model, y)
    with no_grad():
        model.loss_fn(y, Tensor(np.full((len(y), *out_shape[1:]), 0.5, dtype=np.float32)))


def _known_shape(shape: Any) -> bool:
    """A single output's shape with every size but the batch known."""
    return (
        isinstance(shape, tuple)
        and all(isinstance(d, (int, type(None))) for d in shape)
        and all(d is not None for d in shape[1:])
    )


__all__ = ["check_finite_values", "check_targets", "samples", "samples_and_targets"]
