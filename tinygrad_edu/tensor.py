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

from contextvars import ContextVar
from heapq import heappop, heappush
from itertools import count
from typing import Any, Optional, Tuple

import numpy as np

from . import ops
from ._shapes import as_numeric_array, unbroadcast
from .errors import (
    ConfigError,
    DataError,
    GradientShapeError,
    InplaceModificationError,
    ShapeError,
    TensorIndexError,
    TinygradEduError,
)
from .function import Function


#: Grad mode lives in a context variable: each thread (and each asyncio task) has its own, so a
#: ``predict`` under ``no_grad`` in one thread never switches recording off in another.
_grad_enabled: ContextVar[bool] = ContextVar("tinygrad_edu_grad_enabled", default=True)


class no_grad:
    """Context manager (and decorator) in which no graph is recorded: for inference and updates.

    Grad mode is per thread (and per async task): ``no_grad`` here changes nothing elsewhere.

    >>> with no_grad():
    ...     y = Tensor([1.0], requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self) -> "no_grad":
        self.__dict__.setdefault("_tokens", []).append(_grad_enabled.set(False))
        return self

    def __exit__(self, *exc: Any) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def is_grad_enabled() -> bool:
    """True when ops record the graph (in this thread / async task)."""
    return _grad_enabled.get()


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

    # ``_logits``: for a softmax/sigmoid output, ``(kind, the tensor it was computed from)``, so
    # cross-entropy losses can work from logits (finite even when a probability rounds to exactly
    # 0 or 1); read through ``logits_of(kind)``: a loss only uses logits of its own kind.
    #
    # In-place safety (the version counter, as in PyTorch): ``_version`` counts in-place writes
    # made through the library (``assign``, optimizer updates); every recorded op notes the
    # versions of its inputs, and ``backward`` refuses an input whose version moved. Raw numpy
    # writes (``w.data[...] = 0``) cannot be counted, so the ``data`` property, while an op of a
    # live graph holds the tensor (``_saves`` > 0), hands out the array after keeping a copy
    # (``_snap``, taken at creation number ``_snap_seq``); ``backward`` compares the array with
    # that copy. Reading costs one copy per new graph; nothing is copied on the hot path (the
    # engine and the optimizers use ``_data``).
    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "_ctx",
        "_leaf",
        "_retain",
        "name",
        "_logits",
        "_seq",
        "_version",
        "_saves",
        "_saved_at",
        "_snap",
        "_snap_seq",
        "__weakref__",
    )
    __array_ufunc__ = None  # make numpy defer to our reflected operators: np_array * tensor

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: Optional[str] = None
    ) -> None:
        self._init(_as_array(data, dtype), None, _check_flag(requires_grad, "requires_grad"))
        self.name = name

    def _init(self, data: np.ndarray, ctx: Optional[Function], requires_grad: bool) -> None:
        """Every slot's starting value, in one place; ``__init__`` converts the user's data
        first, the engine's ``_new_tensor`` (the hot path: every op output) does not."""
        self._data = data
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = requires_grad
        self._ctx = ctx
        self._leaf = ctx is None
        self._retain = False
        self.name: Optional[str] = None
        self._logits: Optional[Tuple[str, "Tensor"]] = None
        self._seq = next(_creation)
        self._version = self._saves = self._saved_at = self._snap_seq = 0
        self._snap: Optional[np.ndarray] = None

    def logits_of(self, kind: str) -> Optional["Tensor"]:
        """The tensor this one was computed from by ``softmax`` (``kind="softmax"``) or
        ``sigmoid`` (``kind="sigmoid"``), or None: cross-entropy losses use it to work from
        logits."""
        return self._logits[1] if self._logits is not None and self._logits[0] == kind else None

    @property
    def logits(self) -> Optional["Tensor"]:
        """The logits of a softmax/sigmoid output (either kind), else None."""
        return None if self._logits is None else self._logits[1]

    # ---------------------------------------------------------------- the array and its version
    @property
    def data(self) -> np.ndarray:
        """The numpy array. Writing into it while a graph that saved this tensor is alive makes
        that graph's ``backward`` raise ``InplaceModificationError`` (see the class comment)."""
        if self._saves > 0 and self._snap_seq < self._saved_at:
            self._take_snapshot()
        return self._data

    @data.setter
    def data(self, value: np.ndarray) -> None:
        # a new array object: arrays saved by ops stay as they were, so no version change
        self._data = value if isinstance(value, np.ndarray) else _as_array(value, None)
        self._snap = None

    def _take_snapshot(self) -> None:
        if self._snap is not None and not _same_values(self._snap, self._data):
            self._version += 1  # written through an earlier reference since the last copy
        self._snap = self._data.copy()
        self._snap_seq = next(_creation)

    def _bump_version(self) -> None:
        """Record an in-place write made through the library (after it happened)."""
        self._version += 1
        self._snap = None

    def assign(self, value: Any) -> "Tensor":
        """Write ``value`` into this tensor's array in place (optimizers keep references to the
        array), counting it as an in-place modification. Shapes must match (broadcasting is
        allowed, as in ``arr[...] = value``)."""
        value = np.asarray(_raw(value))
        try:
            np.copyto(self._data, value, casting="same_kind")
        except (ValueError, TypeError) as exc:
            raise ShapeError(
                where="Tensor.assign",
                expected=f"values of shape {self.shape} (or one that broadcasts to it), "
                f"dtype castable to {self.dtype}",
                got=f"shape {value.shape}, dtype {value.dtype}",
                fix="reshape the values to the tensor's shape first",
            ) from exc
        self._bump_version()
        return self

    # ---------------------------------------------------------------- numpy-like properties
    @property
    def shape(self) -> Tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

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
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TensorIndexError(
                where="len(Tensor)",
                expected="a tensor with at least one axis",
                got="a 0-d tensor (a single number)",
                fix="use t.item() to get the number",
            )
        return len(self._data)

    def __iter__(self):
        """Rows along the first axis, each a tensor in the graph (``for row in t``, ``a, b = t``)."""
        for k in range(len(self)):
            yield self[k]

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    # ---------------------------------------------------------------- autograd
    def detach(self) -> "Tensor":
        """The same data (the same memory), cut off from the graph (no grad)."""
        return Tensor(self._data)

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
            if self._data.size != 1:
                raise ShapeError(
                    where="Tensor.backward",
                    expected="a one-element tensor (a scalar loss), or an explicit grad",
                    got=f"a tensor of shape {self.shape}",
                    fix="reduce it first (loss.mean() or loss.sum()), or pass "
                    "grad=np.ones(shape) to weight every element",
                )
            grad = np.ones(self._data.shape, self._data.dtype)
        else:
            grad = as_numeric_array(_raw(grad), "Tensor.backward(grad=...)").astype(self.dtype)
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
        if isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, bool):
            return _apply(ops.PowScalar, self, exponent=exponent)
        return _apply(ops.Pow, self, _lift(exponent, self))

    def __rpow__(self, base):
        return _apply(ops.Pow, _lift(base, self), self)

    # comparisons give plain numpy boolean masks (no gradient flows through a comparison)
    def __gt__(self, other):
        return self._data > _operand(other, "comparison")

    def __ge__(self, other):
        return self._data >= _operand(other, "comparison")

    def __lt__(self, other):
        return self._data < _operand(other, "comparison")

    def __le__(self, other):
        return self._data <= _operand(other, "comparison")

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
    return x._data if isinstance(x, Tensor) else x


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays, NaN equal to NaN (a NaN saved by an op is not a modification)."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _check_flag(value: Any, what: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ConfigError(
        where="Tensor()",
        expected=f"{what}=True or False",
        got=repr(value),
        fix=f"pass {what}=True",
    )


