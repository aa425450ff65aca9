"""Replay: capture one eager training step, then run the same numpy calls again from a tape.

``step = jit(fn)`` where ``fn(x, y)`` is an unchanged eager step (forward, loss, ``backward()``,
``opt.step()``, ``opt.zero_grad()``). Per input signature: call 1 runs eagerly (it builds layers
and optimizer slots), call 2 captures while running eagerly, calls 3+ replay: every op output,
gradient and temporary in a preallocated buffer, a straight-line generated function, no Tensor
and no graph walk. The lowered ops (``lowerings``) make exactly the numpy calls of their eager
forward and backward, so a replayed step is byte-for-byte the eager step; the others replay
through a fresh instance of their own Function. ``step.tape_text()`` prints the tape.

Guards before each replay (argument shapes and dtypes, grad mode, the fused setting, each
weight's shape and requires_grad, what every layer and model holds - functions and weights by
identity, settings such as a dropout rate, an activation or a training flag by value
(``layers/replay_guard.py``) - the optimizer's parameter list and settings, label and id ranges)
send a call back to eager on a miss.
Anything the tape would freeze (an array Python computed from this batch) is refused at capture
with ``ConfigError``.

A step whose Python reads a tensor's values (``loss.item()``, ``t.numpy()``, ``t.data``,
``if t:``) - unless it only returns them - or writes into a tensor other than through the optimizer
and the layers' own state (``w.data[...] -= lr * w.grad``, ``assign``, ``t[i] = v``) is refused at
its first call too: a replay runs no Python, so the decision, the log or the write would silently
not happen again (``python_effects.py``).

What no tape can see (as with ``jax.jit`` and tinygrad's TinyJit): Python control flow that reads
the batch's numpy arrays (``if y.mean() > 0.5: ...``, ``y`` an argument) runs once, at capture,
and its branch is replayed for every later batch; so is a small whole number computed from the
data and handed to an op (CPython shares the ints -5..256, so it looks like a literal). Keep such decisions out of the
step, or pass them in as arguments of the step: an array argument (``np.float32(w)`` as a 0-d
``np.array``) is read afresh at every replay; a Python float argument is guarded by its value (a
new value runs eagerly).
"""

from __future__ import annotations

from typing import Any, Callable

from .step import JitStep


def jit(fn: Callable[..., Any]) -> JitStep:
    """``step = jit(train_step)``: the step, eager twice per input signature, replayed after."""
    return JitStep(fn)


# ``tinygrad_edu.jit`` is this function once the package is imported: keep the names reachable
jit.jit, jit.JitStep = jit, JitStep  # type: ignore[attr-defined]

__all__ = ["JitStep", "jit"]
