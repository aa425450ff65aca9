"""What the global poolings share (1-D and 2-D): reduce every step or pixel of each channel to
one number, ``out[b, c] = max (or mean) of x[b, ..., c]``, [B, ..., C] -> [B, C] (``keepdims``:
the reduced axes kept as size 1). The families say which axes they reduce and how a kept shape
looks: ``GlobalMaxPooling2D`` in ``pooling.py``, ``GlobalMaxPooling1D`` in ``pooling1d.py``.

>>> import numpy as np
>>> from tinygrad_edu.layers import GlobalAveragePooling1D
>>> GlobalAveragePooling1D()(np.arange(6.0).reshape(1, 3, 2)).tolist()
[[2.0, 3.0]]
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

from .. import validation as check
from ..tensor import Tensor
from .algebra import Algebra, shape_map
from .base import Layer, Shape


class GlobalPooling(Layer):
    """The shared half of a global pooling; a family adds ``pooled_names`` (for the algebra),
    ``pooled_axes()`` and ``kept_shape(batch, channels)``."""

    kind = "max"  # or "avg"
    pooled_names = ""

    def __init__(
        self, data_format: Optional[str] = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        self.keepdims = check.flag("keepdims", keepdims, self.where, self.example(keepdims=True))

    def pooled_axes(self) -> Tuple[int, ...]:
        raise NotImplementedError(f"{type(self).__name__}.pooled_axes")

    def kept_shape(self, batch: Any, channels: Any) -> Shape:
        raise NotImplementedError(f"{type(self).__name__}.kept_shape")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        c = input_shape[self.feature_axis]
        return self.kept_shape(input_shape[0], c) if self.keepdims else (input_shape[0], c)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        reduce = x.max if self.kind == "max" else x.mean
        return reduce(axis=self.pooled_axes(), keepdims=self.keepdims)

    def algebra(self) -> Algebra:
        verb = "max" if self.kind == "max" else "mean"
        lead = f"{verb} over {self.pooled_names}: "
        return shape_map(self.input_shape, self.output_shape, lead=lead)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


__all__ = ["GlobalPooling"]
