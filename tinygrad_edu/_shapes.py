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
    """Sum ``grad`` down to ``shape`` (undo numpy broadcasting); None if it is not a broadcast."""
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


def bracket_shape(shape: Optional[Sequence[Optional[int]]]) -> str:
    """``(None, 784)`` -> ``[B,784]`` (the algebra column's notation)."""
    if shape is None:
        return "?"
    return "[" + ",".join("B" if d is None else str(d) for d in shape) + "]"


def fmt_count(n: int) -> str:
    """``25120`` -> ``25,120``."""
    return f"{n:,}"


__all__ = [
    "bracket_shape",
    "fmt_count",
    "Shape",
    "normalize_axes",
    "unbroadcast",
    "fmt_shape",
    "conv_output_length",
    "same_padding",
    "as_numeric_array",
]


#: the fix for each kind of non-numeric array (numpy's dtype.kind); each ends with an expression
#: on the array ``x`` that makes numbers of it
CONVERSION_FIXES = {
    "c": "keep the real part (x.real) or the magnitude, e.g. np.abs(x)",
    "U": "class names map to integer labels with np.unique(x, return_inverse=True)[1]; strings "
    "of digits convert, e.g. np.asarray(x, dtype=np.float32)",
    "S": "decode the bytes first, e.g. np.char.decode(x).astype(np.float32)",
    "M": "turn dates into numbers (here: days since the first), "
    "e.g. (x - x.min()) / np.timedelta64(1, 'D')",
    "m": "turn durations into numbers (here: seconds), e.g. x / np.timedelta64(1, 's')",
    "O": "make every element a number (no None, strings or nested objects), "
    "e.g. np.asarray(x, dtype=np.float32)",
    "V": "take the numeric fields out of the structured array, e.g. x['field_name']",
}


def as_numeric_array(data, where: str, allow_bool: bool = True) -> np.ndarray:
    """``np.asarray`` that refuses, with a teaching ``DataError``, what cannot be numbers: ragged
    nested lists (samples of different lengths), strings, bytes, objects (None included), complex
    numbers, dates and durations, structured arrays.

    Bools are numbers 0/1 (a mask, a binary feature, a 0/1 label) unless ``allow_bool=False``:
    weights are refused as bools, because True/False there is a mistake, not a value.
    """
    if type(data) is np.ndarray and data.dtype.kind in "iuf":
        return data  # the common case, checked without a call to numpy
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(
            where=where,
            expected="a rectangular array (every sample the same shape)",
            got=f"data numpy cannot stack ({str(exc).split(';')[0].split('.')[0]})",
            fix="pad sequences to one length (or crop them), and make every sample the same "
            "shape before stacking them into one array",
        ) from None
    if arr.dtype.kind == "b" and not allow_bool:
        raise DataError(
            where=where,
            expected="numbers (a float array)",
            got="dtype bool",
            fix="weights are numbers, not True/False: convert with x.astype(np.float32)",
        )
    if arr.dtype.kind not in "biuf":
        got = f"dtype {arr.dtype}" + (" (None)" if data is None else "")
        raise DataError(
            where=where,
            expected="numbers (a float or int array)",
            got=got,
            fix=CONVERSION_FIXES.get(arr.dtype.kind, "convert your data to numbers first"),
        )
    return arr
