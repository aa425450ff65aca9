"""Argument checks of the training API (``compile``, ``fit``, ``evaluate``, ``train_on_batch``,
``predict``).

Every argument is checked before any work: ints are ints (not ``32.5``, ``"3"`` or ``True``),
flags are bools, and what is not supported is refused, never ignored. Each check
raises a ``ConfigError`` with expected/got/fix; ``check_fit_args`` returns fit's arguments in
their usable form as one ``FitArgs``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np

from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from .. import validation as check
from ..callbacks import Callback
from ..errors import ConfigError
from ..layers import legacy as _legacy
from ..layers.recognizers import warn_single_unit_softmax
from ..validation import is_int

#: the names ``Model.fit`` takes (what an unknown name is compared with)
FIT_ARGUMENTS = (
    "x", "y", "batch_size", "epochs", "verbose", "validation_split", "validation_data", "shuffle",
    "callbacks", "initial_epoch", "check_finite", "seed", "sample_weight", "class_weight",
    "steps_per_epoch",
)


@dataclass(frozen=True)
class FitArgs:
    """``fit``'s arguments once checked (``verbose`` as a level: ``"auto"`` is 1)."""

    batch_size: int
    epochs: int
    verbose: int
    validation_split: float
    validation_data: Any
    shuffle: bool
    callbacks: List[Callback]
    initial_epoch: int
    check_finite: bool
    seed: Optional[int]
    sample_weight: Any = None  # checked against the data in fit (weighting.py)
    class_weight: Any = None
    steps_per_epoch: Optional[int] = None


def check_fit_args(
    *,
    batch_size: Any,
    epochs: Any,
    verbose: Any,
    validation_split: Any,
    validation_data: Any,
    shuffle: Any,
    callbacks: Any,
    initial_epoch: Any,
    check_finite: Any,
    seed: Any,
    sample_weight: Any,
    class_weight: Any,
    steps_per_epoch: Any = None,
    legacy: Optional[Dict[str, Any]] = None,
) -> FitArgs:
    """Every argument of ``fit`` but the data, checked in the order of the signature; ``legacy``
    holds the names fit does not take: Keras 1's ``nb_epoch`` is ``epochs`` (with a warning),
    any other is refused naming the closest real argument."""
    epochs = _legacy.fit_epochs(epochs, legacy or {}, FIT_ARGUMENTS)
    check_batch_size(batch_size, "fit")
    check.non_negative_int("epochs", epochs, "fit", "model.fit(x, y, epochs=5)")
    _check_initial_epoch(initial_epoch, epochs)
    _check_validation_split(validation_split)
    check.flag("shuffle", shuffle, "fit", "model.fit(x, y, shuffle=True)")
    check.flag("check_finite", check_finite, "fit", "model.fit(x, y, check_finite=True)")
    level = check.verbosity("verbose", verbose, "fit", "model.fit(x, y, verbose=1)")
    check.seed("seed", seed, "fit", "model.fit(x, y, seed=0)  # or seed=None: a random one")
    if steps_per_epoch is not None:
        check.positive_int(
            "steps_per_epoch", steps_per_epoch, "fit", "model.fit(batches, steps_per_epoch=100)"
        )
    checked_callbacks = _check_callbacks(callbacks)
    _check_validation_data_form(validation_data)
    return FitArgs(
        batch_size=int(batch_size),
        epochs=int(epochs),
        verbose=level,
        validation_split=float(validation_split),
        validation_data=validation_data,
        shuffle=bool(shuffle),
        callbacks=checked_callbacks,
        initial_epoch=int(initial_epoch),
        check_finite=bool(check_finite),
        seed=None if seed is None else int(seed),
        sample_weight=sample_weight,
        class_weight=class_weight,
        steps_per_epoch=None if steps_per_epoch is None else int(steps_per_epoch),
    )


def compile_choices(model: Any, optimizer: Any, loss: Any, metrics: Any) -> tuple:
    """``(optimizer, loss_fn, [(name, metric_fn), ...])`` from Keras strings or objects, all
    resolved before the model changes; a softmax over one unit in ``model`` is warned of
    (``ClassicMistakeWarning``: it outputs 1.0 whatever the input)."""
    where = f"model '{model.name}'.compile"
    if loss is None:
        raise ConfigError(
            where=where,
            expected="a loss",
            got="loss=None",
            fix="e.g. loss='sparse_categorical_crossentropy'",
        )
    chosen_optimizer = _optimizers.get(optimizer)
    loss_fn = _losses.get(loss)
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if metrics is not None and not isinstance(metrics, (list, tuple)):
        raise ConfigError(
            where=where,
            expected="metrics as a list of names or functions",
            got=repr(metrics),
            fix="e.g. metrics=['accuracy']",
        )
    metric_fns = []
    for m in metrics or []:
        name = m if isinstance(m, str) else getattr(m, "__name__", "metric")
        metric_fns.append((name, _metrics.get(m, loss_name=loss_fn.name)))
    warn_single_unit_softmax(model.layers)
    return chosen_optimizer, loss_fn, metric_fns


def check_batch_size(batch_size: Any, where: str) -> None:
    """``batch_size`` must be a positive int (not ``32.5``, ``"32"`` or ``True``)."""
    if not is_int(batch_size) or batch_size <= 0:
        raise ConfigError(
            where=where,
            expected="batch_size as a positive int",
            got=repr(batch_size),
            fix="use e.g. batch_size=32",
        )


def _check_initial_epoch(initial_epoch: Any, epochs: int) -> None:
    if not is_int(initial_epoch) or not 0 <= initial_epoch <= epochs:
        raise ConfigError(
            where="fit",
            expected=f"initial_epoch as an int with 0 <= initial_epoch <= epochs ({epochs})",
            got=repr(initial_epoch),
            fix="initial_epoch counts epochs already done, e.g. initial_epoch=0",
        )


def _check_validation_split(validation_split: Any) -> None:
    if (
        isinstance(validation_split, (bool, np.bool_))
        or not isinstance(validation_split, numbers.Real)
        or not 0 <= validation_split < 1
    ):
        raise ConfigError(
            where="fit",
            expected="validation_split in [0, 1)",
            got=repr(validation_split),
            fix="e.g. validation_split=0.1",
        )


def _check_callbacks(callbacks: Any) -> List[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    bad = [c for c in callbacks if not isinstance(c, Callback)]
    if bad:
        raise ConfigError(
            where="fit(callbacks=...)",
            expected="Callback instances",
            got=repr(bad[0]),
            fix="e.g. callbacks=[EarlyStopping(patience=3)] "
            "(note the parentheses: an instance, not the class)",
        )
    return list(callbacks)


def _check_validation_data_form(validation_data: Any) -> None:
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``; anything else is refused."""
    if validation_data is None:
        return
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        return
    length = (
        f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else ""
    )
    raise ConfigError(
        where="fit",
        expected="validation_data=(x_val, y_val) or (x_val, y_val, sample_weight_val)",
        got=f"a {type(validation_data).__name__}{length}",
        fix="pass a tuple of inputs and targets",
    )


__all__ = ["FitArgs", "check_batch_size", "check_fit_args", "compile_choices"]
