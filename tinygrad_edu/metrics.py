"""Metrics on plain arrays (no graph): ``metric(y_true, y_pred) -> float`` (the batch mean).

``"accuracy"`` picks the binary, categorical or sparse form the way Keras does: from the loss when
it is a cross-entropy, otherwise from the shapes.

>>> sparse_categorical_accuracy([2, 0], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
0.5
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional

import numpy as np

from . import validation as check
from ._shapes import as_numeric_array
from .errors import ConfigError, ShapeError, suggest
from .tensor import Tensor

Metric = Callable[[Any, Any], float]


def _arrays(y_true: Any, y_pred: Any, metric: str):
    """Targets and predictions as numeric arrays (bools count as 0/1); strings, objects, None
    are a ``DataError``; predictions need at least one value and one axis."""
    t, p = _numeric(y_true, metric, "y_true"), _numeric(y_pred, metric, "y_pred")
    if p.ndim == 0 or p.size == 0:
        raise ShapeError(
            where=f"metric '{metric}'",
            expected="predictions for a batch: at least one axis and one value",
            got=f"shape {p.shape}",
            fix="pass the model's outputs for a batch, e.g. model.predict(x)",
        )
    return t, p


def _numeric(x: Any, metric: str, which: str) -> np.ndarray:
    """``as_numeric_array`` of ``x`` (a Tensor's array), whose message (naming ``metric`` and
    ``which``) is built only for data it does not take as it is: a metric runs every step."""
    raw = x._data if isinstance(x, Tensor) else x
    if type(raw) is np.ndarray and raw.dtype.kind in "iuf":
        return raw  # as_numeric_array's own shortcut
    return as_numeric_array(raw, f"metric '{metric}' ({which})")


_MISMATCH_FIXES = {
    "mean_squared_error": "integer class labels need metrics=['accuracy'] (mae/mse compare "
    "values one to one with the outputs)",
    "mean_absolute_error": "integer class labels need metrics=['accuracy'] (mae/mse compare "
    "values one to one with the outputs)",
    "sparse_categorical_accuracy": "give one integer label per sample; one-hot targets go with "
    "categorical_accuracy(y, p)",
}


def _match(t: np.ndarray, shape: tuple, metric: str) -> np.ndarray:
    """Targets reshaped to ``shape`` (same number of values), else a teaching ShapeError."""
    if t.shape == shape:
        return t
    if t.size != math.prod(shape):
        raise ShapeError(
            where=f"metric '{metric}'",
            expected=f"targets with {math.prod(shape)} values (shape {shape})",
            got=f"shape {t.shape}",
            fix=_MISMATCH_FIXES.get(metric, "give one target per sample (per output)"),
        )
    return t.reshape(shape)


def _fraction(hits: np.ndarray) -> float:
    """The fraction of True values in ``hits`` (never empty: ``_arrays`` refuses empty
    predictions) - ``np.mean(hits)`` exactly, without its Python wrapper (a metric runs every
    step)."""
    return float(np.count_nonzero(hits)) / hits.size


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """Fraction of outputs on the right side of ``threshold``."""
    threshold = check.real(
        "threshold",
        threshold,
        "metric 'binary_accuracy'",
        "binary_accuracy([1, 0], [0.7, 0.2], threshold=0.5)",
    )
    t, p = _arrays(y_true, y_pred, "binary_accuracy")
    t = _match(t, p.shape, "binary_accuracy")
    return _fraction((p > threshold) == (t > 0.5))


def categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose largest output is the one-hot target's class."""
    t, p = _arrays(y_true, y_pred, "categorical_accuracy")
    if t.shape != p.shape:
        raise ShapeError(
            where="metric 'categorical_accuracy'",
            expected=f"one-hot targets of shape {p.shape} (the outputs' shape)",
            got=f"shape {t.shape}",
            fix="integer class labels go with sparse_categorical_accuracy(y, p) (or "
            "metrics=['accuracy']); one-hot encode them with np.eye(classes)[y]",
        )
    return _fraction(p.argmax(axis=-1) == t.argmax(axis=-1))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose largest output is the integer label."""
    t, p = _arrays(y_true, y_pred, "sparse_categorical_accuracy")
    t = _match(t, p.shape[:-1], "sparse_categorical_accuracy")
    return _fraction(p.argmax(axis=-1) == t)


def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred, "mean_squared_error")
    return float(np.mean((p - _match(t, p.shape, "mean_squared_error")) ** 2))


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(p - _match(t, p.shape, "mean_absolute_error"))))


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Accuracy whose kind is inferred from the shapes (see ``get`` for the loss-based choice)."""
    return _accuracy_for(None, *_arrays(y_true, y_pred, "accuracy"))(y_true, y_pred)


def _accuracy_for(
    loss_name: Optional[str], t: Optional[np.ndarray] = None, p: Optional[np.ndarray] = None
) -> Metric:
    if loss_name:
        if "sparse_categorical" in loss_name:
            return sparse_categorical_accuracy
        if "categorical" in loss_name:
            return categorical_accuracy
        if "binary" in loss_name:
            return binary_accuracy
    if p is not None and p.shape[-1:] == (1,) or (p is not None and p.ndim == 1):
        return binary_accuracy
    if t is not None and p is not None and t.shape == p.shape:
        return categorical_accuracy
    return sparse_categorical_accuracy


_BY_NAME = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}


def get(identifier: Any, loss_name: Optional[str] = None) -> Metric:
    """``"accuracy"``/``"acc"`` (resolved from the loss), another name, or a callable (ours as
    it is; a user's averaged to one float, ``_averaged``)."""
    check.name_or_none("loss_name", loss_name, "metrics.get", "metrics.get('accuracy', 'mse')")
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            return (
                _accuracy_for(loss_name)
                if loss_name and ("crossentropy" in loss_name)
                else accuracy
            )
        if key not in _BY_NAME:
            raise ConfigError(
                where="compile(metrics=...)",
                expected="a metric name or callable",
                got=repr(identifier),
                fix=suggest(identifier, [*_BY_NAME, "accuracy"]),
            )
        return _BY_NAME[key]
    if callable(identifier):
        return identifier if identifier in _OURS else _averaged(identifier)
    raise ConfigError(
        where="compile(metrics=...)",
        expected="a metric name or callable",
        got=repr(identifier),
        fix="pass a metric name or a function, e.g. metrics.get('accuracy')",
    )


_OURS = (accuracy, *_BY_NAME.values())


def _averaged(fn: Callable[[Any, Any], Any]) -> Metric:
    """A user's metric as Keras runs one (``MeanMetricWrapper``): whatever it returns - one value
    per sample, one number, a Tensor - averaged to one float (the batch's value)."""

    @functools.wraps(fn)
    def metric(y_true: Any, y_pred: Any) -> float:
        value = fn(y_true, y_pred)
        values = as_numeric_array(
            value._data if isinstance(value, Tensor) else value,
            f"metric '{getattr(fn, '__name__', 'metric')}' (its result)",
        )
        return float(np.mean(values))

    return metric


mse, mae = mean_squared_error, mean_absolute_error

__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
    "mse",
    "mae",
    "get",
]
