"""``CSVLogger`` (one row of logs per epoch) and ``LearningRateScheduler`` (a rate per epoch).

>>> sched = LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
>>> logger = CSVLogger("training.csv", append=True)
"""

from __future__ import annotations

import csv
import inspect
import os
from typing import Any, Callable, List, Optional

import numpy as np

from .. import validation as check
from ..errors import ConfigError
from .base import Callback, Logs
from .monitoring import require_fixed_rate


class CSVLogger(Callback):
    """Write ``epoch`` and every epoch log (sorted by name) as one CSV row per epoch.

    The header is written when the file is new or empty; ``append=True`` continues an existing
    file (e.g. when resuming training). Values that are not numbers are written as text; a key
    missing in a later epoch is written as ``NA``. Each row is flushed, so the file can be
    watched while training runs.
    """

    def __init__(self, filename: Any, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename = check.file_path("filename", filename, "CSVLogger", "CSVLogger('log.csv')")
        if not isinstance(separator, str) or len(separator) != 1:
            check.refuse(
                "separator",
                separator,
                "CSVLogger",
                "one character",
                "CSVLogger('log.csv', separator=';')",
                hint="use ',', ';' or '\\t'",
            )
        self.sep = separator
        self.append = check.flag("append", append, "CSVLogger", "CSVLogger('log.csv', append=True)")
        self.keys: Optional[List[str]] = None
        self.writer: Optional[csv.DictWriter] = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs: Logs = None) -> None:
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self.append_header = not f.readline()
        else:
            self.append_header = True
        self.keys, self.writer = None, None
        # kept open across epochs (closed in on_train_end), like Keras
        self.csv_file = open(
            self.filename,
            "a" if self.append else "w",
            newline="",  # noqa: SIM115
            encoding="utf-8",
        )

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        logs = logs or {}
        if self.csv_file is None:  # hooks called without on_train_begin
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.csv_file,
                fieldnames=["epoch", *self.keys],
                delimiter=self.sep,
                lineterminator="\n",
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: _cell(logs.get(k, "NA")) for k in self.keys})
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file, self.writer = None, None


def _cell(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(map(str, np.asarray(value).ravel().tolist())) + "]"
    return value


class LearningRateScheduler(Callback):
    """At the start of each epoch set ``optimizer.learning_rate = schedule(epoch, lr)``.

    ``epoch`` is 0-based and ``lr`` the current rate; a one-argument ``schedule(epoch)`` works
    too (Keras' old form). The rate is added to the epoch logs as ``"learning_rate"``.
    For a rate that changes every step instead, give the optimizer a schedule
    (``tinygrad_edu.optimizers.ExponentialDecay``...).
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise ConfigError(
                where="LearningRateScheduler",
                expected="a function schedule(epoch, lr) -> lr",
                got=repr(schedule),
                fix="e.g. LearningRateScheduler(lambda epoch, lr: lr * 0.95)",
            )
        self.schedule = schedule
        example = "LearningRateScheduler(lambda epoch, lr: lr * 0.95, verbose=1)"
        self.verbose = check.verbosity("verbose", verbose, "LearningRateScheduler", example)
        self._takes_lr = _positional_count(schedule) != 1

    def on_train_begin(self, logs: Logs = None) -> None:
        require_fixed_rate(self.model, "LearningRateScheduler")

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        new = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if isinstance(new, np.ndarray) and new.ndim == 0:
            new = new.item()
        if not (check.is_finite_real(new) and new > 0):
            raise ConfigError(
                where="LearningRateScheduler",
                expected="schedule(epoch, lr) returning a number > 0",
                got=f"{new!r} at epoch {epoch}",
                fix="return a float, e.g. lambda epoch, lr: lr * 0.9",
            )
        optimizer.learning_rate = float(new)
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new)}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _positional_count(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` accepts (2 when it cannot be inspected)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


__all__ = ["CSVLogger", "LearningRateScheduler"]
