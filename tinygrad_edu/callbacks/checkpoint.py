"""``ModelCheckpoint``: save the model (or its weights) during training, Keras-style.

``filepath`` may hold format fields filled from the epoch (1-based) and the logs, e.g.
``"ckpt/model-{epoch:02d}-{val_loss:.2f}.keras"``. It writes with the model's ``save`` or
``save_weights``, and every write is atomic (see ``tinygrad_edu.saving``): an interrupted save
never leaves a half-written checkpoint behind.
Weights holding NaN/inf are never written: that save is skipped with a warning, so a file
always keeps its last good checkpoint.

>>> cb = ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
>>> cb.mode, cb.best
('max', -inf)
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any, List, Optional, Union

import numpy as np

from .. import validation as check
from ..errors import ConfigError
from .base import Callback, Logs
from .monitoring import (
    monitored_value,
    require_direction,
    require_direction_before_training,
    resolve_mode,
)


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
        where, call = "ModelCheckpoint", "ModelCheckpoint('model.keras', "
        self.filepath = check.file_path(
            "filepath", filepath, where, "ModelCheckpoint('model-{epoch:02d}.keras')"
        )
        if save_freq != "epoch" and not (check.is_int(save_freq) and save_freq > 0):
            expected = "'epoch' or a positive int (a number of batches)"
            check.refuse("save_freq", save_freq, where, expected, f"{call}save_freq='epoch')")
        self.mode = resolve_mode(monitor, mode, where, first_args="'model.keras', ")
        self.monitor = monitor
        self.verbose = check.verbosity("verbose", verbose, where, f"{call}verbose=1)")
        self.save_best_only = check.flag(
            "save_best_only", save_best_only, where, f"{call}save_best_only=True)"
        )
        self.save_weights_only = check.flag(
            "save_weights_only", save_weights_only, where, f"{call}save_weights_only=True)"
        )
        self.save_freq = save_freq if isinstance(save_freq, str) else int(save_freq)
        self.initial_value_threshold = check.real(
            "initial_value_threshold",
            initial_value_threshold,
            where,
            f"{call}initial_value_threshold=0.5)",
            allow_none=True,
        )
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

    def on_train_begin(self, logs: Logs = None) -> None:
        if self.save_best_only:
            require_direction_before_training(self)

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
            require_direction(self)
            if not self._improved(current):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
        if self._refuse_non_finite_weights(epoch, filepath):
            return  # and self.best stays: a value whose weights were not saved is no best
        if self.save_best_only:
            if self.verbose > 0:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {filepath}")
        self._write(filepath)

    def _refuse_non_finite_weights(self, epoch: int, filepath: str) -> bool:
        """True (after a warning) when a weight holds NaN/inf: writing it would replace a good
        checkpoint with a model that only predicts NaN."""
        bad = _non_finite_weights(self.model)
        if not bad:
            return False
        warnings.warn(
            f"ModelCheckpoint: not saving epoch {epoch + 1} to {filepath}: the weights "
            f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''} hold NaN/inf values; the file "
            "keeps its last good checkpoint. Lower the learning rate to avoid the divergence.",
            RuntimeWarning,
            stacklevel=4,
        )
        return True

    def _write(self, filepath: str) -> None:
        """Through the model's own ``save``/``save_weights`` (both atomic): callbacks never
        import the saving package, so they stay below models and saving."""
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
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


def _non_finite_weights(model: Any) -> List[str]:
    """Names of the model's weights that hold NaN/inf (checked in full: saving is rare)."""
    named = getattr(model, "named_weights", None)
    weights = named() if callable(named) else dict(enumerate(model.weights))
    return [
        str(name)
        for name, w in weights.items()
        if w._data.dtype.kind == "f" and not np.isfinite(w._data).all()
    ]


__all__ = ["ModelCheckpoint"]
