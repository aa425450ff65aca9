"""How the fused recurrent ops lay out weights, states and gates in memory.

``ops/recurrent.py`` holds the math of SimpleRNN and LSTM; everything here is packing, chosen so
that one step is one BLAS call on contiguous rows (``u`` units, ``F`` features, ``B`` batch,
``T`` steps, ``g`` gates):

- the step matrix ``M = [U; W; b]^T`` ``[g*u, u+F+1]``, C-contiguous (``step_matrix``): one GEMM
  ``M @ X[t]`` gives every gate pre-activation of step t, input projection and bias included;
- the state columns ``X [T+1, u+F+1, B]`` (``state_columns``): ``X[t] = [h[t]; x_t; 1]`` is what
  step t multiplies, and its h rows ``h = X[:, :u]`` receive the state after step t in
  ``h[t+1]`` (``h[0] = 0``). ``X`` is a time-indexed view of feature-major memory
  ``[u+F+1, T+1, B]``: the rows of all steps side by side make ``[h; x; 1]`` one
  ``[u+F+1, T*B]`` matrix for the weight-gradient GEMM (``weight_grads``);
- the LSTM gates in the order o, i, f, g (``split_gates``; Keras stores i, f, c, o: rolled by
  one gate): the three sigmoid gates are then one block of rows forward (``sigmoid_rows``), and
  the three gates whose gradient is a multiple of dc (i, f, g) one block backward. With
  ``halve_sigmoid_rows`` the o, i, f rows of M are halved (exact in binary floating point), so
  that ``sigmoid(a) = (1 + tanh(a / 2)) / 2`` lets one tanh call activate all four gates;
- step 0 (``first_step``): ``h[0] = 0``, so only the x and bias rows of ``X[0]`` are multiplied.

Why feature-major: OpenBLAS runs these small GEMMs fastest that way (measured on 2 cores:
``[512, 128] @ [128, 64]`` at ~320 GFLOP/s, the batch-major ``[64, 128] @ [128, 512]`` at ~150)
and each gate is then a contiguous block of rows.

Large arrays come from the op's ``Workspace``; whatever leaves the op (outputs, gradients) is a
fresh array, never a view of one (``sequence_output``, ``unpack_gate_grads``, ``input_grad``).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..workspace import Workspace


# ---------------------------------------------------------------- gate order
def split_gates(block: np.ndarray, units: int) -> Tuple[np.ndarray, ...]:
    """The gate row blocks of ``block [..., g*u, B]`` as views, in the op's order (LSTM: o, i,
    f, g)."""
    gates = block.shape[-2] // units
    return tuple(block[..., k * units : (k + 1) * units, :] for k in range(gates))


def sigmoid_rows(block: np.ndarray, units: int) -> np.ndarray:
    """The LSTM's o, i, f rows of ``block [..., 4u, B]``: the gates of the recurrent activation."""
    return block[..., : 3 * units, :]


def _roll_gates_into(
    dst: np.ndarray, src: np.ndarray, units: int, gates: int, halve: Optional[float] = None
) -> None:
    """``dst = src`` for ``[g*u, m]`` blocks, ``src``'s gates in Keras' order: LSTM's gates
    rolled to o, i, f, g, the o, i, f rows times ``halve`` when given."""
    n = units
    if gates == 1:
        np.copyto(dst, src)
    elif halve is None:
        np.copyto(dst[:n], src[3 * n :])
        np.copyto(dst[n:], src[: 3 * n])
    else:
        np.multiply(src[3 * n :], halve, out=dst[:n])
        np.multiply(src[: 2 * n], halve, out=dst[n : 3 * n])
        np.copyto(dst[3 * n :], src[2 * n : 3 * n])


def roll_gate_columns(w: np.ndarray, units: int, gates: int) -> np.ndarray:
    """Keras' gate columns ``[..., g*u]`` (LSTM: i, f, c, o) in the op's order (o, i, f, g), as
    a copy; other ops' weights unchanged."""
    if gates == 1:
        return w
    return np.concatenate([w[:, 3 * units :], w[:, : 3 * units]], axis=1)


def unpack_gate_grads(rows: np.ndarray, units: int, gates: int) -> np.ndarray:
    """Gate rows ``[g*u, m]`` in the op's order -> a fresh C-contiguous ``[m, g*u]`` in Keras'
    weight layout and gate order. Always a copy: ``rows`` is workspace memory (and
    ``np.ascontiguousarray(rows.T)`` would be a view of it when already contiguous - one unit)."""
    if gates == 1:
        return np.array(rows.T, order="C")
    n = units
    out = np.empty((rows.shape[1], rows.shape[0]), rows.dtype)
    out[:, : 3 * n] = rows[n:].T
    out[:, 3 * n :] = rows[:n].T
    return out


