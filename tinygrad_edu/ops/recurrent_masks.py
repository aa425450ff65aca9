"""Dropout masks inside the fused recurrent ops (the layers' ``dropout`` and ``recurrent_dropout``).

A mask multiplies what a weight matrix multiplies: with dropout, a product ``A @ v`` of a step
becomes ``A @ (q * v)``. Keras 3 draws either one mask for all gates or one mask per gate (LSTM
and GRU when ``recurrent_dropout > 0``), so a mask here is ``q [G, K, B]``, feature-major like the
ops' states: ``G = 1`` (one mask for every gate) or ``G = g`` (one per gate). With the rows of
``A [R, K]`` in G equal blocks ``A_j`` (gate j's rows; one block when ``G = 1``)::

    y = A @ (q * v):     y_j = A_j @ (q_j * v)
    dv = sum_j q_j * (A_j^T @ dy_j)          the gradient reaching v
    dA_j = dy_j @ (q_j * v)^T                summed over the steps when v holds all of them

``v`` is one step ``[K, B]`` or all steps ``[K, T, B]`` (a mask is the same at every step).
The masks are constants drawn by the layer (``layers/recurrent_dropout.py``); scratch arrays
come from the caller (or are new), and what the functions return is new or the caller's.

>>> a, v = np.arange(4.0).reshape(2, 2), np.ones((2, 1))
>>> q = np.array([[[1.0], [0.0]], [[0.0], [2.0]]])       # G = 2: one mask per row block
>>> masked_matmul(a, q, v).ravel().tolist()            # [0 1] @ [1 0], [2 3] @ [0 2]
[0.0, 6.0]
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..errors import ShapeError


def op_masks(
    mask: Optional[np.ndarray],
    name: str,
    where: str,
    gates: int,
    batch: int,
    size: int,
    gate_roll: int,
    dtype: np.dtype,
) -> Optional[np.ndarray]:
    """A layer's mask ``[G, B, size]`` (Keras' gate order) checked and returned as a fresh
    feature-major ``[G, size, B]`` in ``dtype``, its gates rolled by ``gate_roll`` into the op's
    order (the LSTM op's o, i, f, g are Keras' i, f, c, o rolled by one). None stays None."""
    if mask is None:
        return None
    shape = getattr(mask, "shape", None)
    if shape is None or len(shape) != 3 or shape[0] not in (1, gates) or shape[1:] != (batch, size):
        groups = "1" if gates == 1 else f"1 or {gates}"
        raise ShapeError(
            where=where,
            expected=f"{name} of shape (G, batch, {size}) with G = {groups} (the gates it serves)",
            got=f"{name} of shape {shape}" if shape is not None else type(mask).__name__,
            fix=f"np.ones((1, {batch}, {size}))  # one mask, all gates: 0 drops, 1/(1-rate) keeps",
        )
    q = np.array(mask.transpose(0, 2, 1), dtype=dtype, order="C")
    return np.roll(q, gate_roll, axis=0) if len(q) > 1 and gate_roll else q


def column_mask(
    q_h: Optional[np.ndarray], q_x: Optional[np.ndarray], units: int, feats: int, bias: bool
) -> np.ndarray:
    """``Q [G, u+F(+1), B] = [m; d; 1]``: the mask of the state columns ``X[t] = [h[t]; x_t; 1]``
    (``recurrent_layout``) from the recurrent mask ``q_h [G, u, B]`` and the input mask
    ``q_x [G, F, B]`` (either may be None: ones; a single mask serves every group)."""
    given = [q for q in (q_h, q_x) if q is not None]
    groups, batch = max(len(q) for q in given), given[0].shape[-1]
    q = np.ones((groups, units + feats + bias, batch), given[0].dtype)
    if q_h is not None:
        q[:, :units] = q_h
    if q_x is not None:
        q[:, units : units + feats] = q_x
    return q


def gate_masks(q: Optional[np.ndarray], start: int, stop: int) -> Optional[np.ndarray]:
    """The masks of gates ``start..stop-1`` (all of ``q`` when one mask serves every gate)."""
    return q if q is None or len(q) == 1 else q[start:stop]


# ---------------------------------------------------------------- the three products
def _blocks(a: np.ndarray, groups: int) -> List[np.ndarray]:
    """``a``'s rows in ``groups`` equal blocks (views)."""
    size = a.shape[0] // groups
    return [a[j * size : (j + 1) * size] for j in range(groups)]


