"""Moving between tinygrad_edu and PyTorch (the optional ``torch`` extra).

- ``to_torch(model)`` (``to_torch.py``): an equivalent ``torch.nn.Sequential``, same inputs, same
  predictions, weights in torch's layouts.
- ``from_torch(module, input_shape)`` (``from_torch.py``): a torch ``nn.Sequential`` as our
  ``Sequential`` with the same weights, for ``summary()``, ``explain()`` and gradcheck.
- ``tables.py``: the activation and gate-order tables both directions read;
  ``torch_modules.py``: the small torch modules standing in where torch has none (and
  ``RecurrentOutput``, to put an ``nn.LSTM`` inside an ``nn.Sequential``).
"""

from __future__ import annotations

from typing import Any

from .from_torch import from_torch
from .to_torch import to_torch


def __getattr__(name: str) -> Any:
    """``interop.RecurrentOutput``: the torch module class, made on first use (torch optional)."""
    if name == "RecurrentOutput":
        from .torch_modules import modules

        return modules().RecurrentOutput
    raise AttributeError(f"module 'tinygrad_edu.interop' has no attribute {name!r}")


__all__ = ["from_torch", "to_torch"]