# ---------------------------------------------------------------- weights
def step_matrix(
    ws: Workspace,
    w: np.ndarray,
    u: np.ndarray,
    b: Optional[np.ndarray],
    gates: int,
    dtype: np.dtype,
    halve_sigmoid_rows: bool = False,
) -> np.ndarray:
    """``M = [U; W; b]^T`` as a C-contiguous ``[g*u, u+F(+1)]`` workspace array in ``dtype``,
    gates in the op's order (LSTM's o, i, f rows halved with ``halve_sigmoid_rows``).

    C-contiguous, not a transposed view: measured on 2 cores, ``[512, 130] @ [130, 64]`` takes
    22.5 us so, 24.6 with the view. From an F-ordered U (the orthogonal initializer makes one)
    that is a plain copy; from a C-ordered U, numpy's transposing copy is four times slower when
    the row stride is a power of two bytes (g*u = 512), so the rows go first into an array
    padded by 16 numbers a row."""
    parts = [u, w] + ([b[None]] if b is not None else [])
    units, cols, k = u.shape[0], u.shape[1], sum(p.shape[0] for p in parts)
    halve = 0.5 if halve_sigmoid_rows else None
    m = ws.take((cols, k), dtype)
    padded = None if u.flags.f_contiguous else ws.take((k, cols + 16), dtype)
    dst = m if padded is None else padded[:, :cols].T  # [g*u, k] either way
    j = 0
    for p in parts:
        _roll_gates_into(dst[:, j : j + p.shape[0]], p.T, units, gates, halve)
        j += p.shape[0]
    if padded is not None:
        np.copyto(m, dst)
        ws.give(padded)
    return m


def recurrent_kernel(
    ws: Workspace, u: np.ndarray, gates: int, dtype: np.dtype
) -> Tuple[np.ndarray, np.ndarray]:
    """(the workspace buffer to give back, U ``[u, g*u]`` with its gate columns in the op's
    order) for ``dh = U dz`` in backward. U's memory order is kept: a C-ordered copy of an
    F-ordered U would be a slow transposing copy."""
    if u.flags.f_contiguous:
        buf = ws.take(u.shape[::-1], dtype)
        rolled = buf.T
    else:
        buf = rolled = ws.take(u.shape, dtype)
    _roll_gates_into(rolled.T, u.T, u.shape[0], gates)
    return buf, rolled


# ---------------------------------------------------------------- states and steps
def by_step(cols: np.ndarray) -> np.ndarray:
    """Feature-major memory ``[k, T, B]`` seen step by step as ``[T, k, B]`` (a view): step t's
    ``[k, B]`` block is ``by_step(cols)[t]``, while ``cols.reshape(k, -1)`` keeps all steps side
    by side for one GEMM."""
    return cols.transpose(1, 0, 2)


