"""The op table: one ``OpEntry`` per way of calling an op; it drives ``test_op_table.py``.

Every entry gets (1) a forward test against its numpy ``reference`` in float64 (values, shape,
dtype, and the entry's op appears in the recorded graph) and in float32 (the dtype is kept), and
(2) a float64 gradient check through ``tinygrad_edu.testing.check_op``. A coverage test fails when a
``Function`` subclass defined anywhere in ``tinygrad_edu.ops`` has no entry.

Adding entries for a new op module (say ``tinygrad_edu/ops/conv.py``) - no need to edit this file
or ``test_op_table.py``: create ``tests/ops/entries_conv.py`` holding a list ``OP_ENTRIES``::

    import numpy as np
    from hypothesis import strategies as st

    from op_table import OpEntry, case, cases
    from tinygrad_edu import ops, testing

    OP_ENTRIES = [
        OpEntry(
            name="exp",                                    # unique: it is the test id
            op=ops.Exp,                                    # the Function subclass covered
            call=lambda a: a.exp(),                        # Tensors (+ params) -> Tensor
            reference=np.exp,                              # numpy arrays (+ params) -> array
            inputs=cases(testing.arrays()),                # a strategy of ``Case``
        ),
    ]

Every ``tests/ops/entries_*.py`` is imported by ``all_entries()`` (this folder is on ``sys.path``,
so ``from op_table import ...`` works in them). ``register(entry, ...)`` also adds entries, from any
module imported before collection. Inputs whose params depend on the drawn shapes (an ``axis``)
are written as a ``@st.composite`` function that returns ``case(*arrays, **params)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from hypothesis import strategies as st

from tinygrad_edu import Tensor, tensor_from_op
from tinygrad_edu.testing import arrays, broadcastable_shapes, positive_arrays, shapes

#: Default shapes of the table: up to 3 axes of up to 4 (64 elements) keep every test fast.
SMALL_SHAPES = shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)

#: The gradcheck tolerance every entry gets unless it states a reason: (atol, rtol).
TIGHT = (1e-8, 1e-6)


@dataclass(frozen=True)
class Case:
    """One drawn input: the tensor inputs (numpy arrays) and the op's non-tensor params."""

    arrays: Tuple[np.ndarray, ...]
    params: Dict[str, Any] = field(default_factory=dict)


def case(*arrays_: np.ndarray, **params: Any) -> Case:
    """``case(a, b, axis=1)``: what a ``@st.composite`` input strategy returns."""
    return Case(tuple(arrays_), dict(params))


def cases(*array_strategies: st.SearchStrategy, **param_strategies: Any) -> st.SearchStrategy:
    """Independent draws: one array per strategy, and each param from its strategy (a plain value
    is used as is). ``cases(arrays(), axis=st.sampled_from([0, -1]))``."""
    params = {
        k: v if isinstance(v, st.SearchStrategy) else st.just(v)
        for k, v in param_strategies.items()
    }
    return st.builds(
        lambda arrs, ps: Case(tuple(arrs), ps),
        st.tuples(*array_strategies),
        st.fixed_dictionaries(params),
    )


def broadcast_cases(
    *values: Callable[[Tuple[int, ...]], st.SearchStrategy],
    max_dims: int = 3,
    max_side: int = 4,
    **param_strategies: Any,
) -> st.SearchStrategy:
    """One array per ``values`` factory (shape -> strategy), with mutually broadcastable shapes."""
    params = {
        k: v if isinstance(v, st.SearchStrategy) else st.just(v)
        for k, v in param_strategies.items()
    }

    @st.composite
    def build(draw):
        shps = draw(broadcastable_shapes(len(values), max_dims=max_dims, max_side=max_side))
        arrs = tuple(draw(v(s)) for v, s in zip(values, shps))
        return Case(arrs, draw(st.fixed_dictionaries(params)))

    return build()


@dataclass(frozen=True)
class OpEntry:
    """How to test one op (or one way of calling it)."""

    name: str  #: unique; the test id
    op: type  #: the ``Function`` subclass this entry covers (must appear in the graph)
    inputs: st.SearchStrategy  #: draws a ``Case``
    call: Optional[Callable[..., Tensor]] = None  #: default: ``tensor_from_op(op, *ts, **params)``
    reference: Optional[Callable[..., Any]] = None  #: numpy version; None skips the forward test
    grad: bool = True  #: gradient-check this entry
    #: gradcheck tolerance: |analytic - numeric| <= atol + rtol * |numeric|. Near float64's reach
    #: (gradcheck's Richardson differences are good to ~1e-10): ``TIGHT``. An entry that loosens
    #: it must say why in ``tolerance_reason`` (``test_op_table`` checks).
    atol: float = 1e-8
    rtol: float = 1e-6
    eps: float = 1e-4  #: gradcheck's step h (it also steps h/2); inputs keep farther from kinks
    tolerance_reason: str = ""
    forward_rtol: float = 1e-7  #: float64 forward tolerance against ``reference``
    forward_atol: float = 1e-10
    float32: bool = True  #: also run forward in float32 and require a float32 output

    def run(self, *tensors: Tensor, **params: Any) -> Tensor:
        if self.call is None:
            return tensor_from_op(self.op, *tensors, **params)
        return self.call(*tensors, **params)


_REGISTERED: List[OpEntry] = []


def register(*entries: OpEntry) -> None:
    """Add entries from code (an alternative to an ``OP_ENTRIES`` list in ``entries_*.py``)."""
    _REGISTERED.extend(entries)


def entry_modules() -> List[str]:
    """Names of the ``entries_*.py`` modules beside this file, sorted."""
    return sorted(p.stem for p in Path(__file__).parent.glob("entries_*.py"))


def all_entries() -> List[OpEntry]:
    """Every entry: each ``entries_*.py`` module's ``OP_ENTRIES``, then ``register``-ed ones."""
    found: List[OpEntry] = []
    for name in entry_modules():
        found.extend(getattr(importlib.import_module(name), "OP_ENTRIES", []))
    return found + [e for e in _REGISTERED if e not in found]


def positive(shape: Tuple[int, ...]) -> st.SearchStrategy:
    """Shape -> positive arrays (log, sqrt, a tensor exponent's base)."""
    return positive_arrays(shape, 0.2, 3.0)


def anyvalue(shape: Tuple[int, ...]) -> st.SearchStrategy:
    """Shape -> arrays in [-3, 3]."""
    return arrays(shape)


__all__ = [
    "Case",
    "case",
    "cases",
    "broadcast_cases",
    "OpEntry",
    "register",
    "all_entries",
    "entry_modules",
    "SMALL_SHAPES",
    "TIGHT",
    "positive",
    "anyvalue",
]
