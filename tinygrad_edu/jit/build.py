"""Build a tape from the recorded events of the capture call (``recorder``): resolve every array
to a name (``resolve``), write each op as its lowering's numpy lines or as a call of a fresh
instance of its Function, then the backward walk in its recorded order (un-broadcasts and sums
included), the leaf gradients, the optimizer updates (``updates``) and the stateful calls.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import config, ops
from ..errors import ConfigError
from ..grad_mode import _grad_enabled
from .emit import Emit
from .lowerings import LOWERINGS
from .recorder import Backward, LeafGrad, Node, Op, Recorder, Stateful, Update, ZeroGrad
from .resolve import FIX_COMPUTE, FIX_NUMBER, Resolver, refuse
from .results import result_expr
from .updates import write_update


def _as_tuple(grads: Any) -> tuple:
    return grads if isinstance(grads, tuple) else (grads,)


class Builder:
    """One tape (``build()`` returns its ``Emit``)."""

    def __init__(self, rec: Recorder, first: Recorder, args: tuple, firsts: tuple, names: dict):
        self.e = e = Emit()
        e.ns["_as_tuple"] = _as_tuple
        self.rec, self.names = rec, names
        # the ops of the first call, aligned from the end (a first call may build more)
        first_ops, n = first.ops(), len(rec.ops())
        self.first_ops = first_ops[len(first_ops) - n :] if len(first_ops) >= n else []
        self.r = Resolver(e, rec, first, args, firsts, names)
        self.first_seeds = [ev.seed for ev in first.events if type(ev) is Backward]
        # the first call's stateful calls (moving statistics, checks), aligned from the end
        states, n = [ev for ev in first.events if type(ev) is Stateful], rec.count(Stateful)
        self.first_states = states[len(states) - n :] if len(states) >= n else [None] * n
        self.n_backward = 0
        self.infos: dict[int, Any] = {}  #: id(fn) -> info
        self.loss_names: set = set()
        self.grads: dict[int, tuple] = {}  #: id(tensor) -> (name, bytes) of its current .grad
        self.label_of: dict[int, str] = {}  #: address of an op's output -> the op's label

    def build(self, result: Any) -> Emit:
        e, n_op = self.e, 0
        e.guards.append(f"_grad_enabled.get() is not {self.rec.grad_mode}")
        e.guards.append(f"config.is_fused_enabled() is not {config.is_fused_enabled()}")
        e.ns.update(_grad_enabled=_grad_enabled, config=config)
        for read, value, label in self.rec.guards:
            condition = getattr(read, "condition", None)
            if condition is not None:  # a layer's attributes (layers/replay_guard.py): inline
                e.guards.append(condition(e.guard_const, value))
                continue
            g, v = e.const(read, "G"), e.const(value, "E")
            e.guards.append(f"{g}() != {v}")
        for event in self.rec.events:
            kind = type(event)
            if kind is Op:
                first = self.first_ops[n_op] if self.first_ops else None
                self.op(
                    event, first if first is not None and type(first.fn) is type(event.fn) else None
                )
                n_op += 1
            elif kind is Backward:
                self.backward(event)
            elif kind is Node:
                self.node(event)
            elif kind is LeafGrad:
                self.leaf_grad(event)
            elif kind is Update:
                e.phase = "update"
                write_update(e, self.r, event, self.grads)
            elif kind is Stateful:
                self.stateful(event)
            elif kind is not ZeroGrad:
                raise TypeError(kind)
        self.end_grads()
        self.r.weight_guards()
        outs = [(info.out_array, info.out) for info in self.infos.values()]
        e.epilogue.append(f"return {result_expr(e, self.r, result, outs)}")
        return e

    # ---------------------------------------------------------------- forward
    def op(self, ev: Op, first: Op | None) -> None:
        e, r, cls = self.e, self.r, type(ev.fn)
        ins = []
        for k, (t, a) in enumerate(zip(ev.inputs, ev.arrays)):
            first_t, first_a = (first.inputs[k], first.arrays[k]) if first else (None, None)
            ins.append(r.tensor(t, a, first_t, first_a, f"input {k} of op '{cls.__name__}'"))
        pn, consts = {}, {}
        for key, value in ev.params.items():
            where = f"parameter {key}= of op '{cls.__name__}'"
            if isinstance(value, np.ndarray):
                pn[key] = self.param_array(key, value, first, where)
            elif isinstance(value, np.random.Generator):
                if first is None or first.params.get(key) is not value:
                    raise refuse(f"{where}: a new random generator at every call", FIX_COMPUTE)
                consts[key] = value
            elif isinstance(value, (list, tuple, dict)) and _holds_array(value):
                raise refuse(f"{where}: arrays inside a {type(value).__name__}", FIX_COMPUTE)
            else:
                consts[key] = self.param_number(key, value, first, where)
        info = SimpleNamespace(
            fn=ev.fn,
            ins=ins,
            arrays=ev.arrays,
            params=ev.params,
            pn=pn,
            needs=ev.fn.needs_input_grad,
            out_array=ev.out._data,
            out=None,
            saved={},
            lowering=None,
            fname=None,
            in_graph=ev.in_graph,
        )
        loss = cls in (ops.SparseSoftmaxCrossEntropy, ops.SoftmaxCrossEntropy) or any(
            n in self.loss_names or n in r.target_names for n in [*ins, *pn.values()]
        )
        e.phase = "loss" if loss else "forward"
        label = self._label(ev, ins)
        if loss and not any(t._leaf and t.requires_grad for t in ev.inputs):
            label = "loss"  # the loss's own ops (its penalties name their weights' layer)
        e.label = info.label = label
        self.label_of[info.out_array.__array_interface__["data"][0]] = info.label
        lowering = LOWERINGS.get(cls)
        if lowering is not None and lowering.accepts(info):
            info.lowering = lowering
            lowering.forward(e, info)
        else:
            self.generic_forward(info, consts)
        if cls is ops.SparseSoftmaxCrossEntropy and "labels" in pn:
            self.label_guard(pn["labels"], ev.arrays[0].shape[-1])
        if cls is ops.GetItem and "index" in pn and ev.arrays[0].ndim:
            self.index_guard(pn["index"], ev.params["index"], ev.arrays[0].shape[0])
        if loss:
            self.loss_names.add(info.out)
        r.bind(ev.out._data, info.out)
        r.note_op(info)
        self.infos[id(ev.fn)] = info

    def param_number(self, key: str, value: Any, first: Op | None, where: str) -> Any:
        """A float param is kept only when it is the very same object in the first call (a
        setting, a literal) or an argument; ints, strings, shapes are kept by value."""
        if isinstance(value, (float, np.floating)):
            before = first.params.get(key) if first is not None else None
            if not self.r.same_number(value, before):
                raise refuse(f"{where}: the number {value!r}, made anew at every call", FIX_NUMBER)
        return value

    def param_array(self, key: str, value: np.ndarray, first: Op | None, where: str) -> str:
        try:
            return self.r.array(value, first.params.get(key) if first else None, where)
        except ConfigError as err:
            if key == "cond":  # where(x > t, ...): a comparison gives an array, not an op
                raise refuse(
                    f"{where}: a condition a comparison computed (its array is not an op's)",
                    "train without jit - model.compile(..., jit_compile=False) - or write the "
                    "condition with ops; the activations hard_shrink, sparse_plus and threshold "
                    "use a comparison",
                ) from err
            if "mask" not in key:
                raise
            raise refuse(  # a (user's) layer drew it with numpy: the tape cannot draw it again
                f"{where}: a random mask drawn outside the ops",
                "draw it with the op the recurrent layers use - tensor_from_op(ops.DrawMask, x, "
                "rng=self.rng, rate=0.2, shape=(batch, size), dtype=x.dtype) - or train without "
                "jit: model.compile(..., jit_compile=False)",
            ) from err

    def generic_forward(self, info: Any, consts: dict) -> None:
        e, cls = self.e, type(info.fn)
        info.fname = f = e.name("f")
        c = e.const(cls, "C")
        kwargs = [f"{k}={v}" for k, v in info.pn.items()]
        kwargs += [f"{k}={e.const(v, 'k')}" for k, v in consts.items()]
        info.out = e.name("v")
        call = f"{f}.forward({', '.join([*info.ins, *kwargs])})"
        if info.out_array.ndim == 0:
            call = f"np.asarray({call})"
        e.line(f"{f} = {c}(); {f}.needs_input_grad = {info.needs!r}; {info.out} = {call}")
        if not info.in_graph and cls.releases:
            e.line(f"{f}.release()")

    def index_guard(self, index: str, captured: np.ndarray, rows: int) -> None:
        """Integer ids read from the step's inputs (Embedding's): a replay takes them only when
        all are in [0, rows), as at the capture; other calls run eagerly - Embedding's DataError
        (a replayed -1 would pick the last row silently, a replayed 20 raise numpy's IndexError)."""
        if index not in self.r.input_names or captured.dtype.kind not in "iu" or not captured.size:
            return
        if captured.min() < 0 or captured.max() >= rows:  # numpy's own meaning, captured as is
            return
        if captured.dtype.itemsize == np.dtype(np.uintp).itemsize:  # negatives wrap to huge
            self.e.guards.append(
                f"{index}.size and np.maximum.reduce({index}.view(np.uintp), axis=None) >= {rows}"
            )
        else:
            self.e.guards.append(f"{index}.size and ({index}.min() < 0 or {index}.max() >= {rows})")

    def label_guard(self, labels: str, classes: int) -> None:
        """Labels out of range: the eager loss raises its DataError, so the call runs eagerly."""
        if labels in self.r.input_names:
            self.e.guards.append(
                f"{labels}.size and "
                f"np.maximum.reduce({labels}.view(np.uintp), axis=None) >= {classes}"
            )

    def _label(self, ev: Op, ins: list[str]) -> str:
        for t in ev.inputs:
            name = self.names.get(id(t)) or (t.name if t._leaf and t.requires_grad else None)
            if name:
                return name.split("/")[0]
        if ev.label:
            return ev.label
        if type(ev.fn) in (ops.SparseSoftmaxCrossEntropy, ops.SoftmaxCrossEntropy):
            return "loss"
        for a in ev.arrays:
            label = self.label_of.get(a.__array_interface__["data"][0])
            if label is not None:
                return label
        return type(ev.fn).__name__.lower()

    # ---------------------------------------------------------------- backward
    def backward(self, ev: Backward) -> None:
        e, seed = self.e, ev.seed
        e.phase = "backward"
        if ev.implicit:
            name = e.name("g")
            e.line(f"{name} = np.ones({seed.shape!r}, {e.const(seed.dtype)})")
            self.r.bind(seed, name)
        else:
            k = self.n_backward
            first = self.first_seeds[k] if k < len(self.first_seeds) else None
            self.r.array(seed, first, "the gradient given to backward()")
        self.n_backward += 1

    def node(self, ev: Node) -> None:
        e, r = self.e, self.r
        info = self.infos[id(ev.fn)]
        e.label = info.label
        g = r.known(ev.g)
        if g is None:
            raise refuse(f"the upstream gradient of op '{ev.fn.name}'", FIX_COMPUTE)
        if info.lowering is not None:
            names = info.lowering.backward(e, info, g)
        else:
            gs = e.name("gs")
            e.line(f"{gs} = _as_tuple({info.fname}.backward({g}))")
            names = [f"{gs}[{k}]" for k in range(len(ev.in_grads))]
        for k, raw in enumerate(ev.in_grads):
            if raw is not None and names[k] is not None and r.slots.get(id(raw)) is None:
                r.bind(raw, names[k])
        for gr in ev.grads:
            raw = ev.in_grads[gr.k]
            name = r.slots[id(raw)] if gr.reduced is raw else self.unbroadcast(raw, gr.reduced)
            if gr.prev is not None:
                total = e.buf(gr.total.shape, gr.total.dtype)
                e.line(f"np.add({r.slots[id(gr.prev)]}, {name}, out={total})")
                name = total
            r.bind(gr.total, name)
        if info.lowering is None and info.in_graph and type(ev.fn).releases:
            e.line(f"{info.fname}.release()")

    def unbroadcast(self, raw: np.ndarray, reduced: np.ndarray) -> str:
        """``_shapes.unbroadcast``: sum the leading axes, then the size-1 axes (keepdims)."""
        e, name = self.e, self.r.slots[id(raw)]
        extra = raw.ndim - reduced.ndim
        shape = raw.shape
        if extra:
            shape = raw.shape[extra:]
            out = e.buf(shape, raw.dtype)
            e.line(f"np.add.reduce({name}, axis={tuple(range(extra))}, out={out})")
            name = out
        axes = tuple(i for i, (g, s) in enumerate(zip(shape, reduced.shape)) if s == 1 and g != 1)
        if axes:
            out = e.buf(reduced.shape, raw.dtype)
            e.line(f"np.add.reduce({name}, axis={axes}, keepdims=True, out={out})")
            name = out
        return self.r.bind(reduced, name)

    def leaf_grad(self, ev: LeafGrad) -> None:
        e, r = self.e, self.r
        src = r.known(ev.src)
        if src is None:
            raise refuse("a gradient reaching a leaf", FIX_COMPUTE)
        kept = src
        if ev.kept is not ev.src:
            kept = e.buf(ev.kept.shape, ev.kept.dtype)
            e.line(f'np.copyto({kept}, {src}, casting="unsafe")')
            r.bind(ev.kept, kept)
        after = kept
        if ev.before is not None:
            before = r.known(ev.before) or self._start_grad(ev.t, ev.before)
            after = e.buf(ev.after.shape, ev.after.dtype)
            e.line(f"np.add({before}, {kept}, out={after})")
        r.bind(ev.after, after)
        self.grads[id(ev.t)] = (after, ev.snapshot)

    def _start_grad(self, t: Any, grad: np.ndarray) -> str:
        tn = self._tensor_name(t)
        name = self.e.name("s")
        self.e.prologue.append(f"{name} = {tn}.grad")
        self.e.guards.append(f"{name}.shape != {grad.shape!r}")
        return self.r.bind(grad, name)

    def _tensor_name(self, t: Any) -> str:
        return self.r.tensor_name(t)

    def stateful(self, ev: Stateful) -> None:
        e, r = self.e, self.r
        e.label = ev.label  # in the phase of the op before it (forward: BN; loss: its check)
        first = self.first_states.pop(0)  # the same call in the first eager call of the step
        if first is None or first.fn is not ev.fn or len(first.arrays) != len(ev.arrays):
            first = None
        where = f"the stateful update of '{ev.label}'"
        firsts = [None] * len(ev.arrays) if first is None else first.arrays
        args = [r.array(a, f, where) for a, f in zip(ev.arrays, firsts)]
        args += [f"{k}={e.const(v, 'k')}" for k, v in ev.constants.items()]
        e.line(f"{e.const(ev.fn, 'S')}({', '.join(args)})")

    def end_grads(self) -> None:
        """Each tensor's ``.grad`` after the step, as eager leaves it (copies, never buffers);
        one guard that each starts as it did at capture (None or not)."""
        e, grad_checks = self.e, []
        for t, start in self.rec.start_grads.values():
            if id(t) not in self.r.weights and not any(a is t for a in self.r.args):
                continue  # a tensor made inside the step: nobody sees it after a replay
            end = t.grad
            if end is start and id(t) not in self.grads:
                continue
            tn = self._tensor_name(t)
            grad_checks.append(f"{tn}.grad is {'not ' if start is None else ''}None")
            if end is None:
                if start is not None:  # else it is None already: the replay never sets it
                    e.epilogue.append(f"{tn}.grad = None")
            elif id(t) in self.grads and self.r.known(end) == self.grads[id(t)][0]:
                e.epilogue.append(f"{tn}.grad = {self.grads[id(t)][0]}.copy()")
            elif end is not start:
                raise refuse(
                    f"the .grad of a tensor of shape {t.shape} replaced outside the library",
                    "let backward() and the optimizer manage .grad inside a captured step",
                )
        if grad_checks:
            e.guards.append(" or ".join(grad_checks))


def _holds_array(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(
        isinstance(v, np.ndarray) or (isinstance(v, (list, tuple)) and _holds_array(v))
        for v in items
    )


__all__ = ["Builder"]
