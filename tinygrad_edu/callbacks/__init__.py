"""Callbacks with Keras' names and hooks, for ``model.fit(..., callbacks=[...])``."""

from .base import Callback, CallbackList, History
from .checkpoint import ModelCheckpoint
from .logging import CSVLogger, LearningRateScheduler
from .monitoring import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
from .progress import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
__all__ += [
    "ModelCheckpoint",
    "CSVLogger",
    "LearningRateScheduler",
    "EarlyStopping",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
