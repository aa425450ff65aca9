"""Whole-sequence recurrent ops with hand-derived backpropagation through time (BPTT).

``SimpleRNNSequence``, ``LSTMSequence`` and ``GRUSequence`` (in ``recurrent_gru``) each run a
whole layer over ``x [B, T, F]`` in one op, with Keras' weight layouts: ``W [F, g*u]``,
``U [u, g*u]`` (g gates side by side), ``b [g*u]`` (GRU with ``reset_after``: ``b [2, 3u]``).
h_0 = 0 (and c_0 = 0).

Why fused: the composed form (a Python loop of Tensor ops, see ``layers/recurrent_cells.py``)
records ~15 graph nodes per time step. SimpleRNN and LSTM here cost, for the whole sequence:

- forward: one GEMM per step, ``z_t^T = [U; W; b]^T [h_{t-1}; x_t; 1]`` (``[g*u, u+F+1] @
  [u+F+1, B]``): the states are stored feature-major with x and a row of ones under them, so the
  input projection and the bias ride along in the recurrent GEMM, which writes ``z_t`` straight
  into its slot; then in-place gate arithmetic. Step 0 multiplies only the x and bias rows
  (h_0 = 0), and the LSTM's c_1 is just i * c~ (c_0 = 0);
- backward: the elementwise derivative factors of all steps at once (vectorized over T); the step
  loop only carries dh (and dc) back through ``dh_{t-1} = U dz_t``; then ONE GEMM
  ``dz [g*u, T*B] @ [h; x; 1]^T`` over steps 1..T-1 gives dU, dW and db together (step 0 adds
  nothing to dU; its dW, db part is a small product), and one more ``dx = dz W^T``;
- memory: the multi-megabyte work arrays, and the rearranged weights, are borrowed from the
  op's ``Workspace`` (``tinygrad_edu.workspace``: reused from call to call, since fresh ones
  cost a page fault per 4 KB). Forward-only and backward-only temporaries go back as soon as the
  pass ends; what backward reads stays until the engine calls ``release`` (the graph is freed, or
  was never recorded). Everything returned - output and gradients - is a fresh array.

Feature-major (``[k, B]`` per step) because OpenBLAS runs these small GEMMs fastest that way
(measured on 2 cores: ``[512, 128] @ [128, 64]`` at ~320 GFLOP/s, the batch-major
``[64, 128] @ [128, 512]`` at ~150) and each gate is then a contiguous block of rows; the weights
go in as a C-contiguous ``[g*u, u+F+1]`` copy (~8% faster than the transposed view, see
``_gate_matrix``). Measured on 2 cores, the LSTM(128) op in the training step of
``benchmarks/bench_rnn.py`` (batch 64, 20 steps) spends a little over half of its forward +
backward time in those GEMMs, which run near the BLAS peak; most of the rest is numpy's
elementwise calls (13 a step, forward and backward, plus the vectorized passes over all steps),
bound by memory traffic more than by call overhead.

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

    def _emit(self, hs: np.ndarray) -> np.ndarray:
        """``[B, T, u]`` (processing order) or the last state ``[B, u]`` from ``[u, T+1, B]``;
        always a copy (``hs`` may be a workspace buffer)."""
        if self.return_sequences:
            return np.array(hs[:, 1:].transpose(2, 1, 0), order="C")
        return np.array(hs[:, -1].T, order="C")

    def _upstream(self, grad: np.ndarray) -> Tuple[Optional[np.ndarray], np.ndarray]:
        """(dL/dh_t of every step as ``[T, u, B]`` or None, a fresh ``[u, B]`` dL/dh_T)."""
        if self.return_sequences:
            dseq = np.ascontiguousarray(grad.transpose(1, 2, 0), dtype=self.dtype)
            return dseq, np.zeros_like(dseq[0])
        return None, np.array(grad.T, dtype=self.dtype, order="C")


class _PooledSequenceOp(_SequenceOp):
    """SimpleRNN and LSTM: their work arrays are borrowed from ``self.ws``, a ``Workspace`` made
    by forward; ``release`` (called by the engine when the op is done) gives them all back."""

    ws: Optional[Workspace] = None  # None until forward borrows

    def release(self) -> None:
        if self.ws is not None:  # None: forward failed before borrowing anything
            self.ws.release()

    def _state_columns(self, x: np.ndarray, bias: bool) -> np.ndarray:
        """``[u+F(+1), T+1, B]`` from the workspace: slot t holds the column ``[h_{t-1}; x_t; 1]``
        of step t (processing order); slot t+1's h rows receive the state after step t."""
        n, (batch, steps, feats) = self.units, x.shape
        hs = self.ws.take((n + feats + bias, steps + 1, batch), self.dtype)
        hs[:n, 0] = 0
        hs[n : n + feats, :steps] = (x[:, ::-1] if self.go_backwards else x).transpose(2, 1, 0)
        hs[n + feats :, :steps] = 1
        hs[n:, steps] = 0
        return hs

    def _rolled_copy(self, dst: np.ndarray, src: np.ndarray, halve: Optional[float]) -> None:
        """``dst = src`` for ``[g*u, m]`` blocks (gates along the first axis, in Keras' order in
        ``src``): LSTM's gates rolled to o, i, f, c (see ``_roll``), o, i, f times ``halve``."""
        n = self.units
        if self.gates == 1:
            np.copyto(dst, src)
        elif halve is None:
            np.copyto(dst[:n], src[3 * n :])
            np.copyto(dst[n:], src[: 3 * n])
        else:
            np.multiply(src[3 * n :], halve, out=dst[:n])
            np.multiply(src[: 2 * n], halve, out=dst[n : 3 * n])
            np.copyto(dst[3 * n :], src[2 * n : 3 * n])

    def _gate_matrix(self, w, u, b, halve: Optional[float] = None) -> np.ndarray:
        """The forward GEMM's left operand ``[U; W; b]^T`` as a C-contiguous ``[g*u, u+F(+1)]``
        array from the workspace in ``self.dtype``, gates rolled and halved as in ``_rolled_copy``.
        C-contiguous, not a transposed view: measured on 2 cores, ``[512, 130] @ [130, 64]``
        takes 22.5 us so, 24.6 with the view. From an F-ordered U (the orthogonal initializer
        makes one) that is a plain copy; from a C-ordered U, numpy's transposing copy is four
        times slower when the row stride is a power of two bytes (g*u = 512), so the rows go
        first into an array padded by 16 numbers a row."""
        parts = [u, w] + ([b[None]] if b is not None else [])
        cols, k = u.shape[1], sum(p.shape[0] for p in parts)
        m = self.ws.take((cols, k), self.dtype)
        buf = None if u.flags.f_contiguous else self.ws.take((k, cols + 16), self.dtype)
        dst = m if buf is None else buf[:, :cols].T  # [g*u, k] either way
        j = 0
        for p in parts:
            self._rolled_copy(dst[:, j : j + p.shape[0]], p.T, halve)
            j += p.shape[0]
        if buf is not None:
            np.copyto(m, dst)
            self.ws.give(buf)
        return m

    def _rolled_u(self) -> Tuple[np.ndarray, np.ndarray]:
        """(the workspace array to give back, U with its gate columns rolled), in U's memory
        order (a C-ordered copy of an F-ordered U would be a slow transposing copy)."""
        shape = self.u.shape
        if self.u.flags.f_contiguous:
            buf = self.ws.take(shape[::-1], self.dtype)
            ur = buf.T
        else:
            buf = ur = self.ws.take(shape, self.dtype)
        self._rolled_copy(ur.T, self.u.T, None)
        return buf, ur

    def _grads(
        self, dz: np.ndarray, w: np.ndarray, layout: Callable[[np.ndarray], np.ndarray]
    ) -> Tuple:
        """(dx, dW, dU, db) from the pre-activation grads ``dz [g*u, T*B]`` whose rows match
        ``w``'s columns: dU, dW and db from one GEMM ``dz @ [h; x; 1]^T`` (``[g*u, T*B] @
        [T*B, u+F+1]``, step 0 apart); ``layout`` turns a ``[g*u, m]`` block into the weight
        layout ``[m, g*u]`` (a fresh array)."""
        need, n, feats = self.needs_input_grad, self.units, w.shape[0]
        dx = dw = du = db = None
        if need[0]:
            dx = (w @ dz).reshape(feats, -1, self.batch).transpose(2, 1, 0)
            dx = dx[:, ::-1] if self.go_backwards else dx
        if any(need[1:]):
            # h_0 = 0: step 0 adds nothing to dU, so the big GEMM leaves it out (dz [g*u, T*B]
            # and [h; x; 1] [u+F+1, T*B] hold step t in columns t*B ... (t+1)*B - 1); its dW, db
            # part is a small product of its own
            k, batch = self.hs.shape[0], self.batch
            r = self.ws.take((dz.shape[0], k), self.dtype)
            np.matmul(dz[:, batch:], self.hs[:, 1:-1].reshape(k, -1).T, out=r)
            r[:, n:] += dz[:, :batch] @ self.hs[n:, 0].T
            du = layout(r[:, :n]) if need[2] else None
            dw = layout(r[:, n : n + feats]) if need[1] else None
            db = layout(r[:, n + feats :])[0] if len(need) > 3 and need[3] else None
            self.ws.give(r)  # du, dw, db are fresh arrays (``layout`` copies)
        return (dx, dw, du, db)[: len(need)]  # no bias input: three grads


