"""``JitStep``: run a training step eagerly twice per input signature, capture it the second time,
replay its tape from then on (see the package docstring)."""

from __future__ import annotations

import copy
import threading
from typing import Any, Callable

import numpy as np

from .. import capture_hooks
from ..errors import ConfigError
from ..grad_mode import _grad_enabled
from ..layers import replay_guard
from ..tensor import Tensor
from .build import Builder
from .emit import MISS, Emit
from .recorder import Recorder

#: consecutive guard misses after which a signature's tape is dropped (and captured again)
MISSES_BEFORE_RECAPTURE = 2


class Tape:
    """One captured step: the generated function, its source and its listing."""

    def __init__(self, e: Emit, signature: tuple) -> None:
        self.signature = signature
        self.source = e.source()
        self.text = e.listing()
        code = compile(self.source, f"<tinygrad_edu.jit tape {len(e.body)} lines>", "exec")
        exec(code, e.ns)  # noqa: S102 - our own generated text, see Emit.source
        self.fn = e.ns["replay"]
        self.buffers = e.arrays
        self.lock = threading.Lock()  # buffers are one per tape: one replay at a time
        self.misses = 0


class _Entry:
    __slots__ = ("calls", "first", "first_args", "tape")

    def __init__(self) -> None:
        self.calls, self.first, self.first_args, self.tape = 0, None, None, None


class JitStep:
    """``step = jit(fn)``: call it as ``fn``. Per input signature (each argument's shape and dtype;
    other arguments by value): call 1 runs ``fn`` eagerly, call 2 captures it while running it
    eagerly, later calls replay the tape - unless a guard sees a changed setting, then that call
    runs eagerly. Results are ``fn``'s, with Tensors as new Tensors holding copies."""

    def __init__(self, fn: Callable[..., Any], names: dict[int, str] | None = None) -> None:
        if not callable(fn):
            raise ConfigError(
                where="tinygrad_edu.jit",
                expected="a function: the training step",
                got=repr(fn),
                fix="step = tinygrad_edu.jit(train_step); step(x, y)",
            )
        self.fn = fn
        self.names = names  # None: found at each capture (a model may be built by call 1)
        self.last_mode: str | None = None
        self.stats = {"eager": 0, "capture": 0, "replay": 0}
        self._entries: dict[tuple, _Entry] = {}
        self._tapes: list[Tape] = []

    def __call__(self, *args: Any) -> Any:
        if capture_hooks.recorder.get() is not None:  # inside another step's capture: that
            return self.fn(*args)  # recorder must see these ops, so run them, eagerly
        key = _signature(args)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        tape = entry.tape
        if tape is not None and tape.lock.acquire(blocking=False):
            try:
                arrays = tuple([a._data if type(a) is Tensor else a for a in args])
                result = tape.fn(args, arrays)
            finally:
                tape.lock.release()
            if result is not MISS:
                tape.misses = 0
                return self._mode("replay", result)
            tape.misses += 1
            if tape.misses >= MISSES_BEFORE_RECAPTURE:
                self._entries[key] = _Entry()
            return self._mode("eager", self.fn(*args))
        if tape is not None:  # another thread replays this tape right now
            return self._mode("eager", self.fn(*args))
        entry.calls += 1
        rec = Recorder()
        rec.grad_mode = _grad_enabled.get()  # the mode the caller runs the step in
        with capture_hooks.recording(rec):
            result = self.fn(*args)
        stray = rec.effects.refusal(result)
        if stray is not None:
            raise _stray_write(stray)
        for model in _models(self.fn):  # its own settings too (temperature = 3.0): not stale
            for reader in replay_guard.readers(model):
                rec.on_guard(reader, "model")
        if entry.calls == 1 or not _same_settings(entry.first, rec):
            # the first call of a signature, or settings changed since it (a new dropout rate):
            # this call is the new first one, the next captures
            entry.calls, entry.first, entry.first_args = 1, rec, args
            return self._mode("eager", result)
        names = weight_names(self.fn) if self.names is None else self.names
        emit = Builder(rec, entry.first, args, entry.first_args, names).build(result)
        entry.tape = Tape(emit, key)
        entry.first = entry.first_args = None
        self._tapes.append(entry.tape)
        return self._mode("capture", result)

    def __deepcopy__(self, memo: dict) -> JitStep:
        """A copy (of a model that holds this step) gets its own step function - copied, so it
        trains the copy - and no tapes: they name the original's tensors; it captures anew."""
        fresh = JitStep(copy.deepcopy(self.fn, memo), self.names)
        memo[id(self)] = fresh
        return fresh

    def __getstate__(self) -> dict:
        """Pickled without tapes (generated code and buffers), like a deep copy."""
        state = dict(self.__dict__)
        state.update(_entries={}, _tapes=[], last_mode=None)
        return state

    def _mode(self, mode: str, result: Any) -> Any:
        self.last_mode = mode
        self.stats[mode] += 1
        return result

    def tape_text(self, signature_index: int = -1) -> str:
        """The numbered numpy calls of a captured tape (the newest by default), each with its
        phase (forward, loss, backward, update) and layer."""
        if not self._tapes:
            raise ConfigError(
                where="JitStep.tape_text",
                expected="a captured step (the second call of an input signature captures)",
                got=f"{sum(self.stats.values())} call(s), no tape yet",
                fix="call the step twice with batches of one shape first: step(x, y); step(x, y)",
            )
        try:
            return self._tapes[signature_index].text
        except IndexError:
            raise ConfigError(
                where="JitStep.tape_text",
                expected=f"signature_index in [-{len(self._tapes)}, {len(self._tapes) - 1}]",
                got=repr(signature_index),
                fix="step.tape_text() (the newest tape)",
            ) from None

    def tape_source(self, signature_index: int = -1) -> str:
        """The generated Python function of a tape (what replays it), for the curious."""
        self.tape_text(signature_index)
        return self._tapes[signature_index].source