def gates_by_step(cols: np.ndarray, units: int) -> np.ndarray:
    """Gate-major memory ``[g*u, T, B]`` seen as ``[T, g, u, B]`` (a view): ``[t, k]`` is gate k
    of step t, so one broadcast product can write several gates of a step."""
    rows, steps, batch = cols.shape
    return cols.reshape(rows // units, units, steps, batch).transpose(2, 0, 1, 3)


def state_columns(
    ws: Workspace, x: np.ndarray, units: int, bias: bool, go_backwards: bool, dtype: np.dtype
) -> np.ndarray:
    """``X [T+1, u+F(+1), B]`` (a view of a feature-major workspace array): ``X[t] = [h[t];
    x_t; 1]`` for the steps t < T in processing order (``x`` read from its end with
    ``go_backwards``), ``h[0] = 0``; the h rows of ``X[t+1]`` are left for step t to write, and
    the x and ones rows of ``X[T]`` are zero (``weight_grads`` reads them as padding)."""
    n, (batch, steps, feats) = units, x.shape
    cols = ws.take((n + feats + bias, steps + 1, batch), dtype)
    cols[:n, 0] = 0
    cols[n : n + feats, :steps] = (x[:, ::-1] if go_backwards else x).transpose(2, 1, 0)
    cols[n + feats :, :steps] = 1
    cols[n:, steps] = 0
    return by_step(cols)


def first_step(m: np.ndarray, x0: np.ndarray, units: int, out: np.ndarray) -> None:
    """Step 0's ``out = M @ X[0]`` with ``h[0] = 0``: only the x and bias rows. For one such row
    a broadcast product: numpy's matmul takes a slow non-BLAS loop for an inner size of 1 (~30
    us for LSTM(128) at batch 64)."""
    if m.shape[1] - units == 1:
        np.multiply(m[:, units:], x0[units:], out=out)
    else:
        np.matmul(m[:, units:], x0[units:], out=out)


# ---------------------------------------------------------------- leaving the op
def sequence_output(states: np.ndarray, return_sequences: bool) -> np.ndarray:
    """A fresh ``[B, T, u]`` (processing order) or the last state ``[B, u]``, from the time-major
    ``states [T+1, u, B]`` (slot 0: the initial state)."""
    if return_sequences:
        return np.array(states[1:].transpose(2, 0, 1), order="C")
    return np.array(states[-1].T, order="C")


def upstream_grads(
    grad: np.ndarray, return_sequences: bool, dtype: np.dtype
) -> Tuple[Optional[np.ndarray], np.ndarray]:
    """(dL/dh of every step as ``[T, u, B]`` or None, a fresh ``[u, B]`` dL/dh of the last
    step) from the grad of ``sequence_output``."""
    if return_sequences:
        dseq = np.ascontiguousarray(grad.transpose(1, 2, 0), dtype=dtype)
        return dseq, np.zeros_like(dseq[0])
    return None, np.array(grad.T, dtype=dtype, order="C")


def input_grad(w: np.ndarray, dz: np.ndarray, batch: int, go_backwards: bool) -> np.ndarray:
    """``dx [B, T, F]`` (the input's own step order) from ``dz [g*u, T*B]`` (processing order,
    step-major columns) and ``w [F, g*u]`` with its columns in dz's row order: ``dx_t = W dz_t``
    (a fresh array, seen through a transposed view)."""
    return input_order(w @ dz, batch, go_backwards)


def input_order(dx_cols: np.ndarray, batch: int, go_backwards: bool) -> np.ndarray:
    """``dx [B, T, F]`` in the input's own step order, seen through a transposed view of
    ``dx_cols [F, T*B]`` (processing order, step-major columns; the caller's fresh array)."""
    dx = dx_cols.reshape(dx_cols.shape[0], -1, batch).transpose(2, 1, 0)
    return dx[:, ::-1] if go_backwards else dx


def weight_grads(
    ws: Workspace,
    dz: np.ndarray,
    xs: np.ndarray,
    units: int,
    feats: int,
    gates: int,
    need: Tuple[bool, bool, bool],
) -> Tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]:
    """(dW, dU, db) in Keras' layouts - those ``need`` asks for (W, U, b) - as fresh arrays,
    from one GEMM ``dz @ [h; x; 1]^T`` (``[g*u, T*B] @ [T*B, u+F+1]``) over the state columns
    ``xs`` (see ``state_columns``) and ``dz [g*u, T*B]`` (step t in columns t*B ... (t+1)*B-1).

    ``h[0] = 0``: step 0 adds nothing to dU, so the big GEMM runs over steps 1..T-1 and step 0's
    dW, db part is a small product of its own."""
    if not any(need):
        return None, None, None
    n, (_, k, batch) = units, xs.shape
    cols = xs.transpose(1, 0, 2)  # the feature-major memory, [u+F+1, T+1, B]
    r = ws.take((dz.shape[0], k), dz.dtype)
    np.matmul(dz[:, batch:], cols[:, 1:-1].reshape(k, -1).T, out=r)
    r[:, n:] += dz[:, :batch] @ cols[n:, 0].T
    grads = unpack_weight_grads(r, n, feats, gates, need)
    ws.give(r)  # dw, du, db are copies
    return grads


def unpack_weight_grads(
    r: np.ndarray, units: int, feats: int, gates: int, need: Tuple[bool, bool, bool]
) -> Tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]:
    """(dW, dU, db) - those ``need`` asks for - as fresh arrays in Keras' layouts, from the
    gradient of the step matrix ``r = dL/dM [g*u, u+F(+1)]`` (gate rows in the op's order)."""
    need_w, need_u, need_b = need
    n = units
    dw = unpack_gate_grads(r[:, n : n + feats], n, gates) if need_w else None
    du = unpack_gate_grads(r[:, :n], n, gates) if need_u else None
    db = unpack_gate_grads(r[:, n + feats :], n, gates)[0] if need_b else None
    return dw, du, db
