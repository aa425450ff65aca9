"""The optimizer's update in a tape. Every replay first asks the optimizer for this step's host
numbers (``step_scalars()``: the rate from a schedule at this iteration, ...), the same method an
eager ``step()`` calls, so nothing is baked in; then checks the gradients for NaN/inf (the eager
``DivergenceError``, before any weight is written; a sum of squares that merely overflowed goes
on, as eager); then updates.

Plain SGD (fused form, no clipping, no weight decay) is lowered to the numpy calls of
``SGD.fused_update_step``; every other optimizer replays its own ``apply_update`` - the code an
eager ``step()`` runs after its checks.
"""

from __future__ import annotations

import math
from typing import Any

from .. import config
from ..optimizers.gradients import checked_grads
from ..optimizers.sgd import SGD
from .resolve import refuse


def diverged(opt: Any, todo: tuple) -> None:
    """The sum of the replayed gradients' squares is not finite. NaN/inf in a gradient: hand
    the gradients over as eager backward() would have, and raise the eager step's
    ``DivergenceError`` (no weight was written). Finite gradients whose squares only overflowed
    (float32 beyond ~1e19): eager's exact check clears them and steps on - so does the replay."""
    before = [p.grad for _, p, _ in todo]
    for _, p, g in todo:
        p.grad = g.copy()
    checked_grads(opt._require_params("step"), opt._slots, opt._where)
    for (_, p, _), grad in zip(todo, before):  # finite: the replay updates from its buffers
        p.grad = grad


def bump_versions(tensors: tuple) -> None:
    """``Tensor._bump_version`` of each (the optimizer's in-place writes, counted)."""
    for t in tensors:
        t._bump_version()


def _lowered(opt: Any) -> bool:
    plain = not (opt.clipnorm or opt.clipvalue or opt.global_clipnorm or opt.weight_decay)
    return type(opt) is SGD and plain and config.is_fused_enabled()


def write_update(e: Any, r: Any, ev: Any, grads: dict[int, tuple]) -> None:
    opt = ev.opt
    on = e.const(opt, "O")
    e.ns.update(_isfinite=math.isfinite, _diverged=diverged)
    e.guards.append(f"{on}._params is not {e.const(opt._params, 'L')}")
    todo: list[str] = []
    flats: list[str] = []
    for i, p, g in ev.todo:
        name, kept = grads.get(id(p), (None, None))
        if name is None or r.known(g) != name or g.tobytes() != kept:
            raise refuse(
                f"the gradient of parameter {i} replaced or written in place after backward()",
                "clip with the optimizer's own options (SGD(..., clipnorm=1.0)) instead of "
                "editing .grad, or run this step without jit",
            )
        w = r.weight(p, p._data)
        todo.append((i, r.tensor_name(p), name, w))
        if g.dtype.kind == "f":
            flats.append(e.flat(name))
    e.label = "optimizer"
    sc = e.name("sc")
    e.line(f"{sc} = {on}.step_scalars()")
    listed = ", ".join(f"({i}, {t}, {g})" for i, t, g, _ in todo)
    if flats:
        squares = " + ".join(f"{f}.dot({f})" for f in flats)
        e.line(f"if not _isfinite({squares}): _diverged({on}, ({listed},))")
    if not _lowered(opt):
        e.line(f"{on}.apply_update([{listed}], {sc})")
        return
    settings = (opt.momentum, opt.nesterov, opt.clipnorm, opt.clipvalue)
    settings += (opt.global_clipnorm, opt.weight_decay)
    e.guards.append(
        f"({on}.momentum, {on}.nesterov, {on}.clipnorm, {on}.clipvalue, {on}.global_clipnorm, "
        f"{on}.weight_decay) != {settings!r}"
    )
    e.ns["_bump"] = bump_versions
    for (i, p, garr), (_, t, g, w) in zip(ev.todo, todo):
        e.label = r.names.get(id(p)) or p.name or "optimizer"  # dense_1/kernel
        step = e.buf(garr.shape, p._data.dtype)
        e.line(f"np.multiply({g}, {sc}.lr, out={step})")  # step = lr * g
        if not opt.momentum:
            e.line(f"np.subtract({w}, {step}, out={w})")  # p -= lr * g
        else:
            v = e.name("vel")
            e.line(f'{v} = {on}._slots[{i}]["velocity"]')
            e.line(f"np.multiply({v}, {opt.momentum!r}, out={v})")
            e.line(f"np.subtract({v}, {step}, out={v})")  # velocity = m * velocity - lr * g
            if opt.nesterov:
                e.line(f"np.subtract({w}, {step}, out={w})")
                e.line(f"np.add({w}, np.multiply({v}, {opt.momentum!r}, out={step}), out={w})")
            else:
                e.line(f"np.add({w}, {v}, out={w})")  # p += velocity
    e.label = "optimizer"
    bumped = ", ".join(t for _, t, _, _ in todo)
    e.line(f"_bump(({bumped},))  # each weight's version: graphs from before are stale")
    e.line(f"{on}.iterations += 1")


__all__ = ["diverged", "write_update"]
