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
processing order, as in Keras).
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import numpy as np

from ..errors import ConfigError, ShapeError, suggest
from ..function import Function
from ..workspace import Workspace
from .recurrent_layout import (
    by_step,
    first_step,
    gates_by_step,
    input_grad,
    recurrent_kernel,
    roll_gate_columns,
    sequence_output,
    sigmoid_rows,
    split_gates,
    state_columns,
    step_matrix,
    upstream_grads,
    weight_grads,
)


# ---------------------------------------------------------------- activations, in place
def _tanh(a: np.ndarray, out: np.ndarray) -> None:
    np.tanh(a, out=out)


def _sigmoid(a: np.ndarray, out: np.ndarray) -> None:
    # 1 / (1 + e^-a) == (1 + tanh(a / 2)) / 2: one transcendental call and no overflow for any a
    np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


def _relu(a: np.ndarray, out: np.ndarray) -> None:
    np.maximum(a, 0, out=out)


def _linear(a: np.ndarray, out: np.ndarray) -> None:
    if out is not a:
        np.copyto(out, a)


# Each derivative f'(a) is computed from the output y = f(a) (the forward pass keeps only y),
# written into ``out`` (which must not be ``y``).
def _dtanh(y: np.ndarray, out: np.ndarray) -> None:
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)


def _dsigmoid(y: np.ndarray, out: np.ndarray) -> None:
    np.subtract(1, y, out=out)
    out *= y


def _drelu(y: np.ndarray, out: np.ndarray) -> None:
    np.sign(y, out=out)  # y = max(a, 0): 1 where a > 0, else 0


def _dlinear(y: np.ndarray, out: np.ndarray) -> None:
    out.fill(1)


_ACTIVATIONS: Dict[str, Tuple[Callable, Callable]] = {
    "tanh": (_tanh, _dtanh),
    "sigmoid": (_sigmoid, _dsigmoid),
    "relu": (_relu, _drelu),
    "linear": (_linear, _dlinear),
}
#: activation names the fused ops implement; layers fall back to the composed form for others
FUSED_ACTIVATIONS = frozenset(_ACTIVATIONS)


def _activation(name: str, op: str) -> Tuple[Callable, Callable]:
    if name not in _ACTIVATIONS:
        raise ConfigError(
            where=f"op '{op}'",
            expected="an activation the fused op implements",
            got=repr(name),
            fix=suggest(name, _ACTIVATIONS),
        )
    return _ACTIVATIONS[name]


# ---------------------------------------------------------------- shared by every sequence op
class _SequenceOp(Function):
    """Shared plumbing of all three ops: input checks, output layout, upstream grads."""

    gates = 1
    shape_rule = "x [B, T, F], W [F, g*u], U [u, g*u], b [g*u] (g = number of gates)"

    def bias_shape(self, n: int) -> Tuple[int, ...]:
        return (self.gates * n,)

    def _check(self, x, w, u, b, return_sequences, go_backwards) -> None:
        """Check the shapes; keep the weights, sizes, dtype and options."""
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

    def _emit(self, states: np.ndarray) -> np.ndarray:
        """The op's output (a fresh array) from ``states [T+1, u, B]`` (slot 0: the initial)."""
        return sequence_output(states, self.return_sequences)

    def _upstream(self, grad: np.ndarray) -> Tuple[Optional[np.ndarray], np.ndarray]:
        """(dL/dh of every step ``[T, u, B]`` or None, a fresh ``[u, B]`` dL/dh of the last)."""
        return upstream_grads(grad, self.return_sequences, self.dtype)


class _PooledSequenceOp(_SequenceOp):
    """SimpleRNN and LSTM: their work arrays are borrowed from ``self.ws``, a ``Workspace`` made
    by forward; ``release`` (called by the engine when the op is done) gives them all back.
    Forward keeps the state columns ``self.xs`` (``X`` of ``recurrent_layout``) for backward."""

    ws: Optional[Workspace] = None  # None until forward borrows

    def release(self) -> None:
        if self.ws is not None:  # None: forward failed before borrowing anything
            self.ws.release()

    def _grads(self, dz: np.ndarray) -> Tuple:
        """(dx, dW, dU, db), those asked for, from the pre-activation grads ``dz [g*u, T*B]``
        (gate rows in the op's order, step-major columns)."""
        need, n, gates = self.needs_input_grad, self.units, self.gates
        dx = None
        if need[0]:  # dx_t = W @ dz[t]
            w = roll_gate_columns(self.w, n, gates)
            dx = input_grad(w, dz, self.batch, self.go_backwards)
        need_w_u_b = (need[1], need[2], len(need) > 3 and need[3])  # no bias input: three grads
        dw, du, db = weight_grads(self.ws, dz, self.xs, n, self.w.shape[0], gates, need_w_u_b)
        return (dx, dw, du, db)[: len(need)]


