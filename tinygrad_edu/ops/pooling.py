"""Fused 2-D pooling ops on channels_last images ``[B, H, W, C]``: ``MaxPool2D`` and ``AvgPool2D``.

Pool offset ("tap") ``(i, j)`` of every window reads one strided slice of the padded input,
``xp[:, i::s_h, j::s_w, :]`` cut to ``[B, OH, OW, C]`` (``tap_index``, shared with the
convolution). So a pooling is ``ph*pw`` elementwise steps over output-sized slices:

    max:  out = maximum(tap_00, tap_01, ...)        mean:  out = (tap_00 + tap_01 + ...) / n

and backward adds each tap's share of the gradient back onto its slice. When the windows do not
overlap (stride >= pool: the usual 2x2/2) the slices are disjoint and the shares are written in
place, without a scatter-add. (Measured: this is several times faster than a reshape to
``[B, OH, ph, OW, pw, C]`` and a reduction over axes 2 and 4, which the composed reference form
in ``layers/pooling.py`` uses for readability.)

"same" padding is TensorFlow's (the extra pixel after); padded pixels never win a max (-inf) and
are not counted in a mean. Max ties: a window whose maximum appears k times sends g/k to each
copy (like ``Tensor.max``).
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
    """True when the windows tile the image (stride == pool, no padding): a reshape can pool."""
    return padding == NO_PADS and tuple(strides) == tuple(pool)


def real_pixel_counts(
    hw: Pair, pool: Pair, strides: Pair, padding: Pads, dtype=np.float32
) -> np.ndarray:
    """How many real (not padding) pixels each window covers, ``[1, OH, OW, 1]``.

    "same" average pooling divides by this count (Keras/TF exclude the padding from the mean).
    """
    ones = pad_hw(np.ones((1, *hw, 1), dtype=dtype), padding)
    return windows(ones, pool, strides, _ONE).sum(axis=(3, 4))


class _Pool(Function):
    """Shared bookkeeping: pad, list the taps, and scatter per-tap gradients back."""

    shape_rule = "x [B, H, W, C] at least as large as the (padded) pool window"
    fill = 0.0  # the value padding takes (max pooling pads with -inf so padding never wins)

    def _taps(self, x, pool, strides, padding):
        """The padded input and every tap's slice of it, ``[B, OH, OW, C]`` each (views)."""
        xp = pad_hw(x, padding, self.fill)
        check_window_fits(xp.shape[1:3], pool, _ONE, f"op '{self.name}'", what="pool window")
        out_hw = output_hw(xp.shape[1:3], pool, strides, _ONE)
        self.index = [
            tap_index(i, j, out_hw, strides, _ONE) for i in range(pool[0]) for j in range(pool[1])
        ]
        self.padded_shape, self.pads, self.dtype = xp.shape, padding, x.dtype
        self.disjoint = all(s >= p for s, p in zip(strides, pool))
        return xp, [xp[idx] for idx in self.index]

    def _scatter(self, shares):
        """dL/dx from one ``[B, OH, OW, C]`` gradient share per tap."""
        dxp = np.zeros(self.padded_shape, dtype=self.dtype)
        for idx, share in zip(self.index, shares):
            if self.disjoint:  # each input pixel lies in at most one window: write, no add
                dxp[idx] = share
            else:
                dxp[idx] += share
        return crop_hw(dxp, self.pads)


class MaxPool2D(_Pool):
    """out[b, oh, ow, c] = max over the window of x.   [B, H, W, C] -> [B, OH, OW, C].

    dL/dx = g at the window's maximum (g/k to each of k tied maxima), 0 elsewhere; overlapping
    windows add up.
    """

    fill = -np.inf

    def forward(self, x, *, pool: Pair = (2, 2), strides: Pair = (2, 2), padding: Pads = NO_PADS):
        self.xp, taps = self._taps(x, pool, strides, padding)
        out = taps[0].copy()
        for tap in taps[1:]:
            np.maximum(out, tap, out=out)
        self.out = out
        return out

    def backward(self, grad):
        hits = [self.xp[idx] == self.out for idx in self.index]
        count = hits[0].astype(grad.dtype)
        for hit in hits[1:]:
            count += hit
        share = grad / count
        return self._scatter(hit * share for hit in hits)


class AvgPool2D(_Pool):
    """out[b, oh, ow, c] = mean of x over the window's n real pixels.   [B, H, W, C] ->
    [B, OH, OW, C]. With "same" padding n counts only real pixels (Keras/TF).

    dL/dx = g / n to every real pixel of the window; overlapping windows add up.
    """

    def forward(self, x, *, pool: Pair = (2, 2), strides: Pair = (2, 2), padding: Pads = NO_PADS):
        _, taps = self._taps(x, pool, strides, padding)
        out = taps[0].copy()
        for tap in taps[1:]:
            out += tap
        self.count = (
            pool[0] * pool[1]
            if padding == NO_PADS
            else real_pixel_counts(x.shape[1:3], pool, strides, padding, x.dtype)
        )
        out /= self.count
        return out

    def backward(self, grad):
        share = grad / self.count
        return self._scatter(share for _ in self.index)


__all__ = ["MaxPool2D", "AvgPool2D", "real_pixel_counts", "tiles"]
