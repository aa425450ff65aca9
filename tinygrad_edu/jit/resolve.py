"""Where each array of a captured step comes from, as a name in the tape - or a refusal.

An array is, in this order: one the tape already names (an op output, a gradient, a view of
one), a weight (a leaf tensor the step reads but did not make: read live at every replay), a
step input or a copy/cast/view of one, the log-probabilities a recorded Softmax op gives
(``log_softmax()``), a constant that is the very same object in both eager calls before the
capture, or a one-element constant with the same value in both. Anything else would be frozen
by the tape - a number Python computed from this batch - and is refused with ``ConfigError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..errors import ConfigError


def refuse(what: str, fix: str) -> ConfigError:
    return ConfigError(
        where="tinygrad_edu.jit (capture)",
        expected="every array of the step made by a tensor op, a weight, or a step input",
        got=what,
        fix=fix,
    )


FIX_COMPUTE = (
    "compute it with tensor ops inside the step (y = x * 2 instead of Tensor(x.numpy() * 2)), "
    "or pass it as an argument: step = jit(lambda x, y, extra: ...); step(x, y, extra)"
)


FIX_NUMBER = (
    "use a number fixed in the code (a literal or a setting such as layer.rate), compute it "
    "with tensor ops, or pass it as an argument of the step: step(x, y, 0.25)"
)


def _arrays(args: tuple) -> tuple:
    return tuple(getattr(a, "_data", a) for a in args)


def _view_of(a: np.ndarray, x: np.ndarray, name: str) -> str | None:
    """``name.reshape(shape)`` or ``name[i:j]`` when ``a`` is that view of ``x``, else None."""
    if a.size == x.size and a.tobytes() == x.reshape(a.shape).tobytes():
        return f"{name}.reshape({a.shape})"
    if a.ndim == x.ndim and a.shape[1:] == x.shape[1:] and a.strides == x.strides and x.ndim:
        offset = a.__array_interface__["data"][0] - x.__array_interface__["data"][0]
        step = x.strides[0]
        if step > 0 and offset % step == 0 and 0 <= offset // step <= x.shape[0] - a.shape[0]:
            start = offset // step
            return f"{name}[{start}:{start + a.shape[0]}]"
    return None


class Resolver:
    """Names for arrays (``name_of``); ``e`` is the tape being written."""

    def __init__(self, e: Any, rec: Any, first: Any, args: tuple, firsts: tuple, names: dict):
        self.e, self.rec, self.first = e, rec, first
        self.args, self.inputs = args, _arrays(args)
        self.first_inputs = _arrays(firsts)  #: the arguments of the first (eager) call
        arrays = self.inputs
        e.reserve(len(arrays))  # x0, x1, ...: the inputs; generated names number after them
        self.names = names  #: id(weight tensor) -> "layer/weight"
        self.slots: dict[int, str] = {}
        self.keep: list[Any] = []  # ids stay unique while the tape is built
        self.weights: dict[int, str] = {}
        self.tensor_names: dict[int, str] = {}
        self.identity_checks: list[str] = []
        self.requires: list[tuple] = []
        self.softmax: list[Any] = []  #: (op info) of lowered/replayed Softmax ops
        self.target_names: set = set()
        self.input_names: set = set()  #: names computed from the inputs alone (in the prologue)
        for k, a in enumerate(arrays):
            name = f"x{k}"
            e.prologue.append(f"{name} = A[{k}]")
            self.bind(a, name)
            self.input_names.add(name)
            if k:
                self.target_names.add(name)

    def bind(self, array: Any, name: str) -> str:
        self.slots[id(array)] = name
        self.keep.append(array)
        return name

    def known(self, array: Any) -> str | None:
        name = self.slots.get(id(array))
        if name is not None:
            return name
        base = array.base if isinstance(array, np.ndarray) else None
        while base is not None:  # a reshaped view of a named array
            name = self.slots.get(id(base))
            if (
                name is not None
                and array.flags.c_contiguous
                and array.size == base.size
                and array.dtype == base.dtype
            ):
                if name in self.e.arrays:
                    view = self.e.view(name, self.e.arrays[name].reshape(array.shape))
                    return self.bind(array, view)
                expr = f"{name}.reshape({array.shape})"
                if name in self.input_names:  # read once, before the guards
                    return self.bind(array, self._prologue(expr))
                return self.bind(array, self._line_value(expr))
            base = base.base
        return None

    def _line_value(self, expr: str) -> str:
        name = self.e.name("v")
        self.e.line(f"{name} = {expr}")
        return name

    # ---------------------------------------------------------------- tensors and params
    def tensor(self, t: Any, array: np.ndarray, first_t: Any, first_a: Any, where: str) -> str:
        name = self.known(array)
        if name is not None:
            return name
        if not t._leaf:
            raise refuse(
                f"{where}: a tensor computed before the step (its graph is not this step's)",
                "compute every tensor the step uses inside the step",
            )
        for k, arg in enumerate(self.args):
            if arg is t:
                return self.slots[id(self.inputs[k])]
        if t is first_t or (first_t is None and t.requires_grad):  # the same tensor each call
            return self.weight(t, array)
        return self.array(array, first_a, where)

    def weight(self, t: Any, array: np.ndarray) -> str:
        """A weight's array: bound as the very object, and a guard that it still is (optimizers,
        set_weights and load write into it; a new array makes the call run eagerly)."""
        name = self.weights.get(id(t))
        if name is None:
            tn = self.tensor_name(t)
            name = self.weights[id(t)] = self.e.const(array, "w")
            self.identity_checks.append(f"{tn}._data is not {name}")
            self.requires.append((tn, t.requires_grad))
        return self.bind(array, name)

    def tensor_name(self, t: Any) -> str:
        """The tape's name of a tensor the step did not make (a weight, an argument)."""
        for k, arg in enumerate(self.args):
            if arg is t:
                return f"R[{k}]"
        name = self.tensor_names.get(id(t))
        if name is None:
            name = self.tensor_names[id(t)] = self.e.const(t, "T")
            self.keep.append(t)
        return name

    def weight_guards(self) -> None:
        """One guard for every weight: the same arrays, the same requires_grad flags."""
        checks = list(self.identity_checks)
        if self.requires:
            flags = ", ".join(f"{tn}.requires_grad" for tn, _ in self.requires)
            checks.append(f"({flags},) != {tuple(flag for _, flag in self.requires)!r}")
        if checks:
            self.e.guards.append(" or ".join(checks))

    def array(self, a: Any, first: Any, where: str) -> str:
        """An array param (or a constant leaf's array) of an op; ``first`` is the array in the
        same place in the first eager call."""
        name = self.known(a)
        if name is not None:
            return name
        lifted = self.rec.lifted.get(id(a))
        if lifted is not None and isinstance(lifted[0], np.ndarray):  # out - y: y's lifted copy
            name = self.from_input(a, first)  # a step input's copy: read at every replay
            if name is not None:
                return name
        if lifted is not None:  # an operator's number: t * 0.5
            return self.number(a, lifted[0], first, where)
        name = self.from_input(a, first) or self.from_softmax(a)
        if name is not None:
            return name
        if first is not None and first is a:  # the same array object at every call
            return self.bind(a, self.e.const(a))
        raise refuse(f"{where}: an array of shape {a.shape} made outside the ops", FIX_COMPUTE)

    def number(self, a: np.ndarray, source: Any, first: Any, where: str) -> str:
        """A constant an operator made from ``source``: kept when ``source`` is the very same
        object in the first call (a literal, a setting), an int of the same value (shapes,
        counts), or an argument of the step (the signature holds its value)."""
        before = self.first.lifted.get(id(first), (None,))[0] if first is not None else None
        if not self.same_number(source, before):
            raise refuse(
                f"{where}: the number {source!r}, made anew at every call "
                "(computed from the batch?) - the tape would keep this one",
                FIX_NUMBER,
            )
        return self.bind(a, self.e.const(a.copy()))

    def same_number(self, source: Any, before: Any) -> bool:
        if source is before:
            return True
        if any(source is arg for arg in self.args):  # the signature holds a number's value,
            return not isinstance(source, np.ndarray)  # not an array's: never a constant
        exact = (int, bool, np.integer, np.bool_)
        return isinstance(source, exact) and type(before) is type(source) and before == source

    def from_input(self, a: np.ndarray, first: Any) -> str | None:
        """A view of a step input (reshaped, or a slice along its first axis), or a copy/cast
        of one - a copy only when the same place in the first call held the same copy of that
        call's input (so a constant that equals an input by chance is not taken for it)."""
        for k, x in enumerate(self.inputs):
            if not isinstance(x, np.ndarray) or a.size == 0 or x.size == 0:
                continue
            name = f"x{k}"
            if a.dtype == x.dtype and np.shares_memory(a, x):
                expr = _view_of(a, x, name)
                if expr is not None:
                    return self.bind(a, self._prologue(expr))
                continue
            if x.size != a.size or not self._same_copy(a, x, first, k):
                continue
            buf = self.e.buf(a.shape, a.dtype)
            self.input_names.add(buf)
            self.e.prologue.append(f'np.copyto({buf}, {name}.reshape({a.shape}), casting="unsafe")')
            if a.dtype.kind in "iub" and x.dtype.kind in "fc":  # 1.5 -> 1 would hide an error
                self.e.guards.append(f"not np.array_equal({buf}.reshape({x.shape}), {name})")
            if k:
                self.target_names.add(buf)
            return self.bind(a, buf)
        return None

    def _same_copy(self, a: np.ndarray, x: np.ndarray, first: Any, k: int) -> bool:
        if x.astype(a.dtype).reshape(a.shape).tobytes() != a.tobytes():
            return False
        x1 = self.first_inputs[k] if k < len(self.first_inputs) else None
        if not isinstance(first, np.ndarray) or not isinstance(x1, np.ndarray):
            return False
        same_shape = first.shape == a.shape and x1.size == a.size
        return same_shape and x1.astype(a.dtype).reshape(a.shape).tobytes() == first.tobytes()

    def _prologue(self, expr: str) -> str:
        name = self.e.name("x")
        self.e.prologue.append(f"{name} = {expr}")
        self.input_names.add(name)
        if any(n in expr for n in self.target_names):
            self.target_names.add(name)
        return name

    def from_softmax(self, a: np.ndarray) -> str | None:
        for info in reversed(self.softmax):
            log_p = info.fn.log_softmax()
            if log_p.shape == a.shape and log_p.tobytes() == a.tobytes():
                if info.lowering is not None:
                    return self.bind(a, info.lowering.log_softmax(self.e, info, a))
                return self.bind(a, self._line_value(f"{info.fname}.log_softmax()"))
        return None

    def note_op(self, info: Any) -> None:
        if isinstance(info.fn, ops.Softmax):
            self.softmax.append(info)


__all__ = ["FIX_COMPUTE", "Resolver", "refuse"]
