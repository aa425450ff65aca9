"""Hypothesis strategies for testing ops and layers: shapes, bounded float arrays and Tensors,
values kept away from kinks and ties.

``unit_counts`` draws layer widths from 1 to 64 (300 under the ``thorough`` profile) with the
edge values 1, 2, 7 and 64 drawn often.

Every ``shape`` argument takes a concrete tuple **or** a strategy of tuples (default ``shapes()``).
Arrays are float64 unless ``dtype`` says otherwise; values are finite, never subnormal, and stay
inside ``[min_value, max_value]`` (``away_from_kinks`` may step ``margin`` past a bound).

>>> from hypothesis import given
>>> @given(arrays(shapes(max_dims=2), min_value=-1.0, max_value=1.0))
... def test_abs_is_bounded(a):
...     assert (abs(a) <= 1.0).all()
>>> test_abs_is_bounded()
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor
from .profiles import default_max_units

ShapeLike = Union[Tuple[int, ...], st.SearchStrategy]


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy:
    """Array shapes, e.g. ``()``, ``(3,)``, ``(2, 1, 4)``; small by default so tests stay fast."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    base_shape: Tuple[int, ...] = (),
) -> st.SearchStrategy:
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy rules), e.g.
    ``((3, 1), (4,))``; their result is ``np.broadcast_shapes(*shapes)``."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        base_shape=tuple(base_shape),
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda bs: tuple(bs.input_shapes))


def _as_shape_strategy(shape: Optional[ShapeLike]) -> st.SearchStrategy:
    """A concrete shape -> ``st.just(shape)``; a strategy as is; None -> ``shapes()``."""
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, (int, np.integer)):
        return st.just((int(shape),))
    return st.just(tuple(int(s) for s in shape))


def _floats(min_value: float, max_value: float) -> st.SearchStrategy:
    return st.floats(
        min_value=min_value,
        max_value=max_value,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    )


