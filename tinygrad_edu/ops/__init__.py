"""Every primitive op: a ``Function`` subclass with forward and backward side by side.

Ops work on bare numpy arrays (they never import ``tensor``), so each can be tested alone.
"""

from .activation_ops import LogSigmoid, Mish, Softplus, Softsign, Sparsemax
from .arithmetic import Add, Div, Maximum, Minimum, Mul, Neg, Pow, PowScalar, Sub
from .conv import Conv2D
from .elementwise_math import Ceil, Cos, Expm1, Floor, Log1p, Log2, Log10, Round, Rsqrt, Sign, Sin
from .indexing import Flip, Repeat, TakeAlongAxis, Tile, Tril, Triu
from .linalg import Linear, MatMul
from .movement import (
    BroadcastTo,
    Concatenate,
    GetItem,
    Pad,
    Reshape,
    Squeeze,
    Stack,
    Transpose,
    Unsqueeze,
    Where,
)
from .losses import SoftmaxCrossEntropy, SparseSoftmaxCrossEntropy
from .nn import DrawMask, DropoutDraw, DropoutMask
from .pooling import AvgPool2D, MaxPool2D
from .recurrent import LSTMSequence, SimpleRNNSequence
from .recurrent_gru import GRUSequence
from .reduce import LogSumExp, Max, Mean, Min, Sum, Var
from .scan import CumSum, Prod, Std
from .unary import (
    Abs,
    Clip,
    Elu,
    Erf,
    Exp,
    LeakyRelu,
    Log,
    LogSoftmax,
    Relu,
    Sigmoid,
    Softmax,
    Sqrt,
    Tanh,
)

__all__ = [
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "PowScalar",
    "Maximum",
    "Minimum",
    "Exp",
    "Log",
    "Sqrt",
    "Abs",
    "Clip",
    "Erf",
    "Relu",
    "LeakyRelu",
    "Elu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "LogSigmoid",
    "Softplus",
    "Softsign",
    "Mish",
    "Sparsemax",
    "Sum",
    "Mean",
    "Max",
    "Min",
    "Var",
    "LogSumExp",
    "MatMul",
    "Linear",
    "Reshape",
    "Transpose",
    "BroadcastTo",
    "Squeeze",
    "Unsqueeze",
    "GetItem",
    "Concatenate",
    "Stack",
    "Pad",
    "Where",
    "DropoutMask",
    "DrawMask",
    "DropoutDraw",
    "SoftmaxCrossEntropy",
    "SparseSoftmaxCrossEntropy",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "SimpleRNNSequence",
    "LSTMSequence",
    "GRUSequence",
    "Sin",
    "Cos",
    "Log2",
    "Log10",
    "Log1p",
    "Expm1",
    "Rsqrt",
    "Sign",
    "Floor",
    "Ceil",
    "Round",
    "Prod",
    "CumSum",
    "Std",
    "Flip",
    "Repeat",
    "Tile",
    "Tril",
    "Triu",
    "TakeAlongAxis",
]
