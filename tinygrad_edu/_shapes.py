"""Shape helpers shared by the engine, layers and summaries (pure Python + numpy, no Tensor)."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np

from .errors import DataError

Shape = Tuple[Optional[int], ...]


def normalize_axes(axis: Union[None, int, Sequence[int]], ndim: int) -> Tuple[int, ...]:
    """``None`` -> every axis; an int or a sequence -> sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        if not -ndim <= a < max(ndim, 1):
            from .errors import ShapeError

            raise ShapeError(
                where="axis argument",
                expected=f"an axis in [{-ndim}, {ndim - 1}] for a {ndim}-d array",
                got=str(a),
                fix="count axes from 0 (the batch axis) or from -1 (the last axis)",
            )
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(out))


def unbroadcast(grad: np.ndarray, shape: Tuple[int, ...]) -> Optional[np.ndarray]:
    """Sum ``grad`` down to ``shape`` (undo numpy broadcasting); ``None`` if it is not a broadcast."""
    extra = grad.ndim - len(shape)
    if extra < 0:
        return None
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad if grad.shape == tuple(shape) else None


def fmt_shape(shape: Sequence[Optional[int]], batch: str = "None") -> str:
    """``(None, 28, 28)`` style, with ``None`` (the batch axis) spelled as ``batch``."""
    items = [batch if d is None else str(d) for d in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def as_pair(value: Union[int, Sequence[int]], name: str, where: str) -> Tuple[int, int]:
    """Keras accepts ``3`` or ``(3, 3)`` for kernel sizes, strides, pool sizes and dilations."""
    from .errors import ConfigError

    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            pair = ()
        if len(pair) != 2:
            raise ConfigError(
                where=where,
                expected=f"{name} as an int or a pair of ints",
                got=repr(value),
                fix=f"use e.g. {name}=3 or {name}=(3, 3)",
            )
    if min(pair) <= 0:
        raise ConfigError(
            where=where,
            expected=f"positive {name}",
            got=repr(value),
            fix=f"every {name} must be at least 1",
        )
    return pair


def is_int(value) -> bool:
    """A Python or numpy integer, but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_int(value, name: str, where: str, fix: str) -> int:
    """``value`` as an int if it is a positive integer, else a ``ConfigError`` saying so."""
    from .errors import ConfigError

    if not is_int(value) or value <= 0:
        raise ConfigError(
            where=where, expected=f"{name} as a positive int", got=repr(value), fix=fix
        )
    return int(value)


def conv_output_length(
    length: Optional[int], kernel: int, stride: int, padding: str, dilation: int = 1
) -> Optional[int]:
    """Keras' output length of a convolution or pooling window along one axis.

    valid: ``floor((n - d*(k-1) - 1) / s) + 1``;  same: ``ceil(n / s)``.
    """
    if length is None:
        return None
    effective = dilation * (kernel - 1) + 1
    if padding == "same":
        return -(-length // stride)
    return (length - effective) // stride + 1


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> Tuple[int, int]:
    """Keras/TensorFlow "same" padding (before, after); the extra pixel goes after."""
    effective = dilation * (kernel - 1) + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


__all__ = [
    "Shape",
    "normalize_axes",
    "unbroadcast",
    "fmt_shape",
    "as_pair",
    "conv_output_length",
    "same_padding",
    "as_numeric_array",
    "is_int",
    "positive_int",
]


def as_numeric_array(data, where: str) -> np.ndarray:
    """``np.asarray`` that refuses, with a teaching ``DataError``, what cannot be numbers:
    ragged nested lists (samples of different lengths), strings, objects, complex numbers."""
    if type(data) is np.ndarray and data.dtype.kind in "biuf":
        return data  # the common case, checked without a call to numpy
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise DataError(
            where=where,
            expected="a rectangular array (every sample the same shape)",
            got=f"data numpy cannot stack ({str(exc).split(';')[0].split('.')[0]})",
            fix="pad sequences to one length (or crop them), and make every sample the same "
            "shape before stacking them into one array",
        ) from None
    if arr.dtype.kind not in "biuf":
        raise DataError(
            where=where,
            expected="numbers (a float or int array)",
            got=f"dtype {arr.dtype}",
            fix="convert your data to numbers first, e.g. np.asarray(x, dtype=np.float32)",
        )
    return arr