def _small_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = a @ b`` for a small inner size (step 0's x and bias rows): numpy's matmul takes a
    slow non-BLAS loop for an inner size of 1 (~30 us for LSTM(128) at batch 64), a broadcast
    product does not."""
    if a.shape[1] == 1:
        np.multiply(a, b, out=out)
    else:
        np.matmul(a, b, out=out)


def _transposed(rows: np.ndarray) -> np.ndarray:
    """``rows.T`` as a fresh C-contiguous array - always a copy: ``np.ascontiguousarray`` would
    hand back a view of the workspace when ``rows.T`` is already contiguous (one unit)."""
    return np.array(rows.T, order="C")


class SimpleRNNSequence(_PooledSequenceOp):
    """Keras SimpleRNN over a whole sequence: h_t = act(x_t @ W + h_{t-1} @ U + b), h_0 = 0.

    x [B, T, F], W [F, u], U [u, u], b [u] -> [B, T, u] (return_sequences) or h_T [B, u].
    BPTT, with a_t the pre-activation and dh_t = dL/dh_t (output grad + what step t+1 sends back):
    da_t = dh_t * act'(a_t);  dh_{t-1} += da_t @ U^T;  dU = sum_t h_{t-1}^T da_t;
    dW = sum_t x_t^T da_t;  db = sum_t da_t (over the batch too);  dx_t = da_t @ W^T.
    """

    shape_rule = "x [B, T, F], W [F, u], U [u, u], b [u]"

    def forward(
        self, x, w, u, b=None, *, activation="tanh", return_sequences=False, go_backwards=False
    ):
        self._check(x, w, u, b, return_sequences, go_backwards)
        act, self.dact = _activation(activation, self.name)
        self.ws = Workspace()
        n, hs = self.units, self._state_columns(x, b is not None)
        m = self._gate_matrix(w, u, b)  # [u, u+F+1]
        a = np.empty((n, hs.shape[2]), self.dtype)  # (a GEMM writing into hs would copy)
        for t in range(hs.shape[1] - 1):
            if t:
                np.matmul(m, hs[:, t], out=a)  # [u, u+F+1] @ [u+F+1, B]
            else:  # h_0 = 0: only the x and bias rows
                _small_matmul(m[:, n:], hs[n:, 0], a)
            act(a, hs[:n, t + 1])
        self.ws.give(m)
        self.hs = hs  # backward's; back to the pool in release()
        return self._emit(hs[:n])

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        hs, u, n = self.hs, self.u, self.units
        steps = hs.shape[1] - 1
        da = self.ws.take((n, steps, self.batch), self.dtype)  # [u, T, B]: da_t is da[:, t]
        self.dact(hs[:n, 1:], da)  # act'(a_t) of every step at once
        for t in range(steps - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            da[:, t] *= dh  # da_t = dh_t * act'(a_t)
            if t:  # the initial state needs no gradient
                np.matmul(u, da[:, t], out=dh)  # dh_{t-1} = U da_t  ([u, u] @ [u, B])
        grads = self._grads(da.reshape(n, -1), self.w, _transposed)
        self.ws.give(da)
        return grads


class LSTMSequence(_PooledSequenceOp):
    """Keras LSTM over a whole sequence, gates side by side in the order i, f, c, o.

    z_t = x_t @ W + h_{t-1} @ U + b  [B, 4u];  i, f, o = ract(z_i), ract(z_f), ract(z_o);
    c~ = act(z_c);   c_t = f * c_{t-1} + i * c~;   h_t = o * act(c_t);   h_0 = c_0 = 0.
    x [B, T, F], W [F, 4u], U [u, 4u], b [4u] -> [B, T, u] or h_T [B, u]; with
    ``return_cell=True`` the last axis doubles to ``[h | c]`` (2u) so the layer can return c_T.
    BPTT: dc_t = dc_{t+1} * f_{t+1} + dh_t * o * act'(c_t);   dz_i = dc_t * c~ * ract'(i),
    dz_f = dc_t * c_{t-1} * ract'(f),  dz_c = dc_t * i * act'(c~),  dz_o = dh_t * act(c_t) *
    ract'(o);   dh_{t-1} = dz_t @ U^T;  dU, dW, db, dx as for SimpleRNN with dz in place of da.

    Inside, the gates are in the order o, i, f, c (Keras' order rolled by one gate, see
    ``_roll``): the three ``ract`` gates are then one block of rows in the forward pass, and the
    three gates whose gradient is a multiple of dc (i, f, c) one block in the backward pass.
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
        n, self.return_cell = self.units, bool(return_cell)
        self.ws = Workspace()
        # sigmoid(a) = (1 + tanh(a / 2)) / 2: with the o, i, f columns halved here (exact in
        # floating point), one tanh call per step activates all four gates
        fast = act is _tanh and ract is _sigmoid
        m = self._gate_matrix(w, u, b, 0.5 if fast else None)  # [4u, u+F+1]
        hs = self._state_columns(x, b is not None)
        steps, batch = hs.shape[1] - 1, hs.shape[2]
        z = self.ws.take((steps, 4 * n, batch), self.dtype)  # activated gates [o; i; f; c~]
        cs = self.ws.take((steps + 1, n, batch), self.dtype)  # c_t in slot t+1
        ac = self.ws.take((steps, n, batch), self.dtype)  # act(c_t)
        cs[0] = 0
        tmp = np.empty((n, batch), self.dtype)
        for t in range(steps):
            g = z[t]
            if t:
                np.matmul(m, hs[:, t], out=g)  # [4u, u+F+1] @ [u+F+1, B]: h, x and 1 at once
            else:  # h_0 = 0: only the x and bias rows
                _small_matmul(m[:, n:], hs[n:, 0], g)
            sig, o, i, f, cc = g[: 3 * n], g[:n], g[n : 2 * n], g[2 * n : 3 * n], g[3 * n :]
            if fast:
                np.tanh(g, out=g)
                sig *= 0.5
                sig += 0.5
            else:
                ract(sig, sig)
                act(cc, cc)
            if t:
                np.multiply(f, cs[t], out=cs[t + 1])
                np.multiply(i, cc, out=tmp)
                cs[t + 1] += tmp
            else:  # c_0 = 0
                np.multiply(i, cc, out=cs[1])
            act(cs[t + 1], ac[t])
            np.multiply(o, ac[t], out=hs[:n, t + 1])
        self.ws.give(m)
        self.hs, self.cs, self.ac, self.z = hs, cs, ac, z  # backward's, until release()
        out = self._emit(hs[:n])
        if not self.return_cell:
            return out
        c_out = cs.transpose(1, 0, 2)  # [u, T+1, B] like the h rows of hs
        return np.concatenate([out, self._emit(c_out)], axis=-1)

    def _factors(self) -> Tuple[np.ndarray, np.ndarray]:
        """The derivative factors of every step at once (vectorized over T), from the workspace:
        ``a [T, 4u, B] = [act(c_t) ract'(o); c~ ract'(i); c_{t-1} ract'(f); i act'(c~)]``
        (dz_t = a_t times dh_t for o, times dc_t for i, f, c) and ``p = o act'(c_t)``
        ``[T, u, B]``."""
        n, z, ac = self.units, self.z, self.ac
        o, i, cc = z[:, :n], z[:, n : 2 * n], z[:, 3 * n :]
        a, p = self.ws.take(z.shape, self.dtype), self.ws.take(ac.shape, self.dtype)
        self.dract(z[:, : 3 * n], a[:, : 3 * n])
        a[:, :n] *= ac
        a[:, n : 2 * n] *= cc
        a[:, 2 * n : 3 * n] *= self.cs[:-1]
        self.dact(cc, a[:, 3 * n :])
        a[:, 3 * n :] *= i
        self.dact(ac, p)
        p *= o
        return a, p

    def backward(self, grad):
        n = self.units
        dc_seq, dc = None, None
        if self.return_cell:
            grad, grad_c = grad[..., :n], grad[..., n:]
            dc_seq, dc = self._upstream(grad_c)
        dseq, dh = self._upstream(grad)
        dc = np.zeros_like(dh) if dc is None else dc
        z, (buf, u) = self.z, self._rolled_u()  # U, gates rolled
        steps, g, batch = z.shape
        a, p = self._factors()
        dz = self.ws.take((g, steps, batch), self.dtype)  # [4u, T, B]: dz_t is dz[:, t]
        a4, dz4 = a.reshape(steps, 4, n, batch), dz.reshape(4, n, steps, batch)
        tmp = np.empty_like(dh)
        for t in range(steps - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            if dc_seq is not None:
                dc += dc_seq[t]
            np.multiply(dh, p[t], out=tmp)  # dc_t = dc_{t+1} * f_{t+1} + dh_t * o * act'(c_t)
            dc += tmp
            np.multiply(a4[t, 0], dh, out=dz4[0, :, t])  # o: its factor times dh
            np.multiply(a4[t, 1:], dc, out=dz4[1:, :, t])  # i, f, c: theirs times dc
            if t:  # the initial states need no gradient
                dc *= z[t, 2 * n : 3 * n]
                np.matmul(u, dz[:, t], out=dh)  # dh_{t-1} = U dz_t  ([u, 4u] @ [4u, B])
        self.ws.give(a, p, buf)
        grads = self._grads(dz.reshape(g, -1), _roll(self.w, n), lambda r: _unroll(r, n))
        self.ws.give(dz)
        return grads


def _roll(cols: np.ndarray, n: int) -> np.ndarray:
    """Keras' gate columns ``[i | f | c | o]`` (``[..., 4u]``) -> ``[o | i | f | c]`` (a copy)."""
    return np.concatenate([cols[:, 3 * n :], cols[:, : 3 * n]], axis=1)


def _unroll(rows: np.ndarray, n: int) -> np.ndarray:
    """Gate rows ``[o; i; f; c]`` (``[4u, m]``) -> the weight layout ``[m, 4u]`` with the gates
    in Keras' order i, f, c, o (a fresh C-contiguous array)."""
    out = np.empty((rows.shape[1], rows.shape[0]), rows.dtype)
    out[:, : 3 * n] = rows[n:].T
    out[:, 3 * n :] = rows[:n].T
    return out


__all__ = ["SimpleRNNSequence", "LSTMSequence", "FUSED_ACTIVATIONS"]