class SimpleRNNSequence(_PooledSequenceOp):
    """Keras SimpleRNN over a whole sequence: h_t = act(x_t @ W + h_{t-1} @ U + b), h_0 = 0.

    x [B, T, F], W [F, u], U [u, u], b [u] -> [B, T, u] (return_sequences) or h_T [B, u].
    In the code's names (feature-major ``[u, B]`` states; ``recurrent_layout``), with the state
    columns ``X[t] = [h[t]; x_t; 1]`` and ``M = [U; W; b]^T``, step t is::

        a = M @ X[t];   h[t+1] = act(a)

    BPTT, ``dh`` holding dL/dh[t+1] (the output's grad plus what step t+1 sent back)::

        da[t] = dh * act'(a)   (act' from h[t+1]);   dh <- U @ da[t]   (now dL/dh[t])
        dW, dU, db = one GEMM da @ [h; x; 1]^T;   dx_t = W @ da[t]
    """

    shape_rule = "x [B, T, F], W [F, u], U [u, u], b [u]"

    def forward(
        self, x, w, u, b=None, *, activation="tanh", return_sequences=False, go_backwards=False
    ):
        self._check(x, w, u, b, return_sequences, go_backwards)
        act, self.dact = _activation(activation, self.name)
        ws, n, dtype = Workspace(), self.units, self.dtype
        self.ws = ws
        xs = state_columns(ws, x, n, b is not None, self.go_backwards, dtype)  # [T+1, u+F+1, B]
        h = xs[:, :n]
        m = step_matrix(ws, w, u, b, self.gates, dtype)  # [u, u+F+1]
        a = np.empty((n, self.batch), dtype)  # not h[t+1]: a GEMM into strided rows would copy
        for t in range(len(xs) - 1):
            if t:
                np.matmul(m, xs[t], out=a)  # a = M @ X[t]
            else:
                first_step(m, xs[0], n, out=a)  # h[0] = 0
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
        for t in range(steps - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            da[t] *= dh  # da[t] = dh * act'(a)
            if t:  # h[0] needs no gradient
                np.matmul(u, da[t], out=dh)  # dh <- U @ da[t]
        grads = self._grads(da_cols.reshape(n, -1))
        self.ws.give(da_cols)
        return grads


def _activate_gates(z, sig, g, act, ract, one_tanh: bool) -> None:
    """One step's LSTM gates in place (``z [4u, B]``, its o, i, f rows ``sig``, its g rows):
    o, i, f = ract(z_o, z_i, z_f), g = act(z_g). ``one_tanh``: M's o, i, f rows were halved
    (``step_matrix``), so with sigmoid(a) = (1 + tanh(a / 2)) / 2 one tanh call over all four
    gates does it, then a scale and shift of the sigmoid rows."""
    if one_tanh:
        np.tanh(z, out=z)
        sig *= 0.5
        sig += 0.5
    else:
        ract(sig, sig)
        act(g, g)


class LSTMSequence(_PooledSequenceOp):
    """Keras LSTM over a whole sequence, gates side by side in the order i, f, c, o.

    z_t = x_t @ W + h_{t-1} @ U + b  [B, 4u];  i, f, o = ract(z_i), ract(z_f), ract(z_o);
    c~ = act(z_c);   c_t = f * c_{t-1} + i * c~;   h_t = o * act(c_t);   h_0 = c_0 = 0.
    x [B, T, F], W [F, 4u], U [u, 4u], b [4u] -> [B, T, u] or h_T [B, u]; with
    ``return_cell=True`` the last axis doubles to ``[h | c]`` (2u) so the layer can return c_T.

    In the code's names (``recurrent_layout``: gates in the order o, i, f, g with g = c~, state
    columns ``X[t] = [h[t]; x_t; 1]``, ``M = [U; W; b]^T``), step t is::

        z[t] = M @ X[t];   o, i, f = ract(z_o, z_i, z_f);   g = act(z_g)
        c[t+1] = f * c[t] + i * g;   h[t+1] = o * act(c[t+1])

    BPTT, ``dh`` and ``dc`` holding dL/dh[t+1] and dL/dc[t+1] (outputs' grads plus what step
    t+1 sent back), with the factors ``a`` and ``p`` of every step computed at once::

        dc += dh * p[t]              p = o * act'(c[t+1])
        dz[t] = a[t] * (dh, dc, dc, dc)   per gate o, i, f, g, with
            a = (act(c[t+1]) ract'(o),  g ract'(i),  c[t] ract'(f),  i act'(g))
        dc <- dc * f;   dh <- U @ dz[t]   (now dL/dc[t], dL/dh[t])
        dW, dU, db = one GEMM dz @ [h; x; 1]^T;   dx_t = W @ dz[t]
    """

    gates = 4
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
    ):
        self._check(x, w, u, b, return_sequences, go_backwards)
        act, self.dact = _activation(activation, self.name)
        ract, self.dract = _activation(recurrent_activation, self.name)
        self.return_cell = bool(return_cell)
        ws, n, dtype, batch = Workspace(), self.units, self.dtype, self.batch
        self.ws = ws
        one_tanh = act is _tanh and ract is _sigmoid  # see _activate_gates
        m = step_matrix(ws, w, u, b, self.gates, dtype, halve_sigmoid_rows=one_tanh)
        xs = state_columns(ws, x, n, b is not None, self.go_backwards, dtype)  # [T+1, u+F+1, B]
        h, steps = xs[:, :n], len(xs) - 1
        z = ws.take((steps, 4 * n, batch), dtype)  # z[t]: step t's gates, activated in place
        c = ws.take((steps + 1, n, batch), dtype)  # c[t+1]: the cell state after step t
        act_c = ws.take((steps, n, batch), dtype)  # act(c[t+1])
        c[0] = 0
        o, i, f, g = split_gates(z, n)  # [T, u, B] each: o[t] is step t's output gate
        sig = sigmoid_rows(z, n)  # o, i, f together
        i_g = np.empty((n, batch), dtype)
        for t in range(steps):
            if t:
                np.matmul(m, xs[t], out=z[t])  # z[t] = M @ X[t]
            else:
                first_step(m, xs[0], n, out=z[0])  # h[0] = 0
            _activate_gates(z[t], sig[t], g[t], act, ract, one_tanh)
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
                np.matmul(u, dz[t], out=dh)  # dh <- U @ dz[t]
        self.ws.give(a, p, u_buf)
        grads = self._grads(dz_cols.reshape(4 * n, -1))
        self.ws.give(dz_cols)
        return grads


__all__ = ["SimpleRNNSequence", "LSTMSequence", "FUSED_ACTIVATIONS"]
