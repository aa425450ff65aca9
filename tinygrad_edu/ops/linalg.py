"""Matrix products: ``MatMul`` (numpy ``@`` semantics) and the fused ``Linear`` (Dense's x @ W + b)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..function import Function


def _check_inner(a: np.ndarray, b: np.ndarray, op: str) -> None:
    """``a @ b`` needs a's last axis to equal b's second-to-last (b's only axis if b is 1-D)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            where=f"op '{op}'",
            expected="arrays with at least 1 axis",
            got=f"{a.shape} @ {b.shape}",
            fix="use * to multiply by a scalar",
        )
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != k_b:
        which = "b.shape[0]" if b.ndim == 1 else "b.shape[-2]"
        raise ShapeError(
            where=f"op '{op}'",
            expected=f"a.shape[-1] == {which} for a @ b",
            got=f"{a.shape} @ {b.shape}: {a.shape[-1]} != {k_b}",
            fix=f"[.., n] @ [n, m] -> [.., m]: the {a.shape[-1]} features of a must meet "
            f"{k_b} rows of b; transpose one side or fix the layer sizes",
        )


class MatMul(Function):
    """out = a @ b  (numpy semantics: batched, broadcast batch axes, 1-D on either side).

    [.., n, k] @ [.., k, m] -> [.., n, m];   dL/da = g @ b^T,   dL/db = a^T @ g.
    A 1-D ``a`` is treated as [1, k] and a 1-D ``b`` as [k, 1], then the added axis is dropped.
    """

    shape_rule = "a.shape[-1] == b.shape[-2] and broadcast-compatible batch axes"

    def forward(self, a, b):
        _check_inner(a, b, "MatMul")
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, max(g.ndim - 1, 0))  # 0-d g when b is 1-D too
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g @ np.swapaxes(b2, -1, -2)
            ga = ga[..., 0, :] if a.ndim == 1 else ga
        if self.needs_input_grad[1]:
            gb = np.swapaxes(a2, -1, -2) @ g
            gb = gb[..., 0] if b.ndim == 1 else gb
        return ga, gb


class Linear(Function):
    """Dense's affine map on the last axis: out = x @ W (+ b), then relu if ``activation="relu"``.

    [.., n] @ [n, m] + [m] -> [.., m];   dL/dx = g @ W^T,   dL/dW = x^T @ g (over all rows),
    dL/db = sum of g over all rows (g first masked by [out > 0] for the relu).
    Fused so the batch axes fold into one GEMM each way, and a hidden layer is one op.
    """

    shape_rule = "x.shape[-1] == W.shape[0] and b.shape == (W.shape[1],)"

    def forward(self, x, w, b=None, *, activation=None):
        if w.ndim != 2 or not x.ndim or x.shape[-1] != w.shape[0]:  # (else nothing to refuse)
            _check_inner(x, w, "Linear")
        self.x, self.w = x, w
        out = x @ w
        if b is not None:
            out += b
        self.relu_out = None
        if activation == "relu":
            self.relu_out = np.maximum(out, 0, out=out)
        elif activation is not None:
            raise ValueError(f"Linear supports activation=None or 'relu', not {activation!r}")
        return out

    def backward(self, grad):
        x, w = self.x, self.w
        need = self.needs_input_grad
        if self.relu_out is not None:
            grad = grad * (self.relu_out > 0)
        gx = grad @ w.T if need[0] else None
        g2, x2 = (grad, x) if grad.ndim == 2 else _rows(grad, x)  # [B, m] and [B, n] as they are
        gw = x2.T @ g2 if need[1] else None
        if len(need) == 2:
            return gx, gw
        # np.add.reduce: ndarray.sum's Python wrapper costs as much as a small bias's sum
        return gx, gw, (np.add.reduce(g2, axis=0) if need[2] else None)


def _rows(grad: np.ndarray, x: np.ndarray) -> tuple:
    """The batch axes of ``grad`` [.., m] and ``x`` [.., n] folded into one: [N, m], [N, n]."""
    return grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