def arrays(
    shape: Optional[ShapeLike] = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy:
    """Finite float arrays of ``shape`` with values in ``[min_value, max_value]``."""
    if not min_value <= max_value:
        raise ValueError(f"min_value={min_value} must not exceed max_value={max_value}")
    return hnp.arrays(
        np.float64, _as_shape_strategy(shape), elements=_floats(min_value, max_value)
    ).map(lambda a: a.astype(dtype))


def positive_arrays(
    shape: Optional[ShapeLike] = None,
    min_value: float = 0.1,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy:
    """Arrays in ``[min_value, max_value]`` with ``min_value > 0``: the domain of log, sqrt and a
    tensor exponent's base, kept away from 0 where their derivatives blow up."""
    if not min_value > 0:
        raise ValueError(f"positive_arrays needs min_value > 0, got {min_value}")
    return arrays(shape, min_value, max_value, dtype)


def tensors(
    shape: Optional[ShapeLike] = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
    requires_grad: bool = True,
) -> st.SearchStrategy:
    """``Tensor`` s wrapping ``arrays(shape, min_value, max_value, dtype)``."""
    return arrays(shape, min_value, max_value, dtype).map(
        lambda a: Tensor(a, requires_grad=requires_grad)
    )


def _push_away(a: np.ndarray, kinks: Sequence[float], margin: float) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    for k in kinks:
        d = a - k
        close = np.abs(d) < margin
        a[close] = k + np.where(d[close] >= 0, margin, -margin)
    return a


def away_from_kinks(
    shape: Optional[ShapeLike] = None,
    kinks: Sequence[float] = (0.0,),
    margin: float = 0.1,
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy:
    """Arrays whose every value is at least ``margin`` from each point in ``kinks`` (where the
    function is not differentiable: 0 for relu/abs, the bounds for clip). A value closer than
    ``margin`` is moved to ``kink +- margin``; kinks must be more than ``2 * margin`` apart."""
    ks = sorted(float(k) for k in kinks)
    if any(b - a <= 2 * margin for a, b in zip(ks, ks[1:])):
        raise ValueError(f"kinks {ks} must be more than 2 * margin = {2 * margin} apart")
    return arrays(shape, min_value, max_value, np.float64).map(
        lambda a: _push_away(a, ks, margin).astype(dtype)
    )


def distinct_arrays(
    shapes_: Union[Sequence[Tuple[int, ...]], st.SearchStrategy],
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy:
    """A tuple of arrays, one per shape, whose values are all different - across the arrays too -
    and at least ``(max_value - min_value) / (2 * total_size)`` apart: max/min (reductions and
    elementwise ``maximum(a, b)``) then have no ties, and a small step cannot reorder values."""
    shapes_st = (
        shapes_
        if isinstance(shapes_, st.SearchStrategy)
        else st.just(tuple(tuple(s) for s in shapes_))
    )

    @st.composite
    def build(draw):
        shps = draw(shapes_st)
        sizes = [int(np.prod(s, dtype=int)) for s in shps]
        n = sum(sizes)
        order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
        jitter = draw(hnp.arrays(np.float64, n, elements=_floats(0.25, 0.75)))
        values = min_value + (max_value - min_value) / max(n, 1) * (order + jitter)
        parts = np.split(values, np.cumsum(sizes)[:-1])
        return tuple(p.reshape(s).astype(dtype) for p, s in zip(parts, shps))

    return build()


def distinct_values(
    shape: Optional[ShapeLike] = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy:
    """One array whose values are pairwise distinct and well separated (see ``distinct_arrays``)."""
    return distinct_arrays(
        _as_shape_strategy(shape).map(lambda s: (s,)), min_value, max_value, dtype
    ).map(lambda t: t[0])


def axes(ndim: int) -> st.SearchStrategy:
    """One valid axis of an ``ndim``-d array, negative ones included (needs ``ndim >= 1``)."""
    if ndim < 1:
        raise ValueError("a 0-d array has no axis")
    return st.integers(-ndim, ndim - 1)


def reduce_axes(ndim: int, allow_none: bool = True) -> st.SearchStrategy:
    """``axis`` arguments for reductions: None (everything), an int, or a tuple of distinct axes
    (possibly empty, possibly negative)."""
    options = [hnp.valid_tuple_axes(ndim)]
    if ndim:
        options.insert(0, axes(ndim))
    if allow_none:
        options.insert(0, st.none())
    return st.one_of(*options)


def keepdims() -> st.SearchStrategy:
    """``keepdims`` flag for reductions."""
    return st.booleans()


#: unit counts where bugs hide: a single unit, a pair, an odd size, a typical layer width
UNIT_EDGES = (1, 2, 7, 64)


def unit_edges(min_units: int, max_units: int) -> Tuple[int, ...]:
    """The ``UNIT_EDGES`` inside ``[min_units, max_units]``, plus both bounds."""
    inside = {e for e in UNIT_EDGES if min_units <= e <= max_units}
    return tuple(sorted(inside | {min_units, max_units}))


@st.composite
def unit_counts(draw: Any, max_units: Optional[int] = None, min_units: int = 1) -> int:
    """Unit counts (Dense units, Conv2D filters, recurrent units) in ``[min_units, max_units]``:
    often an edge value (1, 2, 7, 64 and the bounds), otherwise any count in the range.

    ``max_units=None`` follows the hypothesis profile in force (``profiles.default_max_units``:
    64 under ``ci``, 300 under ``thorough``), read at draw time. Shrinks towards ``min_units``.
    """
    hi = default_max_units() if max_units is None else int(max_units)
    if not 1 <= min_units <= hi:
        raise ValueError(f"need 1 <= min_units <= max_units, got {min_units} and {hi}")
    edges = st.sampled_from(unit_edges(min_units, hi))
    return draw(st.one_of(edges, st.integers(min_units, hi)))


__all__ = [
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "positive_arrays",
    "tensors",
    "away_from_kinks",
    "distinct_arrays",
    "distinct_values",
    "axes",
    "reduce_axes",
    "keepdims",
    "UNIT_EDGES",
    "unit_counts",
]
