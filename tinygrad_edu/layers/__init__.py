"""Keras-named layers built from Tensor ops: same arguments, weight layouts and parameter counts."""

from .base import Layer
from .conv import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .merge import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .shaping import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
from . import conv, core, merge, normalization, pooling, recurrent, shaping, wrappers
from . import recurrent_cells  # noqa: F401 - the reference form of the recurrent layers
from . import conv1d, embedding, layer_norm, pooling1d, resizing
from .resizing import *  # noqa: F401,F403
from .layer_norm import *  # noqa: F401,F403
from .conv1d import *  # noqa: F401,F403
from .pooling1d import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403

__all__ = [
    "Layer",
    *core.__all__,
    *merge.__all__,
    *conv.__all__,
    *pooling.__all__,
    *normalization.__all__,
    *recurrent.__all__,
    *shaping.__all__,
    *wrappers.__all__,
    *embedding.__all__,
    *conv1d.__all__,
    *pooling1d.__all__,
    *layer_norm.__all__,
    *resizing.__all__,
]
