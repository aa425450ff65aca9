"""Per-sample weights in the loss: ``fit(sample_weight=...)``, ``fit(class_weight={...})``,
``evaluate(sample_weight=...)``, ``validation_data=(x, y, sample_weight)``.

The rule is Keras 3's (``keras/src/losses/loss.py``: ``reduce_weighted_values`` with the
default reduction ``"sum_over_batch_size"``): the per-sample losses l_i (the compiled loss with
``reduction="none"``: the same loss code, not a copy) are multiplied by their weights w_i and
divided by the **number of loss values**, not by the sum of the weights::

    loss = sum_i(w_i * l_i) / B          (B: the batch size; all w_i = 1 gives the mean)

so a batch whose weights are all 2 has twice the unweighted loss, and ``fit``/``evaluate``
report the batch-size weighted mean of those batch losses (sum over all samples / N). The
compiled ``metrics`` are not weighted (Keras 3: only ``weighted_metrics`` would be).

``class_weight={class: weight}`` becomes one weight per sample from its label (the argmax of a
one-hot row, else the label itself), as Keras' ``class_weight_to_sample_weights``; giving both
it and ``sample_weight`` is refused, as Keras refuses it.

>>> import numpy as np
>>> class_sample_weights(np.array([0, 1, 1]), {0: 1.0, 1: 5.0}, "fit").tolist()
[1.0, 5.0, 5.0]
>>> class_sample_weights(np.eye(2)[[1, 0]], {0: 0.5, 1: 2.0}, "fit").tolist()
[2.0, 0.5]
"""

from __future__ import annotations

import inspect
import numbers
from functools import lru_cache
from typing import Any, Optional

import numpy as np

from .._shapes import as_numeric_array
from ..errors import ConfigError, DataError
from ..tensor import Tensor


def loss_values(model: Any, y: np.ndarray, out: Tensor, sample_weight: Optional[np.ndarray]):
    """The compiled loss of a batch: its own mean without weights, else Keras' weighted rule."""
    if sample_weight is None:
        return model.loss_fn(y, out)
    return weighted_loss(model.loss_fn, y, out, sample_weight, f"model '{model.name}'")


def weighted_loss(loss: Any, y: Any, out: Tensor, sample_weight: np.ndarray, where: str) -> Tensor:
    """``sum_i(w_i * l_i) / B``: the per-sample losses of ``loss`` times their weights, over the
    number of loss values (Keras 3's ``sum_over_batch_size``)."""
    per_sample = per_sample_losses(loss, y, out, where)
    w = sample_weight.reshape(len(sample_weight), *([1] * (per_sample.ndim - 1)))
    return (per_sample * Tensor(w.astype(per_sample.dtype, copy=False))).sum() * _inverse(
        per_sample.size
    )


@lru_cache(maxsize=None)
def _inverse(n: int) -> float:
    """1.0 / n, one float object per n: a replayed step (tinygrad_edu.jit) keeps only numbers
    that are the same object at every call (a number made anew may come from the batch)."""
    return 1.0 / n


def per_sample_losses(loss: Any, y: Any, out: Tensor, where: str) -> Tensor:
    """The loss with ``reduction="none"``: one value per sample (a user's loss function without
    that argument: its own values, when it gives one per sample as Keras loss functions do)."""
    fn, config = getattr(loss, "fn", None), getattr(loss, "config", {})
    if fn is not None and "reduction" in inspect.signature(fn).parameters:
        return fn(y, out, **{**config, "reduction": "none"})
    values = None if fn is None else fn(y, out, **config)
    if not (isinstance(values, Tensor) and values.ndim and values.shape[0] == out.shape[0]):
        raise ConfigError(
            where=f"{where} weighting samples",
            expected="a loss that can give one value per sample (reduction='none')",
            got=f"the loss {getattr(loss, 'name', loss)!r}"
            + (f", giving shape {values.shape}" if isinstance(values, Tensor) else ""),
            fix="use a built-in loss, e.g. model.compile(optimizer='adam', loss='mse'), or let "
            "your loss function return one value per sample (Keras' form: ... .mean(axis=-1))",
        )
    return values


