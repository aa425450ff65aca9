"""``TensorOps``: the math a ``Tensor`` offers - operators, comparisons, elementwise functions,
reductions, shape changes, indexing (the picking and copying methods are in its base class,
``tensor_indexing.IndexingOps``). Each method is one op applied through the engine
(``engine.apply``); the ops themselves, forward and backward side by side, are in
``tinygrad_edu.ops``. Comparisons and ``isnan``-like tests give numpy bool arrays (no graph).

A base class of ``Tensor`` (the one subclass): it relies on ``_data``, ``ndim``, ``shape`` and
``Tensor._from_op``, which ``Tensor`` defines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import capture_hooks, engine, ops
from ._shapes import as_numeric_array
from .errors import DataError, ShapeError
from .graph_dot import dot_text
from .tensor_indexing import IndexingOps


class TensorOps(IndexingOps):
    """Operators and math methods of ``Tensor`` (see the module docstring); the methods that
    pick, reorder and copy elements (argmax, gather, split, ...) come from ``IndexingOps``."""

    __slots__ = ()

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return engine.apply(ops.Add, self, _lift(other, self))

    def __radd__(self, other):
        return engine.apply(ops.Add, _lift(other, self), self)

    def __sub__(self, other):
        return engine.apply(ops.Sub, self, _lift(other, self))

    def __rsub__(self, other):
        return engine.apply(ops.Sub, _lift(other, self), self)

    def __mul__(self, other):
        return engine.apply(ops.Mul, self, _lift(other, self))

    def __rmul__(self, other):
        return engine.apply(ops.Mul, _lift(other, self), self)

    def __truediv__(self, other):
        return engine.apply(ops.Div, self, _lift(other, self))

    def __rtruediv__(self, other):
        return engine.apply(ops.Div, _lift(other, self), self)

    def __neg__(self):
        return engine.apply(ops.Neg, self)

    def __matmul__(self, other):
        return engine.apply(ops.MatMul, self, _lift(other, self))

    def __rmatmul__(self, other):
        return engine.apply(ops.MatMul, _lift(other, self), self)

    def __pow__(self, exponent):
        if isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, bool):
            return engine.apply(ops.PowScalar, self, exponent=exponent)
        return engine.apply(ops.Pow, self, _lift(exponent, self))

    def __rpow__(self, base):
        return engine.apply(ops.Pow, _lift(base, self), self)

    # ---------------------------------------------------------------- comparisons
    # Element by element, as numpy and torch: a numpy bool array (a mask), never in the graph
    # (no gradient flows through a comparison). ``==`` compares values, so a Tensor keeps
    # identity hashing (``__hash__`` below): the engine keys dicts by tensor, and sets and
    # dicts of tensors work by identity. But ``t in [a, b]`` and ``list.index`` call ``==``
    # after the identity test: write ``any(p is t for p in ts)`` to find a tensor in a list.
    __hash__ = object.__hash__

    def __eq__(self, other):
        if not _comparable(other):
            return NotImplemented  # Python then compares identity: t == None is False
        return _compare(np.equal, self, other, "==")

    def __ne__(self, other):
        if not _comparable(other):
            return NotImplemented
        return _compare(np.not_equal, self, other, "!=")

    def __gt__(self, other):
        return _compare(np.greater, self, other, ">")

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other, ">=")

    def __lt__(self, other):
        return _compare(np.less, self, other, "<")

    def __le__(self, other):
        return _compare(np.less_equal, self, other, "<=")

    def isnan(self):
        """A bool array: True where the value is NaN (no gradient)."""
        return np.asarray(np.isnan(self._data))

    def isinf(self):
        """A bool array: True where the value is +inf or -inf (no gradient)."""
        return np.asarray(np.isinf(self._data))

    def isfinite(self):
        """A bool array: True where the value is neither NaN nor infinite (no gradient)."""
        return np.asarray(np.isfinite(self._data))

    def matmul(self, other):
        return self @ other

    def dot(self, other):
        return self @ other

    # ---------------------------------------------------------------- elementwise functions
    def exp(self):
        return engine.apply(ops.Exp, self)

    def log(self):
        return engine.apply(ops.Log, self)

    def sqrt(self):
        return engine.apply(ops.Sqrt, self)

    def abs(self):
        return engine.apply(ops.Abs, self)

    def __abs__(self):
        return self.abs()

    def tanh(self):
        return engine.apply(ops.Tanh, self)

    def sigmoid(self):
        return _with_logits(engine.apply(ops.Sigmoid, self), self, "sigmoid")

    def relu(self):
        return engine.apply(ops.Relu, self)

    def erf(self):
        return engine.apply(ops.Erf, self)

    def sin(self):
        return engine.apply(ops.Sin, self)

    def cos(self):
        return engine.apply(ops.Cos, self)

    def log2(self):
        return engine.apply(ops.Log2, self)

    def log10(self):
        return engine.apply(ops.Log10, self)

    def log1p(self):
        return engine.apply(ops.Log1p, self)

    def expm1(self):
        return engine.apply(ops.Expm1, self)

    def rsqrt(self):
        return engine.apply(ops.Rsqrt, self)

    # piecewise constant: gradient 0 (torch's choice at the jumps too)
    def sign(self):
        return engine.apply(ops.Sign, self)

    def floor(self):
        return engine.apply(ops.Floor, self)

    def ceil(self):
        return engine.apply(ops.Ceil, self)

    def round(self, decimals: int = 0):
        """Round halves to even (numpy, torch): ``round(2.5) = 2``. Gradient 0."""
        return engine.apply(ops.Round, self, decimals=decimals)

    def leaky_relu(self, negative_slope: float = 0.2):
        return engine.apply(ops.LeakyRelu, self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0):
        return engine.apply(ops.Elu, self, alpha=alpha)

    def clip(self, min=None, max=None):
        return engine.apply(ops.Clip, self, lo=min, hi=max)

    def softmax(self, axis: int = -1):
        last = axis in (-1, self._data.ndim - 1)
        return _with_logits(
            engine.apply(ops.Softmax, self, axis=axis), self if last else None, "softmax"
        )

    def log_softmax(self, axis: int = -1):
        return engine.apply(ops.LogSoftmax, self, axis=axis)

    def maximum(self, other):
        return engine.apply(ops.Maximum, self, _lift(other, self))

    def minimum(self, other):
        return engine.apply(ops.Minimum, self, _lift(other, self))

    # ---------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims: bool = False):
        return engine.apply(ops.Sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return engine.apply(ops.Mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return engine.apply(ops.Max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return engine.apply(ops.Min, self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0):
        return engine.apply(ops.Var, self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims: bool = False, ddof: int = 0):
        """sqrt(var): ``ddof`` as ``var`` (0 divides by N, numpy's default; torch's default
        is 1). Where the values are all equal the gradient is 0, as torch's."""
        return engine.apply(ops.Std, self, axis=axis, keepdims=keepdims, ddof=ddof)

    def prod(self, axis=None, keepdims: bool = False):
        return engine.apply(ops.Prod, self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims: bool = False):
        return engine.apply(ops.LogSumExp, self, axis=axis, keepdims=keepdims)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return engine.apply(ops.Reshape, self, shape=tuple(shape))

    def flatten(self, start_axis: int = 0):
        return self.reshape(*self.shape[:start_axis], -1)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return engine.apply(ops.Transpose, self, axes=tuple(axes) if axes else None)

    @property
    def T(self):
        return self.transpose()

    def broadcast_to(self, shape):
        return engine.apply(ops.BroadcastTo, self, shape=tuple(shape))

    expand = broadcast_to

    def squeeze(self, axis=None):
        return engine.apply(ops.Squeeze, self, axis=axis)

    def unsqueeze(self, axis: int):
        return engine.apply(ops.Unsqueeze, self, axis=axis)

    expand_dims = unsqueeze

    def pad(self, pad_width, value: float = 0.0):
        return engine.apply(ops.Pad, self, pad_width=pad_width, value=value)

    def __getitem__(self, index):
        return engine.apply(ops.GetItem, self, index=_raw_index(index))

    # ---------------------------------------------------------------- the graph, drawn
    def to_dot(self, title: str | None = None) -> str:
        """Graphviz DOT text of the graph that produced this tensor (``graph_dot.dot_text``;
        ``tinygrad_edu.explain.render`` draws it). ``backward()`` frees the graph: call
        ``loss.backward(retain_graph=True)`` first to see the gradients in the drawing."""
        return dot_text(self, title)


