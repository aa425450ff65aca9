"""Hook points for capturing a training step (``tinygrad_edu.jit``): who is listening, if anyone.

The engine (``apply``, ``run_backward``), ``Optimizer.step``/``zero_grad`` and the stateful layers
(Dropout's draw, BatchNormalization's moving statistics) ask ``active()`` whether a recorder is
listening and, if so, tell it what they did. In eager mode nobody is: ``active()`` is one
``ContextVar.get`` returning None, so the cost of the hooks is one lookup per op.

A ``ContextVar``, as grad mode: a recorder set in one thread (or async task) is never seen by
another, and there is no process-global state to forget to reset.

>>> active() is None
True
>>> with recording("a recorder"):
...     active()
'a recorder'
>>> active() is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable

#: the recorder listening in this thread / async task (None: eager, nothing is recorded)
recorder: ContextVar[Any | None] = ContextVar("tinygrad_edu_recorder", default=None)


def active() -> Any | None:
    """The recorder listening now, or None."""
    return recorder.get()


@contextmanager
def recording(rec: Any) -> Iterator[Any]:
    """Make ``rec`` the listening recorder inside the ``with`` block (restored on exit)."""
    token = recorder.set(rec)
    try:
        yield rec
    finally:
        recorder.reset(token)


def guard(read: Callable[[], Any], label: str) -> None:
    """Tell a listening recorder that the step depends on ``read()`` (a layer's settings): a
    replay whose ``read()`` differs from the captured value runs eagerly instead. ``label``
    names the layer (in messages, and on the next recorded op in the printed tape)."""
    rec = recorder.get()
    if rec is not None:
        rec.on_guard(read, label)


def stateful_call(fn: Callable[..., None], arrays: tuple, label: str, **constants: Any) -> None:
    """Run ``fn(*arrays, **constants)`` - an in-place update of state outside the graph (moving
    statistics) - and let a listening recorder replay it with the same arrays of later steps."""
    rec = recorder.get()
    if rec is not None:  # these writes are the layer's own, and replayed: not stray
        rec.on_stateful_start()
    fn(*arrays, **constants)
    if rec is not None:
        rec.on_stateful(fn, arrays, label, constants)


__all__ = ["active", "guard", "recorder", "recording", "stateful_call"]