def checked_sample_weight(sample_weight: Any, n: int, where: str) -> Optional[np.ndarray]:
    """One finite weight >= 0 per sample (shape ``(n,)``; ``(n, 1)`` is accepted), or None."""
    if sample_weight is None:
        return None
    w = as_numeric_array(sample_weight, where, allow_bool=False)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise DataError(
            where=where,
            expected=f"sample_weight of shape ({n},): one weight per sample",
            got=f"shape {w.shape}",
            fix=f"sample_weight=np.ones({n}) (then raise the weights of the samples that count "
            "more)",
        )
    w = w.astype(np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise DataError(
            where=where,
            expected="finite sample weights >= 0",
            got=f"{int((~np.isfinite(w) | (w < 0)).sum())} NaN/inf or negative weights",
            fix="sample_weight = np.clip(np.nan_to_num(sample_weight), 0, None)",
        )
    return w


def class_sample_weights(y: np.ndarray, class_weight: Any, where: str) -> np.ndarray:
    """``class_weight[label]`` for every sample (one-hot rows: their argmax)."""
    _check_class_weight(class_weight, where)
    labels = np.rint(_one_label_per_sample(y, where)).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(class_weight))
    if missing:
        example = ", ".join(f"{c}: 1.0" for c in sorted({*class_weight, *missing})[:4])
        raise DataError(
            where=where,
            expected="a weight for every class in y",
            got=f"no weight for classes {missing[:5]}",
            fix=f"class_weight={{{example}}}",
        )
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table[c] for c in labels.tolist()], dtype=np.float64)


def _one_label_per_sample(y: np.ndarray, where: str) -> np.ndarray:
    """The label of each sample: ``y`` of shape (B,) or (B, 1), or the argmax of one-hot (or
    soft) rows (B, classes). Anything else - per-timestep labels (B, T), one-hot sequences
    (B, T, classes) - has no one class per sample: refused (argmax over the time axis would
    read a time step as a class)."""
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        return y.reshape(len(y))
    rows = y.ndim == 2 and bool(((y >= 0) & (y <= 1)).all())
    if rows and np.allclose(y.sum(axis=1), 1.0, atol=1e-3):
        return np.argmax(y, axis=-1)
    raise DataError(
        where=where,
        expected="class_weight with one label per sample: labels of shape (samples,) or "
        "one-hot rows (samples, classes)",
        got=f"targets of shape {y.shape}, not one label or one-hot row per sample",
        fix="weight the samples yourself (one weight per sample), e.g. "
        "sample_weight=np.ones(len(y))",
    )


def _check_class_weight(class_weight: Any, where: str) -> None:
    ok = isinstance(class_weight, dict) and all(
        isinstance(k, numbers.Integral)
        and not isinstance(k, bool)
        and isinstance(v, numbers.Real)
        and not isinstance(v, bool)
        and np.isfinite(v)
        and v >= 0
        for k, v in class_weight.items()
    )
    if not ok or not class_weight:
        raise ConfigError(
            where=where,
            expected="class_weight as a dict {class index: weight >= 0}",
            got=repr(class_weight)[:80],
            fix="class_weight={0: 1.0, 1: 5.0}",
        )


def batch_weights(
    y: np.ndarray, sample_weight: Any, class_weight: Any, where: str
) -> Optional[np.ndarray]:
    """The weights of the samples of ``y`` from either argument (both: refused), or None."""
    if sample_weight is not None and class_weight is not None:
        raise ConfigError(
            where=where,
            expected="sample_weight or class_weight, not both (Keras refuses both too)",
            got="both",
            fix="fold the class weights into the sample weights: "
            "sample_weight = sample_weight * np.array([class_weight[c] for c in y])",
        )
    if class_weight is not None:
        return class_sample_weights(y, class_weight, where)
    return checked_sample_weight(sample_weight, len(y), where)


__all__ = [
    "batch_weights",
    "checked_sample_weight",
    "class_sample_weights",
    "loss_values",
    "per_sample_losses",
    "weighted_loss",
]
