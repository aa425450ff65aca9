"""Keras-named layers built from Tensor ops: same arguments, weight layouts and parameter counts."""

from .base import Layer
from .conv import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .shaping import *  # noqa: F401,F403
from . import conv, core, normalization, pooling, recurrent, shaping
from . import recurrent_cells  # noqa: F401 - the reference form of the recurrent layers

__all__ = [
    "Layer",
    *core.__all__,
    *conv.__all__,
    *pooling.__all__,
    *normalization.__all__,
    *recurrent.__all__,
    *shaping.__all__,
]
