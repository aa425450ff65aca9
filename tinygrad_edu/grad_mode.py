"""Grad mode: whether ops record the graph, per thread and per async task.

It lives in a context variable: each thread (and each asyncio task) has its own, so a ``predict``
under ``no_grad`` in one thread never switches recording off in another.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

#: True where ops record the graph (the default); ``no_grad`` sets it False for a block.
_grad_enabled: ContextVar[bool] = ContextVar("tinygrad_edu_grad_enabled", default=True)


class no_grad:
    """Context manager (and decorator) in which no graph is recorded: for inference and updates.

    Grad mode is per thread (and per async task): ``no_grad`` here changes nothing elsewhere.

    >>> from tinygrad_edu import Tensor
    >>> with no_grad():
    ...     y = Tensor([1.0], requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self) -> "no_grad":
        self.__dict__.setdefault("_tokens", []).append(_grad_enabled.set(False))
        return self

    def __exit__(self, *exc: Any) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def is_grad_enabled() -> bool:
    """True when ops record the graph (in this thread / async task)."""
    return _grad_enabled.get()


__all__ = ["no_grad", "is_grad_enabled"]
