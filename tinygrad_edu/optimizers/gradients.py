"""What ``Optimizer.step`` does to the gradients before any weight is written: check each one
(shaped like its parameter and its slots: ``ShapeError``; NaN/inf: ``DivergenceError`` naming the
parameter), then clip them (``clipvalue``, ``clipnorm`` or ``global_clipnorm``). Functions of
arrays and tensors: nothing here knows the Optimizer class.

>>> all_finite(np.array([1.0, 2.0])), all_finite(np.array([1.0, np.nan]))
(True, False)
>>> clipped([np.array([3.0, 4.0])], clipnorm=1.0)[0]      # rescaled to norm 1
array([0.6, 0.8])
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_edu.errors import DivergenceError, ShapeError
from tinygrad_edu.tensor import Tensor

__all__ = ["all_finite", "checked_grads", "clipped", "describe_param", "non_finite_gradient"]


def checked_grads(
    params: list[Tensor], slots: list[dict[str, np.ndarray] | None], where: str
) -> list[tuple[int, Tensor, np.ndarray]]:
    """``(i, p, p.grad)`` for every parameter ``p = params[i]`` a step updates (it requires grad
    and has a gradient), each gradient an array shaped like ``p`` and like each of its slots
    ``slots[i]`` (else ``ShapeError``), none holding NaN/inf (else ``DivergenceError`` naming the
    first such parameter).

    One fused finiteness check for all of them: NaN/inf in any gradient make the sum of all their
    squares non-finite (one BLAS dot per gradient, no per-gradient verdict); only when the sum is
    non-finite - or overflowed, for float32 values beyond ~1e19 - is each gradient checked
    exactly, which finds the culprit or clears a finite overflow."""
    todo, squares = [], 0.0
    for i, p in enumerate(params):
        grad = p.grad
        if grad is None or not p.requires_grad:
            continue
        data = p._data
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad, data.dtype)
        shape = data.shape
        if grad.shape != shape:
            raise ShapeError(
                where=f"{where}.step (parameter {i})",
                expected=f"a gradient shaped like the parameter {shape}",
                got=f"{grad.shape}",
                fix="set p.grad to an array of the parameter's shape (backward() does this)",
            )
        s = slots[i]
        if s:
            for array in s.values():
                if array.shape != shape:
                    raise _slot_shape_error(s, shape, i, where)
        if grad.dtype.kind == "f":  # integers are finite; they need no check
            flat = grad.ravel()  # a view of the (C-ordered) gradients backward makes
            squares += float(flat.dot(flat))  # a Python float: its sum never warns
        todo.append((i, p, grad))
    if not math.isfinite(squares):
        for i, p, grad in todo:
            if not all_finite(grad):
                raise non_finite_gradient(p, i, grad, where)
    return todo


def _slot_shape_error(slots: dict, shape: tuple, i: int, where: str) -> ShapeError:
    """The error for the first of parameter ``i``'s ``slots`` not shaped ``shape``."""
    slot, array = next((k, a) for k, a in slots.items() if a.shape != shape)
    return ShapeError(
        where=f"{where}.step (parameter {i})",
        expected=f"slot {slot!r} shaped like the parameter {shape}",
        got=f"{array.shape}",
        fix="the parameter's array was replaced by one of another shape; call "
        "opt.set_params(model.parameters()) again after rebuilding the model",
    )


def non_finite_gradient(p: Tensor, i: int, grad: np.ndarray, where: str) -> DivergenceError:
    """The error of a step refused for NaN/inf in parameter ``i``'s gradient ``grad``."""
    counts = (("NaN", int(np.isnan(grad).sum())), ("inf", int(np.isinf(grad).sum())))
    kinds = " and ".join(f"{n} {kind}" for kind, n in counts if n)
    err = DivergenceError(
        "no weight was changed (every gradient is checked before the first update)",
        where=f"{where}.step",
        expected="finite gradients",
        got=f"{kinds} in the gradient of {describe_param(p, i)}",
        fix="a NaN/inf gradient comes from the loss or an op (log(0), sqrt(0), 0/0, an "
        "overflow): check the data for NaN/inf, lower the learning rate, scale the inputs; "
        "clipping (clipnorm=...) bounds large gradients but cannot repair NaN",
    )
    # for callers that know the weights' names (fit says 'dense/kernel', not 'kernel')
    err.parameter, err.parameter_index, err.bad_values = p, i, kinds
    return err


def clipped(
    grads: list[np.ndarray],
    clipvalue: float | None = None,
    clipnorm: float | None = None,
    global_clipnorm: float | None = None,
) -> list[np.ndarray]:
    """The gradients after clipping (at most one rule is set): new arrays, the given ones are
    never changed (``p.grad`` may be shared by the engine)."""
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    if clipnorm is not None:
        return [g * (clipnorm / max(_norm(g), clipnorm)) for g in grads]
    if global_clipnorm is not None:
        total = math.sqrt(sum(_squared_norm(g) for g in grads))
        return [g * (global_clipnorm / max(total, global_clipnorm)) for g in grads]
    return grads


def describe_param(p: Tensor, i: int) -> str:
    """``parameter 2 'kernel' of shape (3, 1)``: how errors name a parameter."""
    name = f" {p.name!r}" if p.name else ""
    return f"parameter {i}{name} of shape {p._data.shape}"


def all_finite(a: np.ndarray) -> bool:
    """True when ``a`` holds no NaN/inf, in one fast pass: NaN/inf make the sum of squares
    non-finite (a BLAS dot, ~2x faster than ``np.isfinite(a).all()``); only when it is - or when
    it overflowed, for float32 values beyond ~1e19 - is the exact elementwise check run."""
    flat = a.ravel(order="K")  # a view for C- and F-ordered arrays alike
    if flat.dtype.kind != "f" or math.isfinite(flat.dot(flat)):
        return True
    return bool(np.isfinite(flat).all())


def _norm(g: np.ndarray) -> float:
    """The L2 norm of ``g`` as a Python float."""
    return math.sqrt(_squared_norm(g))


def _squared_norm(g: np.ndarray) -> float:
    """sum(g ** 2) as a Python float (in float64 when float32's sum overflows)."""
    sq = float(np.vdot(g, g))
    if math.isinf(sq):
        g64 = g.astype(np.float64)
        sq = float(np.vdot(g64, g64))
    return sq
