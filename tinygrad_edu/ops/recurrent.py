"""Whole-sequence recurrent ops with hand-derived backpropagation through time (BPTT).

``SimpleRNNSequence``, ``LSTMSequence`` and ``GRUSequence`` (in ``recurrent_gru``) each run a
whole layer over ``x [B, T, F]`` in one op, with Keras' weight layouts: ``W [F, g*u]``,
``U [u, g*u]`` (g gates side by side), ``b [g*u]`` (GRU with ``reset_after``: ``b [2, 3u]``).
h_0 = 0 (and c_0 = 0).

This module is the math: each step loop reads like the equations in its class docstring, in
the code's names. How weights, states and gates are packed so that a step is one GEMM - the
step matrix ``M = [U; W; b]^T``, the state columns ``X[t] = [h[t]; x_t; 1]``, the LSTM's gate
order o, i, f, g and its halved sigmoid rows, step 0 - is ``recurrent_layout``.

Why fused: the composed form (a Python loop of Tensor ops, see ``layers/recurrent_cells.py``)
records ~15 graph nodes per time step. SimpleRNN and LSTM here cost, for the whole sequence:

- forward: one GEMM per step, ``M @ X[t]`` (``[g*u, u+F+1] @ [u+F+1, B]``: the input projection
  and the bias ride along in the recurrent GEMM), then in-place gate arithmetic;
- backward: the elementwise derivative factors of all steps at once (vectorized over T); the
  step loop only carries dh (and dc) back through ``dh <- U @ dz[t]``; then ONE GEMM
  ``dz @ [h; x; 1]^T`` gives dW, dU and db together, and one more ``dx = W @ dz``;
- memory: the multi-megabyte work arrays, and the packed weights, are borrowed from the op's
  ``Workspace`` (``tinygrad_edu.workspace``: reused from call to call, since fresh ones cost a
  page fault per 4 KB). Forward-only and backward-only temporaries go back as soon as the pass
  ends; what backward reads stays until the engine calls ``release`` (the graph is freed, or was
  never recorded). Everything returned - output and gradients - is a fresh array.

Measured on 2 cores, the LSTM(128) op in the training step of ``benchmarks/bench_rnn.py`` (batch
64, 20 steps) spends a little over half of its forward + backward time in those GEMMs, which run
near the BLAS peak; most of the rest is numpy's elementwise calls (13 a step, forward and
backward, plus the vectorized passes over all steps), bound by memory traffic more than by call
overhead.

Keyword arguments common to all three: ``activation`` (and ``recurrent_activation``) names from
``FUSED_ACTIVATIONS``; ``return_sequences`` (output ``[B, T, u]`` instead of the last state
``[B, u]``); ``go_backwards`` (step s reads ``x[:, T-1-s]``; the returned sequence stays in
processing order, as in Keras); the dropout masks ``input_mask [G, B, F]`` (d, on x_t) and
``recurrent_mask [G, B, u]`` (m, on h_{t-1}), each the same at every step, with G = 1 (one mask
for every gate) or G = g (one per gate, in Keras' gate order) - ``recurrent_masks``. With masks,
SimpleRNN and LSTM multiply the state columns by ``Q = [m; d; 1]`` (per gate group) before the
step's GEMM: ``M @ (Q * X[t])``; without, nothing changes.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..workspace import Workspace
from .recurrent_activations import (
    FUSED_ACTIVATIONS,
    _sigmoid,
    _tanh,
    activate_lstm_gates,
    activation_pair,
)
from .recurrent_layout import (
    by_step,
    first_step,
    gates_by_step,
    input_grad,
    input_order,
    recurrent_kernel,
    roll_gate_columns,
    sequence_output,
    sigmoid_rows,
    split_gates,
    state_columns,
    step_matrix,
    unpack_weight_grads,
    upstream_grads,
    weight_grads,
)
from .recurrent_masks import (
    column_mask,
    masked_matmul,
    masked_matmul_da,
    masked_matmul_dv,
    op_masks,
)


# ---------------------------------------------------------------- shared by every sequence op
class _SequenceOp(Function):
    """Shared plumbing of all three ops: input checks, dropout masks, output layout, upstream
    grads."""

    gates = 1
    gate_roll = 0  # the op's gate order is Keras' rolled by this many gates (LSTM: 1)
    shape_rule = "x [B, T, F], W [F, g*u], U [u, g*u], b [g*u] (g = number of gates)"

    def bias_shape(self, n: int) -> Tuple[int, ...]:
        return (self.gates * n,)

    def _check(self, x, w, u, b, return_sequences, go_backwards, masks=(None, None)) -> None:
        """Check the shapes; keep the weights, sizes, dtype, options and the dropout masks
        (``self.q_x [G, F, B]``, ``self.q_h [G, u, B]`` in the op's gate order, or None)."""
        n = u.shape[0] if u.ndim == 2 else -1
        g = self.gates * n
        bad = (
            x.ndim != 3
            or w.shape != (x.shape[-1], g)
            or u.shape != (n, g)
            or (b is not None and b.shape != self.bias_shape(n))
        )
        if bad:
            raise ShapeError(
                where=f"op '{self.name}'",
                expected=self.shape_rule,
                got=f"x {x.shape}, W {w.shape}, U {u.shape}, b {None if b is None else b.shape}",
                fix="use the weight layouts of the Keras layer (kernel, recurrent_kernel, bias)",
            )
        self.return_sequences, self.go_backwards = bool(return_sequences), bool(go_backwards)
        self.w, self.u, self.units, self.batch = w, u, n, x.shape[0]
        self.dtype = np.result_type(x, w, u)
        where, sizes = f"op '{self.name}'", (x.shape[-1], n)
        self.q_x, self.q_h = (
            op_masks(mask, name, where, self.gates, self.batch, size, self.gate_roll, self.dtype)
            for mask, name, size in zip(masks, ("input_mask", "recurrent_mask"), sizes)
        )

    def _emit(self, states: np.ndarray) -> np.ndarray:
        """The op's output (a fresh array) from ``states [T+1, u, B]`` (slot 0: the initial)."""
        return sequence_output(states, self.return_sequences)

    def _upstream(self, grad: np.ndarray) -> Tuple[Optional[np.ndarray], np.ndarray]:
        """(dL/dh of every step ``[T, u, B]`` or None, a fresh ``[u, B]`` dL/dh of the last)."""
        return upstream_grads(grad, self.return_sequences, self.dtype)

    def _input_grad(self, w: np.ndarray, dz: np.ndarray) -> np.ndarray:
        """``dx [B, T, F]`` from ``dz [g*u, T*B]`` and ``w [F, g*u]`` (columns in dz's row
        order): ``dx_t = W @ dz[t]``, with an input mask ``dx_t = d * (W @ dz[t])`` per gate
        group."""
        if self.q_x is None:
            return input_grad(w, dz, self.batch, self.go_backwards)
        dx = np.empty((w.shape[0], dz.shape[1] // self.batch, self.batch), self.dtype)
        masked_matmul_dv(w, self.q_x, dz, dx, np.empty_like(dx))
        return input_order(dx.reshape(w.shape[0], -1), self.batch, self.go_backwards)


class _PooledSequenceOp(_SequenceOp):
    """SimpleRNN and LSTM: their work arrays are borrowed from ``self.ws``, a ``Workspace`` made
    by forward; ``release`` (called by the engine when the op is done) gives them all back.
    Forward keeps the state columns ``self.xs`` (``X`` of ``recurrent_layout``) for backward,
    and the column mask ``self.q = [m; d; 1]`` (None without dropout)."""

    ws: Optional[Workspace] = None  # None until forward borrows

    def release(self) -> None:
        if self.ws is not None:  # None: forward failed before borrowing anything
            self.ws.release()

    def _start(self, x: np.ndarray, b: Optional[np.ndarray]) -> Tuple[Workspace, np.ndarray]:
        """The op's workspace, the state columns ``X [T+1, u+F+1, B]`` and the column mask."""
        ws = self.ws = Workspace()
        n, feats = self.units, x.shape[-1]
        self.q = None
        if self.q_x is not None or self.q_h is not None:
            self.q = column_mask(self.q_h, self.q_x, n, feats, b is not None)
        self.q_scratch = None if self.q is None else np.empty(self.q.shape[1:], self.dtype)
        xs = state_columns(ws, x, n, b is not None, self.go_backwards, self.dtype)
        return ws, xs

    def _step(self, m: np.ndarray, xs: np.ndarray, t: int, out: np.ndarray) -> None:
        """``out = M @ X[t]``, with dropout ``M @ (Q * X[t])`` (per gate group)."""
        if self.q is not None:
            masked_matmul(m, self.q, xs[t], out, self.q_scratch)
        elif t:
            np.matmul(m, xs[t], out=out)
        else:
            first_step(m, xs[0], self.units, out=out)  # h[0] = 0: the x and bias rows only

    def _grads(self, dz: np.ndarray) -> Tuple:
        """(dx, dW, dU, db), those asked for, from the pre-activation grads ``dz [g*u, T*B]``
        (gate rows in the op's order, step-major columns)."""
        need, n, gates, feats = self.needs_input_grad, self.units, self.gates, self.w.shape[0]
        dx = None
        if need[0]:  # dx_t = W @ dz[t]  (d * (W @ dz[t]) with an input mask)
            dx = self._input_grad(roll_gate_columns(self.w, n, gates), dz)
        need_w_u_b = (need[1], need[2], len(need) > 3 and need[3])  # no bias input: three grads
        if self.q is None:
            dw, du, db = weight_grads(self.ws, dz, self.xs, n, feats, gates, need_w_u_b)
        elif any(need_w_u_b):  # dM = dz @ (Q * [h; x; 1])^T per gate group, every step
            cols = self.xs.transpose(1, 0, 2)[:, :-1]  # [u+F+1, T, B]: X[0] ... X[T-1]
            scratch = self.ws.take(cols.shape, self.dtype)
            r = masked_matmul_da(dz, self.q, cols, scratch)
            self.ws.give(scratch)
            dw, du, db = unpack_weight_grads(r, n, feats, gates, need_w_u_b)
        else:
            dw = du = db = None
        return (dx, dw, du, db)[: len(need)]


class SimpleRNNSequence(_PooledSequenceOp):
    """Keras SimpleRNN over a whole sequence: h_t = act(x_t @ W + h_{t-1} @ U + b), h_0 = 0;
    with dropout masks d [B, F] and m [B, u]: h_t = act((d * x_t) @ W + (m * h_{t-1}) @ U + b).

    x [B, T, F], W [F, u], U [u, u], b [u] -> [B, T, u] (return_sequences) or h_T [B, u].
    In the code's names (feature-major ``[u, B]`` states; ``recurrent_layout``), with the state
    columns ``X[t] = [h[t]; x_t; 1]``, ``M = [U; W; b]^T`` and the column mask ``Q = [m; d; 1]``
    (``Q * X[t]`` is ``X[t]`` without dropout), step t is::

        a = M @ (Q * X[t]);   h[t+1] = act(a)

    BPTT, ``dh`` holding dL/dh[t+1] (the output's grad plus what step t+1 sent back)::

        da[t] = dh * act'(a)   (act' from h[t+1]);   dh <- m * (U @ da[t])   (now dL/dh[t])
        dW, dU, db = one GEMM da @ (Q * [h; x; 1])^T;   dx_t = d * (W @ da[t])
    """

    shape_rule = "x [B, T, F], W [F, u], U [u, u], b [u]"

    def forward(
        self,
        x,
        w,
        u,
        b=None,
        *,
        activation="tanh",
        return_sequences=False,
        go_backwards=False,
        input_mask=None,
        recurrent_mask=None,
    ):
        masks = (input_mask, recurrent_mask)
        self._check(x, w, u, b, return_sequences, go_backwards, masks)
        act, self.dact = activation_pair(activation, self.name)
        ws, xs = self._start(x, b)  # X: [T+1, u+F+1, B]
        n = self.units
        h = xs[:, :n]
        m = step_matrix(ws, w, u, b, self.gates, self.dtype)  # [u, u+F+1]
        a = np.empty((n, self.batch), self.dtype)  # not h[t+1]: a GEMM into strided rows copies
        for t in range(len(xs) - 1):
            self._step(m, xs, t, out=a)  # a = M @ (Q * X[t])
            act(a, h[t + 1])
        ws.give(m)
        self.xs = xs  # backward's, until release()
        return self._emit(h)

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        n, u, h = self.units, self.u, self.xs[:, : self.units]
        steps = len(h) - 1
        da_cols = self.ws.take((n, steps, self.batch), self.dtype)  # the weight GEMM's [u, T*B]
        da = by_step(da_cols)  # da[t]: step t's [u, B]
        self.dact(h[1:], da)  # act'(a) of every step at once, from h[t+1]
        scratch = None if self.q_h is None else np.empty_like(dh)
        for t in range(steps - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            da[t] *= dh  # da[t] = dh * act'(a)
            if t:  # h[0] needs no gradient
                masked_matmul_dv(u, self.q_h, da[t], dh, scratch)  # dh <- m * (U @ da[t])
        grads = self._grads(da_cols.reshape(n, -1))
        self.ws.give(da_cols)
        return grads


class LSTMSequence(_PooledSequenceOp):
    """Keras LSTM over a whole sequence, gates side by side in the order i, f, c, o.

    z_t = x_t @ W + h_{t-1} @ U + b  [B, 4u];  i, f, o = ract(z_i), ract(z_f), ract(z_o);
    c~ = act(z_c);   c_t = f * c_{t-1} + i * c~;   h_t = o * act(c_t);   h_0 = c_0 = 0.
    x [B, T, F], W [F, 4u], U [u, 4u], b [4u] -> [B, T, u] or h_T [B, u]; with
    ``return_cell=True`` the last axis doubles to ``[h | c]`` (2u) so the layer can return c_T.
    Dropout masks: gate k's columns of z_t see ``(d_k * x_t) @ W + (m_k * h_{t-1}) @ U``
    (``d_k = d``, ``m_k = m`` with one mask for every gate).

    In the code's names (``recurrent_layout``: gates in the order o, i, f, g with g = c~, state
    columns ``X[t] = [h[t]; x_t; 1]``, ``M = [U; W; b]^T``, column mask ``Q = [m; d; 1]``, one
    per gate group; ``Q * X[t]`` is ``X[t]`` without dropout), step t is::

        z[t] = M @ (Q * X[t]);   o, i, f = ract(z_o, z_i, z_f);   g = act(z_g)
        c[t+1] = f * c[t] + i * g;   h[t+1] = o * act(c[t+1])

    BPTT, ``dh`` and ``dc`` holding dL/dh[t+1] and dL/dc[t+1] (outputs' grads plus what step
    t+1 sent back), with the factors ``a`` and ``p`` of every step computed at once::

        dc += dh * p[t]              p = o * act'(c[t+1])
        dz[t] = a[t] * (dh, dc, dc, dc)   per gate o, i, f, g, with
            a = (act(c[t+1]) ract'(o),  g ract'(i),  c[t] ract'(f),  i act'(g))
        dc <- dc * f;   dh <- m * (U @ dz[t])   (now dL/dc[t], dL/dh[t])
        dW, dU, db = one GEMM dz @ (Q * [h; x; 1])^T;   dx_t = d * (W @ dz[t])
    (with one mask per gate, the products by m, d and Q are per gate group, summed for dh, dx)
    """

    gates = 4
    gate_roll = 1
    shape_rule = "x [B, T, F], W [F, 4u], U [u, 4u], b [4u]"

    def forward(
        self,
        x,
        w,
        u,
        b=None,
        *,
        activation="tanh",
        recurrent_activation="sigmoid",
        return_sequences=False,
        go_backwards=False,
        return_cell=False,
        input_mask=None,
        recurrent_mask=None,
    ):
        masks = (input_mask, recurrent_mask)
        self._check(x, w, u, b, return_sequences, go_backwards, masks)
        act, self.dact = activation_pair(activation, self.name)
        ract, self.dract = activation_pair(recurrent_activation, self.name)
        self.return_cell = bool(return_cell)
        n, dtype, batch = self.units, self.dtype, self.batch
        ws, xs = self._start(x, b)  # X: [T+1, u+F+1, B]
        one_tanh = act is _tanh and ract is _sigmoid  # see activate_lstm_gates
        m = step_matrix(ws, w, u, b, self.gates, dtype, halve_sigmoid_rows=one_tanh)
        h, steps = xs[:, :n], len(xs) - 1
        z = ws.take((steps, 4 * n, batch), dtype)  # z[t]: step t's gates, activated in place
        c = ws.take((steps + 1, n, batch), dtype)  # c[t+1]: the cell state after step t
        act_c = ws.take((steps, n, batch), dtype)  # act(c[t+1])
        c[0] = 0
        o, i, f, g = split_gates(z, n)  # [T, u, B] each: o[t] is step t's output gate
        sig = sigmoid_rows(z, n)  # o, i, f together
        i_g = np.empty((n, batch), dtype)
        for t in range(steps):
            self._step(m, xs, t, out=z[t])  # z[t] = M @ (Q * X[t])
            activate_lstm_gates(z[t], sig[t], g[t], act, ract, one_tanh)
            np.multiply(f[t], c[t], out=c[t + 1])  # c[t+1] = f * c[t] + i * g
            np.multiply(i[t], g[t], out=i_g)
            c[t + 1] += i_g
            act(c[t + 1], act_c[t])  # h[t+1] = o * act(c[t+1])
            np.multiply(o[t], act_c[t], out=h[t + 1])
        ws.give(m)
        self.xs, self.z, self.c, self.act_c = xs, z, c, act_c  # backward's, until release()
        out = self._emit(h)
        if not self.return_cell:
            return out
        return np.concatenate([out, self._emit(c)], axis=-1)

    def _factors(self) -> Tuple[np.ndarray, np.ndarray]:
        """``a [T, 4u, B]`` and ``p [T, u, B]`` of the class docstring, for every step at once
        (vectorized over T), in workspace arrays."""
        n, z, act_c = self.units, self.z, self.act_c
        a, p = self.ws.take(z.shape, self.dtype), self.ws.take(act_c.shape, self.dtype)
        o, i, f, g = split_gates(z, n)
        a_o, a_i, a_f, a_g = split_gates(a, n)
        self.dract(sigmoid_rows(z, n), sigmoid_rows(a, n))  # ract'(o), ract'(i), ract'(f)
        a_o *= act_c
        a_i *= g
        a_f *= self.c[:-1]
        self.dact(g, a_g)
        a_g *= i
        self.dact(act_c, p)
        p *= o
        return a, p

    def backward(self, grad):
        n, dtype = self.units, self.dtype
        grad_h, grad_c = (grad[..., :n], grad[..., n:]) if self.return_cell else (grad, None)
        dseq, dh = self._upstream(grad_h)
        dc_seq, dc = (None, np.zeros_like(dh)) if grad_c is None else self._upstream(grad_c)
        u_buf, u = recurrent_kernel(self.ws, self.u, self.gates, dtype)  # gates o, i, f, g
        a, p = self._factors()
        steps = len(a)
        f = split_gates(self.z, n)[2]
        dz_cols = self.ws.take((4 * n, steps, self.batch), dtype)  # the weight GEMM's [4u, T*B]
        dz = by_step(dz_cols)  # dz[t]: step t's [4u, B]
        dz_gates, a_gates = gates_by_step(dz_cols, n), a.reshape(steps, 4, n, self.batch)
        dh_p = np.empty_like(dh)
        scratch = None if self.q_h is None else np.empty_like(dh)
        for t in range(steps - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            if dc_seq is not None:
                dc += dc_seq[t]
            np.multiply(dh, p[t], out=dh_p)  # dc += dh * p[t]
            dc += dh_p
            np.multiply(a_gates[t, 0], dh, out=dz_gates[t, 0])  # dz_o = a_o * dh
            np.multiply(a_gates[t, 1:], dc, out=dz_gates[t, 1:])  # dz_i, dz_f, dz_g = a * dc
            if t:  # h[0] and c[0] need no gradient
                dc *= f[t]
                masked_matmul_dv(u, self.q_h, dz[t], dh, scratch)  # dh <- m * (U @ dz[t])
        self.ws.give(a, p, u_buf)
        grads = self._grads(dz_cols.reshape(4 * n, -1))
        self.ws.give(dz_cols)
        return grads


__all__ = ["SimpleRNNSequence", "LSTMSequence", "FUSED_ACTIVATIONS"]
