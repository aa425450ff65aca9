"""The recorder: what one eager step did, as the hook points report it (``capture_hooks``).

It keeps every object it is told about alive until the tape is built (so no ``id`` is reused),
and judges nothing: ``tape.build`` resolves each array to a slot of the tape, or refuses it.

Events, in the order they happen:

- ``Op``: one ``engine.apply`` (the Function instance, its input tensors, params and output);
- ``Backward``: ``run_backward`` starts from ``root`` with the seed gradient;
- ``Node``: one op's backward ran (its upstream gradient, the gradients it returned), followed by
  one ``Grad`` per input gradient handed on (un-broadcast, summed with what was there);
- ``LeafGrad``: a leaf's ``.grad`` received a gradient (``before`` is what it held);
- ``Update``: ``Optimizer.step`` passed its checks; ``ZeroGrad``: ``Optimizer.zero_grad``;
- ``Stateful``: an in-place update outside the graph (BatchNormalization's moving statistics);
- guards: settings a replay depends on (``capture_hooks.guard``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError
from .python_effects import PythonEffects


@dataclass
class Op:
    fn: Any
    inputs: tuple
    arrays: tuple  #: each input's array when the op ran
    params: dict
    out: Any
    label: str | None
    in_graph: bool  #: recorded for backward (else the engine released it at once)


@dataclass
class Backward:
    root: Any
    seed: np.ndarray
    implicit: bool  #: the seed is the ones backward() made (not a gradient the step passed)


@dataclass
class Node:
    fn: Any
    g: np.ndarray
    in_grads: tuple
    grads: list[Grad] = field(default_factory=list)


@dataclass
class Grad:
    k: int  #: which input of the op
    reduced: np.ndarray  #: the gradient after un-broadcasting
    prev: np.ndarray | None  #: the sum so far (None: first)
    total: np.ndarray  #: the new sum


@dataclass
class LeafGrad:
    t: Any
    src: np.ndarray  #: the gradient summed by the walk
    kept: np.ndarray  #: the gradient as kept (src itself, or a copy of it)
    before: np.ndarray | None
    after: np.ndarray
    snapshot: bytes  #: after's bytes, to see a later write into .grad


@dataclass
class Update:
    opt: Any
    todo: list  #: (i, p, g) per updated parameter


@dataclass
class ZeroGrad:
    params: tuple


@dataclass
class Stateful:
    fn: Callable
    arrays: tuple
    label: str
    constants: dict


class Recorder:
    """Collects the events of one step (see the module docstring)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.guards: list[tuple[Callable[[], Any], Any, str]] = []
        self.start_grads: dict = {}  #: id(tensor) -> (tensor, its .grad when first seen)
        self._label: str | None = None
        self.grad_mode = True  #: grad mode when the step was called (a replay guard)
        self.lifted: dict = {}  #: id(constant's array) -> (the number it was made from, tensor)
        self.effects = PythonEffects()  #: reads and writes of the Python a replay skips

    def _seen(self, t: Any) -> None:
        if id(t) not in self.start_grads:
            self.start_grads[id(t)] = (t, t.grad)

    def on_apply(self, fn: Any, inputs: tuple, params: dict, out: Any) -> None:
        for t in inputs:
            if t._leaf:
                self._seen(t)
        # a layer's label (from its guard) holds until the next op that reads a weight
        if any(t._leaf and t.requires_grad for t in inputs):
            self._label = None
        label = self._label
        arrays = tuple(t._data for t in inputs)
        self.events.append(Op(fn, inputs, arrays, dict(params), out, label, out._ctx is fn))

    def on_backward(self, root: Any, grad: np.ndarray, retain_graph: bool, implicit: bool) -> None:
        if retain_graph:
            raise ConfigError(
                where="tinygrad_edu.jit (capture)",
                expected="one backward() per graph in a captured step",
                got="backward(retain_graph=True)",
                fix="compute the loss once and call loss.backward() once per step "
                "(add the losses first: (loss_a + loss_b).backward())",
            )
        self.events.append(Backward(root, grad, implicit))

    def on_node(self, t: Any, fn: Any, g: np.ndarray, in_grads: tuple) -> None:
        if t._retain:
            raise ConfigError(
                where="tinygrad_edu.jit (capture)",
                expected="gradients on leaves only in a captured step",
                got=f"retain_grad() on the output of op '{fn.name}'",
                fix="drop retain_grad() from the step (run that step eagerly to inspect it)",
            )
        self.events.append(Node(fn, g, tuple(in_grads)))

    def on_grad(self, k: int, reduced: np.ndarray, prev: Any, total: np.ndarray) -> None:
        self.events[-1].grads.append(Grad(k, reduced, prev, total))

    def on_leaf_grad(
        self, t: Any, src: np.ndarray, kept: np.ndarray, before: Any, after: np.ndarray
    ) -> None:
        self._seen(t)
        self.events.append(LeafGrad(t, src, kept, before, after, after.tobytes()))

    def on_update(self, opt: Any, todo: list) -> None:
        for _, p, _ in todo:
            self._seen(p)
        self.effects.before_update([p for _, p, _ in todo])
        self.events.append(Update(opt, list(todo)))

    def on_zero_grad(self, params: Any) -> None:
        for p in params:
            self._seen(p)
        self.events.append(ZeroGrad(tuple(params)))

    def on_stateful_start(self) -> None:
        self.effects.before_stateful()

    def on_read(self, t: Any, how: str, value: Any) -> None:
        """The step's Python read ``t``'s values as ``value`` (``t.data``, ``item()`` ...; None
        for a decision such as ``if t:``)."""
        self.effects.on_read(t, how, value)

    def on_write(self, t: Any, how: str) -> None:
        """A write into ``t`` through the library (``Tensor._bump_version``, ``t.data = ...``)."""
        self.effects.on_write(t, how)

    def on_stateful(self, fn: Callable, arrays: tuple, label: str, constants: dict) -> None:
        self.effects.after_stateful()
        self.events.append(Stateful(fn, tuple(arrays), label, dict(constants)))

    def on_lift(self, source: Any, t: Any) -> None:
        """A Python number (or array) made into a constant tensor by an operator (``t * 0.5``)."""
        self.lifted[id(t._data)] = (source, t)

    def on_guard(self, read: Callable[[], Any], label: str) -> None:
        self.guards.append((read, read(), label))
        self._label = label

    def ops(self) -> list[Op]:
        return [e for e in self.events if type(e) is Op]

    def count(self, kind: type) -> int:
        """How many events of ``kind`` (Stateful, Backward, ...) the step made."""
        return sum(type(e) is kind for e in self.events)


__all__ = ["Backward", "Grad", "LeafGrad", "Node", "Op", "Recorder", "Stateful", "Update"]
