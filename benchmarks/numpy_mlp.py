"""The hand-written numpy MLP step every MLP benchmark compares against (``NumpyMLP``).

Written the way a person writes it from the equations, with fresh arrays (no ``out=``): the
honest "numpy by hand" baseline. ``numpy_floor.FloorMLP`` is the other baseline, the fewest
preallocated numpy calls for the same math.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LR = 0.01
#: the two losses of the MLP workloads: softmax + sparse categorical cross-entropy (classes)
#: or mean squared error on a linear output (regression, the micrograd-sized workload)
LOSSES = ("sparse_ce", "mse")


class NumpyMLP:
    """The same training step written by hand in numpy (float32 throughout).

    Forward, hidden layer l:  h_l = a_{l-1} @ W_l + b_l,   a_l = max(h_l, 0) [* mask_l]
    Output:                   z = a @ W + b, then for ``loss="sparse_ce"``:
                              log p = (z - max z) - log sum exp(z - max z),
                              loss = mean_b(-log p[b, y_b]),   dz = (p - onehot(y)) / B;
                              for ``loss="mse"`` (linear output, U units):
                              loss = mean((z - y)^2),   dz = 2 (z - y) / (B U)
    Backward (B rows):        dW = a^T dz,   db = sum_b dz,
                              da = dz W^T [* mask],   dh = da * [h > 0]
    SGD, in place:            W -= lr * dW

    ``mask_l`` = (u >= rate) / (1 - rate) with u ~ U[0, 1) of a's shape, from ``rngs[l]``.
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        dropout: float = 0.0,
        rngs: Sequence[np.random.Generator] | None = None,
        lr: float = LR,
        loss: str = "sparse_ce",
    ) -> None:
        self.params = [np.array(w, dtype=np.float32) for w in weights]  # W1, b1, W2, b2, ...
        self.dropout, self.lr, self.loss = dropout, lr, loss
        n_hidden = len(self.params) // 2 - 1
        self.rngs = (
            list(rngs)
            if rngs is not None
            else [np.random.default_rng(100 + i) for i in range(n_hidden)]
        )

    def forward_backward(
        self, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, list[np.ndarray]]:
        """(loss, model output, gradients in parameter order)."""
        ws, bs = self.params[0::2], self.params[1::2]
        acts, pre, masks = [x], [], []
        for i, (w, b) in enumerate(zip(ws[:-1], bs[:-1])):
            h = acts[-1] @ w + b
            a = np.maximum(h, 0)
            if self.dropout:
                keep = self.rngs[i].random(a.shape) >= self.dropout
                mask = keep.astype(np.float32) / np.float32(1 - self.dropout)
                a = a * mask
                masks.append(mask)
            pre.append(h)
            acts.append(a)
        z = acts[-1] @ ws[-1] + bs[-1]
        loss, out, dz = (self._mse if self.loss == "mse" else self._sparse_ce)(z, y)
        grads: list[np.ndarray] = []
        for i in range(len(ws) - 1, -1, -1):
            grads[:0] = [acts[i].T @ dz, dz.sum(axis=0)]
            if i == 0:
                break
            da = dz @ ws[i].T
            if self.dropout:
                da = da * masks[i - 1]
            dz = da * (pre[i - 1] > 0)
        return float(loss), out, grads

    @staticmethod
    def _sparse_ce(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(y))
        p = np.exp(log_p)
        dz = p.copy()
        dz[rows, y] -= 1
        dz /= np.float32(len(y))
        return -log_p[rows, y].mean(), p, dz

    @staticmethod
    def _mse(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        diff = z - y
        return (diff * diff).mean(), z, diff * np.float32(2 / diff.size)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss, _, grads = self.forward_backward(x, y)
        for param, grad in zip(self.params, grads):
            param -= self.lr * grad
        return loss
