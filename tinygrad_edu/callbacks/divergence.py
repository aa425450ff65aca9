"""``DivergenceGuard``: what ``fit`` does when a step diverges (Keras' TerminateOnNaN, always on).

The training step itself undoes a step whose loss, gradients or updated weights are NaN/inf (the
weights, moving statistics and optimizer state are then as before it) and raises
``DivergenceError``; ``fit`` hands that error to its callbacks' ``on_train_batch_diverged``.
This guard, which ``fit`` always puts first in its callback list, decides what happens next:
say what happened and what to do, record it, and stop.

>>> guard = DivergenceGuard()
>>> guard.stop_reason is None
True
"""

from __future__ import annotations

from typing import Any, Optional

from .base import Callback, Logs


class DivergenceGuard(Callback):
    """Stop ``fit`` at the first diverged step, with a message (printed, and kept in
    ``History.stop_reason`` and ``self.stop_reason``), and set ``model.diverged``.

    The weights are then the last finite ones: those the diverged step started from.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stop_reason: Optional[str] = None
        self._epoch = 0

    def on_train_begin(self, logs: Logs = None) -> None:
        self.stop_reason = None
        self.model.diverged = False

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._epoch = epoch

    def on_train_batch_diverged(self, batch: int, error: Any) -> None:
        reason = (
            f"Training stopped: {error.got} at epoch {self._epoch + 1}, batch {batch + 1}. "
            "That step was undone: the weights are the last finite ones, from before this "
            f"batch. Fix: {error.fix}."
        )
        print(reason)
        self.stop_reason = reason
        history = getattr(self.model, "history", None)
        if history is not None:
            history.stop_reason = reason
        self.model.diverged = True
        self.model.stop_training = True


__all__ = ["DivergenceGuard"]
