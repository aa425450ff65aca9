"""What a captured step's Python does with tensors that a replay would not do again.

A replay runs the tape - the recorded ops, the optimizer's update, the stateful layers' updates
(moving statistics) - and never the step's Python. So two things a step may do would silently
not happen in a replay, and a capture refuses the step when it did either (``refusal``; the
call that saw it ran eagerly, ``JitStep`` raises before any replay):

- **read values into Python**: ``t.item()``, ``t.tolist()``, ``t.numpy()``, ``t.data``,
  ``np.asarray(t)``, ``if t:``. A decision made with them (``if loss.item() > 3: opt.step()``)
  would be frozen at its capture outcome, a value logged (``losses.append(loss.item())``) would
  not be logged again, and an array handed out may be written (``w.data[...] -= lr * w.grad``,
  the micrograd-style update). A read whose very object the step returns
  (``return loss.item()``, ``return out.numpy()``) is fine: the replay recomputes returned values
  (``results.py``). The one case this cannot see: a returned value also used for a decision.
- **write through the library** (``Tensor._bump_version``: ``assign``, ``t[...] = ...``, and the
  ``t.data = new`` setter): each parameter the optimizer announced (``before_update``) may be
  written once by it, and a stateful layer may write while its update runs (between
  ``before_stateful`` and ``after_stateful``); any other write is refused.

The library itself reads arrays as ``t._data``, never through these.
"""

from __future__ import annotations

from typing import Any


def _name(t: Any) -> str:
    return f"the tensor{f' {t.name!r}' if getattr(t, 'name', None) else ''} of shape {t.shape}"


class PythonEffects:
    """What one captured step's Python read and wrote (see the module docstring)."""

    def __init__(self) -> None:
        self.pending: dict = {}  #: id(param) -> param: one write by the optimizer expected
        self.in_stateful = 0  #: > 0 while a stateful layer's update runs (its writes are replayed)
        self.stray: list[str] = []
        self.reads: list[tuple] = []  #: (the value read, or None for a decision; what read it)

    def on_read(self, t: Any, how: str, value: Any) -> None:
        self.reads.append((value, f"{how} read the values of {_name(t)} into Python"))

    def on_write(self, t: Any, how: str) -> None:
        if self.pending.pop(id(t), None) is not None or self.in_stateful:
            return
        self.stray.append(f"{how} into {_name(t)}")

    def before_update(self, params: list) -> None:
        for p in params:
            self.pending[id(p)] = p

    def before_stateful(self) -> None:
        self.in_stateful += 1

    def after_stateful(self) -> None:
        self.in_stateful -= 1

    def refusal(self, result: Any) -> str | None:
        """The first stray write, or read whose value the step does not return (``result``),
        or None."""
        returned = set(map(id, _objects(result)))
        kept = [what for value, what in self.reads if value is None or id(value) not in returned]
        found = self.stray + kept
        return found[0] if found else None


def _objects(value: Any) -> list:
    """``value`` and everything inside its tuples, lists and dicts."""
    if isinstance(value, (tuple, list)):
        return [value, *(o for v in value for o in _objects(v))]
    if isinstance(value, dict):
        return [value, *(o for v in value.values() for o in _objects(v))]
    return [value]


__all__ = ["PythonEffects"]
