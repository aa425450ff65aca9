"""Callbacks with Keras' names and hooks, for ``model.fit(..., callbacks=[...])``."""

from .base import Callback, CallbackList, History
from .progress import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
