"""The "numpy floor": the fewest preallocated numpy calls that compute an MLP training step.

``NumpyMLP`` (numpy_mlp.py) is numpy as a person writes it; ``FloorMLP`` is numpy as fast as
numpy goes on this machine: every array preallocated once, every call writing ``out=``, and the
math folded where numpy allows, so the ratio to it shows what is left between a step and the
physical limit of calling numpy from Python. Folds (each keeps the same math):

- the learning rate and the batch mean go into the output gradient once:
  ``dz = lr * (p - onehot(y)) / B``, so ``a^T dz`` IS the update and SGD is one subtract;
- softmax in place in one buffer that then becomes ``dz``; the loss from ``log sum exp`` and
  the picked logits (``loss = mean(log s) - mean(z[b, y_b] - max_b)``);
- ReLU backward (and dropout's mask) as one multiplier made in the forward pass:
  ``d = [h > 0] * mask``, ``a = h * d``, later ``dh = (dz W^T) * d``.

Checked equal to ours (``bench_mlp.check_references``: loss, output, updated weights at float32
tolerance) before it is timed. ~6 numpy calls per layer forward, ~5 backward.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy_mlp import LR


class FloorMLP:
    """One MLP training step in preallocated buffers for batches of ``batch`` rows (see the
    module docstring). ``step(x, y)`` returns the loss and leaves the updated weights in
    ``params`` (W1, b1, W2, b2, ...) and, for the output check, the model output in ``out``
    when ``keep_output`` is set."""

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        batch: int,
        dropout: float = 0.0,
        rngs: Sequence[np.random.Generator] | None = None,
        lr: float = LR,
        loss: str = "sparse_ce",
    ) -> None:
        f32 = np.float32
        self.params = [np.array(w, dtype=f32) for w in weights]
        self.ws, self.bs = self.params[0::2], self.params[1::2]
        self.dropout, self.loss, self.batch = dropout, loss, batch
        n_hidden = len(self.ws) - 1
        self.rngs = (
            list(rngs) if rngs is not None else [np.random.default_rng(100 + i) for i in range(n_hidden)]
        )
        widths = [w.shape[1] for w in self.ws]
        self.h = [np.empty((batch, n), f32) for n in widths]  # pre-activations, last = z
        self.a = [np.empty((batch, n), f32) for n in widths[:-1]]  # hidden activations
        self.d = [np.empty((batch, n), f32) for n in widths[:-1]]  # [h > 0] * mask
        self.u = [np.empty((batch, n)) for n in widths[:-1]] if dropout else []  # float64 draws
        self.keep = [np.empty((batch, n), bool) for n in widths[:-1]]
        self.da = [np.empty((batch, n), f32) for n in widths[:-1]]
        self.dw = [np.empty_like(w) for w in self.ws]
        self.db = [np.empty_like(b) for b in self.bs]
        self.m = np.empty((batch, 1), f32)
        self.s = np.empty((batch, 1), f32)
        self.rows = np.arange(batch)
        self.scale = f32(1 / (1 - dropout)) if dropout else f32(1)
        self.lr = f32(lr)
        self.keep_output = False
        self.out: np.ndarray | None = None

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        a = x
        for i, (w, b) in enumerate(zip(self.ws[:-1], self.bs[:-1])):
            h, d = self.h[i], self.d[i]
            np.matmul(a, w, out=h)
            np.add(h, b, out=h)
            if self.dropout:
                self.rngs[i].random(out=self.u[i])  # the same float64 stream as Dropout
                np.greater_equal(self.u[i], self.dropout, out=d)  # bool -> 0.0/1.0
                np.greater(h, 0, out=self.keep[i])
                np.multiply(d, self.keep[i], out=d)
                np.multiply(d, self.scale, out=d)
            else:
                np.greater(h, 0, out=d)
            a = np.multiply(h, d, out=self.a[i])
        z = np.matmul(a, self.ws[-1], out=self.h[-1])
        np.add(z, self.bs[-1], out=z)
        loss = self._mse(z, y) if self.loss == "mse" else self._sparse_ce(z, y)
        dz = z  # now lr * dloss/dz
        for i in range(len(self.ws) - 1, -1, -1):
            np.matmul(self.a[i - 1].T if i else x.T, dz, out=self.dw[i])
            np.add.reduce(dz, axis=0, out=self.db[i])
            if i:
                da = np.matmul(dz, self.ws[i].T, out=self.da[i - 1])
                dz = np.multiply(da, self.d[i - 1], out=da)
            np.subtract(self.ws[i], self.dw[i], out=self.ws[i])
            np.subtract(self.bs[i], self.db[i], out=self.bs[i])
        return loss

    def _sparse_ce(self, z: np.ndarray, y: np.ndarray) -> float:
        """Softmax in place in ``z``, the mean cross-entropy, then ``z = lr (p - onehot) / B``."""
        m, s, rows = self.m, self.s, self.rows
        np.maximum.reduce(z, axis=1, keepdims=True, out=m)
        np.subtract(z, m, out=z)
        picked = z[rows, y].sum(dtype=np.float64)
        np.exp(z, out=z)
        np.add.reduce(z, axis=1, keepdims=True, out=s)
        np.divide(z, s, out=z)
        if self.keep_output:
            self.out = z.copy()
        loss = (np.log(s).sum(dtype=np.float64) - picked) / len(y)
        z[rows, y] -= 1
        np.multiply(z, self.lr / np.float32(len(y)), out=z)
        return float(loss)

    def _mse(self, z: np.ndarray, y: np.ndarray) -> float:
        """``z = lr * 2 (z - y) / (B U)`` in place; the loss from the same difference."""
        if self.keep_output:
            self.out = z.copy()
        np.subtract(z, y, out=z)
        loss = float(np.vdot(z, z)) / z.size
        np.multiply(z, self.lr * np.float32(2 / z.size), out=z)
        return loss

    def grads_scaled(self) -> list[np.ndarray]:
        """The last step's ``lr * gradient`` of every parameter (the update it subtracted)."""
        return [g for pair in zip(self.dw, self.db) for g in pair]
