"""Whole-sequence recurrent ops with hand-derived backpropagation through time (BPTT).

``SimpleRNNSequence``, ``LSTMSequence`` and ``GRUSequence`` (in ``recurrent_gru``) each run a
whole layer over ``x [B, T, F]`` in one op, with Keras' weight layouts: ``W [F, g*u]``,
``U [u, g*u]`` (g gates side by side), ``b [g*u]`` (GRU with ``reset_after``: ``b [2, 3u]``).
h_0 = 0 (and c_0 = 0).

Why fused: the composed form (a Python loop of Tensor ops, see ``layers/recurrent_cells.py``)
records ~15 graph nodes per time step. Here the whole sequence costs:

- forward: one GEMM ``[T*B, F] @ [F, g*u]`` projects every time step's input at once; each step then
  needs only the recurrent GEMM ``[B, u] @ [u, g*u]`` and in-place gate arithmetic in buffers
  allocated once;
- backward: the elementwise derivative factors of all steps are computed up front (vectorized over
  T); the step loop only carries dh (and dc) back through ``dh_{t-1} = dZ_t @ U^T``; then one GEMM
  each gives ``dU = H_prev^T @ dZ`` (all steps stacked), ``dW = X^T @ dZ`` and ``dx = dZ @ W^T``.

(The code computes the same products transposed - ``z_t^T = U^T h_{t-1}^T + ...`` - because it
stores each step feature-major, ``[g*u, B]``; see ``_SequenceOp``. Measured on 2 cores, the
LSTM(128) training step of ``benchmarks/bench_rnn.py`` spends about two thirds of its time in
those GEMMs.)

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
        raise ConfigError(where=f"op '{op}'", expected="an activation the fused op implements",
                          got=repr(name), fix=suggest(name, _ACTIVATIONS))
    return _ACTIVATIONS[name]


# ---------------------------------------------------------------- shared by every sequence op
def _to_columns(a: np.ndarray) -> np.ndarray:
    """``[T, k, B] -> [k, T*B]`` (one transposing copy): all steps side by side for one GEMM."""
    steps, k, batch = a.shape
    return np.ascontiguousarray(a.transpose(1, 0, 2)).reshape(k, steps * batch)


class _SequenceOp(Function):
    """Shared plumbing: input checks, the up-front input GEMM, output layout, the final GEMMs.

    Inside the op every per-step array is stored *time-major and feature-major*, ``[T, k, B]``:
    step t's gates are then the contiguous rows of one ``[g*u, B]`` block, so each gate is a
    contiguous ``[u, B]`` slice and numpy's elementwise loops run at full speed (a column slice
    of a ``[B, g*u]`` row-major block is strided, and several times slower). The matrices are
    used transposed accordingly: ``z_t^T = W^T x_t^T + U^T h_{t-1}^T``.
    """

    gates = 1
    shape_rule = "x [B, T, F], W [F, g*u], U [u, g*u], b [g*u] (g = number of gates)"

    def bias_shape(self, n: int) -> Tuple[int, ...]:
        return (self.gates * n,)

    def _begin(self, x, w, u, b, return_sequences, go_backwards) -> np.ndarray:
        """Check shapes; return ``x_t @ W (+ b)`` for every step as ``[T, g*u, B]`` (one GEMM)."""
        n = u.shape[0] if u.ndim == 2 else -1
        g = self.gates * n
        bad = (x.ndim != 3 or w.shape != (x.shape[-1], g) or u.shape != (n, g)
               or (b is not None and b.shape != self.bias_shape(n)))
        if bad:
            raise ShapeError(
                where=f"op '{self.name}'", expected=self.shape_rule,
                got=f"x {x.shape}, W {w.shape}, U {u.shape}, b {None if b is None else b.shape}",
                fix="use the weight layouts of the Keras layer (kernel, recurrent_kernel, bias)",
            )
        self.return_sequences, self.go_backwards = bool(return_sequences), bool(go_backwards)
        self.w, self.u, self.units, self.batch = w, u, n, x.shape[0]
        self.dtype = np.result_type(x, w, u)
        batch, steps, feats = x.shape
        xs = x[:, ::-1] if go_backwards else x
        self.x_cols = _to_columns(xs.transpose(1, 2, 0))  # [F, T*B], step-major columns
        z = np.empty((steps, g, batch), dtype=self.dtype)
        if feats == 1:  # numpy's matmul takes a slow non-BLAS loop for an inner size of 1
            np.multiply(w.T, self.x_cols.reshape(steps, 1, batch), out=z)
        else:
            proj = w.T @ self.x_cols  # [g, F] @ [F, T*B]: every step's projection in one GEMM
            np.copyto(z, proj.reshape(g, steps, batch).transpose(1, 0, 2))
        b_in = self.input_bias(b)
        if b_in is not None:
            z += b_in[:, None]
        return z

    def input_bias(self, b: Optional[np.ndarray]) -> Optional[np.ndarray]:
        return b

    def _states(self, steps: int, batch: int) -> np.ndarray:
        """``[T+1, u, B]`` zeros: slot 0 is the initial state, slot t+1 the state after step t."""
        return np.zeros((steps + 1, self.units, batch), dtype=self.dtype)

    def _emit(self, hs: np.ndarray) -> np.ndarray:
        """``[B, T, u]`` (processing order) or the last state ``[B, u]``."""
        if self.return_sequences:
            return np.ascontiguousarray(hs[1:].transpose(2, 0, 1))
        return np.ascontiguousarray(hs[-1].T)

    def _upstream(self, grad: np.ndarray) -> Tuple[Optional[np.ndarray], np.ndarray]:
        """(dL/dh_t of every step as ``[T, u, B]`` or None, a fresh ``[u, B]`` dL/dh_T)."""
        if self.return_sequences:
            dseq = np.ascontiguousarray(grad.transpose(1, 2, 0), dtype=self.dtype)
            return dseq, np.zeros_like(dseq[0])
        return None, np.array(grad.T, dtype=self.dtype, order="C")

    def _input_grads(self, dz_cols: np.ndarray, need) -> Tuple:
        """dx, dW and db (one GEMM / sum each) from the pre-activation grads ``[g, T*B]``."""
        dx = dw = db = None
        if need[0]:
            dx = (self.w @ dz_cols).reshape(self.w.shape[0], -1, self.batch).transpose(2, 1, 0)
            dx = dx[:, ::-1] if self.go_backwards else dx
        if need[1]:
            dw = self.x_cols @ dz_cols.T  # [F, T*B] @ [T*B, g]
        if len(need) > 3 and need[3]:
            db = dz_cols @ np.ones(dz_cols.shape[1], dz_cols.dtype)  # a GEMV: faster than sum
        return dx, dw, db

    def _columns(self, width: int, steps: int) -> np.ndarray:
        """An empty ``[width, T, B]`` buffer: backward writes step t's grads to ``[:, t]`` (from a
        small contiguous scratch that stays in cache) and reads it back as ``[width, T*B]``."""
        return np.empty((width, steps, self.batch), dtype=self.dtype)

    @staticmethod
    def _recurrent_grad(states: np.ndarray, dz_cols: np.ndarray) -> np.ndarray:
        """sum_t states_t dz_t^T as one GEMM over all steps: ``[u, T*B] @ [T*B, g]``."""
        return _to_columns(states) @ dz_cols.T


class SimpleRNNSequence(_SequenceOp):
    """Keras SimpleRNN over a whole sequence: h_t = act(x_t @ W + h_{t-1} @ U + b), h_0 = 0.

    x [B, T, F], W [F, u], U [u, u], b [u] -> [B, T, u] (return_sequences) or h_T [B, u].
    BPTT, with a_t the pre-activation and dh_t = dL/dh_t (output grad + what step t+1 sends back):
    da_t = dh_t * act'(a_t);  dh_{t-1} += da_t @ U^T;  dU = sum_t h_{t-1}^T da_t;
    dW = sum_t x_t^T da_t;  db = sum_t da_t (over the batch too);  dx_t = da_t @ W^T.
    """

    shape_rule = "x [B, T, F], W [F, u], U [u, u], b [u]"

    def forward(self, x, w, u, b=None, *, activation="tanh", return_sequences=False,
                go_backwards=False):
        z = self._begin(x, w, u, b, return_sequences, go_backwards)
        act, self.dact = _activation(activation, self.name)
        hs, ut = self._states(*z.shape[::2]), u.T
        rec = np.empty_like(hs[0])
        for t in range(len(z)):
            np.matmul(ut, hs[t], out=rec)  # [u, u] @ [u, B]
            rec += z[t]
            act(rec, hs[t + 1])
        self.hs = hs
        return self._emit(hs)

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        hs, u, steps = self.hs, self.u, len(self.hs) - 1
        da_cols, da = self._columns(self.units, steps), np.empty_like(dh)
        for t in range(steps - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            self.dact(hs[t + 1], da)  # da_t = dh_t * act'(a_t)
            da *= dh
            da_cols[:, t] = da
            np.matmul(u, da, out=dh)  # dh_{t-1} = U da_t  ([u, u] @ [u, B])
        need = self.needs_input_grad
        da_cols = da_cols.reshape(self.units, -1)
        dx, dw, db = self._input_grads(da_cols, need)
        du = self._recurrent_grad(hs[:-1], da_cols) if need[2] else None
        return (dx, dw, du, db)[: len(need)]  # no bias input: three grads


class LSTMSequence(_SequenceOp):
    """Keras LSTM over a whole sequence, gates side by side in the order i, f, c, o.

    z_t = x_t @ W + h_{t-1} @ U + b  [B, 4u];  i, f, o = ract(z_i), ract(z_f), ract(z_o);
    c~ = act(z_c);   c_t = f * c_{t-1} + i * c~;   h_t = o * act(c_t);   h_0 = c_0 = 0.
    x [B, T, F], W [F, 4u], U [u, 4u], b [4u] -> [B, T, u] or h_T [B, u]; with
    ``return_cell=True`` the last axis doubles to ``[h | c]`` (2u) so the layer can return c_T.
    BPTT: dc_t = dc_{t+1} * f_{t+1} + dh_t * o * act'(c_t);   dz_i = dc_t * c~ * ract'(i),
    dz_f = dc_t * c_{t-1} * ract'(f),  dz_c = dc_t * i * act'(c~),  dz_o = dh_t * act(c_t) *
    ract'(o);   dh_{t-1} = dz_t @ U^T;  dU, dW, db, dx as for SimpleRNN with dz in place of da.
    """

    gates = 4
    shape_rule = "x [B, T, F], W [F, 4u], U [u, 4u], b [4u]"

    def forward(self, x, w, u, b=None, *, activation="tanh", recurrent_activation="sigmoid",
                return_sequences=False, go_backwards=False, return_cell=False):
        z = self._begin(x, w, u, b, return_sequences, go_backwards)
        act, self.dact = _activation(activation, self.name)
        ract, self.dract = _activation(recurrent_activation, self.name)
        n, self.return_cell = self.units, bool(return_cell)
        hs = self._states(*z.shape[::2])
        cs, ac = np.zeros_like(hs), np.empty_like(hs[1:])  # c_t and act(c_t)
        rec, ic, ut = np.empty_like(z[0]), np.empty_like(hs[0]), u.T
        for t in range(len(z)):
            g = z[t]  # [4u, B]; becomes the activated gates [i; f; c~; o] in place
            i, f, cc, o = g[:n], g[n : 2 * n], g[2 * n : 3 * n], g[3 * n :]
            np.matmul(ut, hs[t], out=rec)
            g += rec
            act(cc, ic)  # c~ aside, so that one call activates all four gate blocks
            ract(g, g)
            np.copyto(cc, ic)
            np.multiply(f, cs[t], out=cs[t + 1])
            np.multiply(i, cc, out=ic)
            cs[t + 1] += ic
            act(cs[t + 1], ac[t])
            np.multiply(o, ac[t], out=hs[t + 1])
        self.hs, self.cs, self.ac, self.z = hs, cs, ac, z
        if not self.return_cell:
            return self._emit(hs)
        return np.concatenate([self._emit(hs), self._emit(cs)], axis=-1)

    def backward(self, grad):
        n = self.units
        dc_seq, dc = None, None
        if self.return_cell:
            grad, grad_c = grad[..., :n], grad[..., n:]
            dc_seq, dc = self._upstream(grad_c)
        dseq, dh = self._upstream(grad)
        dc = np.zeros_like(dh) if dc is None else dc
        z, cs, ac, u = self.z, self.cs, self.ac, self.u
        steps, g, batch = z.shape
        dz_cols = self._columns(g, steps)
        d, tmp = np.empty((4, n, batch), self.dtype), np.empty_like(dh)  # this step's dz
        for t in range(steps - 1, -1, -1):
            i, f, cc, o = z[t].reshape(4, n, batch)
            if dseq is not None:
                dh += dseq[t]
            if dc_seq is not None:
                dc += dc_seq[t]
            self.dact(ac[t], tmp)  # dc_t = dc_{t+1} * f_{t+1} + dh_t * o * act'(c_t)
            tmp *= o
            tmp *= dh
            dc += tmp
            self.dract(z[t], d.reshape(g, batch))  # every block at once; c~'s is redone below
            self.dact(cc, d[2])
            d[0] *= cc
            d[1] *= cs[t]
            d[2] *= i
            d[3] *= ac[t]
            d[:3] *= dc
            d[3] *= dh
            dc *= f
            dz_cols[:, t] = d.reshape(g, batch)
            np.matmul(u, d.reshape(g, batch), out=dh)  # dh_{t-1} = U dz_t  ([u, 4u] @ [4u, B])
        need = self.needs_input_grad
        dz_cols = dz_cols.reshape(g, -1)
        dx, dw, db = self._input_grads(dz_cols, need)
        du = self._recurrent_grad(self.hs[:-1], dz_cols) if need[2] else None
        return (dx, dw, du, db)[: len(need)]  # no bias input: three grads


__all__ = ["SimpleRNNSequence", "LSTMSequence", "FUSED_ACTIVATIONS"]
