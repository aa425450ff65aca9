"""Fused softmax + cross-entropy: one op from logits, for stability and speed.

Equal (values and gradients) to ``-(target * logits.log_softmax()).sum(-1)`` and to picking
``-logits.log_softmax()[row, label]``; the tests check both.
"""

from __future__ import annotations

import numpy as np

from ..function import Function


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)  # the max shift keeps exp() finite
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class SoftmaxCrossEntropy(Function):
    """Per-row loss from logits and target distributions (one-hot or smoothed).

    [.., K] logits, [.., K] target -> [..] loss = -sum_k t_k log softmax(z)_k.
    dL/dz = g * (softmax(z) * sum_k t_k - t)   (= g * (p - t) for targets that sum to 1).
    """

    shape_rule = "logits and targets of the same shape [.., classes]"

    def forward(self, z, *, target):
        if z.shape != target.shape:
            raise ValueError(f"logits {z.shape} vs targets {target.shape}")
        self.log_p, self.target = _log_softmax(z), target
        return -(target * self.log_p).sum(axis=-1)

    def backward(self, grad):
        p = np.exp(self.log_p)
        total = self.target.sum(axis=-1, keepdims=True)
        return grad[..., None] * (p * total - self.target)


class SparseSoftmaxCrossEntropy(Function):
    """Per-row loss from logits and integer class labels.

    [B, K] logits, [B] labels -> [B] loss = -log softmax(z)[b, label_b].
    dL/dz = g * (softmax(z) - onehot(label)).
    """

    shape_rule = "logits [batch, classes] and integer labels [batch]"

    def forward(self, z, *, labels):
        self.log_p = _log_softmax(z)
        self.rows = np.arange(z.shape[0])
        self.labels = labels
        return -self.log_p[self.rows, labels]

    def backward(self, grad):
        dz = np.exp(self.log_p)
        dz[self.rows, self.labels] -= 1
        dz *= grad[:, None]
        return dz
