"""``Tensor``: a numpy array that remembers how it was made, and ``backward()`` that walks back.

Each op call records ``(op, parents)`` on its output - only when grad mode is on and some input
requires grad. Every tensor also gets a creation number (``_seq``): a tensor is always created
after the tensors it is computed from, so walking back in decreasing creation number is a
topological order. ``backward`` does exactly that (a heap of the tensors that received a gradient,
no recursion: a 100,000-op chain is fine), calls each op's ``backward`` once, un-broadcasts and
accumulates the gradients, and frees the graph.

>>> x = Tensor([[1.0, 2.0]], requires_grad=True)
>>> y = (x * x).sum()          # y = x1^2 + x2^2
>>> y.backward()
>>> x.grad                     # dy/dx = 2x
array([[2., 4.]], dtype=float32)
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from typing import Any, Optional, Tuple

import numpy as np

from . import ops
from ._shapes import as_numeric_array, unbroadcast
from .errors import GradientShapeError, ShapeError, TinygradEduError
from .function import Function


class _GradMode:
    enabled = True


class no_grad:
    """Context manager (and decorator) in which no graph is recorded: for inference and updates.

    >>> with no_grad():
    ...     y = Tensor([1.0], requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self) -> "no_grad":
        self.prev = _GradMode.enabled
        _GradMode.enabled = False
        return self

    def __exit__(self, *exc: Any) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def is_grad_enabled() -> bool:
    return _GradMode.enabled


#: creation numbers: ``next(_creation)`` for every new tensor (see the module docstring)
_creation = count()


