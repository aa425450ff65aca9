"""Metrics on plain arrays (no graph): ``metric(y_true, y_pred) -> float`` (the batch mean).

``"accuracy"`` picks the binary, categorical or sparse form the way Keras does: from the loss when
it is a cross-entropy, otherwise from the shapes.

>>> sparse_categorical_accuracy([2, 0], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
0.5
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from .errors import ConfigError, ShapeError, suggest

Metric = Callable[[Any, Any], float]


def _arrays(y_true: Any, y_pred: Any):
    return (
        np.asarray(getattr(y_true, "data", y_true)),
        np.asarray(getattr(y_pred, "data", y_pred)),
    )


def _match(t: np.ndarray, shape: tuple, metric: str) -> np.ndarray:
    """Targets reshaped to ``shape`` (same number of values), else a teaching ShapeError."""
    if t.size != int(np.prod(shape)):
        raise ShapeError(
            where=f"metric '{metric}'",
            expected=f"targets with {int(np.prod(shape))} values (shape {shape})",
            got=f"shape {t.shape}",
            fix="integer class labels need metrics=['accuracy'] (mae/mse compare values "
            "one to one with the outputs)",
        )
    return t.reshape(shape)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """Fraction of outputs on the right side of ``threshold``."""
    t, p = _arrays(y_true, y_pred)
    t = t.reshape(p.shape) if t.size == p.size else t
    return float(np.mean((p > threshold) == (t > 0.5)))


def categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose largest output is the one-hot target's class."""
    t, p = _arrays(y_true, y_pred)
    return float(np.mean(p.argmax(axis=-1) == t.argmax(axis=-1)))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose largest output is the integer label."""
    t, p = _arrays(y_true, y_pred)
    t = _match(t, p.shape[:-1], "sparse_categorical_accuracy")
    return float(np.mean(p.argmax(axis=-1) == t))


def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.mean((p - _match(t, p.shape, "mean_squared_error")) ** 2))


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.mean(np.abs(p - _match(t, p.shape, "mean_absolute_error"))))


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Accuracy whose kind is inferred from the shapes (see ``get`` for the loss-based choice)."""
    return _accuracy_for(None, *_arrays(y_true, y_pred))(y_true, y_pred)


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
    """``"accuracy"``/``"acc"`` (resolved from the loss), another name, or a callable."""
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
        return identifier
    raise ConfigError(
        where="compile(metrics=...)",
        expected="a metric name or callable",
        got=repr(identifier),
        fix="use e.g. metrics=['accuracy']",
    )


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
