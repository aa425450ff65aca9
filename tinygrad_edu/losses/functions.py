"""The loss functions: ``fn(y_true, y_pred, **options)`` -> the batch mean of the per-sample
loss (a scalar Tensor; ``reduction="sum"`` sums, ``"none"`` keeps one value per sample). Each
reads like its formula; ``inputs.py`` checks the options and shapes the targets first.

>>> from tinygrad_edu import Tensor
>>> mean_squared_error([[1.0, 2.0]], Tensor([[1.0, 4.0]])).item()
2.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import capture_hooks, ops
from ..errors import DataError
from ..functional import where
from ..tensor import Tensor, tensor_from_op
from .inputs import (
    EPSILON,
    dense_target,
    logits_to_use,
    options,
    predictions,
    reduced,
    softmax_logits,
    sparse_labels,
)


def mean_squared_error(y_true: Any, y_pred: Any, reduction: str = "mean") -> Tensor:
    """mean over the last axis of (y_pred - y_true)^2, then over the batch."""
    opt = options("mean_squared_error", reduction=reduction)
    y_pred = predictions(y_pred, "mean_squared_error")
    diff = y_pred - dense_target(y_true, y_pred, "mean_squared_error")
    return reduced((diff * diff).mean(axis=-1), opt["reduction"])


def mean_absolute_error(y_true: Any, y_pred: Any, reduction: str = "mean") -> Tensor:
    """mean over the last axis of |y_pred - y_true|, then over the batch."""
    opt = options("mean_absolute_error", reduction=reduction)
    y_pred = predictions(y_pred, "mean_absolute_error")
    diff = y_pred - dense_target(y_true, y_pred, "mean_absolute_error")
    return reduced(diff.abs().mean(axis=-1), opt["reduction"])


def huber(y_true: Any, y_pred: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """0.5 e^2 where |e| <= delta, else delta (|e| - delta/2); mean over the last axis."""
    opt = options("huber", delta=delta, reduction=reduction)
    delta = opt["delta"]
    y_pred = predictions(y_pred, "huber")
    err = y_pred - dense_target(y_true, y_pred, "huber")
    small = np.abs(err._data) <= delta
    per = where(small, 0.5 * err * err, delta * (err.abs() - 0.5 * delta))
    return reduced(per.mean(axis=-1), opt["reduction"])


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)), mean over the last axis.

    From logits z (stable): max(z, 0) - z t + log(1 + e^-|z|).
    """
    opt = options(
        "binary_crossentropy",
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    label_smoothing = opt["label_smoothing"]
    y_pred = predictions(y_pred, "binary_crossentropy")
    t = dense_target(y_true, y_pred, "binary_crossentropy")
    capture_hooks.stateful_call(_require_binary, (t,), "loss")  # a replayed step checks too
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    z = logits_to_use(y_pred, opt["from_logits"], "sigmoid")
    if z is not None:  # 0.5 (z + |z|) = max(z, 0) with the derivative 1/2 at 0, not relu's 0
        per = 0.5 * (z + z.abs()) - z * t + ((-z.abs()).exp() + 1).log()
    else:
        p = y_pred.clip(EPSILON, 1 - EPSILON)
        per = -(t * p.log() + (1 - t) * (1 - p).log())
    return reduced(per.mean(axis=-1), opt["reduction"])


def _require_binary(t: np.ndarray) -> None:
    outside = (t < 0) | (t > 1)
    if outside.any():
        raise DataError(
            where="loss 'binary_crossentropy'",
            expected="targets in [0, 1] (labels 0 or 1)",
            got=f"target {t[outside].flat[0]:g} ({int(outside.sum())} outside [0, 1])",
            fix="binary labels are 0/1; for several classes use "
            "sparse_categorical_crossentropy with Dense(classes, activation='softmax')",
        )


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """-sum_k t_k log p_k over the class (last) axis, for one-hot (or smoothed) targets."""
    opt = options(
        "categorical_crossentropy",
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    from_logits, label_smoothing, reduction = (
        opt["from_logits"],
        opt["label_smoothing"],
        opt["reduction"],
    )
    y_pred = predictions(y_pred, "categorical_crossentropy")
    t = dense_target(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    z, log_p = softmax_logits(y_pred, from_logits)
    if z is not None:
        return tensor_from_op(ops.SoftmaxCrossEntropy, z, target=t, reduction=reduction, log_p=log_p)
    p = (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(EPSILON, 1 - EPSILON)
    return reduced(-(t * p.log()).sum(axis=-1), reduction)


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, reduction: str = "mean"
) -> Tensor:
    """-log p[label] per sample, for integer labels (``y_true`` of shape ``y_pred.shape[:-1]``);
    plain probabilities are normalized first, p / sum(p), as Keras does."""
    loss = "sparse_categorical_crossentropy"
    if from_logits is not False or type(reduction) is not str or reduction != "mean":
        opt = options(loss, from_logits=from_logits, reduction=reduction)  # (defaults: valid)
        from_logits, reduction = opt["from_logits"], opt["reduction"]
    y_pred = predictions(y_pred, loss)
    labels = sparse_labels(y_true, y_pred, loss)
    z, log_p = softmax_logits(y_pred, from_logits)
    classes = y_pred._data.shape[-1]
    flat_labels = labels.reshape(-1)
    if z is not None and labels.ndim == 1:  # the common case: one fused op, mean included
        return tensor_from_op(
            ops.SparseSoftmaxCrossEntropy, z, labels=flat_labels, reduction=reduction, log_p=log_p
        )
    if z is not None:
        flat = z.reshape(-1, classes)
        per = tensor_from_op(ops.SparseSoftmaxCrossEntropy, flat, labels=flat_labels)
    else:
        flat = y_pred if y_pred.ndim == 2 else y_pred.reshape(-1, classes)
        flat = flat / flat.sum(axis=-1, keepdims=True)  # as categorical_crossentropy and Keras
        picked = flat[np.arange(flat.shape[0]), flat_labels]
        per = -picked.clip(EPSILON, 1 - EPSILON).log()
    if labels.ndim != 1:
        per = per.reshape(labels.shape)
    return reduced(per, reduction)


mse, mae = mean_squared_error, mean_absolute_error
