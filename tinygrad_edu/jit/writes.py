"""Writes a replay would not repeat: what a captured step writes into tensors outside the tape.

A replay runs the tape - the recorded ops, the optimizer's update, the stateful layers' updates
(moving statistics) - and never the step's Python. Any other write the step makes would silently
not happen again: the micrograd-style update ``w.data[...] -= lr * w.grad``, ``w.assign(...)``,
``w[0] = ...``, ``w.data = new_array``. So a capture watches for them, and ``JitStep`` refuses a
step that made one (``refusal``), before any replay:

- writes through the library (``Tensor._bump_version``): each parameter the optimizer announced
  (``before_update``) may be written once by it, and a stateful layer may write while its
  update runs (between ``before_stateful`` and ``after_stateful``); every other such write is
  stray;
- raw writes through an array handed out by ``t.data`` / ``t.numpy()`` / ``np.asarray(t)``: a copy
  is kept at the hand-out and compared when the optimizer is about to write the tensor, and at
  the end of the step; a difference is a stray write.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import same_values


def _name(t: Any) -> str:
    return f"the tensor{f' {t.name!r}' if getattr(t, 'name', None) else ''} of shape {t.shape}"


class WriteWatch:
    """The writes of one captured step (see the module docstring)."""

    def __init__(self) -> None:
        self.handed: dict = {}  #: id(tensor) -> (tensor, a copy of its array at the hand-out)
        self.pending: dict = {}  #: id(param) -> param: one write by the optimizer expected
        self.in_stateful = 0  #: > 0 while a stateful layer's update runs (its writes are replayed)
        self.stray: list[str] = []

    def on_handout(self, t: Any) -> None:
        if id(t) not in self.handed:
            self.handed[id(t)] = (t, t._data.copy())

    def on_write(self, t: Any, how: str) -> None:
        if self.pending.pop(id(t), None) is not None or self.in_stateful:
            return
        self.stray.append(f"{how} into {_name(t)}")

    def before_update(self, params: list) -> None:
        for p in params:
            self._compare(p)
            self.pending[id(p)] = p

    def before_stateful(self) -> None:
        self.in_stateful += 1

    def after_stateful(self) -> None:
        self.in_stateful -= 1

    def refusal(self) -> str | None:
        """The first stray write, or None."""
        for t, _ in list(self.handed.values()):
            self._compare(t)
        return self.stray[0] if self.stray else None

    def _compare(self, t: Any) -> None:
        handed = self.handed.pop(id(t), None)
        if handed is not None and not _same(handed[1], t._data):
            self.stray.append(f"a write through the array t.data handed out, into {_name(t)}")


def _same(copy: np.ndarray, now: np.ndarray) -> bool:
    return copy.shape == now.shape and same_values(copy, now)


__all__ = ["WriteWatch"]
