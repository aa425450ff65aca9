"""Callbacks with Keras' names and hooks, for ``model.fit(..., callbacks=[...])``."""

from .base import Callback, CallbackList, History
from .checkpoint import ModelCheckpoint
from .divergence import DivergenceGuard
from .logging import CSVLogger, LearningRateScheduler
from .monitoring import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
from .progress import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
__all__ += [
    "CSVLogger",
    "DivergenceGuard",
    "EarlyStopping",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
