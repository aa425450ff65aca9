"""Weight penalties added to the training loss: ``l1``, ``l2``, ``l1_l2`` (Keras formulas).

>>> from tinygrad_edu import Tensor
>>> float(L2(0.5)(Tensor([1.0, 2.0])).data)   # 0.5 * (1 + 4)
2.5
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

from .errors import ConfigError, resolve
from .tensor import Tensor


class Regularizer:
    """``penalty = l1 * sum(|w|) + l2 * sum(w^2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        if not (math.isfinite(l1) and math.isfinite(l2)) or l1 < 0 or l2 < 0:
            raise ConfigError(
                where=type(self).__name__,
                expected="non-negative factors",
                got=f"l1={l1}, l2={l2}",
                fix="use e.g. l2=1e-4",
            )
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w: Tensor) -> Tensor:
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


l1, l2, l1_l2 = L1, L2, L1L2
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier: Any) -> Optional[Regularizer]:
    """None, a name (``"l2"`` with the Keras default factor 0.01), or a callable penalty."""
    if identifier is None:
        return None
    found = resolve(identifier, _BY_NAME, "regularizers.get", "a regularizer")
    return found() if isinstance(found, type) else found  # a name gives the Keras default factor


__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get"]
