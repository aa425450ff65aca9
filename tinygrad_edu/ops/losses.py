"""Fused softmax + cross-entropy (+ the batch mean): one op from logits, for stability and speed.

Equal (values and gradients) to ``-(target * logits.log_softmax()).sum(-1)`` and to picking
``-logits.log_softmax()[row, label]``, then ``.mean()``/``.sum()``; the tests check both.
``log_p`` may pass the log-probabilities a Softmax op already computed, so they are not redone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..function import Function


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)  # the shift keeps exp() finite
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=-1, keepdims=True))


def _negated_reduce(log_p_row: np.ndarray, reduction: str):
    """Per-row losses ``-log_p_row`` -> 'none' (one per row), 'mean' or 'sum'; and the factor
    d(out)/d(row).

    For 'mean' and 'sum' the sign goes on the scalar: sum(-v) * f == sum(v) * (-f) to the bit
    (negation is exact), without a negated copy of the rows. ``* -factor`` with a Python float
    computes in the rows' dtype (numpy >= 2: as ``dtype.type(-factor)``, without making one)."""
    if reduction == "mean":  # sum * (1/n): ndarray.mean's Python wrapper costs more than the math
        factor = 1.0 / max(log_p_row.size, 1)
        return np.asarray(np.add.reduce(log_p_row, axis=None) * -factor), factor
    if reduction == "sum":
        return np.asarray(np.add.reduce(log_p_row, axis=None) * -1.0), 1.0
    return -log_p_row, None


def _scale(grad: np.ndarray, factor) -> np.ndarray:
    """The upstream gradient per row: a scalar times the mean/sum factor, or one value per row.
    (``grad[()]``: the 0-d gradient as a numpy scalar, whose product is scalar math.)"""
    return grad[..., None] if factor is None else grad[()] * factor


@lru_cache(maxsize=64)
def _rows(n: int) -> np.ndarray:
    """``np.arange(n)`` (read-only, made once per batch size): the row of each label."""
    rows = np.arange(n)
    rows.setflags(write=False)
    return rows


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
        out, self.factor = _negated_reduce((target * self.log_p).sum(axis=-1), reduction)
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
        self.rows = _rows(z.shape[0])
        self.labels = labels
        out, self.factor = _negated_reduce(self.log_p[self.rows, labels], reduction)
        return out

    def backward(self, grad):
        dz = np.exp(self.log_p)
        dz[self.rows, self.labels] -= 1
        dz *= _scale(grad, self.factor)
        return dz
