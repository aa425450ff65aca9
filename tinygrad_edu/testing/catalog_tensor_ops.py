"""The CLI gradcheck catalog's cases for the everyday tensor ops (``ops/elementwise_math.py``,
``ops/scan.py``, ``ops/indexing.py``, the recurrent layers' ``DrawMask``), as ``(name, fn,
shapes, domain, sizes)`` tuples that ``catalog.py`` turns into its ``OpCase`` s (this module does
not import it: no cycle).

The step functions (floor, ceil, round) get inputs squashed into (0.1, 0.9) or (0.05, 0.45) by a
sigmoid, so no input sits on a jump, where the finite difference would blow up; their gradient
is 0 either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, tensor_from_op


def _picks(a: Tensor) -> np.ndarray:
    """An index into a's last axis with 3 picks per row, repeats included (gather's case)."""
    return np.arange(a.shape[0] * 3).reshape(-1, 3) % a.shape[-1]


def _mask(a: Tensor) -> Tensor:
    """The recurrent layers' dropout mask (op ``DrawMask``), one seed per call: the same mask at
    every gradcheck evaluation; it has no gradient of its own (a * mask's is the mask)."""
    rng = np.random.default_rng(0)
    return tensor_from_op(ops.DrawMask, a, rng=rng, rate=0.5, shape=a.shape, dtype=a.dtype)


def _inside(a: Tensor, lo: float, hi: float) -> Tensor:
    """a squashed into (lo, hi): away from the integers and halves the step functions jump at."""
    return a.sigmoid() * (hi - lo) + lo


TENSOR_OP_CASES: list[tuple[Any, ...]] = [
    ("sin", lambda a: a.sin(), ("m,n",), "any", {}),
    ("cos", lambda a: a.cos(), ("m,n",), "any", {}),
    ("log2", lambda a: a.log2(), ("m,n",), "positive", {}),
    ("log10", lambda a: a.log10(), ("m,n",), "positive", {}),
    ("log1p", lambda a: a.log1p(), ("m,n",), "positive", {}),
    ("expm1", lambda a: a.expm1(), ("m,n",), "any", {}),
    ("rsqrt", lambda a: a.rsqrt(), ("m,n",), "positive", {}),
    ("sign", lambda a: a.sign() * a, ("m,n",), "nonzero", {}),
    ("floor", lambda a: _inside(a, 0.1, 0.9).floor() + a, ("m,n",), "any", {}),
    ("ceil", lambda a: _inside(a, 0.1, 0.9).ceil() * a, ("m,n",), "any", {}),
    ("round", lambda a: _inside(a, 0.05, 0.45).round() + a, ("m,n",), "any", {}),
    ("prod", lambda a: a.prod(axis=1), ("m,n",), "any", {}),
    ("std", lambda a: a.std(axis=1, ddof=1), ("m,n",), "distinct", {"n": (2, 4)}),
    ("cumsum", lambda a: a.cumsum(axis=1), ("m,n",), "any", {}),
    ("flip", lambda a: a.flip(axis=0), ("m,n",), "any", {}),
    ("repeat", lambda a: a.repeat(2, axis=1), ("m,n",), "any", {}),
    ("tile", lambda a: a.tile((2, 1)), ("m,n",), "any", {}),
    ("tril", lambda a: a.tril(), ("m,n",), "any", {}),
    ("triu", lambda a: a.triu(1), ("b,m,n",), "any", {}),
    ("gather", lambda a: a.gather(1, _picks(a)), ("m,n",), "any", {}),
    ("take_along_axis", lambda a: a.take_along_axis(_picks(a), axis=-1), ("m,n",), "any", {}),
    ("draw_mask", lambda a: a * _mask(a), ("m,n",), "any", {}),
]

__all__ = ["TENSOR_OP_CASES"]
