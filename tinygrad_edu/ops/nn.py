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


class DrawMask(Function):
    """A dropout mask of its own, no gradient: keep ~ Bernoulli(1 - rate) of ``shape`` from the
    generator ``rng``, out = keep / (1 - rate) in ``dtype`` (``draw_mask``). The input only
    places the draw in the graph; its values are not read.

    The recurrent layers draw their ``dropout``/``recurrent_dropout`` masks with it, so a
    replayed step (``tinygrad_edu.jit``) draws them again from the same generator, in the same
    order as the eager step (drawn in the layer, outside any op, they could not be replayed).
    """

    shape_rule = "any input (only its place in the graph counts)"

    def forward(self, a, *, rng, rate, shape, dtype):
        return draw_mask(rng, rate, shape, dtype)

    def backward(self, grad):
        return None  # a constant of the step: nothing flows back to the input


def draw_mask(rng: np.random.Generator, rate: float, shape: tuple, dtype) -> np.ndarray:
    """An inverted-dropout mask: 0 with probability ``rate``, else ``1 / (1 - rate)`` - the
    draw and values of ``DropoutDraw``'s mask (``rng.random(shape) >= rate``, scaled in
    ``dtype``)."""
    dtype = np.dtype(dtype)
    return np.multiply(rng.random(shape) >= rate, _keep_scale(rate, dtype), dtype=dtype)


@lru_cache(maxsize=64)
def _keep_scale(rate: float, dtype: np.dtype):
    """``dtype(1) / dtype(1 - rate)``: a kept value's scale in ``dtype``, made once per rate and
    dtype (making the two numpy scalars costs more than a small step's multiply)."""
    return dtype.type(1) / dtype.type(1 - rate)
