"""Small neural-network ops that are not plain arithmetic."""

from __future__ import annotations

from ..function import Function


class DropoutMask(Function):
    """Inverted dropout with a given mask: out = a * mask, where mask holds 0 (dropped) or
    1/(1-rate) (kept), so the expected value of out equals a.   dL/da = g * mask.

    The layer draws the mask (seeded); the op only applies it, so it stays deterministic and
    gradient-checkable.
    """

    shape_rule = "a mask broadcastable to the input"

    def forward(self, a, *, mask):
        self.mask = mask
        return a * mask

    def backward(self, grad):
        return grad * self.mask