# -------------------------------------------------------------------- operands
def _raw(x: Any) -> Any:
    return x._data if isinstance(x, TensorOps) else x


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _operand(x: Any, op: str) -> Any:
    """The array or Python number on the other side of an operator; ``None``, strings and other
    non-numbers are refused (numpy would turn ``None`` into NaN without a word)."""
    if isinstance(x, TensorOps):
        return x._data
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise DataError(
            where=f"Tensor {op}",
            expected="a number, a numpy array or a Tensor",
            got=repr(x) if x is None else f"the {type(x).__name__} {x!r}",
            fix="compute the value first (a missing return gives None), or convert text with "
            "float(value)",
        )
    return as_numeric_array(x, f"Tensor {op}")


def _comparable(x: Any) -> bool:
    """What ``==`` compares element by element: tensors, numbers, arrays, lists and tuples.
    Anything else (None, a string, a layer) is not equal to a tensor, as in torch."""
    numeric = (TensorOps, np.ndarray, list, tuple, bool, int, float, np.generic)
    return isinstance(x, numeric) and not isinstance(x, (str, bytes))  # np.str_ is a np.generic


def _compare(ufunc: Any, a: TensorOps, other: Any, symbol: str) -> np.ndarray:
    """``ufunc(a, other)`` element by element, as a numpy bool array; shapes that do not
    broadcast give our ``ShapeError``."""
    b = _operand(other, "comparison")
    try:
        return np.asarray(ufunc(a._data, b))  # a 0-d result too is an array
    except ValueError:
        raise ShapeError(
            where=f"Tensor {symbol}",
            expected="shapes that broadcast (each trailing axis equal, or 1 in one of them)",
            got=f"{a.shape} {symbol} {np.shape(b)}",
            fix="compare tensors of one shape, or reshape one, e.g. a == b.reshape(a.shape)",
        ) from None


def _lift(x: Any, like: TensorOps) -> TensorOps:
    """A Python/numpy operand -> a constant Tensor of ``like``'s dtype (float32 stays float32)."""
    if isinstance(x, TensorOps):
        return x
    t = like._from_op(np.asarray(_operand(x, "operator"), dtype=like._data.dtype), None)
    rec = capture_hooks.active()
    if rec is not None:  # a captured step keeps a constant only if x is not made per call
        rec.on_lift(x, t)
    return t


def _with_logits(out: TensorOps, logits: TensorOps | None, kind: str) -> TensorOps:
    out._logits = None if logits is None else (kind, logits)
    return out


__all__ = ["TensorOps"]