def _each_step(q_j: np.ndarray, like: np.ndarray) -> np.ndarray:
    """One group's mask ``[K, B]``, shaped to multiply ``like`` (``[K, B]`` or ``[K, T, B]``)."""
    return q_j if like.ndim == 2 else q_j[:, None, :]


def _flat(a: np.ndarray) -> np.ndarray:
    """``[K, T, B] -> [K, T*B]`` (a view of contiguous memory); 2-D arrays unchanged."""
    return a if a.ndim == 2 else a.reshape(a.shape[0], -1)


def masked_matmul(
    a: np.ndarray,
    q: Optional[np.ndarray],
    v: np.ndarray,
    out: Optional[np.ndarray] = None,
    scratch: Optional[np.ndarray] = None,
) -> np.ndarray:
    """``out = A @ (q * v)``: ``out_j = A_j @ (q_j * v)`` for each gate group j; without a mask
    (``q`` None) exactly ``np.matmul(a, v, out=out)``. Returns ``out``.

    ``a [R, K]``, ``q [G, K, B]``, ``v [K, (T,) B]``, ``out [R, (T,) B]`` and ``scratch`` like v
    (contiguous; new arrays when None)."""
    if q is None:
        return np.matmul(a, v, out=out)
    if out is None:
        out = np.empty((a.shape[0], *v.shape[1:]), np.result_type(a, v))
    scratch = np.empty(v.shape, v.dtype) if scratch is None else scratch
    for a_j, q_j, out_j in zip(_blocks(a, len(q)), q, _blocks(out, len(q))):
        np.multiply(_each_step(q_j, v), v, out=scratch)
        np.matmul(a_j, _flat(scratch), out=_flat(out_j))
    return out


def masked_matmul_dv(
    a_t: np.ndarray,
    q: Optional[np.ndarray],
    dy: np.ndarray,
    out: np.ndarray,
    scratch: Optional[np.ndarray] = None,
) -> None:
    """``out = sum_j q_j * (A_j^T @ dy_j)``, the gradient reaching v of ``A @ (q * v)``;
    without a mask exactly ``np.matmul(a_t, dy, out=out)``.

    ``a_t = A^T [K, R]`` (gate group j: its j-th block of columns), ``dy [R, (T,) B]``, ``out``
    and ``scratch [K, (T,) B]`` (contiguous; a new scratch when None)."""
    if q is None:
        np.matmul(a_t, dy, out=out)
        return
    scratch = np.empty_like(out) if scratch is None else scratch
    size = a_t.shape[1] // len(q)
    for j, (q_j, dy_j) in enumerate(zip(q, _blocks(dy, len(q)))):
        target = out if j == 0 else scratch
        np.matmul(a_t[:, j * size : (j + 1) * size], _flat(dy_j), out=_flat(target))
        target *= _each_step(q_j, target)
        if j:
            out += scratch


def masked_matmul_da(
    dy: np.ndarray, q: np.ndarray, v: np.ndarray, scratch: np.ndarray
) -> np.ndarray:
    """``dA``, a fresh ``[R, K]``: ``dA_j = dy_j @ (q_j * v)^T`` (summed over steps).

    ``dy [R, (T,) B]`` (step-major columns when 2-D: ``[R, T*B]``), ``v`` and ``scratch
    [K, (T,) B]`` (a contiguous scratch)."""
    da = np.empty((dy.shape[0], v.shape[0]), dy.dtype)
    for q_j, dy_j, da_j in zip(q, _blocks(dy, len(q)), _blocks(da, len(q))):
        np.multiply(_each_step(q_j, v), v, out=scratch)
        np.matmul(_flat(dy_j), _flat(scratch).T, out=da_j)
    return da


__all__ = [
    "op_masks",
    "column_mask",
    "gate_masks",
    "masked_matmul",
    "masked_matmul_dv",
    "masked_matmul_da",
]
