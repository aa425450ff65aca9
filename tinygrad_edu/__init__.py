"""tinygrad_edu: a small autograd framework on numpy that shows the algebra of deep learning."""

from ._rng import set_seed
from .errors import (
    CheckpointError,
    ConfigError,
    DataError,
    GradcheckError,
    GradientShapeError,
    NotBuiltError,
    ShapeError,
    TinygradEduError,
)
from .tensor import (
    Tensor,
    concatenate,
    is_grad_enabled,
    maximum,
    minimum,
    no_grad,
    stack,
    tensor_from_op,
    where,
)

__version__ = "0.1.0"
