"""``GRUSequence``: Keras' GRU over a whole sequence (see ``ops/recurrent.py`` for the plan).

Unlike SimpleRNN and LSTM, the GRU keeps ``h_{t-1} @ U_h`` apart from ``x_t @ W_h`` (the reset
gate multiplies only the first), so the input projection of every step is one GEMM up front,
``[3u, F] @ [F, T*B]``, added to the recurrent GEMM of each step. Per-step arrays are
time-major and feature-major, ``[T, k, B]``: step t's gates are the contiguous rows of one
``[3u, B]`` block.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .recurrent import _SequenceOp
from .recurrent_activations import activation_pair
from .recurrent_masks import gate_masks, masked_matmul, masked_matmul_da, masked_matmul_dv


def _to_columns(a: np.ndarray) -> np.ndarray:
    """``[T, k, B] -> [k, T*B]`` (one transposing copy): all steps side by side for one GEMM."""
    steps, k, batch = a.shape
    return np.ascontiguousarray(a.transpose(1, 0, 2)).reshape(k, steps * batch)


class GRUSequence(_SequenceOp):
    """Keras GRU over a whole sequence, gates side by side in the order z, r, h.

    x [B, T, F], W [F, 3u], U [u, 3u] -> [B, T, u] (return_sequences) or h_T [B, u]; h_0 = 0.

    ``reset_after=True`` (Keras' default, b [2, 3u]: input bias b_i and recurrent bias b_r)::

        xz, xr, xh = x_t @ W + b_i;   rz, rr, rh = h_{t-1} @ U + b_r
        z = ract(xz + rz);  r = ract(xr + rr);  hh = act(xh + r * rh)

    ``reset_after=False`` (b [3u], input side only): z and r as above with b_r = 0, and
    ``hh = act(xh + (r * h_{t-1}) @ U_h)``. Both: ``h_t = z * h_{t-1} + (1 - z) * hh``.

    Dropout masks (``recurrent_masks``): x_t becomes ``d * x_t`` in the projection and h_{t-1}
    becomes ``m * h_{t-1}`` wherever U multiplies it (per gate with one mask per gate: gate k's
    columns see ``d_k``, ``m_k``); the direct path ``z * h_{t-1}`` keeps h_{t-1} unmasked.

    BPTT (dh_t = output grad + what step t+1 sends back; da = grads of the pre-activations):
    da_h = dh_t (1 - z) act'(hh);  da_z = dh_t (h_{t-1} - hh) ract'(z);
    reset_after: da_r = da_h * rh * ract'(r), and the recurrent side gets [da_z, da_r, da_h * r];
    otherwise: d(r h) = da_h @ U_h^T, da_r = d(r h) * h_{t-1} * ract'(r), dh_{t-1} += d(r h) * r.
    dh_{t-1} += dh_t * z + (recurrent-side grads) @ U^T. Weight grads as one GEMM each.
    With masks, every h_{t-1} above that U multiplies is ``m * h_{t-1}``, the grads reaching it
    through U are multiplied by m on the way back (``dh_{t-1} += m * (... @ U^T)``), and
    ``dx_t = d * (da @ W^T)`` (per gate group).
    """

    gates = 3
    shape_rule = "x [B, T, F], W [F, 3u], U [u, 3u], b [2, 3u] (reset_after) or [3u]"

    def bias_shape(self, n: int) -> Tuple[int, ...]:
        return (2, 3 * n) if self.reset_after else (3 * n,)

    def input_bias(self, b: Optional[np.ndarray]) -> Optional[np.ndarray]:
        return b[0] if b is not None and self.reset_after else b

    def _projection(self, x: np.ndarray, b: Optional[np.ndarray]) -> np.ndarray:
        """``x_t @ W (+ b_in)`` for every step as ``[T, 3u, B]`` (one GEMM)."""
        batch, steps, feats = x.shape
        xs = x[:, ::-1] if self.go_backwards else x
        self.x_cols = _to_columns(xs.transpose(1, 2, 0))  # [F, T*B], step-major columns
        g = self.w.shape[1]
        z = np.empty((steps, g, batch), dtype=self.dtype)
        if self.q_x is not None:  # (d * x_t) @ W, per gate group
            proj = masked_matmul(self.w.T, self.q_x, self.x_cols.reshape(feats, steps, batch))
            np.copyto(z, proj.transpose(1, 0, 2))  # [g, T, B] -> [T, g, B]
        elif feats == 1:  # numpy's matmul takes a slow non-BLAS loop for an inner size of 1
            np.multiply(self.w.T, self.x_cols.reshape(steps, 1, batch), out=z)
        else:
            proj = self.w.T @ self.x_cols  # [g, F] @ [F, T*B]
            np.copyto(z, proj.reshape(g, steps, batch).transpose(1, 0, 2))
        b_in = self.input_bias(b)
        if b_in is not None:
            z += b_in[:, None]
        return z

    def forward(
        self,
        x,
        w,
        u,
        b=None,
        *,
        activation="tanh",
        recurrent_activation="sigmoid",
        reset_after=True,
        return_sequences=False,
        go_backwards=False,
        input_mask=None,
        recurrent_mask=None,
    ):
        self.reset_after = bool(reset_after)
        self._check(x, w, u, b, return_sequences, go_backwards, (input_mask, recurrent_mask))
        z = self._projection(x, b)  # [T, 3u, B]
        act, self.dact = activation_pair(activation, self.name)
        ract, self.dract = activation_pair(recurrent_activation, self.name)
        b_rec = b[1][:, None] if b is not None and self.reset_after else None
        n, ut = self.units, u.T
        hs = np.zeros((len(z) + 1, n, z.shape[2]), self.dtype)  # slot t+1: h after step t
        # reset_after keeps U^T h_{t-1} (+ b_r) per step, else r * h_{t-1}: backward needs it
        saved = np.empty((len(z), 3 * n if self.reset_after else n, hs.shape[2]), self.dtype)
        tmp, q_h = np.empty_like(hs[0]), self.q_h  # q_h: the recurrent mask m, or None
        for t in range(len(z)):
            g, h_prev = z[t], hs[t]  # g becomes the activated [z; r; hh] in place
            zr, r, hh = g[: 2 * n], g[n : 2 * n], g[2 * n :]
            if self.reset_after:
                rec = saved[t]
                masked_matmul(ut, q_h, h_prev, out=rec)  # rec = U^T (m * h_{t-1})
                if b_rec is not None:
                    rec += b_rec
                zr += rec[: 2 * n]
                ract(zr, zr)
                np.multiply(r, rec[2 * n :], out=tmp)
            else:
                zr += masked_matmul(ut[: 2 * n], gate_masks(q_h, 0, 2), h_prev)
                ract(zr, zr)
                np.multiply(r, self._masked_h(h_prev), out=saved[t])  # r * (m_h * h_{t-1})
                np.matmul(ut[2 * n :], saved[t], out=tmp)
            hh += tmp
            act(hh, hh)
            # h = z * h_prev + (1 - z) * hh  ==  hh + z * (h_prev - hh)
            np.subtract(h_prev, hh, out=hs[t + 1])
            hs[t + 1] *= g[:n]
            hs[t + 1] += hh
        self.hs, self.saved, self.z = hs, saved, z
        return self._emit(hs)

    def _masked_h(self, h: np.ndarray) -> np.ndarray:
        """``m_h * h``: h as the candidate's ``U_h`` sees it (h itself without a mask)."""
        return h if self.q_h is None else h * gate_masks(self.q_h, 2, 3)[0]

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        n, hs, z_all, u = self.units, self.hs, self.z, self.u
        steps, g, batch = z_all.shape
        # this step's grads in small scratch buffers (they stay in cache), copied to [:, t] of
        # [3u, T, B] column buffers: a = input side [da_z; da_r; da_h]; e = recurrent side
        # [da_z; da_r; da_h * r]
        a_cols, a = np.empty((g, steps, batch), self.dtype), np.empty((3, n, batch), self.dtype)
        tmp, e_cols, e, q_h = dh.copy(), None, None, self.q_h
        if self.reset_after:
            e_cols, e = np.empty_like(a_cols), np.empty_like(a)
        for t in range(steps - 1, -1, -1):
            z, r, hh = z_all[t].reshape(3, n, batch)
            if dseq is not None:
                dh += dseq[t]
            self.dact(hh, a[2])  # da_h = dh (1 - z) act'(hh)
            np.subtract(1, z, out=tmp)
            a[2] *= tmp
            a[2] *= dh
            self.dract(z, a[0])  # da_z = dh (h_{t-1} - hh) ract'(z)
            np.subtract(hs[t], hh, out=tmp)
            a[0] *= tmp
            a[0] *= dh
            self.dract(r, a[1])
            dh *= z  # the direct path z * h_{t-1}
            if self.reset_after:  # da_r = da_h * (U_h^T (m h_{t-1}) + b_rh) * ract'(r)
                a[1] *= self.saved[t, 2 * n :]
                a[1] *= a[2]
                e[:2] = a[:2]
                np.multiply(a[2], r, out=e[2])
                e_cols[:, t] = e.reshape(g, batch)
                masked_matmul_dv(u, q_h, e.reshape(g, batch), tmp)  # m * (U @ e)
            else:  # d(r h) = U_h da_h;  da_r = d(r h) * (m_h h_{t-1}) * ract'(r)
                d_rh = u[:, 2 * n :] @ a[2]
                a[1] *= self._masked_h(hs[t])
                a[1] *= d_rh
                d_rh *= r
                dh += self._masked_h(d_rh)  # m_h * d(r h) * r
                a_zr = a[:2].reshape(2 * n, batch)
                masked_matmul_dv(u[:, : 2 * n], gate_masks(q_h, 0, 2), a_zr, tmp)  # m * (U a)
            dh += tmp
            a_cols[:, t] = a.reshape(g, batch)
        need = self.needs_input_grad
        a_cols = a_cols.reshape(g, -1)
        dx, dw, db = self._input_grads(a_cols, need)
        e_cols = e_cols.reshape(g, -1) if self.reset_after else None
        du = None
        if need[2] and self.reset_after:
            du = self._recurrent_grad(hs[:-1], e_cols, q_h)
        elif need[2]:  # self.saved holds r * (m_h * h_{t-1}): masked already
            du = np.concatenate(
                [
                    self._recurrent_grad(hs[:-1], a_cols[: 2 * n], gate_masks(q_h, 0, 2)),
                    self._recurrent_grad(self.saved, a_cols[2 * n :]),
                ],
                axis=1,
            )
        if db is not None and self.reset_after:
            db = np.stack([db, e_cols @ np.ones(e_cols.shape[1], self.dtype)])
        return (dx, dw, du, db)[: len(need)]  # no bias input: three grads

    def _input_grads(self, dz_cols: np.ndarray, need) -> Tuple:
        """dx, dW and db (one GEMM / sum each) from the pre-activation grads ``[g, T*B]``."""
        dx = dw = db = None
        if need[0]:  # dx_t = W @ dz[t]  (d * (W @ dz[t]) with an input mask)
            dx = self._input_grad(self.w, dz_cols)
        if need[1]:
            dw = self._recurrent_grad(self.x_cols, dz_cols, self.q_x)  # [F, T*B] @ [T*B, g]
        if len(need) > 3 and need[3]:
            db = dz_cols @ np.ones(dz_cols.shape[1], dz_cols.dtype)  # a GEMV: faster than sum
        return dx, dw, db

    @staticmethod
    def _recurrent_grad(
        states: np.ndarray, dz_cols: np.ndarray, q: Optional[np.ndarray] = None
    ) -> np.ndarray:
        """sum_t states_t dz_t^T as one GEMM over all steps: ``[k, T*B] @ [T*B, g]``, from
        ``states [T, k, B]`` or columns ``[k, T*B]``; with a mask ``q`` sum_t (q * states_t)
        dz_t^T per gate group."""
        cols = _to_columns(states) if states.ndim == 3 else states
        if q is None:
            return cols @ dz_cols.T
        steps_of_cols = cols.reshape(len(cols), -1, q.shape[-1])  # [k, T, B]
        return masked_matmul_da(dz_cols, q, steps_of_cols, np.empty_like(steps_of_cols)).T


__all__ = ["GRUSequence"]
