"""Small neural-network ops that are not plain arithmetic."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

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


class DropoutDraw(Function):
    """Inverted dropout that draws its own mask: keep ~ Bernoulli(1 - rate) of shape
    ``mask_shape`` (the input's, or a broadcastable noise shape) from the generator ``rng``,
    mask = keep / (1 - rate) in the input's dtype, out = a * mask.   dL/da = g * mask.

    The draw is part of the op (not of the layer), so a replayed step (``tinygrad_edu.jit``)
    draws from the same generator in the same order as the eager step: the random stream, and
    the generator's state after any number of steps, are the eager ones.
    """

    shape_rule = "a mask shape broadcastable to the input"

    def forward(self, a, *, rng, rate, mask_shape=None):
        keep = rng.random(a.shape if mask_shape is None else mask_shape) >= rate
        # kept values scaled by 1/(1 - rate) in a's dtype: mask = keep * scale, one pass
        self.mask = np.multiply(keep, _keep_scale(rate, a.dtype), dtype=a.dtype)
        return a * self.mask

    def backward(self, grad):
        return grad * self.mask


@lru_cache(maxsize=64)
def _keep_scale(rate: float, dtype: np.dtype):
    """``dtype(1) / dtype(1 - rate)``: a kept value's scale in ``dtype``, made once per rate and
    dtype (making the two numpy scalars costs more than a small step's multiply)."""
    return dtype.type(1) / dtype.type(1 - rate)
