"""``Tensor``: a numpy array that remembers how it was made, and ``backward()`` that walks back.

Each op call records ``(op, parents)`` on its output - only when grad mode is on (``grad_mode``)
and some input requires grad. The math methods (``+``, ``@``, ``exp``, ``sum``, ``reshape``, ...)
are in ``tensor_ops``; recording and the backward walk in ``engine``. This module holds the
tensor itself: its array, its gradient, its version counter and ``backward()``.

>>> x = Tensor([[1.0, 2.0]], requires_grad=True)
>>> y = (x * x).sum()          # y = x1^2 + x2^2
>>> y.backward()
>>> x.grad                     # dy/dx = 2x
array([[2., 4.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from . import engine
from ._shapes import as_numeric_array
from .capture_hooks import recorder as _recorder
from .engine import creation, same_values, written
from .errors import ConfigError, DataError, ShapeError, TensorIndexError, TinygradEduError
from .function import Function
from .grad_mode import is_grad_enabled, no_grad
from .tensor_ops import TensorOps, _raw


_FLOATS = (np.float32, np.float64)


def _read_in_capture(t: Any, how: str, value: Any, decides: bool = False) -> Any:
    """``value`` (``t``'s values, read into Python), after telling a listening capture
    (``tinygrad_edu.jit``): a replay runs no Python, so what the step does with them would
    silently not happen again - unless the step only returns them (``decides``: never)."""
    rec = _recorder.get()
    if rec is not None:
        rec.on_read(t, how, None if decides else value)
    return value


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """Input data -> numpy array: float32 by default, float64 kept, anything non-numeric refused."""
    if isinstance(data, Tensor):
        data = data._shared()  # Tensor(t) shares t's array: t's graph keeps a copy
    if isinstance(data, np.ndarray) and data.dtype.type in _FLOATS and dtype is None:
        return data  # the fast path: float32/float64 arrays are kept as they are
    arr = as_numeric_array(data, "Tensor()")
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype.type in _FLOATS and isinstance(data, np.generic):
        return arr
    return arr.astype(np.float32)


class Tensor(TensorOps):
    """An n-dimensional array with reverse-mode autodiff.

    ``Tensor(data, requires_grad=False, dtype=None)``: float32 by default; a float64 numpy array
    stays float64 (gradient checks use it). ``.grad`` holds dL/d(self) after ``backward`` on leaves
    that require grad (and on intermediates after ``retain_grad()``).
    """

    # ``_logits``: for a softmax/sigmoid output, ``(kind, the tensor it was computed from)``, so
    # cross-entropy losses can work from logits (finite even when a probability rounds to exactly
    # 0 or 1); read through ``logits_of(kind)``: a loss only uses logits of its own kind.
    #
    # In-place safety (as PyTorch's version counter): ``_version`` counts in-place writes made
    # through the library (``assign``, optimizer updates) and ``_written_at`` stamps the last one
    # with a creation number (``engine.written``); ``backward`` refuses an op whose input was
    # stamped after the op's output was made. Raw numpy writes (``w.data[...] = 0``) cannot be
    # counted, so the ``data`` property, while an op of a live graph holds the tensor (it is an
    # input, ``_saves`` > 0, or the output of an op not yet freed, which may have saved it: Exp
    # keeps its output), hands out the array after keeping a copy (``_snap``, stamped
    # ``_snap_seq``); ``backward`` compares the array with that copy. Reading costs one copy per
    # new graph; nothing is copied on the hot path (the engine and the optimizers use ``_data``).
    # Not seen: writes through a reference obtained before the op ran (the numpy array given to
    # ``Tensor(arr)``, a view taken earlier), and writes through ``detach()``'s tensor, which
    # shares the memory but not the version.
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
        "_written_at",
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
        if type(data) is not np.ndarray or dtype is not None or data.dtype.type not in _FLOATS:
            data = _as_array(data, dtype)  # (a float32/float64 array is kept as it is)
        if requires_grad is not False and requires_grad is not True:
            requires_grad = _check_flag(requires_grad, "requires_grad")
        self._init(data, None, requires_grad)
        self.name = name

    def _init(self, data: np.ndarray, ctx: Optional[Function], requires_grad: bool) -> None:
        """Every slot's starting value, in one place; ``__init__`` converts the user's data
        first, ``_from_op`` (the engine's hot path: every op output) does not."""
        self._data = data
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = requires_grad
        self._ctx = ctx
        self._leaf = ctx is None
        self._retain = False
        self.name: Optional[str] = None
        self._logits: Optional[Tuple[str, "Tensor"]] = None
        self._seq = seq = next(creation)
        self._version = self._written_at = self._saves = self._snap_seq = 0
        # an op's output is held by its op from the start (the op may have saved it)
        self._saved_at = 0 if ctx is None else seq
        self._snap: Optional[np.ndarray] = None

    @staticmethod
    def _from_op(data: np.ndarray, ctx: Optional[Function]) -> "Tensor":
        """A tensor around ``data`` without ``__init__``'s conversions: made by ``ctx`` (requires
        grad), or a constant when ``ctx`` is None. The engine's hot path: every op output."""
        t = Tensor.__new__(Tensor)
        t._init(data, ctx, ctx is not None)
        return t

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
        return _read_in_capture(self, "t.data", self._shared())

    def _shared(self) -> np.ndarray:
        """The array itself, for a caller that may write into it: a live graph that saved this
        tensor keeps a copy first (``backward`` compares)."""
        if (self._saves > 0 or self._ctx is not None) and self._snap_seq < self._saved_at:
            self._take_snapshot()
        return self._data

    @data.setter
    def data(self, value: np.ndarray) -> None:
        # a new array object: arrays saved by ops stay as they were, so no version change
        self._data = value if isinstance(value, np.ndarray) else _as_array(value, None)
        self._snap = None
        rec = _recorder.get()
        if rec is not None:
            rec.on_write(self, "t.data = a new array")

    def _take_snapshot(self) -> None:
        stamp = written.stamp()  # a raw write may follow: backward must look at this tensor
        if self._snap is not None and not same_values(self._snap, self._data):
            self._version += 1  # written through an earlier reference since the last copy
            self._written_at = stamp
        self._snap = self._data.copy()
        self._snap_seq = stamp

    def _bump_version(self) -> None:
        """Record an in-place write made through the library (after it happened)."""
        self._version += 1
        self._written_at = written.stamp()
        self._snap = None
        rec = _recorder.get()
        if rec is not None:  # a step being captured: the optimizer's writes are expected
            rec.on_write(self, "an in-place write (assign, t[...] = ...)")

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
        return _read_in_capture(self, "t.numpy()", self._shared())

    def item(self) -> float:
        return _read_in_capture(self, "t.item()", self._data.item())

    def tolist(self) -> Any:
        return _read_in_capture(self, "t.tolist()", self._data.tolist())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TensorIndexError(
                where="len(Tensor)",
                expected="a tensor with at least one axis",
                got="a 0-d tensor (a single number)",
                fix="use t.item() to get the number",
            )
        return len(self._data)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor, as torch and numpy: ``bool(Tensor([0.0]))`` is
        False. Any other size is ambiguous and refused (without this, Python would fall back
        to ``len`` and call every non-empty tensor True, whatever its values)."""
        if self._data.size != 1:
            raise ShapeError(
                where="bool(Tensor)",
                expected="a tensor with exactly one element in `if t:` / `while t:` / `and`/`or`",
                got=f"a tensor of shape {self.shape} ({self._data.size} elements)",
                fix="say which truth you mean: bool((t > 0).all()), bool((t > 0).any()), "
                "or t.item() for a single number",
            )
        return _read_in_capture(self, "bool(t) (if t: ...)", bool(self._data), decides=True)

    def __iter__(self):
        """Rows along axis 0, each a tensor in the graph (``for row in t``, ``a, b = t``)."""
        for k in range(len(self)):
            yield self[k]

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``: an in-place write through the library, as ``assign`` - counted,
        so a graph that saved ``t`` refuses ``backward`` instead of using the new values (torch
        would differentiate through the write; to do that here, build a new tensor). Values must
        cast to the tensor's dtype without changing kind (no float into an int tensor)."""
        value = np.asarray(_raw(value))
        if not np.can_cast(value.dtype, self.dtype, "same_kind"):
            raise DataError(
                where="Tensor.__setitem__",
                expected=f"values castable to the tensor's dtype {self.dtype}",
                got=f"dtype {value.dtype}",
                fix="convert the values first, e.g. t[0] = np.asarray(v, dtype=t.dtype)",
            )
        try:
            self._data[_raw(index)] = value
        except IndexError as exc:
            raise TensorIndexError(
                str(exc),
                where="Tensor.__setitem__",
                expected=f"an index into shape {self.shape}",
                got=repr(index),
                fix="index with ints, slices or an integer array, within t.shape",
            ) from None
        except ValueError as exc:
            raise ShapeError(
                str(exc),
                where="Tensor.__setitem__",
                got=f"values of shape {value.shape}",
                expected=f"values that broadcast to t[{index!r}]'s shape",
                fix="reshape the values to the selection's shape (t[index].shape)",
            ) from None
        self._bump_version()

    def __array__(self, dtype=None, copy=None):
        array = self._shared() if dtype is None else self._data.astype(dtype)
        return _read_in_capture(self, "np.asarray(t)", array)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    # ---------------------------------------------------------------- autograd
    def detach(self) -> "Tensor":
        """The same data (the same memory), cut off from the graph (no grad). A write through
        the detached tensor writes this one's array too: a live graph that saved this tensor
        keeps a copy first, so its ``backward`` refuses (as torch's shared version counter)."""
        return Tensor(self._shared())

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
        implicit = grad is None  # dL/dL = 1 (a replayed step makes it again, see engine)
        if implicit:
            if self._data.size != 1:
                raise ShapeError(
                    where="Tensor.backward",
                    expected="a one-element tensor (a scalar loss), or an explicit grad",
                    got=f"a tensor of shape {self.shape}",
                    fix="reduce it first (loss.mean() or loss.sum()), or pass "
                    "grad=np.ones(shape) to weight every element",
                )
            grad = np.array(1, self._data.dtype).reshape(self._data.shape)  # np.ones, unwrapped
        else:
            grad = as_numeric_array(_raw(grad), "Tensor.backward(grad=...)").astype(self.dtype)
            if grad.shape != self.shape:
                raise ShapeError(
                    where="Tensor.backward",
                    expected=f"grad of shape {self.shape}",
                    got=f"shape {grad.shape}",
                    fix="give one gradient per element",
                )
        engine.run_backward(self, grad, retain_graph, implicit)


def _check_flag(value: Any, what: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ConfigError(
        where="Tensor()",
        expected=f"{what}=True or False",
        got=repr(value),
        fix=f"pass {what}=True",
    )


def tensor_from_op(fn_cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Apply any ``Function`` subclass (e.g. a user's own op) to tensors, recording the graph."""
    return engine.apply(fn_cls, *inputs, **params)


__all__ = ["Tensor", "no_grad", "is_grad_enabled", "tensor_from_op"]
