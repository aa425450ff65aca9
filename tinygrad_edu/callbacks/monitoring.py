"""Callbacks that watch a logged quantity: ``EarlyStopping``, ``ReduceLROnPlateau``, and
``TerminateOnNaN`` (Keras' names, arguments and semantics).

``monitor`` is a key of the epoch logs (``"loss"``, ``"val_loss"``, ``"accuracy"``,
``"val_accuracy"``, ...). ``mode="auto"`` maximizes names containing ``"acc"``, minimizes losses
and mae/mse, and refuses any other name when it must compare (``require_direction``: a custom
'auc' minimized by guess would keep the worst model; Keras refuses too). A monitored key that
is not in the logs gives a warning naming the keys that are (as in Keras), never a crash.

>>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
>>> stop.mode
'min'
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional

import numpy as np

from .. import validation as check
from ..errors import ConfigError, suggest
from .base import Callback, Logs

MODES = ("auto", "min", "max")


def resolve_mode(monitor: Any, mode: Any, where: str, first_args: str = "") -> str:
    """``"min"`` or ``"max"``: ``mode`` itself, or for ``"auto"`` max when ``"acc"`` is in the
    monitored name (accuracy goes up), else min (losses go down). Checks both arguments; the
    fixes' examples call ``where`` with ``first_args`` (e.g. ModelCheckpoint's file path)."""
    if not (isinstance(monitor, str) and monitor.strip()):
        check.refuse(
            "monitor",
            monitor,
            where,
            "the name of a logged quantity",
            f"{where}({first_args}monitor='val_loss')",
            hint="use 'val_loss', 'loss', 'accuracy' or 'val_accuracy'",
        )
    if not (isinstance(mode, str) and mode in MODES):  # exactly Keras' names: 'MIN' is refused
        why = "'min' for losses, 'max' for accuracies, 'auto' guesses from the name"
        check.refuse(
            "mode", mode, where, f"one of {MODES}", f"{where}({first_args}mode='min')", why
        )
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    if "acc" in name:
        return "max"
    return "min" if name.endswith(_LOWER_IS_BETTER) else "auto"


#: the endings of logged names that are minimized (losses and our error metrics)
_LOWER_IS_BETTER = ("loss", "mae", "mse", "mean_absolute_error", "mean_squared_error")


def require_direction_before_training(callback: Any) -> None:
    """``require_direction`` at ``on_train_begin`` when the monitored name is among the logs
    fit announced (``params["metrics"]``): refused before an epoch is spent."""
    if callback.monitor in (callback.params or {}).get("metrics", ()):
        require_direction(callback)


def require_direction(callback: Any) -> None:
    """Refuse to compare values of a quantity whose direction ``mode="auto"`` could not tell
    from its name (a custom metric: 'auc', 'f1', 'recall'...): minimizing by guess would keep the
    worst model. Keras raises here too ("isn't able to automatically determine whether that
    metric should be maximized or minimized")."""
    if callback.mode == "auto":
        cls = type(callback).__name__
        first = "'model.keras', " if cls == "ModelCheckpoint" else ""
        raise ConfigError(
            where=cls,
            expected="mode='max' or mode='min' for a quantity whose name does not tell which "
            "way is better (mode='auto' knows losses, mae/mse and accuracies)",
            got=f"monitor={callback.monitor!r} with mode='auto'",
            fix=f"{cls}({first}monitor={callback.monitor!r}, mode='max')  # 'min' if lower is "
            "better",
        )


def monitored_value(logs: Logs, monitor: str, owner: str) -> Optional[float]:
    """``logs[monitor]`` as a float, or None with a warning naming the available keys."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        hint = suggest(monitor, logs) if logs else "(no keys)"
        warnings.warn(
            f"{owner} is conditioned on {monitor!r}, which is not in the logs: {hint}. Pass "
            "validation_data=/validation_split= to fit for 'val_*' keys.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return float(np.asarray(value))


def require_fixed_rate(model: Any, owner: str) -> None:
    """Callbacks that set the learning rate need an optimizer without a schedule: refuse at the
    start of training rather than after the first epochs."""
    optimizer = getattr(model, "optimizer", None)
    if getattr(optimizer, "schedule", None) is not None:
        raise ConfigError(
            where=owner,
            expected="an optimizer with a fixed learning rate (this callback sets it)",
            got=f"{type(optimizer).__name__} following the schedule {optimizer.schedule!r}",
            fix="use either the callback or the schedule: e.g. compile with "
            f"{type(optimizer).__name__}(learning_rate=1e-3)",
        )


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An improvement is a change by more than ``min_delta`` in the right direction. With
    ``baseline``, the patience only resets on values better than it, so training stops after
    ``patience`` epochs that do not beat the baseline even while they still improve (Keras'
    documented meaning; Keras 3's code never stops while the value improves).
    ``start_from_epoch`` epochs are ignored at first (warm-up). ``restore_best_weights=True``
    sets the weights of the best epoch back at the end of training (Keras 3 behaviour, also
    when training was not stopped).
    ``stopped_epoch`` and ``best_epoch`` (0-based) tell what happened.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: Optional[float] = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        where = "EarlyStopping"
        self.mode = resolve_mode(monitor, mode, where)
        self.monitor = monitor
        self.min_delta = abs(check.real("min_delta", min_delta, where, f"{where}(min_delta=0.01)"))
        self.patience = check.non_negative_int(
            "patience", patience, where, f"{where}(patience=5)  # epochs without improvement"
        )
        self.start_from_epoch = check.non_negative_int(
            "start_from_epoch", start_from_epoch, where, f"{where}(start_from_epoch=0)"
        )
        self.verbose = check.verbosity("verbose", verbose, where, f"{where}(verbose=1)")
        self.baseline = check.real(
            "baseline", baseline, where, f"{where}(baseline=0.5)", allow_none=True
        )
        self.restore_best_weights = check.flag(
            "restore_best_weights",
            restore_best_weights,
            where,
            f"{where}(restore_best_weights=True)",
        )
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: Optional[float] = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value: float, reference: Optional[float]) -> bool:
        if reference is None:
            return True
        if self.mode == "max":
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def on_train_begin(self, logs: Logs = None) -> None:
        require_direction_before_training(self)
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        current = monitored_value(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        require_direction(self)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
                return
            # better than before but not than the baseline: the patience keeps running
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has stalled for ``patience``
    epochs: ``lr <- max(lr * factor, min_lr)``, then wait ``cooldown`` epochs before counting
    again. An improvement beats the best value by more than ``min_delta``. Adds
    ``"learning_rate"`` to the epoch logs (so ``History`` records it), as Keras does.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        where = "ReduceLROnPlateau"
        if "epsilon" in kwargs:  # Keras' old name of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise ConfigError(
                where=where,
                expected="Keras argument names",
                got=", ".join(sorted(kwargs)),
                fix="see help(ReduceLROnPlateau)",
            )
        self.factor = check.real(
            "factor",
            factor,
            where,
            f"{where}(factor=0.5)  # halves the rate",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
            why="the new rate is lr * factor",
        )
        self.mode = resolve_mode(monitor, mode, where)
        self.monitor = monitor
        self.patience = check.non_negative_int("patience", patience, where, f"{where}(patience=5)")
        self.cooldown = check.non_negative_int("cooldown", cooldown, where, f"{where}(cooldown=0)")
        self.min_lr = check.non_negative_real("min_lr", min_lr, where, f"{where}(min_lr=1e-6)")
        self.min_delta = check.non_negative_real(
            "min_delta", min_delta, where, f"{where}(min_delta=1e-4)"
        )
        self.verbose = check.verbosity("verbose", verbose, where, f"{where}(verbose=1)")
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs = None) -> None:
        require_fixed_rate(self.model, "ReduceLROnPlateau")
        require_direction_before_training(self)
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        optimizer = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = monitored_value(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        require_direction(self)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    ``fit`` already stops by itself on a non-finite loss (and keeps finite weights); this class
    makes the behaviour explicit and keeps Keras code working, including custom training loops
    that call the hooks themselves.
    """

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.all(np.isfinite(np.asarray(loss, dtype=np.float64))):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


__all__ = [
    "EarlyStopping",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "monitored_value",
    "require_direction",
    "require_direction_before_training",
    "require_fixed_rate",
    "resolve_mode",
]
