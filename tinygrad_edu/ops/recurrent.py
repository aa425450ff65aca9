"""Whole-sequence recurrent ops with hand-derived backpropagation through time (BPTT).

``SimpleRNNSequence``, ``LSTMSequence`` and ``GRUSequence`` (in ``recurrent_gru``) each run a whole
layer over ``x [B, T, F]`` in one op, with Keras' weight layouts: ``W [F, g*u]``, ``U [u, g*u]``
(g gates side by side), ``b [g*u]`` (GRU with ``reset_after``: ``b [2, 3u]``). h_0 = 0 (and c_0 = 0).

Why fused: the composed form (a Python loop of Tensor ops, see ``layers/recurrent_cells.py``)
records ~15 graph nodes per time step. Here the whole sequence costs:

- forward: one GEMM ``[T*B, F] @ [F, g*u]`` projects every time step's input at once; each step then
  needs only the recurrent GEMM ``[B, u] @ [u, g*u]`` and in-place gate arithmetic in buffers
  allocated once;
- backward: the elementwise derivative factors of all steps are computed up front (vectorized over
  T); the step loop only carries dh (and dc) back through ``dh_{t-1} = dZ_t @ U^T``; then one GEMM
  each gives ``dU = H_prev^T @ dZ`` (all steps stacked), ``dW = X^T @ dZ`` and ``dx = dZ @ W^T``.

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


# each derivative is written in terms of the output y = f(a): the forward pass keeps only y
_ACTIVATIONS: Dict[str, Tuple[Callable, Callable]] = {
    "tanh": (_tanh, lambda y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda y: y * (1 - y)),
    "relu": (_relu, lambda y: (y > 0).astype(y.dtype)),
    "linear": (_linear, lambda y: np.ones_like(y)),
}
#: activation names the fused ops implement; layers fall back to the composed form for others
FUSED_ACTIVATIONS = frozenset(_ACTIVATIONS)


def _activation(name: str, op: str) -> Tuple[Callable, Callable]:
    if name not in _ACTIVATIONS:
        raise ConfigError(where=f"op '{op}'", expected="an activation the fused op implements",
                          got=repr(name), fix=suggest(name, _ACTIVATIONS))
    return _ACTIVATIONS[name]


# ---------------------------------------------------------------- shared by every sequence op
class _SequenceOp(Function):
    """Shared plumbing: input checks, the up-front input GEMM, output layout, the final GEMMs.

    Time runs on the first axis inside the op (``[T, B, .]``): each step then reads and writes
    contiguous ``[B, .]`` blocks.
    """

    gates = 1
    shape_rule = "x [B, T, F], W [F, g*u], U [u, g*u], b [g*u] (g = number of gates)"

    def bias_shape(self, n: int) -> Tuple[int, ...]:
        return (self.gates * n,)

    def _begin(self, x, w, u, b, return_sequences, go_backwards) -> np.ndarray:
        """Check shapes, save the time-major input, return X @ W as ``[T, B, g*u]``."""
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
        self.w, self.u = w, u
        self.dtype = np.result_type(x, w, u)
        self.units = n
        batch, steps, feats = x.shape
        xs = x[:, ::-1] if go_backwards else x
        self.xt = np.ascontiguousarray(xs.transpose(1, 0, 2)).reshape(steps * batch, feats)
        xp = (self.xt @ w).astype(self.dtype, copy=False)
        return xp.reshape(steps, batch, g)

    def _states(self, steps: int, batch: int) -> np.ndarray:
        """``[T+1, B, u]`` zeros: slot 0 is the initial state, slot t+1 the state after step t."""
        return np.zeros((steps + 1, batch, self.units), dtype=self.dtype)

    def _emit(self, hs: np.ndarray) -> np.ndarray:
        """``[B, T, u]`` (processing order) or the last state ``[B, u]``."""
        if self.return_sequences:
            return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))
        return hs[-1]

    def _upstream(self, grad: np.ndarray) -> Tuple[Optional[np.ndarray], np.ndarray]:
        """(dL/dh_t for every step as ``[T, B, u]`` or None, a fresh dL/dh_T buffer)."""
        if self.return_sequences:
            return grad.transpose(1, 0, 2), np.zeros_like(grad[:, 0])
        return None, np.array(grad, dtype=self.dtype)

    def _input_grads(self, dz: np.ndarray, need) -> Tuple:
        """dx and dW (one GEMM each) from the gradient of every step's input projection."""
        steps, batch, g = dz.shape
        flat = dz.reshape(steps * batch, g)
        dx = dw = None
        if need[0]:
            dx = (flat @ self.w.T).reshape(steps, batch, -1).transpose(1, 0, 2)
            dx = dx[:, ::-1] if self.go_backwards else dx
        if need[1]:
            dw = self.xt.T @ flat
        return dx, dw

    def _recurrent_grad(self, states: np.ndarray, dz: np.ndarray) -> np.ndarray:
        """sum_t states_t^T @ dz_t as one GEMM over the stacked steps: ``[u, T*B] @ [T*B, .]``."""
        return states.reshape(-1, states.shape[-1]).T @ dz.reshape(-1, dz.shape[-1])


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
        xp = self._begin(x, w, u, b, return_sequences, go_backwards)
        if b is not None:
            xp += b
        act, self.dact = _activation(activation, self.name)
        hs = self._states(*xp.shape[:2])
        rec = np.empty_like(hs[0])
        for t in range(len(xp)):
            np.matmul(hs[t], u, out=rec)
            rec += xp[t]
            act(rec, hs[t + 1])
        self.hs = hs
        return self._emit(hs)

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        hs, ut = self.hs, self.u.T
        da = self.dact(hs[1:])  # act'(a_t) for every step at once; becomes da_t in place
        for t in range(len(da) - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            da[t] *= dh
            np.matmul(da[t], ut, out=dh)
        need = self.needs_input_grad
        dx, dw = self._input_grads(da, need)
        du = self._recurrent_grad(hs[:-1], da) if need[2] else None
        db = da.sum(axis=(0, 1)) if len(need) > 3 and need[3] else None
        return dx, dw, du, db


class LSTMSequence(_SequenceOp):
    """Keras LSTM over a whole sequence, gates side by side in the order i, f, c, o.

    z_t = x_t @ W + h_{t-1} @ U + b  [B, 4u];  i, f, o = ract(z_i, z_f, z_o);  c~ = act(z_c);
    c_t = f * c_{t-1} + i * c~;   h_t = o * act(c_t);   h_0 = c_0 = 0.
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
        if b is not None:
            z += b
        act, self.dact = _activation(activation, self.name)
        ract, self.dract = _activation(recurrent_activation, self.name)
        n, self.return_cell = self.units, bool(return_cell)
        hs = self._states(*z.shape[:2])
        cs, ac = np.zeros_like(hs), np.empty_like(hs[1:])  # c_t and act(c_t)
        rec, ic = np.empty_like(z[0]), np.empty_like(hs[0])
        for t in range(len(z)):
            g = z[t]  # becomes the activated gates [i | f | c~ | o] in place
            np.matmul(hs[t], u, out=rec)
            g += rec
            ract(g[:, : 2 * n], g[:, : 2 * n])
            act(g[:, 2 * n : 3 * n], g[:, 2 * n : 3 * n])
            ract(g[:, 3 * n :], g[:, 3 * n :])
            np.multiply(g[:, n : 2 * n], cs[t], out=cs[t + 1])
            np.multiply(g[:, :n], g[:, 2 * n : 3 * n], out=ic)
            cs[t + 1] += ic
            act(cs[t + 1], ac[t])
            np.multiply(g[:, 3 * n :], ac[t], out=hs[t + 1])
        self.hs, self.cs, self.ac, self.gates_out = hs, cs, ac, z
        if not self.return_cell:
            return self._emit(hs)
        return np.concatenate([self._emit(hs), self._emit(cs)], axis=-1)

    def backward(self, grad):
        n = self.units
        if self.return_cell:
            grad, grad_c = grad[..., :n], grad[..., n:]
            cseq, dc = self._upstream(grad_c)
        else:
            cseq, dc = None, None
        dseq, dh = self._upstream(grad)
        dc = np.zeros_like(dh) if dc is None else dc
        i, f, cc, o = (self.gates_out[..., k * n : (k + 1) * n] for k in range(4))
        # every factor that does not depend on the carried dh/dc, for all steps at once
        dz = np.empty_like(self.gates_out)
        dz[..., :n] = cc * self.dract(i)
        dz[..., n : 2 * n] = self.cs[:-1] * self.dract(f)
        dz[..., 2 * n : 3 * n] = i * self.dact(cc)
        dz[..., 3 * n :] = self.ac * self.dract(o)
        dc_from_h = o * self.dact(self.ac)
        dz4 = dz.reshape(*dz.shape[:2], 4, n)
        ut, tmp = self.u.T, np.empty_like(dh)
        for t in range(len(dz) - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            if cseq is not None:
                dc += cseq[t]
            np.multiply(dh, dc_from_h[t], out=tmp)
            dc += tmp
            np.multiply(dz4[t, :, :3], dc[:, None, :], out=dz4[t, :, :3])
            np.multiply(dz4[t, :, 3], dh, out=dz4[t, :, 3])
            dc *= f[t]
            np.matmul(dz[t], ut, out=dh)
        need = self.needs_input_grad
        dx, dw = self._input_grads(dz, need)
        du = self._recurrent_grad(self.hs[:-1], dz) if need[2] else None
        db = dz.sum(axis=(0, 1)) if len(need) > 3 and need[3] else None
        return dx, dw, du, db


__all__ = ["SimpleRNNSequence", "LSTMSequence", "FUSED_ACTIVATIONS"]