_FLOATS = (np.float32, np.float64)


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """Input data -> numpy array: float32 by default, float64 kept, anything non-numeric refused."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) and data.dtype.type in _FLOATS and dtype is None:
        return data  # the fast path: float32/float64 arrays are kept as they are
    arr = as_numeric_array(data, "Tensor()")
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype.type in _FLOATS and isinstance(data, np.generic):
        return arr
    return arr.astype(np.float32)


class Tensor:
    """An n-dimensional array with reverse-mode autodiff.

    ``Tensor(data, requires_grad=False, dtype=None)``: float32 by default; a float64 numpy array
    stays float64 (gradient checks use it). ``.grad`` holds dL/d(self) after ``backward`` on leaves
    that require grad (and on intermediates after ``retain_grad()``).
    """

    # ``logits``: for a softmax/sigmoid output, the tensor it was computed from, so cross-entropy
    # losses can work from logits (finite even when a probability rounds to exactly 0 or 1);
    # ``logits_kind`` says which ("softmax" or "sigmoid"): a loss only uses logits of its kind.
    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_ctx",
        "_leaf",
        "_retain",
        "name",
        "logits",
        "logits_kind",
        "_seq",
        "__weakref__",
    )
    __array_ufunc__ = None  # make numpy defer to our reflected operators: np_array * tensor

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: Optional[str] = None
    ) -> None:
        self.data = _as_array(data, dtype)
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Optional[Function] = None
        self._leaf = True
        self._retain = False
        self.name = name
        self.logits: Optional["Tensor"] = None
        self.logits_kind: Optional[str] = None
        self._seq = next(_creation)

    # ---------------------------------------------------------------- numpy-like properties
    @property
    def shape(self) -> Tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._leaf

    @property
    def op(self) -> Optional[Function]:
        """The op that produced this tensor (None for leaves and after the graph was freed)."""
        return self._ctx

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __len__(self) -> int:
        return len(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    # ---------------------------------------------------------------- autograd
    def detach(self) -> "Tensor":
        """The same data, cut off from the graph (no grad)."""
        return Tensor(self.data)

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` on this intermediate tensor after backward."""
        self._retain = True
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate dL/d(leaf) into every leaf's ``.grad`` (L = this tensor).

        ``grad`` defaults to 1 for a one-element tensor; pass it explicitly otherwise.
        The graph is freed afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise TinygradEduError(
                "nothing to differentiate",
                where="Tensor.backward",
                expected="a tensor computed from inputs with requires_grad=True",
                got="a tensor that does not require grad",
                fix="create the inputs/weights with Tensor(..., requires_grad=True), "
                "and do not compute the loss inside no_grad()",
            )
        if not self._leaf and self._ctx is None:
            raise TinygradEduError(
                "the graph behind this tensor was freed by an earlier backward()",
                where="Tensor.backward",
                fix="recompute the forward pass, or call "
                "backward(retain_graph=True) the first time",
            )
        if grad is None:
            if self.data.size != 1:
                raise ShapeError(
                    where="Tensor.backward",
                    expected="a one-element tensor (a scalar loss), or an explicit grad",
                    got=f"a tensor of shape {self.shape}",
                    fix="reduce it first (loss.mean() or loss.sum()), or pass "
                    "grad=np.ones(shape) to weight every element",
                )
            grad = np.ones(self.data.shape, self.data.dtype)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ShapeError(
                    where="Tensor.backward",
                    expected=f"grad of shape {self.shape}",
                    got=f"shape {grad.shape}",
                    fix="give one gradient per element",
                )
        _run_backward(self, grad, retain_graph)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return _apply(ops.Add, self, _lift(other, self))

    def __radd__(self, other):
        return _apply(ops.Add, _lift(other, self), self)

    def __sub__(self, other):
        return _apply(ops.Sub, self, _lift(other, self))

    def __rsub__(self, other):
        return _apply(ops.Sub, _lift(other, self), self)

    def __mul__(self, other):
        return _apply(ops.Mul, self, _lift(other, self))

    def __rmul__(self, other):
        return _apply(ops.Mul, _lift(other, self), self)

    def __truediv__(self, other):
        return _apply(ops.Div, self, _lift(other, self))

    def __rtruediv__(self, other):
        return _apply(ops.Div, _lift(other, self), self)

    def __neg__(self):
        return _apply(ops.Neg, self)

    def __matmul__(self, other):
        return _apply(ops.MatMul, self, _lift(other, self))

    def __rmatmul__(self, other):
        return _apply(ops.MatMul, _lift(other, self), self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return _apply(ops.Pow, self, exponent)
        return _apply(ops.PowScalar, self, exponent=exponent)

    def __rpow__(self, base):
        return _apply(ops.Pow, _lift(base, self), self)

    # comparisons give plain numpy boolean masks (no gradient flows through a comparison)
    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def matmul(self, other):
        return self @ other

    def dot(self, other):
        return self @ other

    # ---------------------------------------------------------------- elementwise functions
    def exp(self):
        return _apply(ops.Exp, self)

    def log(self):
        return _apply(ops.Log, self)

    def sqrt(self):
        return _apply(ops.Sqrt, self)

    def abs(self):
        return _apply(ops.Abs, self)

    def __abs__(self):
        return self.abs()

    def tanh(self):
        return _apply(ops.Tanh, self)

    def sigmoid(self):
        return _with_logits(_apply(ops.Sigmoid, self), self, "sigmoid")

    def relu(self):
        return _apply(ops.Relu, self)

    def erf(self):
        return _apply(ops.Erf, self)

    def leaky_relu(self, negative_slope: float = 0.2):
        return _apply(ops.LeakyRelu, self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0):
        return _apply(ops.Elu, self, alpha=alpha)

    def clip(self, min=None, max=None):  # noqa: A002 - numpy's argument names
        return _apply(ops.Clip, self, lo=min, hi=max)

    def softmax(self, axis: int = -1):
        last = axis in (-1, self.ndim - 1)
        return _with_logits(_apply(ops.Softmax, self, axis=axis), self if last else None, "softmax")

    def log_softmax(self, axis: int = -1):
        return _apply(ops.LogSoftmax, self, axis=axis)

    def maximum(self, other):
        return _apply(ops.Maximum, self, _lift(other, self))

    def minimum(self, other):
        return _apply(ops.Minimum, self, _lift(other, self))

    # ---------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims: bool = False):
        return _apply(ops.Sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return _apply(ops.Mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return _apply(ops.Max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return _apply(ops.Min, self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0):
        return _apply(ops.Var, self, axis=axis, keepdims=keepdims, ddof=ddof)

    def logsumexp(self, axis=None, keepdims: bool = False):
        return _apply(ops.LogSumExp, self, axis=axis, keepdims=keepdims)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _apply(ops.Reshape, self, shape=tuple(shape))

    def flatten(self, start_axis: int = 0):
        return self.reshape(*self.shape[:start_axis], -1)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return _apply(ops.Transpose, self, axes=tuple(axes) if axes else None)

    @property
    def T(self):
        return self.transpose()

    def broadcast_to(self, shape):
        return _apply(ops.BroadcastTo, self, shape=tuple(shape))

    expand = broadcast_to

    def squeeze(self, axis=None):
        return _apply(ops.Squeeze, self, axis=axis)

    def unsqueeze(self, axis: int):
        return _apply(ops.Unsqueeze, self, axis=axis)

    expand_dims = unsqueeze

    def pad(self, pad_width, value: float = 0.0):
        return _apply(ops.Pad, self, pad_width=pad_width, value=value)

    def __getitem__(self, index):
        return _apply(ops.GetItem, self, index=_raw_index(index))


# -------------------------------------------------------------------- the engine
def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _lift(x: Any, like: Tensor) -> Tensor:
    """A Python/numpy operand -> a constant Tensor of ``like``'s dtype (float32 stays float32)."""
    if isinstance(x, Tensor):
        return x
    return _new_tensor(np.asarray(x, dtype=like.data.dtype), None)


def _new_tensor(data: np.ndarray, ctx: Optional[Function]) -> Tensor:
    """A tensor around ``data`` without ``__init__``'s conversions: made by ``ctx`` (requires
    grad), or a constant when ``ctx`` is None. The hot path: every op output is made here."""
    t = Tensor.__new__(Tensor)
    t.data = data
    t.grad = t.name = t.logits = t.logits_kind = None
    t._ctx = ctx
    t.requires_grad = ctx is not None
    t._leaf = ctx is None
    t._retain = False
    t._seq = next(_creation)
    return t


def _with_logits(out: Tensor, logits: Optional[Tensor], kind: str) -> Tensor:
    out.logits, out.logits_kind = logits, kind
    return out


def _apply(fn_cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Run one op on tensors; record it in the graph when a gradient will be needed."""
    fn = fn_cls()
    needs = tuple([t.requires_grad for t in inputs])
    fn.needs_input_grad = needs
    try:
        data = fn.forward(*[t.data for t in inputs], **params)
    except (ValueError, IndexError) as exc:
        if isinstance(exc, TinygradEduError):
            raise
        raise ShapeError(
            str(exc),
            where=f"op '{fn_cls.__name__}'",
            expected=fn_cls.shape_rule,
            got=" and ".join(str(t.shape) for t in inputs) + _describe(params),
            fix="check the shapes printed here; model.summary() shows every layer's shape",
        ) from None
    if type(data) is not np.ndarray:  # numpy ufuncs turn 0-d results into numpy scalars
        data = np.asarray(data)
    if True in needs and _GradMode.enabled:
        fn.parents = inputs
        return _new_tensor(data, fn)
    return _new_tensor(data, None)


def _describe(params: dict) -> str:
    shown = {k: v for k, v in params.items() if not isinstance(v, np.ndarray)}
    return f" with {shown}" if shown else ""


def _keepable(g: np.ndarray, dtype: np.dtype, handed: set) -> np.ndarray:
    """The array a tensor may keep as ``.grad``: ``g`` itself when nothing else can see it (a
    fresh result, e.g. of Linear's GEMM), else a copy - so writing into one ``.grad`` never
    changes another (an Add hands the same array to both inputs). Saves a copy per weight."""
    if (
        type(g) is np.ndarray
        and g.dtype == dtype
        and g.base is None
        and g.flags.writeable
        and id(g) not in handed
    ):
        handed.add(id(g))
        return g
    return np.array(g, dtype=dtype)  # a copy, and an ndarray even when 0-d


def _run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool) -> None:
    """Hand gradients back through the graph below ``root``, newest tensor first.

    ``grads`` holds the gradient summed so far of each tensor reached; ``waiting`` (a heap on
    the negated creation number) the op outputs reached but not yet processed. A tensor is
    popped only after every newer one, so all its consumers have already added their share.
    Leaves (weights, inputs) have nothing to pass on: they only collect, in ``leaves``, and
    keep their sums at the end."""
    grads = {root: grad}
    leaves = {}
    waiting = [(-root._seq, id(root), root)]  # id(): a tie-breaker that never compares tensors
    handed = {id(grad)}  # arrays someone else holds: the caller's grad, grads already kept
    while waiting:
        t = heappop(waiting)[2]
        g = grads.pop(t)
        fn = t._ctx
        if fn is None or t._retain:  # the root itself is a leaf, or a retain_grad tensor
            _keep_grad(t, g, handed)
        if fn is None:
            continue
        in_grads = fn.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        parents = fn.parents
        if len(in_grads) != len(parents):
            _check_grad_count(fn, in_grads)
        for p, pg, need in zip(parents, in_grads, fn.needs_input_grad):
            if not need or pg is None:
                continue
            if pg.shape != p.data.shape:
                pg = _unbroadcast_grad(fn, pg, p)
            if p._ctx is None:  # a leaf
                prev = leaves.get(p)
                leaves[p] = pg if prev is None else prev + pg
                continue
            prev = grads.get(p)
            if prev is None:
                grads[p] = pg
                heappush(waiting, (-p._seq, id(p), p))
            else:
                grads[p] = prev + pg
        if not retain_graph:
            t._ctx = None
    for t, g in leaves.items():
        _keep_grad(t, g, handed)


def _keep_grad(t: Tensor, g: np.ndarray, handed: set) -> None:
    """Leaves (and retain_grad tensors) keep their gradient, summed over backward calls until
    zero_grad()."""
    g = _keepable(g, t.data.dtype, handed)
    t.grad = g if t.grad is None else t.grad + g


def _check_grad_count(fn: Function, in_grads: tuple) -> None:
    """Extra trailing Nones are fine (they belong to optional inputs not given); anything else
    is the op's mistake."""
    n = len(fn.parents)
    if len(in_grads) < n or any(g is not None for g in in_grads[n:]):
        raise GradientShapeError(
            where=f"op '{fn.name}'",
            expected=f"{n} gradients (one per input)",
            got=f"{len(in_grads)}",
            fix=f"{fn.name}.backward must return a tuple with one "
            "gradient (or None) per input of forward, in forward's order",
        )


def _unbroadcast_grad(fn: Function, pg: np.ndarray, p: Tensor) -> np.ndarray:
    reduced = unbroadcast(pg, p.data.shape)
    if reduced is None:
        raise GradientShapeError(
            where=f"op '{fn.name}'",
            expected=f"a gradient shaped like its input {p.data.shape}",
            got=f"{pg.shape}",
            fix=f"{fn.name}.backward must return one gradient per input, "
            "each with that input's shape (or a broadcast of it)",
        )
    return reduced


def tensor_from_op(fn_cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Apply any ``Function`` subclass (e.g. a user's own op) to tensors, recording the graph."""
    return _apply(fn_cls, *inputs, **params)


__all__ = ["Tensor", "no_grad", "is_grad_enabled", "tensor_from_op"]
