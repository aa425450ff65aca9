"""Functions with numpy's names that build tensors from several inputs: ``concatenate``,
``stack``, ``where``, ``maximum``, ``minimum`` (exported at the top level as
``tinygrad_edu.concatenate`` and so on).

>>> from tinygrad_edu import Tensor
>>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).shape
(2, 2)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import ops
from .errors import ConfigError
from .engine import apply as _apply
from .tensor import Tensor
from .tensor_ops import _lift, _raw


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``)."""
    return _apply(ops.Concatenate, *_as_tensors(tensors, "concatenate"), axis=axis)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis (``np.stack``)."""
    return _apply(ops.Stack, *_as_tensors(tensors, "stack"), axis=axis)


def _as_tensors(tensors: Sequence[Any], name: str) -> list:
    """The tensors to join (arrays lifted to the first one's dtype); at least one is needed."""
    listed = isinstance(tensors, (Sequence, np.ndarray)) and not isinstance(tensors, str)
    if isinstance(tensors, Tensor) or not listed or len(tensors) == 0:
        raise ConfigError(
            where=name,
            expected="a non-empty list of tensors",
            got=repr(tensors) if not isinstance(tensors, Tensor) else "a single Tensor",
            fix=f"{name}([a, b], axis=0)",
        )
    first = tensors[0] if isinstance(tensors[0], Tensor) else Tensor(tensors[0])
    return [first] + [_lift(t, first) for t in tensors[1:]]


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where the boolean mask ``cond`` holds, else ``b`` (``np.where``)."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else Tensor(a)
    return _apply(
        ops.Where, _lift(a, like), _lift(b, like), cond=np.asarray(_raw(cond), dtype=bool)
    )


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (``np.maximum``); ties share the gradient equally."""
    return (a if isinstance(a, Tensor) else _lift(a, b)).maximum(b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (``np.minimum``); ties share the gradient equally."""
    return (a if isinstance(a, Tensor) else _lift(a, b)).minimum(b)


__all__ = ["concatenate", "stack", "where", "maximum", "minimum"]
