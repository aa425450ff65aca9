"""Pooling over sequences (Keras semantics): ``MaxPooling1D``, ``AveragePooling1D`` and the global
ones, on ``[B, T, C]`` (``channels_first``: ``[B, C, T]``).

A 1-D pooling is the 2-D pooling of ``layers/pooling.py`` on an image one pixel wide: ``[B, T, C]``
is seen as ``[B, T, 1, C]`` with a ``pool_size x 1`` window, so the fused ops and their reference
form (``fused=False``) are the same code::

    [B, T, C] -> [B, OT, C],   OT = floor((T - p) / s) + 1 ("valid") or ceil(T / s) ("same")

>>> import numpy as np
>>> MaxPooling1D()(np.zeros((2, 10, 8))).shape
(2, 5, 8)
>>> GlobalAveragePooling1D()(np.zeros((2, 10, 8))).shape
(2, 8)
"""

from __future__ import annotations

from typing import Any

from .. import config as _config
from .. import validation as check
from .._shapes import conv_output_length
from ..tensor import Tensor
from .algebra import Algebra, shape_map
from .base import Shape
from .conv import padding_choice, window_fits
from .conv1d import SequenceLayer
from .global_pooling import GlobalPooling
from .pooling import pool2d


class _Pooling1D(SequenceLayer):
    """Shared by MaxPooling1D and AveragePooling1D; ``kind`` picks the reduction."""

    kind = "max"

    def __init__(
        self,
        pool_size=2,
        strides=None,
        padding: str = "valid",
        data_format: str | None = None,
        fused: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = self._single("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else self._single("strides", strides)
        self.padding = padding_choice(padding, self)
        self._set_data_format(data_format)
        self.fused = check.flag("fused", fused, self.where, self.example(fused=False), True)

    def _single(self, name: str, value: Any) -> tuple:
        return check.int_tuple(name, value, self.where, self.example(**{name: 2}), length=1)

    def check_window(self, steps) -> None:
        window_fits(self, (steps, 1), (*self.pool_size, 1), self.padding,
                    what="pool window", strides=(*self.strides, 1))  # fmt: skip

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (p,), (s,) = self.pool_size, self.strides
        steps = conv_output_length(self.steps(input_shape), p, s, self.padding)
        return self.sequence_shape(input_shape[0], steps, input_shape[self.feature_axis])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        out = pool2d(
            self.to_image(x),
            self.kind,
            (*self.pool_size, 1),
            (*self.strides, 1),
            self.padding,
            fused=_config.use_fused(self.fused),
        )
        return self.from_image(out)

    def algebra(self) -> Algebra:
        verb = "max" if self.kind == "max" else "mean"
        lead = f"{verb} over windows of {self.pool_size[0]} steps, stride {self.strides[0]}: "
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


class MaxPooling1D(_Pooling1D):
    """out[b, ot, c] = max of x[b, window(ot), c].   [B, T, C] -> [B, OT, C]."""

    kind = "max"


class AveragePooling1D(_Pooling1D):
    """out[b, ot, c] = mean of x over the window's real steps.   [B, T, C] -> [B, OT, C]; with
    "same" padding the border windows average fewer steps."""

    kind = "avg"


class _GlobalPooling1D(GlobalPooling, SequenceLayer):
    """Reduce the steps axis: [B, T, C] -> [B, C] (``keepdims``: [B, 1, C])."""

    pooled_names = "T"

    def pooled_axes(self) -> tuple[int, ...]:
        return (2,) if self.channels_first else (1,)

    def kept_shape(self, batch: Any, channels: Any) -> Shape:
        return self.sequence_shape(batch, 1, channels)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """out[b, c] = max over t of x[b, t, c].   [B, T, C] -> [B, C]."""

    kind = "max"


class GlobalAveragePooling1D(_GlobalPooling1D):
    """out[b, c] = mean over t of x[b, t, c].   [B, T, C] -> [B, C]."""

    kind = "avg"


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D  # Keras' aliases
GlobalMaxPool1D, GlobalAvgPool1D = GlobalMaxPooling1D, GlobalAveragePooling1D

__all__ = [
    "AveragePooling1D",
    "AvgPool1D",
    "GlobalAveragePooling1D",
    "GlobalAvgPool1D",
    "GlobalMaxPool1D",
    "GlobalMaxPooling1D",
    "MaxPool1D",
    "MaxPooling1D",
]
