"""What a replay returns: the structure the step returned at capture, with each Tensor replaced
by a new Tensor holding a copy (no graph), each array by a copy, each float recomputed from the
one-element array it was read from - never a buffer of the tape."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .resolve import refuse

_FIX = "return Tensors (out, loss), arrays of them, or floats read from them (loss.item())"


def _tensor(a: np.ndarray) -> Tensor:
    return Tensor._from_op(np.array(a), None)


def result_expr(e: Any, r: Any, value: Any, outs: list) -> str:
    """The expression rebuilding ``value``; ``outs`` the op outputs, newest last (floats are
    matched against their one-element ones)."""
    e.ns["_tensor"] = _tensor
    if value is None or isinstance(value, str):
        return e.const(value, "k")
    if isinstance(value, Tensor):
        name = r.known(value._data)
        if name is None:
            raise refuse("a returned Tensor the step did not compute", _FIX)
        return f"_tensor({name})"
    if isinstance(value, np.ndarray):
        name = r.known(value)
        if name is None:
            raise refuse(f"a returned array of shape {value.shape} computed outside the ops", _FIX)
        return f"np.array({name})"
    if isinstance(value, float):
        for a, name in reversed(outs):
            if a.size == 1 and float(a.reshape(-1)[0]) == value:
                return f"{name}.item()"
        raise refuse(f"a returned float ({value!r}) not read from a tensor of the step", _FIX)
    if isinstance(value, (tuple, list)):
        items = [result_expr(e, r, v, outs) for v in value]
        text = ", ".join(items) + ("," if len(items) == 1 and isinstance(value, tuple) else "")
        return f"({text})" if isinstance(value, tuple) else f"[{text}]"
    if isinstance(value, dict):
        pairs = [f"{e.const(k, 'k')}: {result_expr(e, r, v, outs)}" for k, v in value.items()]
        return "{" + ", ".join(pairs) + "}"
    raise refuse(f"a returned {type(value).__name__}", _FIX)


__all__ = ["result_expr"]
