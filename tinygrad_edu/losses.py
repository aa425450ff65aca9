"""Losses with Keras names, taking ``(y_true, y_pred)`` and returning the batch mean (a scalar
Tensor, so ``loss.backward()`` works directly; ``reduction="none"`` gives one value per sample).

Cross-entropies are computed from logits whenever they can be: with ``from_logits=True``, or when
``y_pred`` came out of a softmax/sigmoid (``y_pred.logits``). Then a probability that rounds to
exactly 0 or 1 never yields inf/NaN. Without logits, probabilities are clipped to [1e-7, 1 - 1e-7]
as Keras does.

>>> from tinygrad_edu import Tensor
>>> z = Tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> round(sparse_categorical_crossentropy([0], z.softmax()).item(), 4)
0.1698
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from . import ops
from . import validation as check
from ._shapes import as_numeric_array
from .errors import ConfigError, DataError, ShapeError, resolve
from .functional import where
from .tensor import Tensor, tensor_from_op

EPSILON = 1e-7
REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------------------ options
def _flag(name: str, value: Any, where: str, example: str) -> bool:
    return check.flag(name, value, where, example)


def _reduction(name: str, value: Any, where: str, example: str) -> str:
    hint = "'mean' averages over the batch (Keras' 'sum_over_batch_size')"
    if isinstance(value, str) and value.lower() in REDUCTIONS:
        return value.lower()
    check.refuse(name, value, where, f"one of {REDUCTIONS}", example, hint)


#: option name -> (its check, the value a working example uses)
_OPTION_CHECKS: Dict[str, Tuple[Callable[..., Any], Any]] = {
    "from_logits": (_flag, True),
    "label_smoothing": (check.fraction, 0.1),
    "delta": (check.positive_real, 1.0),
    "reduction": (_reduction, "mean"),
}


def _options(loss: str, **options: Any) -> Dict[str, Any]:
    """The options of ``loss`` checked (``from_logits`` a bool, ``label_smoothing`` in [0, 1],
    ``delta`` > 0, ``reduction`` a name), each ``ConfigError`` ending with a working example."""
    where = f"loss '{loss}'"
    out = {}
    for name, value in options.items():
        rule, good = _OPTION_CHECKS[name]
        example = f"losses.{_CLASS_NAMES.get(loss, 'Loss')}({name}={good!r})"
        out[name] = rule(name, value, where, example)
    return out


# ------------------------------------------------------------------------------ inputs
def _pred(y_pred: Any, loss: str) -> Tensor:
    """The predictions as a Tensor with at least one axis (batch first)."""
    if not isinstance(y_pred, Tensor):
        arr = as_numeric_array(y_pred, f"loss '{loss}' (y_pred)")
        # as Tensor() does: a float64 array stays float64, Python lists become float32
        y_pred = Tensor(arr if isinstance(y_pred, np.ndarray) else arr.astype(np.float32))
    if y_pred.ndim == 0:
        raise ShapeError(
            where=f"loss '{loss}'",
            expected="predictions with a batch axis, shape (batch, ...)",
            got="a scalar (shape ())",
            fix="pass the model's output for a batch, e.g. y_pred of shape (batch, outputs)",
        )
    return y_pred


def _array(y_true: Any, loss: str) -> np.ndarray:
    raw = y_true._data if isinstance(y_true, Tensor) else y_true
    return as_numeric_array(raw, f"loss '{loss}' (y_true)")


def _reduce(per_sample: Tensor, reduction: str) -> Tensor:
    """``reduction`` is one of REDUCTIONS (checked by ``_options``)."""
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


def _logits(y_pred: Tensor, from_logits: bool, kind: str) -> Optional[Tensor]:
    """The logits to use: y_pred itself, those of the ``kind`` activation that made it, or None
    (a sigmoid's logits are no use to a categorical loss, nor a softmax's to a binary one)."""
    if from_logits:
        return y_pred
    return y_pred.logits_of(kind)


def _saved_log_softmax(y_pred: Tensor, from_logits: bool) -> Optional[np.ndarray]:
    """log(y_pred) as the Softmax op that made y_pred already knows it (None if it is not one).

    Kept because it is measurable: recomputing the log-softmax of [32, 10] logits costs ~10.6 us
    (~28 us at batch 256), about 8% of a 784-32-10 training step at batch 32."""
    op = y_pred.op
    if from_logits or not isinstance(op, ops.Softmax):
        return None
    return op.log_softmax()


def _dense_target(y_true: Any, y_pred: Tensor, loss: str) -> np.ndarray:
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


def _sparse_labels(y_true: Any, y_pred: Tensor, loss: str) -> np.ndarray:
    """Integer labels shaped like y_pred without its class axis, validated against the classes."""
    t = _array(y_true, loss)
    classes = y_pred.shape[-1]
    if t.shape == y_pred.shape and classes > 1:
        raise DataError(
            where=f"loss '{loss}'",
            expected=f"integer labels of shape {y_pred.shape[:-1]}",
            got=f"one-hot targets of shape {t.shape}",
            fix="use loss='categorical_crossentropy' for one-hot targets, or pass y.argmax(-1)",
        )
    if t.shape == y_pred.shape[:-1] + (1,):
        t = t[..., 0]
    if t.shape != y_pred.shape[:-1]:
        raise ShapeError(
            where=f"loss '{loss}'",
            expected=f"labels of shape {y_pred.shape[:-1]}",
            got=str(t.shape),
            fix="give one integer label per sample",
        )
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


def mean_squared_error(y_true: Any, y_pred: Any, reduction: str = "mean") -> Tensor:
    """mean over the last axis of (y_pred - y_true)^2, then over the batch."""
    opt = _options("mean_squared_error", reduction=reduction)
    y_pred = _pred(y_pred, "mean_squared_error")
    diff = y_pred - _dense_target(y_true, y_pred, "mean_squared_error")
    return _reduce((diff * diff).mean(axis=-1), opt["reduction"])


def mean_absolute_error(y_true: Any, y_pred: Any, reduction: str = "mean") -> Tensor:
    """mean over the last axis of |y_pred - y_true|, then over the batch."""
    opt = _options("mean_absolute_error", reduction=reduction)
    y_pred = _pred(y_pred, "mean_absolute_error")
    diff = y_pred - _dense_target(y_true, y_pred, "mean_absolute_error")
    return _reduce(diff.abs().mean(axis=-1), opt["reduction"])


def huber(y_true: Any, y_pred: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """0.5 e^2 where |e| <= delta, else delta (|e| - delta/2); mean over the last axis."""
    opt = _options("huber", delta=delta, reduction=reduction)
    delta = opt["delta"]
    y_pred = _pred(y_pred, "huber")
    err = y_pred - _dense_target(y_true, y_pred, "huber")
    small = np.abs(err._data) <= delta
    per = where(small, 0.5 * err * err, delta * (err.abs() - 0.5 * delta))
    return _reduce(per.mean(axis=-1), opt["reduction"])


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
    opt = _options(
        "binary_crossentropy",
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    label_smoothing = opt["label_smoothing"]
    y_pred = _pred(y_pred, "binary_crossentropy")
    t = _dense_target(y_true, y_pred, "binary_crossentropy")
    outside = (t < 0) | (t > 1)
    if outside.any():
        raise DataError(
            where="loss 'binary_crossentropy'",
            expected="targets in [0, 1] (labels 0 or 1)",
            got=f"target {t[outside].flat[0]:g} ({int(outside.sum())} outside [0, 1])",
            fix="binary labels are 0/1; for several classes use "
            "sparse_categorical_crossentropy with Dense(classes, activation='softmax')",
        )
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    z = _logits(y_pred, opt["from_logits"], "sigmoid")
    if z is not None:  # 0.5 (z + |z|) = max(z, 0) with the derivative 1/2 at 0, not relu's 0
        per = 0.5 * (z + z.abs()) - z * t + ((-z.abs()).exp() + 1).log()
    else:
        p = y_pred.clip(EPSILON, 1 - EPSILON)
        per = -(t * p.log() + (1 - t) * (1 - p).log())
    return _reduce(per.mean(axis=-1), opt["reduction"])


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """-sum_k t_k log p_k over the class (last) axis, for one-hot (or smoothed) targets."""
    opt = _options(
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
    y_pred = _pred(y_pred, "categorical_crossentropy")
    t = _dense_target(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    z = _logits(y_pred, from_logits, "softmax")
    if z is not None:
        return tensor_from_op(
            ops.SoftmaxCrossEntropy,
            z,
            target=t,
            reduction=reduction,
            log_p=_saved_log_softmax(y_pred, from_logits),
        )
    p = (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(EPSILON, 1 - EPSILON)
    return _reduce(-(t * p.log()).sum(axis=-1), reduction)


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, reduction: str = "mean"
) -> Tensor:
    """-log p[label] per sample, for integer labels (``y_true`` of shape ``y_pred.shape[:-1]``)."""
    opt = _options("sparse_categorical_crossentropy", from_logits=from_logits, reduction=reduction)
    from_logits, reduction = opt["from_logits"], opt["reduction"]
    y_pred = _pred(y_pred, "sparse_categorical_crossentropy")
    labels = _sparse_labels(y_true, y_pred, "sparse_categorical_crossentropy")
    z = _logits(y_pred, from_logits, "softmax")
    classes = y_pred.shape[-1]
    flat_labels = labels.reshape(-1)
    if z is not None and labels.ndim == 1:  # the common case: one fused op, mean included
        return tensor_from_op(
            ops.SparseSoftmaxCrossEntropy,
            z,
            labels=flat_labels,
            reduction=reduction,
            log_p=_saved_log_softmax(y_pred, from_logits),
        )
    if z is not None:
        flat = z.reshape(-1, classes)
        per = tensor_from_op(ops.SparseSoftmaxCrossEntropy, flat, labels=flat_labels)
    else:
        flat = y_pred if y_pred.ndim == 2 else y_pred.reshape(-1, classes)
        picked = flat[np.arange(flat.shape[0]), flat_labels]
        per = -picked.clip(EPSILON, 1 - EPSILON).log()
    if labels.ndim != 1:
        per = per.reshape(labels.shape)
    return _reduce(per, reduction)


mse, mae = mean_squared_error, mean_absolute_error


class Loss:
    """A configured loss: ``Loss(fn, **config)(y_true, y_pred)`` -> scalar Tensor. The options
    of a built-in ``fn`` are checked here, at construction, not at the first batch."""

    def __init__(self, fn: Callable[..., Tensor], name: Optional[str] = None, **config: Any):
        if not callable(fn):
            raise ConfigError(
                where="Loss()",
                expected="fn as a loss function (y_true, y_pred) -> Tensor",
                got=check.describe(fn),
                fix="e.g. Loss(losses.huber, delta=2.0)",
            )
        self.fn = fn
        self.name = check.name_or_none("name", name, "Loss()", "Loss(losses.huber, name='huber')")
        self.name = self.name or getattr(fn, "__name__", type(fn).__name__)
        self.config = _checked_config(fn, config)

    def __call__(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.fn(y_true, y_pred, **self.config)

    def get_config(self) -> Dict[str, Any]:
        return {"name": self.name, **self.config}


def _option_names(fn: Callable[..., Tensor]) -> Tuple[str, ...]:
    """The options a built-in loss takes after (y_true, y_pred), in order."""
    return tuple(inspect.signature(fn).parameters)[2:]


def _checked_config(fn: Callable[..., Tensor], config: Dict[str, Any]) -> Dict[str, Any]:
    """A built-in loss's options: known names only, each value checked (a custom fn's config is
    passed on as given)."""
    loss = getattr(fn, "__name__", "")
    if _BY_NAME.get(loss) is not fn:
        return dict(config)
    valid = _option_names(fn)
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise ConfigError(
            where=f"loss '{loss}'",
            expected=f"options among {valid}",
            got=", ".join(unknown),
            fix=f"remove or rename {', '.join(unknown)}, e.g. losses.{_CLASS_NAMES[loss]}()",
        )
    _options(loss, **config)
    return dict(config)


def _loss_class(fn: Callable[..., Tensor], cls_name: str):
    def __init__(self, *args: Any, name: Optional[str] = None, **config: Any):
        Loss.__init__(self, fn, name=name, **_positional_options(fn, cls_name, args, config))

    return type(cls_name, (Loss,), {"__init__": __init__, "__doc__": fn.__doc__})


def _positional_options(fn, cls_name: str, args: tuple, config: Dict[str, Any]) -> Dict[str, Any]:
    """Keras' positional form, ``Huber(2.0)`` = ``Huber(delta=2.0)``, as keywords."""
    names = _option_names(fn)
    first, good = names[0], _OPTION_CHECKS[names[0]][1]
    if len(args) > len(names) or any(n in config for n in names[: len(args)]):
        raise ConfigError(
            where=f"{cls_name}()",
            expected=f"at most {len(names)} options {names}, each given once",
            got=f"{len(args)} positional ({', '.join(map(repr, args))}) and keywords "
            f"{sorted(config)}",
            fix=f"name the options, e.g. losses.{cls_name}({first}={good!r})",
        )
    return {**dict(zip(names, args)), **config}


MeanSquaredError = _loss_class(mean_squared_error, "MeanSquaredError")
MeanAbsoluteError = _loss_class(mean_absolute_error, "MeanAbsoluteError")
Huber = _loss_class(huber, "Huber")
BinaryCrossentropy = _loss_class(binary_crossentropy, "BinaryCrossentropy")
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "CategoricalCrossentropy")
SparseCategoricalCrossentropy = _loss_class(
    sparse_categorical_crossentropy, "SparseCategoricalCrossentropy"
)

#: the class of each loss function, for the examples in the fixes
_CLASS_NAMES = {
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "huber": "Huber",
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}

_BY_NAME = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def get(identifier: Any) -> Loss:
    """A Keras loss name, a ``Loss``, or any callable ``(y_true, y_pred) -> scalar Tensor``."""
    if isinstance(identifier, Loss):
        return identifier
    found = resolve(identifier, _BY_NAME, "compile(loss=...)", "a loss")
    return Loss(found, name=getattr(found, "__name__", "loss"))


__all__ = [
    "mean_squared_error",
    "mean_absolute_error",
    "mse",
    "mae",
    "huber",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "get",
]
