"""Layers that only rearrange values: ``Flatten`` and ``Reshape`` (no parameters)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from ..errors import ConfigError, ShapeError
from ..tensor import Tensor
from .base import Layer, Shape, bracket_shape, fmt_count
from .conv import DATA_FORMATS, check_choice


def _product(dims: Sequence[Optional[int]]) -> Optional[int]:
    """Number of values in ``dims`` (None if any is unknown)."""
    return None if None in dims else int(np.prod(dims, dtype=np.int64))


class Flatten(Layer):
    """One feature axis per sample: ``[B, d1, ..., dk] -> [B, d1*...*dk]`` (``[B] -> [B, 1]``).

    With ``data_format="channels_first"`` the channel axis is moved last first, so the feature
    order matches what the channels_last layout would give (as Keras does).

    >>> f = Flatten()
    >>> f.build_for((None, 62, 62, 32))
    (None, 123008)
    >>> f.algebra()
    ('[B,62,62,32] -> [B,123008]; 62*62*32 = 123,008', '0')
    """

    feature_axis = None

    def __init__(self, data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # None means Keras' default image_data_format, channels_last
        self.data_format = check_choice(
            data_format or "channels_last", "data_format", DATA_FORMATS, self.where
        )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if self.data_format == "channels_first" and x.ndim > 2:
            x = x.transpose(0, *range(2, x.ndim), 1)
        return x.reshape(x.shape[0], -1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], _product(input_shape[1:]))

    def algebra(self) -> Tuple[str, str]:
        text = f"{bracket_shape(self.input_shape)} -> {bracket_shape(self.output_shape)}"
        dims = self.input_shape[1:]
        if len(dims) > 1 and None not in dims:
            text += f"; {'*'.join(map(str, dims))} = {fmt_count(self.output_shape[1])}"
        return text, "0"

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Rearrange each sample: ``[B, *in] -> [B, *target_shape]`` (same number of values, same
    order). One entry of ``target_shape`` may be -1: it is inferred from the others.

    >>> Reshape((3, -1)).build_for((None, 12))
    (None, 3, 4)
    """

    feature_axis = None

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            target = ()
        if not target or target.count(-1) > 1 or any(d <= 0 and d != -1 for d in target):
            raise ConfigError(
                where=self.where,
                expected="target_shape: a tuple of positive ints "
                "(without the batch axis), at most one of them -1",
                got=repr(target_shape),
                fix="e.g. Reshape((7, 7, 16)) or Reshape((-1, 1))",
            )
        self.target_shape = target

    def _resolve(self, dims: Sequence[Optional[int]]) -> Tuple[Optional[int], ...]:
        """``target_shape`` with the -1 filled in for samples of ``dims``; ShapeError if the
        counts cannot match."""
        total = _product(dims)
        known = _product([d for d in self.target_shape if d != -1])
        if total is None:
            return tuple(None if d == -1 else d for d in self.target_shape)
        if -1 in self.target_shape:
            ok = total % known == 0
            inferred = total // known if ok else None
            need = f"a multiple of {known} values per sample"
        else:
            ok, inferred, need = total == known, None, f"{known} values per sample"
        if not ok:
            raise ShapeError(
                where=self.where,
                expected=f"{need} to fill {self.target_shape}",
                got=f"{total} values per sample (shape {tuple(dims)})",
                fix=f"choose a target_shape whose sizes multiply to {total}, or use -1 for one "
                "axis so it is inferred",
            )
        return tuple(inferred if d == -1 else d for d in self.target_shape)

    def build(self, input_shape: Shape) -> None:
        self._resolve(input_shape[1:])  # fail at build time, before any data flows

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return x.reshape(x.shape[0], *self._resolve(x.shape[1:]))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self._resolve(input_shape[1:]))

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}


__all__ = ["Flatten", "Reshape"]
