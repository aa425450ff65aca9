"""Pooling layers (Keras semantics): ``MaxPooling2D``, ``AveragePooling2D``, and the global ones.

A pooling window of ``ph x pw`` slides with ``strides`` (default: the pool size) over each channel
separately and keeps the window's max (or mean); there are no weights::

    [B, H, W, C] -> [B, OH, OW, C],   OH = floor((H - ph) / s) + 1 ("valid") or ceil(H / s) ("same")

"same" pads as TensorFlow does (the extra pixel after); padded pixels never win a max and are not
counted in a mean. Max ties: k equal maxima in a window share its gradient, g/k each.

Two forms compute each pooling (``fused=False``, or ``with tinygrad_edu.config.fused(False):`` for
every layer left at ``fused=None``, selects the second): the fused ``ops.MaxPool2D`` /
``ops.AvgPool2D``, and a composition of Tensor ops - ``reshape`` + ``max``/``mean`` when the
windows tile the image, else one strided slice per pool offset, ``stack`` and ``max``/``sum`` over
the offsets.

>>> import numpy as np
>>> MaxPooling2D()(np.zeros((2, 26, 26, 32))).shape
(2, 13, 13, 32)
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from .. import config as _config
from .. import validation as check
from .._shapes import conv_output_length
from ..functional import stack
from ..ops import conv as _conv_ops
from ..ops import pooling as _ops
from ..tensor import Tensor, tensor_from_op
from .algebra import Algebra, shape_map
from .base import Shape
from .conv import ImageLayer, padding_choice, window_fits
from .global_pooling import GlobalPooling

_ONE = (1, 1)


def pool2d(
    x: Tensor, kind: str, pool_size=(2, 2), strides=None, padding: str = "valid", fused: bool = True
) -> Tensor:
    """Channels_last pooling, ``kind`` "max" or "avg": [B, H, W, C] -> [B, OH, OW, C]."""
    pool = tuple(pool_size)
    strides = pool if strides is None else tuple(strides)
    pads = _conv_ops.spatial_pads(x.shape[1:3], pool, strides, padding)
    if fused:
        op = _ops.MaxPool2D if kind == "max" else _ops.AvgPool2D
        return tensor_from_op(op, x, pool=pool, strides=strides, padding=pads)
    return pool2d_reference(x, kind, pool, strides, pads)


def pool2d_reference(x: Tensor, kind: str, pool, strides, pads) -> Tensor:
    """The same pooling from primitive Tensor ops (see the module docstring)."""
    (ph, pw), (b, h, w, c) = pool, x.shape
    if _ops.tiles(pool, strides, pads):
        oh, ow = h // ph, w // pw
        tiled = x[:, : oh * ph, : ow * pw, :].reshape(b, oh, ph, ow, pw, c)
        return tiled.max(axis=(2, 4)) if kind == "max" else tiled.mean(axis=(2, 4))
    if tuple(pads) != _conv_ops.NO_PADS:
        x = x.pad(((0, 0), *pads, (0, 0)), value=-np.inf if kind == "max" else 0.0)
    out_hw = _conv_ops.output_hw(x.shape[1:3], pool, strides, _ONE)
    taps = stack(
        [x[_conv_ops.tap_index(i, j, out_hw, strides, _ONE)] for i in range(ph) for j in range(pw)],
        axis=0,
    )  # [ph*pw, B, OH, OW, C]
    if kind == "max":
        return taps.max(axis=0)
    return taps.sum(axis=0) / _ops.real_pixel_counts((h, w), pool, strides, pads, x.dtype)


class _Pooling2D(ImageLayer):
    """Shared by MaxPooling2D and AveragePooling2D; ``kind`` picks the reduction."""

    kind = "max"

    def __init__(
        self,
        pool_size=(2, 2),
        strides=None,
        padding: str = "valid",
        data_format: Optional[str] = None,
        fused: Optional[bool] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = self._pair("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else self._pair("strides", strides)
        self.padding = padding_choice(padding, self)
        self._set_data_format(data_format)
        self.fused = check.flag("fused", fused, self.where, self.example(fused=False), True)

    def _pair(self, name: str, value: Any) -> Tuple[int, int]:
        return check.int_tuple(name, value, self.where, self.example(**{name: (2, 2)}))

    def check_window(self, hw) -> None:
        window_fits(
            self, hw, self.pool_size, self.padding, what="pool window", strides=self.strides
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        hw = tuple(
            conv_output_length(n, p, s, self.padding)
            for n, p, s in zip(self.spatial(input_shape), self.pool_size, self.strides)
        )
        return self.image_shape(input_shape[0], hw, input_shape[self.feature_axis])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        out = pool2d(
            self.to_channels_last(x),
            self.kind,
            self.pool_size,
            self.strides,
            self.padding,
            fused=_config.use_fused(self.fused),
        )
        return self.from_channels_last(out)

    def algebra(self) -> Algebra:
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        verb = "max" if self.kind == "max" else "mean"
        lead = f"{verb} over {ph}x{pw} windows, stride {sh}x{sw}: "
        return shape_map(self.input_shape, self.output_shape, lead=lead)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            **_config.fused_config(self.fused),
        }


class MaxPooling2D(_Pooling2D):
    """out[b, oh, ow, c] = max of x[b, window(oh, ow), c].   [B, H, W, C] -> [B, OH, OW, C]."""

    kind = "max"


class AveragePooling2D(_Pooling2D):
    """out[b, oh, ow, c] = mean of x over the window's real pixels.   [B, H, W, C] ->
    [B, OH, OW, C]; with "same" padding the border windows average fewer pixels."""

    kind = "avg"


class _GlobalPooling2D(GlobalPooling, ImageLayer):
    """Reduce the two spatial axes: [B, H, W, C] -> [B, C] (``keepdims``: [B, 1, 1, C])."""

    pooled_names = "H, W"

    def pooled_axes(self) -> Tuple[int, ...]:
        return (2, 3) if self.channels_first else (1, 2)

    def kept_shape(self, batch: Any, channels: Any) -> Shape:
        return self.image_shape(batch, (1, 1), channels)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """out[b, c] = max over h, w of x[b, h, w, c].   [B, H, W, C] -> [B, C]."""

    kind = "max"


class GlobalAveragePooling2D(_GlobalPooling2D):
    """out[b, c] = mean over h, w of x[b, h, w, c].   [B, H, W, C] -> [B, C]."""

    kind = "avg"


MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D  # Keras' aliases
GlobalMaxPool2D, GlobalAvgPool2D = GlobalMaxPooling2D, GlobalAveragePooling2D

__all__ = [
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalMaxPooling2D",
    "GlobalAveragePooling2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalMaxPool2D",
    "GlobalAvgPool2D",
]
