"""Fused softmax + cross-entropy (+ the batch mean): one op from logits, for stability and speed.

Equal (values and gradients) to ``-(target * logits.log_softmax()).sum(-1)`` and to picking
``-logits.log_softmax()[row, label]``, then ``.mean()``/``.sum()``; the tests check both.
``log_p`` may pass the log-probabilities a Softmax op already computed, so they are not redone.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)  # the shift keeps exp() finite
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=-1, keepdims=True))


def _reduce(per_row: np.ndarray, reduction: str):
    """Per-row losses -> 'none' (as they are), 'mean' or 'sum'; and the factor d(out)/d(row)."""
    if reduction == "mean":  # sum * (1/n): ndarray.mean's Python wrapper costs more than the math
        factor = 1.0 / max(per_row.size, 1)
        return np.asarray(np.add.reduce(per_row, axis=None) * per_row.dtype.type(factor)), factor
    if reduction == "sum":
        return np.add.reduce(per_row, axis=None), 1.0
    return per_row, None


def _scale(grad: np.ndarray, factor) -> np.ndarray:
    """The upstream gradient per row: a scalar times the mean/sum factor, or one value per row."""
    return grad[..., None] if factor is None else grad * factor


class SoftmaxCrossEntropy(Function):
    """Per-row loss from logits and target distributions (one-hot or smoothed).

    [.., K] logits, [.., K] target -> [..] loss = -sum_k t_k log softmax(z)_k (``reduction=
    "none"``), or its mean/sum (a scalar).
    dL/dz = g * (softmax(z) * sum_k t_k - t)   (= g * (p - t) for targets that sum to 1),
    with g divided by the number of rows for the mean.
    """

    shape_rule = "logits and targets of the same shape [.., classes]"

    def forward(self, z, *, target, reduction="none", log_p=None):
        if z.shape != target.shape:
            raise ValueError(f"logits {z.shape} vs targets {target.shape}")
        self.log_p = _log_softmax(z) if log_p is None else log_p
        self.target = target
        out, self.factor = _reduce(-(target * self.log_p).sum(axis=-1), reduction)
        return out

    def backward(self, grad):
        p = np.exp(self.log_p)
        total = self.target.sum(axis=-1, keepdims=True)
        return _scale(grad, self.factor) * (p * total - self.target)


class SparseSoftmaxCrossEntropy(Function):
    """Per-row loss from logits and integer class labels.

    [B, K] logits, [B] labels -> [B] loss = -log softmax(z)[b, label_b] (``reduction="none"``),
    or its mean/sum (a scalar).   dL/dz = g * (softmax(z) - onehot(label)) (/ B for the mean).
    """

    shape_rule = "logits [batch, classes] and integer labels [batch]"

    def forward(self, z, *, labels, reduction="none", log_p=None):
        self.log_p = _log_softmax(z) if log_p is None else log_p
        self.rows = np.arange(z.shape[0])
        self.labels = labels
        out, self.factor = _reduce(-self.log_p[self.rows, labels], reduction)
        return out

    def backward(self, grad):
        dz = np.exp(self.log_p)
        dz[self.rows, self.labels] -= 1
        dz *= _scale(grad, self.factor)
        return dz
