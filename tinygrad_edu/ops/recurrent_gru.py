"""``GRUSequence``: Keras' GRU over a whole sequence (see ``ops/recurrent.py`` for the plan)."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .recurrent import _activation, _SequenceOp, _to_columns


class GRUSequence(_SequenceOp):
    """Keras GRU over a whole sequence, gates side by side in the order z, r, h.

    x [B, T, F], W [F, 3u], U [u, 3u] -> [B, T, u] (return_sequences) or h_T [B, u]; h_0 = 0.

    ``reset_after=True`` (Keras' default, b [2, 3u]: input bias b_i and recurrent bias b_r)::

        xz, xr, xh = x_t @ W + b_i;   rz, rr, rh = h_{t-1} @ U + b_r
        z = ract(xz + rz);  r = ract(xr + rr);  hh = act(xh + r * rh)

    ``reset_after=False`` (b [3u], input side only): z and r as above with b_r = 0, and
    ``hh = act(xh + (r * h_{t-1}) @ U_h)``. Both: ``h_t = z * h_{t-1} + (1 - z) * hh``.

    BPTT (dh_t = output grad + what step t+1 sends back; da = grads of the pre-activations):
    da_h = dh_t (1 - z) act'(hh);  da_z = dh_t (h_{t-1} - hh) ract'(z);
    reset_after: da_r = da_h * rh * ract'(r), and the recurrent side gets [da_z, da_r, da_h * r];
    otherwise: d(r h) = da_h @ U_h^T, da_r = d(r h) * h_{t-1} * ract'(r), dh_{t-1} += d(r h) * r.
    dh_{t-1} += dh_t * z + (recurrent-side grads) @ U^T. Weight grads as one GEMM each.
    """

    gates = 3
    shape_rule = "x [B, T, F], W [F, 3u], U [u, 3u], b [2, 3u] (reset_after) or [3u]"

    def bias_shape(self, n: int) -> Tuple[int, ...]:
        return (2, 3 * n) if self.reset_after else (3 * n,)

    def input_bias(self, b: Optional[np.ndarray]) -> Optional[np.ndarray]:
        return b[0] if b is not None and self.reset_after else b

    def forward(self, x, w, u, b=None, *, activation="tanh", recurrent_activation="sigmoid",
                reset_after=True, return_sequences=False, go_backwards=False):
        self.reset_after = bool(reset_after)
        z = self._begin(x, w, u, b, return_sequences, go_backwards)  # [T, 3u, B]
        act, self.dact = _activation(activation, self.name)
        ract, self.dract = _activation(recurrent_activation, self.name)
        b_rec = b[1][:, None] if b is not None and self.reset_after else None
        n, ut = self.units, u.T
        hs = self._states(*z.shape[::2])
        # reset_after keeps U^T h_{t-1} (+ b_r) per step, else r * h_{t-1}: backward needs it
        saved = np.empty((len(z), 3 * n if self.reset_after else n, hs.shape[2]), self.dtype)
        tmp = np.empty_like(hs[0])
        for t in range(len(z)):
            g, h_prev = z[t], hs[t]  # g becomes the activated [z; r; hh] in place
            zr, r, hh = g[: 2 * n], g[n : 2 * n], g[2 * n :]
            if self.reset_after:
                rec = saved[t]
                np.matmul(ut, h_prev, out=rec)
                if b_rec is not None:
                    rec += b_rec
                zr += rec[: 2 * n]
                ract(zr, zr)
                np.multiply(r, rec[2 * n :], out=tmp)
            else:
                zr += ut[: 2 * n] @ h_prev
                ract(zr, zr)
                np.multiply(r, h_prev, out=saved[t])
                np.matmul(ut[2 * n :], saved[t], out=tmp)
            hh += tmp
            act(hh, hh)
            # h = z * h_prev + (1 - z) * hh  ==  hh + z * (h_prev - hh)
            np.subtract(h_prev, hh, out=hs[t + 1])
            hs[t + 1] *= g[:n]
            hs[t + 1] += hh
        self.hs, self.saved, self.z = hs, saved, z
        return self._emit(hs)

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        n, hs, reset_after = self.units, self.hs, self.reset_after
        z, r, hh = self.z[:, :n], self.z[:, n : 2 * n], self.z[:, 2 * n :]
        # step-independent factors for all steps at once; da becomes the input-side grads
        da = np.empty_like(self.z)
        np.multiply(hs[:-1] - hh, self.dract(z), out=da[:, :n])
        np.multiply(1 - z, self.dact(hh), out=da[:, 2 * n :])
        r_factor = (self.saved[:, 2 * n :] if reset_after else hs[:-1]) * self.dract(r)
        drec = np.empty_like(da) if reset_after else None
        u, d_rh = self.u, np.empty_like(dh)
        for t in range(len(da) - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            a = da[t]
            a[:n] *= dh
            a[2 * n :] *= dh
            if reset_after:
                np.multiply(a[2 * n :], r_factor[t], out=a[n : 2 * n])
                drec[t, : 2 * n] = a[: 2 * n]
                np.multiply(a[2 * n :], r[t], out=drec[t, 2 * n :])
                dh *= z[t]
                dh += u @ drec[t]
            else:
                np.matmul(u[:, 2 * n :], a[2 * n :], out=d_rh)
                np.multiply(d_rh, r_factor[t], out=a[n : 2 * n])
                d_rh *= r[t]
                dh *= z[t]
                dh += d_rh
                dh += u[:, : 2 * n] @ a[: 2 * n]
        need = self.needs_input_grad
        da_cols = _to_columns(da)
        dx, dw, db = self._input_grads(da_cols, need)
        du = None
        rec_cols = _to_columns(drec) if reset_after else None
        if need[2] and reset_after:
            du = self._recurrent_grad(hs[:-1], rec_cols)
        elif need[2]:
            du = np.concatenate([self._recurrent_grad(hs[:-1], da_cols[: 2 * n]),
                                 self._recurrent_grad(self.saved, da_cols[2 * n :])], axis=1)
        if db is not None and reset_after:
            db = np.stack([db, rec_cols.sum(axis=1)])
        return dx, dw, du, db


__all__ = ["GRUSequence"]