def _operand(x: Any, op: str) -> Any:
    """The array or Python number on the other side of an operator; ``None``, strings and other
    non-numbers are refused (numpy would turn ``None`` into NaN without a word)."""
    if isinstance(x, Tensor):
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


def _lift(x: Any, like: Tensor) -> Tensor:
    """A Python/numpy operand -> a constant Tensor of ``like``'s dtype (float32 stays float32)."""
    if isinstance(x, Tensor):
        return x
    return _new_tensor(np.asarray(_operand(x, "operator"), dtype=like._data.dtype), None)


def _new_tensor(data: np.ndarray, ctx: Optional[Function]) -> Tensor:
    """A tensor around ``data`` without ``__init__``'s conversions: made by ``ctx`` (requires
    grad), or a constant when ``ctx`` is None. The hot path: every op output is made here."""
    t = Tensor.__new__(Tensor)
    t._init(data, ctx, ctx is not None)
    return t


def _with_logits(out: Tensor, logits: Optional[Tensor], kind: str) -> Tensor:
    out._logits = None if logits is None else (kind, logits)
    return out


def _apply(fn_cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Run one op on tensors; record it in the graph when a gradient will be needed.

    Recording notes, for each input, its version (``backward`` checks it did not change) and
    that a live op holds it (``_saves``). An op not recorded gives its work buffers back at once
    (``Function.release``); a recorded one when ``backward`` frees it."""
    fn = fn_cls()
    needs = tuple([t.requires_grad for t in inputs])
    fn.needs_input_grad = needs
    try:
        data = fn.forward(*[t._data for t in inputs], **params)
    except (ValueError, IndexError) as exc:
        if fn.releases:
            fn.release()
        if isinstance(exc, TinygradEduError):
            raise
        error = TensorIndexError if isinstance(exc, IndexError) else ShapeError
        raise error(
            str(exc),
            where=f"op '{fn_cls.__name__}'",
            expected=fn_cls.shape_rule,
            got=" and ".join(str(t.shape) for t in inputs) + _describe(params),
            fix="check the shapes printed here; model.summary() shows every layer's shape",
        ) from None
    if type(data) is not np.ndarray:  # numpy ufuncs turn 0-d results into numpy scalars
        data = np.asarray(data)
    if True in needs and _grad_enabled.get():
        out = _new_tensor(data, fn)
        fn.parents = inputs
        seq = out._seq
        versions = []
        for t in inputs:
            versions.append(t._version)
            t._saves += 1
            t._saved_at = seq
        fn.saved_versions = versions
        return out
    if fn.releases:
        fn.release()
    return _new_tensor(data, None)


def _describe(params: dict) -> str:
    shown = {k: v for k, v in params.items() if not isinstance(v, np.ndarray)}
    return f" with {shown}" if shown else ""


def _run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool) -> None:
    """Hand gradients back through the graph below ``root``, newest tensor first.

    ``grads`` holds the gradient summed so far of each tensor reached; ``waiting`` (a heap on
    the negated creation number) the op outputs reached but not yet processed. A tensor is
    popped only after every newer one, so all its consumers have already added their share.
    Leaves (weights, inputs) have nothing to pass on: they only collect, in ``leaves``, and
    keep their sums at the end. Before an op's backward runs, its inputs and output are checked
    unmodified since it ran (``_check_unmodified``); after it, unless ``retain_graph``, the op
    is freed: unlinked and its work buffers released."""
    grads = {root: grad}
    leaves = {}
    waiting = [(-root._seq, id(root), root)]  # id(): a tie-breaker that never compares tensors
    handed = {id(grad)}  # arrays someone else holds: the caller's grad, grads already kept
    while waiting:
        t = heappop(waiting)[2]
        g = grads.pop(t)
        fn = t._ctx
        if fn is None or t._retain:  # the root itself is a leaf, or a retain_grad tensor
            _accumulate_grad(t, g, handed)
        if fn is None:
            continue
        parents = fn.parents
        _check_unmodified(fn, t, parents)
        in_grads = fn.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if len(in_grads) != len(parents):
            _check_grad_count(fn, in_grads)
        for p, pg, need in zip(parents, in_grads, fn.needs_input_grad):
            if not need or pg is None:
                continue
            if pg.shape != p._data.shape:
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
            _free(t, fn, parents)
    for t, g in leaves.items():
        _accumulate_grad(t, g, handed)


def _free(t: Tensor, fn: Function, parents: tuple) -> None:
    """Unlink a processed op from the graph: its inputs are no longer held by it, and its work
    buffers go back (the gradients it returned were fresh arrays, never views of them)."""
    t._ctx = None
    for p in parents:
        p._saves -= 1
    if fn.releases:
        fn.release()


def _check_unmodified(fn: Function, out: Tensor, parents: tuple) -> None:
    """Refuse an op whose input (or output) was written in place after the op ran: its saved
    arrays no longer hold what the forward pass used, so its gradient would be wrong."""
    for k, (p, version) in enumerate(zip(parents, fn.saved_versions)):
        if p._version != version or _written_since(p, out._seq):
            raise _inplace_error(fn, p, f"input {k}")
    if out._version or _written_since(out, out._seq):
        raise _inplace_error(fn, out, "output")


def _written_since(t: Tensor, seq: int) -> bool:
    """``t.data`` was handed out after creation number ``seq`` and differs from the copy kept."""
    return t._snap is not None and t._snap_seq > seq and not _same_values(t._snap, t._data)


def _inplace_error(fn: Function, t: Tensor, role: str) -> InplaceModificationError:
    name = f" '{t.name}'" if t.name else ""
    return InplaceModificationError(
        f"the tensor{name} of shape {t.shape} ({role} of op '{fn.name}') was modified in place "
        "after the op saved it, so the gradient would be computed from the wrong values",
        where="Tensor.backward",
        expected=f"{role} of '{fn.name}' unchanged between the forward pass and backward()",
        got="values written into it (.data[...] = ..., assign, or an optimizer step)",
        fix="change weights only after backward() (opt.step() after loss.backward()); to edit "
        "values mid-graph, compute a new tensor (y = y.clip(0, 1)) instead of writing into .data",
    )


def _accumulate_grad(t: Tensor, g: np.ndarray, handed: set) -> None:
    """``t.grad += g`` for a leaf (or a ``retain_grad`` tensor), summed over backward calls until
    ``zero_grad()``.

    The first gradient is kept as the very array the op returned when nothing else can see it
    (a fresh result such as Linear's GEMM: it owns its memory, is writable, and was not handed
    to another tensor in this backward - ``handed`` holds the ids of arrays already kept or held
    by the caller, since an Add returns one array for both inputs); otherwise a copy is kept,
    so writing into one ``.grad`` (gradient clipping does) never changes another. This saves
    one copy of every weight's gradient per step."""
    if (
        type(g) is np.ndarray
        and g.dtype == t._data.dtype
        and g.base is None
        and g.flags.writeable
        and id(g) not in handed
    ):
        handed.add(id(g))
    else:
        g = np.array(g, dtype=t._data.dtype)  # a copy, and an ndarray even when 0-d
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
    reduced = unbroadcast(pg, p._data.shape)
    if reduced is None:
        raise GradientShapeError(
            where=f"op '{fn.name}'",
            expected=f"a gradient shaped like its input {p._data.shape}",
            got=f"{pg.shape}",
            fix=f"{fn.name}.backward must return one gradient per input, "
            "each with that input's shape (or a broadcast of it)",
        )
    return reduced


def tensor_from_op(fn_cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Apply any ``Function`` subclass (e.g. a user's own op) to tensors, recording the graph."""
    return _apply(fn_cls, *inputs, **params)


__all__ = ["Tensor", "no_grad", "is_grad_enabled", "tensor_from_op"]
