"""``GRUSequence``: Keras' GRU over a whole sequence (see ``ops/recurrent.py`` for the plan)."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from .recurrent import _activation, _SequenceOp


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

    def forward(self, x, w, u, b=None, *, activation="tanh", recurrent_activation="sigmoid",
                reset_after=True, return_sequences=False, go_backwards=False):
        self.reset_after = bool(reset_after)
        xp = self._begin(x, w, u, b, return_sequences, go_backwards)
        act, self.dact = _activation(activation, self.name)
        ract, self.dract = _activation(recurrent_activation, self.name)
        b_in, b_rec = (b[0], b[1]) if b is not None and self.reset_after else (b, None)
        if b_in is not None:
            xp += b_in
        n = self.units
        hs = self._states(*xp.shape[:2])
        # reset_after keeps h_{t-1} @ U (+ b_r) per step, else r * h_{t-1}: backward needs it
        saved = np.empty((len(xp), hs.shape[1], 3 * n if self.reset_after else n), self.dtype)
        tmp = np.empty_like(hs[0])
        for t in range(len(xp)):
            g, h_prev = xp[t], hs[t]  # g becomes the activated [z | r | hh] in place
            if self.reset_after:
                rec = saved[t]
                np.matmul(h_prev, u, out=rec)
                if b_rec is not None:
                    rec += b_rec
                g[:, : 2 * n] += rec[:, : 2 * n]
                ract(g[:, : 2 * n], g[:, : 2 * n])
                np.multiply(g[:, n : 2 * n], rec[:, 2 * n :], out=tmp)
            else:
                g[:, : 2 * n] += h_prev @ u[:, : 2 * n]
                ract(g[:, : 2 * n], g[:, : 2 * n])
                np.multiply(g[:, n : 2 * n], h_prev, out=saved[t])
                np.matmul(saved[t], u[:, 2 * n :], out=tmp)
            hh = g[:, 2 * n :]
            hh += tmp
            act(hh, hh)
            # h = z * h_prev + (1 - z) * hh  ==  hh + z * (h_prev - hh)
            np.subtract(h_prev, hh, out=hs[t + 1])
            hs[t + 1] *= g[:, :n]
            hs[t + 1] += hh
        self.hs, self.saved, self.gates_out = hs, saved, xp
        return self._emit(hs)

    def backward(self, grad):
        dseq, dh = self._upstream(grad)
        n, hs, reset_after = self.units, self.hs, self.reset_after
        z, r, hh = (self.gates_out[..., k * n : (k + 1) * n] for k in range(3))
        # step-independent factors for all steps at once; da becomes the input-side grads
        da = np.empty_like(self.gates_out)
        da[..., :n] = (hs[:-1] - hh) * self.dract(z)
        da[..., 2 * n :] = (1 - z) * self.dact(hh)
        r_factor = (self.saved[..., 2 * n :] if reset_after else hs[:-1]) * self.dract(r)
        drec = np.empty_like(da) if reset_after else None
        u, ut, d_rh = self.u, self.u.T, np.empty_like(dh)
        for t in range(len(da) - 1, -1, -1):
            if dseq is not None:
                dh += dseq[t]
            a = da[t]
            a[:, :n] *= dh
            a[:, 2 * n :] *= dh
            if reset_after:
                np.multiply(a[:, 2 * n :], r_factor[t], out=a[:, n : 2 * n])
                drec[t, :, : 2 * n] = a[:, : 2 * n]
                np.multiply(a[:, 2 * n :], r[t], out=drec[t, :, 2 * n :])
                dh *= z[t]
                dh += drec[t] @ ut
            else:
                np.matmul(a[:, 2 * n :], u[:, 2 * n :].T, out=d_rh)
                np.multiply(d_rh, r_factor[t], out=a[:, n : 2 * n])
                d_rh *= r[t]
                dh *= z[t]
                dh += d_rh
                dh += a[:, : 2 * n] @ u[:, : 2 * n].T
        need = self.needs_input_grad
        dx, dw = self._input_grads(da, need)
        du = db = None
        if need[2] and reset_after:
            du = self._recurrent_grad(hs[:-1], drec)
        elif need[2]:
            du = np.concatenate([self._recurrent_grad(hs[:-1], da[..., : 2 * n]),
                                 self._recurrent_grad(self.saved, da[..., 2 * n :])], axis=1)
        if len(need) > 3 and need[3]:
            db = da.sum(axis=(0, 1))
            db = np.stack([db, drec.sum(axis=(0, 1))]) if reset_after else db
        return dx, dw, du, db


__all__ = ["GRUSequence"]
