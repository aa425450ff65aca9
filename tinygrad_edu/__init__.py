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
from .gradcheck import gradcheck, gradcheck_tensors
from .functional import concatenate, maximum, minimum, stack, where
from .creation import (
    arange,
    eye,
    full,
    linspace,
    one_hot,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from .tensor import Tensor, is_grad_enabled, no_grad, tensor_from_op

__version__ = "0.1.0"

# the submodules, so `import tinygrad_edu as tg; tg.layers.Dense` works as in Keras
from . import (  # noqa: E402
    activations,
    callbacks,
    config,
    datasets,
    explain,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
)
from .layers.legacy import KerasLegacyWarning  # noqa: E402
from .layers.recognizers import ClassicMistakeWarning  # noqa: E402
from .models import Model, Sequential, load_model  # noqa: E402
from .jit import jit  # noqa: E402  (tinygrad_edu.jit(fn); the package stays importable)

__all__ = [
    "Tensor",
    "no_grad",
    "is_grad_enabled",
    "concatenate",
    "stack",
    "where",
    "zeros",
    "ones",
    "full",
    "eye",
    "arange",
    "linspace",
    "zeros_like",
    "ones_like",
    "rand",
    "randn",
    "one_hot",
    "maximum",
    "minimum",
    "tensor_from_op",
    "gradcheck",
    "gradcheck_tensors",
    "set_seed",
    "jit",
    "Model",
    "Sequential",
    "load_model",
    "TinygradEduError",
    "ShapeError",
    "ConfigError",
    "DataError",
    "NotBuiltError",
    "GradientShapeError",
    "GradcheckError",
    "CheckpointError",
    "KerasLegacyWarning",
    "ClassicMistakeWarning",
    "activations",
    "callbacks",
    "config",
    "datasets",
    "explain",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
]
