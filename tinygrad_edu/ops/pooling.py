"""Fused 2-D pooling ops on channels_last images ``[B, H, W, C]``: ``MaxPool2D`` and ``AvgPool2D``.

Two paths give the same numbers:

- fast, when the stride equals the pool size and there is no padding (the usual 2x2/2): the
  windows tile the image, so ``x[:, :OH*ph, :OW*pw].reshape(B, OH, ph, OW, pw, C)`` puts each
  window on axes 2 and 4 (the rows/columns that fit no whole window are dropped, as Keras does);
- general (overlapping windows, "same" padding): a sliding-window view ``[B, OH, OW, ph, pw, C]``
  of the padded image, and backward adds each pool tap's share back with a strided slice.

Max ties: a window whose maximum appears k times sends g/k to each copy (like ``Tensor.max``).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from .conv import (
    NO_PADS,
    Pads,
    Pair,
    check_window_fits,
    crop_hw,
    output_hw,
    pad_hw,
    tap_index,
    windows,
)

_ONE = (1, 1)


def tiles(pool: Pair, strides: Pair, padding: Pads) -> bool:
    """True when the windows tile the image (stride == pool, no padding): the reshape path."""
    return padding == NO_PADS and tuple(strides) == tuple(pool)


def real_pixel_counts(hw: Pair, pool: Pair, strides: Pair, padding: Pads,
                      dtype=np.float32) -> np.ndarray:
    """How many real (not padding) pixels each window covers, ``[1, OH, OW, 1]``.

    "same" average pooling divides by this count (Keras/TF exclude the padding from the mean).
    """
    ones = pad_hw(np.ones((1, *hw, 1), dtype=dtype), padding)
    return windows(ones, pool, strides, _ONE).sum(axis=(3, 4))


class _Pool(Function):
    """Shared bookkeeping: pick the path and expose the windows with their reduction axes."""

    shape_rule = "x [B, H, W, C] at least as large as the (padded) pool window"
    fill = 0.0  # the value padding takes (max pooling pads with -inf so padding never wins)

    def _windows(self, x, pool, strides, padding):
        self.x_shape, self.pool, self.strides, self.pads = x.shape, pool, strides, padding
        self.fast = tiles(pool, strides, padding)
        xp = pad_hw(x, padding, self.fill)
        check_window_fits(xp.shape[1:3], pool, _ONE, f"op '{self.name}'", what="pool window")
        self.out_hw = output_hw(xp.shape[1:3], pool, strides, _ONE)
        if self.fast:
            (oh, ow), (ph, pw) = self.out_hw, pool
            crop = x[:, :oh * ph, :ow * pw, :]
            self.axes = (2, 4)
            return crop.reshape(x.shape[0], oh, ph, ow, pw, x.shape[3])
        self.xp, self.axes = xp, (3, 4)
        return windows(xp, pool, strides, _ONE)

    def _taps(self):
        """(index into the padded input, as in ``tap_index``) for every pool offset."""
        return [tap_index(i, j, self.out_hw, self.strides, _ONE)
                for i in range(self.pool[0]) for j in range(self.pool[1])]

    def _untile(self, dwin):
        """Fast-path gradient ``[B, OH, ph, OW, pw, C]`` -> the input's shape (zeros for the
        dropped remainder rows/columns)."""
        b, oh, ph, ow, pw, c = dwin.shape
        flat = dwin.reshape(b, oh * ph, ow * pw, c)
        if flat.shape == self.x_shape:
            return flat
        dx = np.zeros(self.x_shape, dtype=dwin.dtype)
        dx[:, :oh * ph, :ow * pw, :] = flat
        return dx

    def _scatter(self, per_tap):
        """General-path gradient: add ``per_tap(index)`` [B, OH, OW, C] back tap by tap."""
        dxp = np.zeros(self.xp.shape, dtype=self.xp.dtype)
        for idx in self._taps():
            dxp[idx] += per_tap(idx)
        return crop_hw(dxp, self.pads)


class MaxPool2D(_Pool):
    """out[b, oh, ow, c] = max over the window of x.   [B, H, W, C] -> [B, OH, OW, C].

    dL/dx = g at the window's maximum (g/k to each of k tied maxima), 0 elsewhere; overlapping
    windows add up.
    """

    fill = -np.inf

    def forward(self, x, *, pool: Pair = (2, 2), strides: Pair = (2, 2), padding: Pads = NO_PADS):
        win = self._windows(x, pool, strides, padding)
        out = win.max(axis=self.axes)
        self.win, self.out = win, out
        return out

    def backward(self, grad):
        if self.fast:
            out6, g6 = self.out[:, :, None, :, None, :], grad[:, :, None, :, None, :]
            hit = self.win == out6
            return self._untile(hit * (g6 / hit.sum(axis=self.axes, keepdims=True)))
        xp, out = self.xp, self.out
        count = sum((xp[idx] == out).astype(grad.dtype) for idx in self._taps())
        share = grad / count
        return self._scatter(lambda idx: (xp[idx] == out) * share)


class AvgPool2D(_Pool):
    """out[b, oh, ow, c] = mean of x over the window's real pixels.  [B, H, W, C] -> [B, OH, OW, C].

    With "same" padding the divisor n counts only real pixels (Keras/TF). dL/dx = g / n spread to
    every real pixel of the window; overlapping windows add up.
    """

    def forward(self, x, *, pool: Pair = (2, 2), strides: Pair = (2, 2), padding: Pads = NO_PADS):
        win = self._windows(x, pool, strides, padding)
        if self.fast:
            return win.mean(axis=self.axes)
        self.count = real_pixel_counts(x.shape[1:3], pool, strides, padding, x.dtype)
        return win.sum(axis=self.axes) / self.count

    def backward(self, grad):
        if self.fast:
            ph, pw = self.pool
            g6 = grad[:, :, None, :, None, :] / (ph * pw)
            b, oh, ow, c = grad.shape
            return self._untile(np.broadcast_to(g6, (b, oh, ph, ow, pw, c)))
        share = grad / self.count
        return self._scatter(lambda idx: share)


__all__ = ["MaxPool2D", "AvgPool2D", "real_pixel_counts", "tiles"]
