"""``ModelCheckpoint``: save the model (or its weights) during training, Keras-style.

``filepath`` may hold format fields filled from the epoch (1-based) and the logs, e.g.
``"ckpt/model-{epoch:02d}-{val_loss:.2f}.keras"``. Every write is atomic (see
``tinygrad_edu.saving``): an interrupted save never leaves a half-written checkpoint behind.

>>> cb = ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
>>> cb.mode, cb.best
('max', -inf)
"""

from __future__ import annotations

import math
import os
from typing import Any, Optional, Union

from ..errors import ConfigError
from .base import Callback, Logs
from .monitoring import monitored_value, resolve_mode


class ModelCheckpoint(Callback):
    """Save after every epoch (``save_freq="epoch"``) or every ``save_freq`` batches.

    ``save_best_only=True`` writes only when ``monitor`` improved on the best value so far (the
    file at a fixed ``filepath`` then always holds the best model). ``save_weights_only=True``
    uses ``save_weights`` (load with ``model.load_weights``), else ``save`` (load with
    ``load_model``). ``initial_value_threshold`` is the value to beat at first (Keras).
    """

    def __init__(
        self,
        filepath: Any,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: Union[str, int] = "epoch",
        initial_value_threshold: Optional[float] = None,
    ) -> None:
        super().__init__()
        where = "ModelCheckpoint"
        try:
            self.filepath = os.fspath(filepath)
        except TypeError:
            raise ConfigError(
                where=where,
                expected="filepath as a str or pathlib.Path",
                got=type(filepath).__name__,
                fix="e.g. 'model-{epoch:02d}.keras'",
            ) from None
        if save_freq != "epoch" and not (
            isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
        ):
            raise ConfigError(
                where=where,
                expected="save_freq 'epoch' or a positive int (batches)",
                got=repr(save_freq),
                fix="e.g. save_freq='epoch'",
            )
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.mode = resolve_mode(monitor, mode, where)
        self.initial_value_threshold = initial_value_threshold
        self.best = self._initial_best()
        self._current_epoch = 0
        self._batches_since_save = 0
        self.last_saved: Optional[str] = None

    def _initial_best(self) -> float:
        if self.initial_value_threshold is not None:
            return float(self.initial_value_threshold)
        return math.inf if self.mode == "min" else -math.inf

    def _improved(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch: int, batch: Optional[int], logs: Logs) -> None:
        logs = dict(logs or {})
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = monitored_value(logs, self.monitor, "ModelCheckpoint(save_best_only)")
            if current is None:
                return
            if not self._improved(current):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {filepath}")
        self._write(filepath)

    def _write(self, filepath: str) -> None:
        from .. import saving  # saving imports layers/optimizers: keep callbacks light to import

        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            saving.save_weights(self.model, filepath)
        else:
            saving.save_model(self.model, filepath)
        self.last_saved = filepath

    def _file_path(self, epoch: int, batch: Optional[int], logs: dict) -> str:
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise ConfigError(
                where="ModelCheckpoint",
                expected="format fields available at save time",
                got=f"{self.filepath!r} ({type(err).__name__}: {err})",
                fix=f"use only {{epoch}}, {'{batch}, ' if batch is not None else ''}"
                f"and the log keys: {', '.join(sorted(logs)) or '(none)'}",
            ) from None


__all__ = ["ModelCheckpoint"]
