"""``code_repr(value)``: an argument value as Python source a learner can paste into a fix or a
warning (``(3, 1)``, ``'relu'``, ``regularizers.L2(l1=0.0, l2=0.01)``), never an object's
``<... at 0x...>`` repr.

>>> from tinygrad_edu import regularizers
>>> code_repr((28, 28, 1)), code_repr(regularizers.l2(0.01))
('(28, 28, 1)', 'regularizers.L2(l1=0.0, l2=0.01)')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations as _activations


def code_repr(value: Any) -> str:
    """``value`` as Python source a learner can paste (tuples, names, our objects by class)."""
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, (tuple, list)):
        inner = ", ".join(code_repr(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{code_repr(k)}: {code_repr(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, type) and value.__module__ == "numpy":
        return f"np.{value.__name__}"
    name = _activations.serialize(value)
    if isinstance(name, str):
        return repr(name)
    module = type(value).__module__.rsplit(".", 1)[-1]
    if hasattr(value, "get_config"):
        config = ", ".join(f"{k}={code_repr(v)}" for k, v in value.get_config().items())
        return f"{module}.{type(value).__name__}({config})"
    return getattr(value, "__name__", repr(value))


__all__ = ["code_repr"]
