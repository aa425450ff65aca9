"""Layers that change an image's size without weights (Keras semantics): ``ZeroPadding2D`` adds
rows and columns of zeros around each image, ``UpSampling2D`` repeats each pixel (or, with
``interpolation="bilinear"``, blends its neighbours).

    ZeroPadding2D(((t, b), (l, r))):  [B, H, W, C] -> [B, t + H + b, l + W + r, C]
    UpSampling2D((sh, sw)):           out[b, i, j, c] = x[b, i // sh, j // sw, c]
                                      [B, H, W, C] -> [B, sh*H, sw*W, C]
    ... interpolation="bilinear":     out[b, :, :, c] = A_h @ x[b, :, :, c] @ A_w^T

Bilinear resizing is linear and separable: ``A_h [sh*H, H]`` holds, in row i, the weights of the
two input rows around the output row's centre mapped back into the input (half-pixel centres, as
Keras' ``ops.image.resize``): ``src = (i + 0.5) / sh - 0.5``, clamped to ``[0, H - 1]``; row
``floor(src)`` gets ``1 - frac``, the next row ``frac``. ``A_w`` likewise for the columns.

Their gradients: the padded zeros get none (the inner window of g is x's); a repeated pixel gets
the sum over its sh x sw copies (the library's ``Pad`` and ``Repeat`` ops); bilinear's is
``A_h^T @ g @ A_w`` (two matmuls).

>>> import numpy as np
>>> ZeroPadding2D(1)(np.zeros((2, 28, 28, 1))).shape
(2, 30, 30, 1)
>>> UpSampling2D()(np.zeros((2, 7, 7, 16))).shape
(2, 14, 14, 16)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import validation as check
from ..errors import ConfigError
from ..tensor import Tensor
from .algebra import Algebra, shape_map
from .base import Shape
from .conv import ImageLayer


def _two_pairs(padding: Any, where: str) -> tuple:
    """Keras' three spellings of 2-D padding -> ((top, bottom), (left, right)), ints >= 0."""
    example = "ZeroPadding2D(((1, 1), (2, 2)))"
    if check.is_int(padding) or (
        isinstance(padding, (tuple, list)) and all(check.is_int(p) for p in padding)
    ):
        h, w = check.int_tuple("padding", padding, where, example, minimum=0)
        return ((h, h), (w, w))
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        return tuple(
            check.int_tuple("padding", pair, where, example, minimum=0) for pair in padding
        )
    check.refuse(
        "padding",
        padding,
        where,
        "an int, (rows, cols) or ((top, bottom), (left, right)), ints >= 0",
        example,
    )


class ZeroPadding2D(ImageLayer):
    """Zeros around each image: ``padding`` is an int (all four sides), ``(rows, cols)`` (top and
    bottom, left and right) or ``((top, bottom), (left, right))``. No parameters."""

    def __init__(self, padding=(1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _two_pairs(padding, self.where)
        self._set_data_format(data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (t, b), (left, r) = self.padding
        h, w = self.spatial(input_shape)
        hw = (None if h is None else t + h + b, None if w is None else left + w + r)
        return self.image_shape(input_shape[0], hw, input_shape[self.feature_axis])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self.from_channels_last(
            self.to_channels_last(x).pad(((0, 0), *self.padding, (0, 0)))
        )

    def algebra(self) -> Algebra:
        (t, b), (left, r) = self.padding
        lead = f"zero padding (top, bottom) = ({t}, {b}), (left, right) = ({left}, {r}): "
        return shape_map(self.input_shape, self.output_shape, lead=lead)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


def bilinear_matrix(n: int, scale: int, dtype: Any) -> np.ndarray:
    """``A [scale*n, n]``: output row i blends the two input rows around
    ``src = (i + 0.5) / scale - 0.5`` (clamped to ``[0, n - 1]``), weights ``1 - frac, frac``."""
    src = np.clip((np.arange(scale * n) + 0.5) / scale - 0.5, 0, n - 1)
    low = np.floor(src).astype(int)
    high, frac = np.minimum(low + 1, n - 1), src - low
    a = np.zeros((scale * n, n), dtype=dtype)
    np.add.at(a, (np.arange(scale * n), low), 1 - frac)
    np.add.at(a, (np.arange(scale * n), high), frac)
    return a


class UpSampling2D(ImageLayer):
    """Each pixel repeated ``size = (sh, sw)`` times: ``[B, H, W, C] -> [B, sh*H, sw*W, C]``;
    ``interpolation="bilinear"`` blends neighbours instead (``A_h @ x @ A_w^T``, see the module).
    ``"nearest"`` (Keras' default) and ``"bilinear"`` are implemented; Keras' other names
    (bicubic, area, lanczos3, lanczos5) are refused. No parameters."""

    INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5")

    def __init__(
        self,
        size=(2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.size = check.int_tuple("size", size, self.where, self.example(size=(2, 2)))
        example = self.example(interpolation="nearest")
        self.interpolation = check.choice(
            "interpolation", interpolation, self.INTERPOLATIONS, self.where, example
        )
        if self.interpolation not in ("nearest", "bilinear"):
            raise ConfigError(
                where=self.where,
                expected="interpolation='nearest' or 'bilinear' (those implemented here)",
                got=f"interpolation={interpolation!r}",
                fix=f"UpSampling2D(size={self.size}, interpolation='nearest')",
            )
        self._set_data_format(data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        hw = tuple(
            None if n is None else n * s for n, s in zip(self.spatial(input_shape), self.size)
        )
        return self.image_shape(input_shape[0], hw, input_shape[self.feature_axis])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        (sh, sw), x = self.size, self.to_channels_last(x)
        if self.interpolation == "nearest":
            return self.from_channels_last(x.repeat(sh, axis=1).repeat(sw, axis=2))
        a_h = Tensor(bilinear_matrix(x.shape[1], sh, x.dtype))
        a_w_t = Tensor(bilinear_matrix(x.shape[2], sw, x.dtype).T.copy())
        planes = x.transpose(0, 3, 1, 2)  # [B, C, H, W]: one matrix per channel
        return self.from_channels_last((a_h @ planes @ a_w_t).transpose(0, 2, 3, 1))

    def algebra(self) -> Algebra:
        sh, sw = self.size
        lead = f"each pixel repeated {sh}x{sw}: "
        if self.interpolation == "bilinear":
            lead = f"bilinear upsampling {sh}x{sw} (A_h @ x @ A_w^T per channel): "
        return shape_map(self.input_shape, self.output_shape, lead=lead)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


__all__ = ["UpSampling2D", "ZeroPadding2D"]
