"""Weight penalties added to the training loss: ``l1``, ``l2``, ``l1_l2`` (Keras formulas).

>>> from tinygrad_edu import Tensor
>>> float(L2(0.5)(Tensor([1.0, 2.0])).data)   # 0.5 * (1 + 4)
2.5
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from . import validation as check
from ._shapes import as_numeric_array
from .errors import resolve
from .tensor import Tensor


class Regularizer:
    """``penalty = l1 * sum(|w|) + l2 * sum(w^2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = self._factor("l1", l1), self._factor("l2", l2)

    def _factor(self, name: str, value: Any) -> float:
        """A penalty factor: a finite number >= 0 (0 switches the term off)."""
        where = f"regularizers.{type(self).__name__}"
        example = f"regularizers.L1L2({name}=1e-4)"
        return check.non_negative_real(name, value, where, example)

    def __call__(self, w: Tensor) -> Tensor:
        if not isinstance(w, Tensor):
            w = Tensor(as_numeric_array(w, f"regularizers.{type(self).__name__}(w)"))
        penalty = None
        if self.l1:
            penalty = self.l1 * w.abs().sum()
        if self.l2:
            term = self.l2 * (w * w).sum()
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else (w * 0).sum()

    def get_config(self) -> Dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)


class L2(Regularizer):
    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)


class L1L2(Regularizer):
    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        super().__init__(l1=l1, l2=l2)


def _l1_l2_by_name() -> L1L2:
    """``"l1_l2"``: both terms at 0.01, as ``"l1"`` and ``"l2"`` (Keras 2's ``l1_l2()``). The
    class's defaults (0, 0: Keras 3's ``L1L2()``) would make the name a penalty of exactly 0."""
    return L1L2(l1=0.01, l2=0.01)


l1, l2, l1_l2 = L1, L2, L1L2
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": _l1_l2_by_name}


def get(identifier: Any) -> Optional[Regularizer]:
    """None, a name (``"l2"`` with the Keras default factor 0.01; ``"l1_l2"`` 0.01 for both),
    or a callable penalty."""
    if identifier is None:
        return None
    found = resolve(identifier, _BY_NAME, "regularizers.get", "a regularizer")
    if found is _l1_l2_by_name or isinstance(found, type):  # a name: the default factors
        return found()
    return found


__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get"]
