"""What every loss does before its formula: check its options (``from_logits`` a bool,
``label_smoothing`` in [0, 1], ``delta`` > 0, ``reduction`` a name), take the predictions and the
targets in the shapes the formula needs (or say which loss fits the targets given), pick the
logits to compute from, and reduce the per-sample values.

>>> options("huber", delta=2, reduction="SUM")
{'delta': 2.0, 'reduction': 'sum'}
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import ops
from .. import validation as check
from .._shapes import as_numeric_array
from ..errors import DataError, ShapeError
from ..tensor import Tensor

EPSILON = 1e-7
REDUCTIONS = ("mean", "sum", "none")


#: the class of each loss function, for the examples in the fixes
CLASS_NAMES = {
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "huber": "Huber",
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}


# ------------------------------------------------------------------------------ options
def _reduction(name: str, value: Any, where: str, example: str) -> str:
    hint = "'mean' averages over the batch (Keras' 'sum_over_batch_size')"
    if isinstance(value, str) and value.lower() in REDUCTIONS:
        return value.lower()
    check.refuse(name, value, where, f"one of {REDUCTIONS}", example, hint)


#: option name -> (its check, the value a working example uses)
OPTION_CHECKS: dict[str, tuple[Callable[..., Any], Any]] = {
    "from_logits": (check.flag, True),
    "label_smoothing": (check.fraction, 0.1),
    "delta": (check.positive_real, 1.0),
    "reduction": (_reduction, "mean"),
}


#: (name, type, value) of option values that need no check: the defaults and the usual
#: choices, looked up by type too (``from_logits=1`` is not ``True`` here; the check refuses it)
_KNOWN_GOOD = frozenset(
    [("from_logits", bool, False), ("from_logits", bool, True), ("label_smoothing", float, 0.0)]
    + [("delta", float, 1.0)]
    + [("reduction", str, r) for r in REDUCTIONS]
)


def options(loss: str, **given: Any) -> dict[str, Any]:
    """The options of ``loss`` checked (``from_logits`` a bool, ``label_smoothing`` in [0, 1],
    ``delta`` > 0, ``reduction`` a name), each ``ConfigError`` ending with a working example.
    Values in ``_KNOWN_GOOD`` pass as they are (a loss is called every step: ~7 us saved)."""
    for name, value in given.items():
        kind = type(value)
        if kind in (bool, float, str) and (name, kind, value) in _KNOWN_GOOD:  # hashable only
            continue
        rule, good = OPTION_CHECKS[name]
        example = f"losses.{CLASS_NAMES.get(loss, 'Loss')}({name}={good!r})"
        given[name] = rule(name, value, f"loss '{loss}'", example)  # (a new value, same key)
    return given


# ------------------------------------------------------------------------------ inputs
def predictions(y_pred: Any, loss: str) -> Tensor:
    """The predictions as a Tensor with at least one axis (batch first)."""
    if not isinstance(y_pred, Tensor):
        arr = as_numeric_array(y_pred, f"loss '{loss}' (y_pred)")
        # as Tensor() does: a float64 array stays float64, Python lists become float32
        y_pred = Tensor(arr if isinstance(y_pred, np.ndarray) else arr.astype(np.float32))
    if y_pred._data.ndim == 0:
        raise ShapeError(
            where=f"loss '{loss}'",
            expected="predictions with a batch axis, shape (batch, ...)",
            got="a scalar (shape ())",
            fix="pass the model's output for a batch, e.g. y_pred of shape (batch, outputs)",
        )
    return y_pred


def _array(y_true: Any, loss: str) -> np.ndarray:
    raw = y_true._data if isinstance(y_true, Tensor) else y_true
    if type(raw) is np.ndarray and raw.dtype.kind in "iuf":
        return raw  # as_numeric_array's own shortcut, taken before its message is built
    return as_numeric_array(raw, f"loss '{loss}' (y_true)")


def reduced(per_sample: Tensor, reduction: str) -> Tensor:
    """``reduction`` is one of REDUCTIONS (checked by ``_options``)."""
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


def logits_to_use(y_pred: Tensor, from_logits: bool, kind: str) -> Tensor | None:
    """The logits to use: y_pred itself, those of the ``kind`` activation that made it, or None
    (a sigmoid's logits are no use to a categorical loss, nor a softmax's to a binary one)."""
    if from_logits:
        return y_pred
    return y_pred.logits_of(kind)


def softmax_logits(y_pred: Tensor, from_logits: bool) -> tuple[Tensor | None, np.ndarray | None]:
    """``(z, log_p)`` for a categorical loss: the logits to use (``logits_to_use(y_pred,
    from_logits, "softmax")``) and log(y_pred) as the Softmax op that made y_pred already knows
    it (None when y_pred is the logits, or no recorded Softmax op made it).

    log_p is kept because it is measurable: recomputing the log-softmax of [32, 10] logits costs
    ~10.6 us (~28 us at batch 256), about 8% of a 784-32-10 training step at batch 32."""
    if from_logits:
        return y_pred, None
    z = y_pred.logits_of("softmax")
    op = y_pred._ctx  # (the op property, without its call)
    if z is None or not isinstance(op, ops.Softmax):
        return z, None
    return z, op.log_softmax()


def dense_target(y_true: Any, y_pred: Tensor, loss: str) -> np.ndarray:
    """y_true as floats shaped like y_pred; (B,) targets for a (B, 1) output are expanded."""
    t = _array(y_true, loss)
    t = t.astype(y_pred.dtype, copy=False)
    if t.shape == y_pred.shape:
        return t
    if t.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1 and t.shape == y_pred.shape[:-1]:
        return t[..., None]
    if (
        t.shape in (y_pred.shape[:-1], y_pred.shape[:-1] + (1,))
        and y_pred.shape[-1] > 1
        and "categorical" in loss
    ):
        raise DataError(
            where=f"loss '{loss}'",
            expected=f"one-hot targets of shape {y_pred.shape}",
            got=f"integer labels of shape {t.shape}",
            fix="use loss='sparse_categorical_crossentropy' for integer labels, or one-hot "
            "encode them: np.eye(num_classes)[y]",
        )
    raise ShapeError(
        where=f"loss '{loss}'",
        expected=f"targets of shape {y_pred.shape}",
        got=str(t.shape),
        fix="give one target per model output",
    )


def sparse_labels(y_true: Any, y_pred: Tensor, loss: str) -> np.ndarray:
    """Integer labels shaped like y_pred without its class axis, validated against the classes."""
    t = _array(y_true, loss)
    shape = y_pred._data.shape
    classes = shape[-1]
    if t.shape != shape[:-1]:  # (the usual labels (B,) for (B, K) predictions skip this)
        t = _labels_shaped(t, shape, loss)
    if t.dtype.kind == "f" and (not np.all(np.isfinite(t)) or np.any(t != np.round(t))):
        raise DataError(
            where=f"loss '{loss}'",
            expected="integer class labels",
            got="non-integer values",
            fix="labels must be 0 .. classes-1",
        )
    labels = t.astype(np.intp, copy=False)
    # one pass for both ends: seen as unsigned, a negative label is huge, so max < classes
    # holds exactly when every label is in 0..classes-1
    if labels.size and np.maximum.reduce(labels.view(np.uintp), axis=None) >= classes:
        bad = (labels < 0) | (labels >= classes)
        first = labels[bad].flat[0]
        raise DataError(
            where=f"loss '{loss}'",
            expected=f"labels in 0..{classes - 1} ({classes} classes)",
            got=f"label {first} ({int(bad.sum())} labels out of range)",
            fix=f"the last layer has {classes} units: make it Dense(number_of_classes), "
            "or remap the labels to start at 0",
        )
    return labels


def _labels_shaped(t: np.ndarray, shape: tuple, loss: str) -> np.ndarray:
    """Labels ``t`` not of shape ``shape[:-1]``: (B, 1) labels squeezed to (B,); one-hot targets
    and any other shape refused."""
    if t.shape == shape and shape[-1] > 1:
        raise DataError(
            where=f"loss '{loss}'",
            expected=f"integer labels of shape {shape[:-1]}",
            got=f"one-hot targets of shape {t.shape}",
            fix="use loss='categorical_crossentropy' for one-hot targets, or pass y.argmax(-1)",
        )
    if t.shape == shape[:-1] + (1,):
        t = t[..., 0]
    if t.shape != shape[:-1]:
        raise ShapeError(
            where=f"loss '{loss}'",
            expected=f"labels of shape {shape[:-1]}",
            got=str(t.shape),
            fix="give one integer label per sample",
        )
    return t
