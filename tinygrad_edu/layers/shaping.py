"""Layers that only rearrange values: ``Flatten`` and ``Reshape`` (no parameters)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import math

from .. import validation as check
from ..errors import ShapeError
from ..tensor import Tensor
from .algebra import Algebra, shape_map
from .base import Layer, Shape, fmt_count
from .conv import data_format_choice


def _product(dims: Sequence[Optional[int]]) -> Optional[int]:
    """Number of values in ``dims`` (None if any is unknown); exact for any size."""
    return None if None in dims else math.prod(dims)


class Flatten(Layer):
    """One feature axis per sample: ``[B, d1, ..., dk] -> [B, d1*...*dk]`` (``[B] -> [B, 1]``).

    With ``data_format="channels_first"`` the channel axis is moved last first, so the feature
    order matches what the channels_last layout would give (as Keras does).

    >>> f = Flatten()
    >>> f.build_for((None, 62, 62, 32))
    (None, 123008)
    >>> f.algebra().text(), f.algebra().count_text()
    ('[B,62,62,32] -> [B,123008]; 62*62*32 = 123,008', '0')
    """

    feature_axis = None

    def __init__(self, data_format: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format_choice(data_format, self)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if self.data_format == "channels_first" and x.ndim > 2:
            x = x.transpose(0, *range(2, x.ndim), 1)
        return x.reshape(x.shape[0], -1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], _product(input_shape[1:]))

    def algebra(self) -> Algebra:
        dims = self.input_shape[1:]
        known = len(dims) > 1 and None not in dims
        note = f"{'*'.join(map(str, dims))} = {fmt_count(self.output_shape[1])}" if known else ""
        return shape_map(self.input_shape, self.output_shape, note=note)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Rearrange each sample: ``[B, *in] -> [B, *target_shape]`` (same number of values, same
    order). One entry of ``target_shape`` may be -1: it is inferred from the others.

    >>> Reshape((3, -1)).build_for((None, 12))
    (None, 3, 4)
    """

    feature_axis = None
    example_args = {"target_shape": (-1,)}

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = _target_shape(target_shape, self)
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


def _is_inferred(size: Any) -> bool:
    return check.is_int(size) and size == -1


def _target_shape(value: Any, layer: Layer) -> Tuple[int, ...]:
    """Reshape's target: positive ints, at most one of them -1 (inferred), no batch axis."""
    name, example = "target_shape (without the batch axis)", layer.example(target_shape=(7, 7, 16))
    items = list(value) if isinstance(value, (tuple, list)) else None
    if items is None:
        return check.shape(name, value, layer.where, example, allow_none=False)  # refuses it
    if sum(map(_is_inferred, items)) > 1:
        hint = "only one size can be inferred: write the others out"
        check.refuse(name, value, layer.where, "sizes with at most one -1", example, hint)
    known = [1 if _is_inferred(d) else d for d in items]  # -1 aside, every entry is a size
    check.shape(name, known, layer.where, example, allow_none=False)
    return tuple(-1 if _is_inferred(d) else int(d) for d in items)


__all__ = ["Flatten", "Reshape"]