def _models(fn: Callable[..., Any]) -> list:
    """The built models ``fn`` can see - the object it is a method of, its ``model``, its
    closure, the globals it names (a layer's own reads are guarded by the layer)."""
    seen = [getattr(fn, "__self__", None), getattr(fn, "model", None)]
    seen += [c.cell_contents for c in getattr(fn, "__closure__", None) or () if _filled(c)]
    code, space = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    seen += [space[n] for n in (code.co_names if code else ()) if n in space]
    found: list = []
    for obj in seen:
        named = getattr(obj, "named_weights", None)
        if callable(named) and getattr(obj, "built", False) is True and obj not in found:
            found.append(obj)
    return found


def weight_names(fn: Callable[..., Any]) -> dict[int, str]:
    """``{id(weight): "layer/weight"}`` of the built models ``fn`` can see, so the printed tape
    names layers."""
    return {id(w): name for model in _models(fn) for name, w in model.named_weights().items()}


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _same_settings(first: Recorder, rec: Recorder) -> bool:
    """The two eager calls before a capture ran the same ops under the same guarded settings."""
    ops_1, ops_2 = first.ops(), rec.ops()  # aligned from the end: a first call may build
    ops_1 = ops_1[len(ops_1) - len(ops_2) :]
    same_ops = len(ops_1) == len(ops_2) and all(
        type(a.fn) is type(b.fn) and a.fn.needs_input_grad == b.fn.needs_input_grad
        for a, b in zip(ops_1, ops_2)
    )
    values = [value for _, value, _ in first.guards]
    return same_ops and values == [value for _, value, _ in rec.guards]


def _signature(args: tuple) -> tuple:
    key = []
    for a in args:
        if type(a) is np.ndarray:
            key.append((a.shape, a.dtype.str))
        elif isinstance(a, Tensor):
            key.append(("T", a.shape, a.dtype.str, a.requires_grad))
        else:
            try:
                hash(a)
            except TypeError:
                raise ConfigError(
                    where="tinygrad_edu.jit",
                    expected="arguments that are numpy arrays, Tensors or hashable settings",
                    got=f"a {type(a).__name__}",
                    fix="pass arrays: step(np.asarray(x), np.asarray(y))",
                ) from None
            key.append(("=", type(a), a))
    return tuple(key)


__all__ = ["MISSES_BEFORE_RECAPTURE", "JitStep", "Tape"]


def _stray_write(what: str) -> ConfigError:
    """The step's Python read or wrote tensors (``jit/python_effects.py``): a replay would not."""
    return ConfigError(
        where="tinygrad_edu.jit (capture)",
        expected="a step of tensor ops, optimizer.step() and the layers' own state",
        got=f"{what} - a replay runs no Python, so it would not happen again, silently (this "
        "call ran eagerly)",
        fix="return what you read and read it outside (loss = step(x, y); print(loss.item())); "
        "update weights with an optimizer in the step (opt = SGD([w], learning_rate=0.1); "
        "opt.step()), or call the step without jit",
    )
