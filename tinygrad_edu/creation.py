"""Tensors made from nothing but a shape: ``zeros``, ``ones``, ``full``, ``eye``, ``arange``,
``linspace``, ``zeros_like``, ``ones_like``, ``rand``, ``randn``, and ``one_hot`` from labels
(exported at the top level: ``tinygrad_edu.zeros(2, 3)``).

As every tensor of the library they are float32 unless ``dtype=`` says otherwise - ``arange(5)``
too (torch gives int64 there: pass ``dtype=np.int64`` for indices). A shape is given as torch
allows, as ints or as one tuple: ``zeros(2, 3)`` and ``zeros((2, 3))`` are the same.
``requires_grad=True`` makes a leaf to differentiate (float dtypes only, as torch).
``rand``/``randn`` draw from the library's generator, so ``set_seed(n)`` makes them repeat.

>>> import numpy as np
>>> from tinygrad_edu import set_seed
>>> zeros(2, 3).shape, ones((2,)).dtype, arange(0, 1, 0.25).tolist()
((2, 3), dtype('float32'), [0.0, 0.25, 0.5, 0.75])
>>> set_seed(0); a = randn(3); set_seed(0); bool((randn(3) == a).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._rng import global_rng
from .errors import ConfigError
from .ops.indexing import one_hot as _one_hot
from .tensor import Tensor
from .validation import describe, is_finite_real, is_int


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of 0s: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape(shape, "zeros"), _dtype(dtype, "zeros")), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of 1s: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _make(np.ones(_shape(shape, "ones"), _dtype(dtype, "ones")), requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (an int or a tuple) holding ``fill_value`` everywhere."""
    if not _is_number(fill_value):
        raise ConfigError(
            where="full",
            expected="fill_value as a number",
            got=describe(fill_value),
            fix="full((2, 3), 7.0)",
        )
    dims = _shape((shape,), "full")
    return _make(np.full(dims, fill_value, _dtype(dtype, "full")), requires_grad)


def eye(n: Any, m: Any = None, k: int = 0, dtype: Any = None, requires_grad: bool = False):
    """The ``n x m`` identity matrix (``m = n`` by default): 1s on diagonal ``k``, 0 elsewhere."""
    rows = _size(n, "n", "eye", "eye(3)")
    cols = rows if m is None else _size(m, "m", "eye", "eye(3, 4)")
    if not is_int(k):
        raise ConfigError(where="eye", expected="k as an int", got=describe(k), fix="eye(3, k=1)")
    return _make(np.eye(rows, cols, int(k), dtype=_dtype(dtype, "eye")), requires_grad)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, requires_grad=False):
    """``start, start + step, ...`` up to ``stop`` (excluded); ``arange(n)`` is ``0 .. n-1``."""
    start, stop = (0, start) if stop is None else (start, stop)
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if not is_finite_real(value):
            raise ConfigError(
                where="arange",
                expected=f"{name} as a finite number",
                got=describe(value),
                fix="arange(0, 10, 2)",
            )
    if step == 0:
        raise ConfigError(
            where="arange", expected="a nonzero step", got="step=0", fix="arange(0, 10, 2)"
        )
    values = np.arange(start, stop, step)
    return _make(values.astype(_dtype(dtype, "arange")), requires_grad)


