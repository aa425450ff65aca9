"""Keras-style progress lines for ``fit`` (verbose=1: a live bar; verbose=2: a line per epoch)."""

from __future__ import annotations

import sys
import time
from typing import Dict, Optional

from .. import validation as check
from ..errors import ConfigError
from .base import Callback, Logs

BAR_WIDTH = 30


def format_logs(logs: Dict[str, float]) -> str:
    return "".join(f" - {k}: {v:.4f}" for k, v in logs.items())


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


def _per_step(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}ms/step" if seconds >= 1e-3 else f"{seconds * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
    """Prints ``Epoch 1/5`` and ``1875/1875 [=====] - 3s 2ms/step - loss: 0.29 - ...``.

    On a terminal the verbose=1 line updates live (bar, step count, ETA, running loss and
    metrics); in a log file or a captured stream only the finished line is written.
    """

    def __init__(self, verbose: int = 1, stream=None, live: Optional[bool] = None) -> None:
        super().__init__()
        self.verbose = check.verbosity(
            "verbose", verbose, "ProgbarLogger", "ProgbarLogger(verbose=1)"
        )
        if stream is not None and not callable(getattr(stream, "write", None)):
            raise ConfigError(
                where="ProgbarLogger",
                expected="stream as a file-like object with write(), or None for stdout",
                got=repr(stream),
                fix="e.g. ProgbarLogger(stream=sys.stderr), or open('log.txt', 'w')",
            )
        self.stream = stream
        self.live = check.flag(  # None: live only on a terminal
            "live", live, "ProgbarLogger", "ProgbarLogger(live=False)", allow_none=True
        )

    def _out(self):
        return self.stream or sys.stdout

    def on_train_begin(self, logs: Logs = None) -> None:
        if self.live is None:
            self.live = self.verbose == 1 and getattr(self._out(), "isatty", lambda: False)()

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self.start = self.last_draw = time.perf_counter()
        self.seen = 0
        if self.verbose:
            self._out().write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")
            self._out().flush()

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        self.seen = batch + 1
        now = time.perf_counter()
        if self.live and now - self.last_draw > 0.1:
            self.last_draw = now
            steps = self.params.get("steps") or self.seen
            eta = (now - self.start) / self.seen * (steps - self.seen)
            line = (
                f"\r{self._bar(self.seen, steps)} - ETA: {_duration(eta)}{format_logs(logs or {})}"
            )
            self._out().write(line)
            self._out().flush()

    def _bar(self, seen: int, steps: int) -> str:
        width = len(str(steps))
        done = int(BAR_WIDTH * seen / max(steps, 1))
        arrow = ">" if done < BAR_WIDTH else ""
        body = ("=" * max(done - (1 if arrow else 0), 0) + arrow).ljust(BAR_WIDTH, ".")
        return f"{seen:>{width}}/{steps} [{body}]"

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        steps = self.params.get("steps") or max(self.seen, 1)
        stats = f"{_duration(elapsed)} {_per_step(elapsed / max(self.seen, 1))}"
        if self.verbose == 1:
            line = f"{self._bar(steps, steps)} - {stats}{format_logs(logs or {})}"
            self._out().write(("\r" if self.live else "") + line + "\n")
        else:
            self._out().write(f"{steps}/{steps} - {stats}{format_logs(logs or {})}\n")
        self._out().flush()


__all__ = ["ProgbarLogger", "format_logs"]
