"""Library settings: whether layers use their fused ops (one switch, one rule).

Layers with a fused op (``Dense``, ``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``,
``SimpleRNN``, ``LSTM``, ``GRU``) can also run a reference form made of plain Tensor ops, slower
but easy to step through. Which one a layer runs follows one rule, checked at every call:

- ``fused=True`` or ``fused=False`` given to the layer always wins;
- ``fused=None`` (the default) follows the setting: ``is_fused_enabled()``, True unless changed.

The setting lives in a context variable, like grad mode: each thread (and each asyncio task) has
its own, so ``with config.fused(False):`` in one thread never changes the path another thread's
layers take.

>>> from tinygrad_edu import config
>>> with config.fused(False):
...     config.is_fused_enabled()
False
>>> config.is_fused_enabled()
True
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Dict, Optional

from . import validation as check

#: True where layers with ``fused=None`` run their fused op (the default).
_fused_enabled: ContextVar[bool] = ContextVar("tinygrad_edu_fused_enabled", default=True)


def _checked(enabled: Any, function: str) -> bool:
    return check.flag("enabled", enabled, f"config.{function}()", f"config.{function}(False)")


class fused:
    """Context manager: layers with ``fused=None`` run the fused op (True) or the reference
    form (False) inside the block; the previous setting comes back on exit. Nestable, reusable.

    >>> from tinygrad_edu import config
    >>> with config.fused(False):
    ...     with config.fused(True):
    ...         config.is_fused_enabled()
    True
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = _checked(enabled, "fused")
        self._tokens: list = []

    def __enter__(self) -> "fused":
        self._tokens.append(_fused_enabled.set(self.enabled))
        return self

    def __exit__(self, *exc: Any) -> None:
        _fused_enabled.reset(self._tokens.pop())


def set_fused(enabled: bool) -> None:
    """Set the setting for the rest of the current context (this thread or async task) only;
    other threads keep theirs. Prefer ``with config.fused(...):``, which also restores it."""
    _fused_enabled.set(_checked(enabled, "set_fused"))


def is_fused_enabled() -> bool:
    """The setting in this thread / async task: True when layers with ``fused=None`` fuse."""
    return _fused_enabled.get()


def use_fused(layer_choice: Optional[bool]) -> bool:
    """The rule: a layer's explicit ``fused=True/False`` wins; ``None`` follows the setting."""
    return is_fused_enabled() if layer_choice is None else layer_choice


def fused_config(layer_choice: Optional[bool]) -> Dict[str, bool]:
    """A layer's ``get_config`` entry: ``{"fused": ...}`` only when it was given explicitly."""
    return {} if layer_choice is None else {"fused": layer_choice}


__all__ = ["fused", "set_fused", "is_fused_enabled", "use_fused"]