def linspace(
    start: Any,
    stop: Any,
    num: Any = 50,
    endpoint: bool = True,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless ``endpoint=False``)."""
    for name, value in (("start", start), ("stop", stop)):
        if not is_finite_real(value):
            raise ConfigError(
                where="linspace",
                expected=f"{name} as a finite number",
                got=describe(value),
                fix="linspace(0.0, 1.0, 5)",
            )
    count = _size(num, "num", "linspace", "linspace(0.0, 1.0, 5)")
    values = np.linspace(start, stop, count, endpoint=bool(endpoint))
    return _make(values.astype(_dtype(dtype, "linspace")), requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """0s of ``t``'s shape and dtype (a tensor or an array)."""
    like = _array_of(t)
    dt = like.dtype if dtype is None else _dtype(dtype, "zeros_like")
    return _make(np.zeros(like.shape, dt), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """1s of ``t``'s shape and dtype (a tensor or an array)."""
    like = _array_of(t)
    dt = like.dtype if dtype is None else _dtype(dtype, "ones_like")
    return _make(np.ones(like.shape, dt), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform random values in [0, 1) from the library's generator (``set_seed`` repeats them)."""
    dims, dt = _shape(shape, "rand"), _float_dtype(dtype, "rand")
    return _make(global_rng().random(dims).astype(dt), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal values (mean 0, std 1) from the library's generator."""
    dims, dt = _shape(shape, "randn"), _float_dtype(dtype, "randn")
    return _make(global_rng().standard_normal(dims).astype(dt), requires_grad)


def one_hot(labels: Any, num_classes: int, dtype: Any = None) -> Tensor:
    """Integer labels -> rows with a 1 at the label's column: shape ``labels.shape +
    (num_classes,)``, float32 unless ``dtype`` says (Keras' ``to_categorical``; torch's
    ``one_hot`` gives int64). Whole-number floats are labels too."""
    data = labels._data if isinstance(labels, Tensor) else labels
    return _make(_one_hot(data, num_classes, _dtype(dtype, "one_hot")), False)


# -------------------------------------------------------------------- argument checks
def _make(data: np.ndarray, requires_grad: Any) -> Tensor:
    if requires_grad is True and data.dtype.kind != "f":
        raise ConfigError(
            where="Tensor creation",
            expected="requires_grad=True only with a float dtype (gradients are real numbers)",
            got=f"dtype {data.dtype}",
            fix="zeros(3, dtype=np.float64, requires_grad=True)",
        )
    return Tensor(data, requires_grad=requires_grad, dtype=data.dtype)  # ints stay ints


def _shape(sizes: tuple[Any, ...], where: str) -> tuple[int, ...]:
    """``(2, 3)`` from ``zeros(2, 3)`` or ``zeros((2, 3))``: ints >= 0."""
    given = sizes
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not given or not all(is_int(n) and n >= 0 for n in sizes):
        got = "no shape" if not given else describe(given if len(given) > 1 else given[0])
        raise ConfigError(
            where=where,
            expected="the shape as ints >= 0, e.g. 2, 3 or (2, 3); () for a single number",
            got=got,
            fix=f"{where}(2, 3)",
        )
    return tuple(int(n) for n in sizes)


def _size(value: Any, name: str, where: str, example: str) -> int:
    if is_int(value) and value >= 0:
        return int(value)
    raise ConfigError(
        where=where, expected=f"{name} as an int >= 0", got=describe(value), fix=example
    )


def _dtype(dtype: Any, where: str) -> np.dtype:
    """None -> float32 (the library's default); any numpy number or bool dtype."""
    if dtype is None:
        return np.dtype(np.float32)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "biuf":
        raise ConfigError(
            where=where,
            expected="dtype as a numpy number type (np.float32, np.float64, np.int64, ...)",
            got=describe(dtype),
            fix=f"{where}(..., dtype=np.float64)",
        )
    return dt


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    dt = _dtype(dtype, where)
    if dt.kind != "f":
        raise ConfigError(
            where=where,
            expected="a float dtype (random values are real numbers)",
            got=f"dtype={dt}",
            fix=f"{where}(2, 3, dtype=np.float64)",
        )
    return dt


def _array_of(t: Any) -> np.ndarray:
    if isinstance(t, Tensor):
        return t._data
    if isinstance(t, np.ndarray):
        return t
    raise ConfigError(
        where="zeros_like/ones_like",
        expected="a Tensor or a numpy array",
        got=describe(t),
        fix="zeros_like(np.ones((2, 3)))",
    )


def _is_number(value: Any) -> bool:
    """A Python or numpy number or bool (NaN and inf included: ``full(3, np.nan)`` is fine)."""
    return isinstance(value, (bool, int, float, np.number, np.bool_))


__all__ = [
    "arange",
    "eye",
    "full",
    "linspace",
    "one_hot",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "zeros",
    "zeros_like",
]
