"""The engine: ``apply`` runs one op and records it in the graph; ``run_backward`` walks the graph
back from a loss, newest tensor first, applying the chain rule one op at a time.

Every tensor gets a creation number (``_seq``, from ``creation``): a tensor is always created
after the tensors it is computed from, so walking back in decreasing creation number is a
topological order. ``run_backward`` does exactly that (a heap of the tensors that received a
gradient, no recursion: a 100,000-op chain is fine), checks that no input an op saved was
written in place since (see ``written`` below and ``Tensor``), calls each op's ``backward``
once, un-broadcasts and accumulates the gradients, and frees the graph: each op is unlinked and
its work buffers released (``Function.release``).

In-place writes are stamped with creation numbers too: a write made through the library
(``Tensor._bump_version``) records ``t._written_at = written.stamp()``, and so does handing out
``t.data`` while a live op holds ``t`` (a raw numpy write may follow). An op whose output has
creation number ``seq`` is stale when an input's ``_written_at`` is larger. ``written.last`` is
the largest stamp handed out, in any thread: when it is below ``seq`` nothing anywhere was
written since the op ran, and the op's inputs need no look at all - the common case, one
comparison per op.

The engine sees tensors only through their slots (``_data``, ``_ctx``, ``_version``, ...) and
makes op outputs with the input's class (``Tensor._from_op``): it never imports ``tensor``.
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from operator import attrgetter
from threading import Lock
from typing import TYPE_CHECKING, Any

import numpy as np

from ._shapes import unbroadcast
from .capture_hooks import recorder as _recorder
from .errors import (
    GradientShapeError,
    InplaceModificationError,
    ShapeError,
    TensorIndexError,
    TinygradEduError,
)
from .function import Function
from .grad_mode import _grad_enabled

if TYPE_CHECKING:  # names for annotations only
    Tensor = Any

#: creation numbers: ``next(creation)`` for every new tensor (see the module docstring)
creation = count()


class WriteMarks:
    """The stamps of in-place writes: ``stamp()`` gives the next creation number and raises
    ``last``, the largest stamp given so far. Shared by all threads on purpose - a write in any
    thread may touch a tensor another thread's graph saved - and only ever conservative: a
    larger ``last`` makes ``backward`` look at the inputs' own stamps, never skip them. The
    lock keeps ``last`` from going back when two threads stamp at once."""

    def __init__(self) -> None:
        self.last = -1
        self._lock = Lock()

    def stamp(self) -> int:
        with self._lock:
            self.last = now = next(creation)
        return now


#: every in-place write's stamp (see ``WriteMarks``)
written = WriteMarks()

# ``t.requires_grad`` and ``t._data`` of each input, read in C (``map``): no Python frame per op
_requires_grad = attrgetter("requires_grad")
_array_of = attrgetter("_data")


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays, NaN equal to NaN (a NaN saved by an op is not a modification)."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def apply(fn_cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Run one op on tensors; record it in the graph when a gradient will be needed.

    Recording notes, on each input, that a live op holds it (``_saves``, and ``_saved_at`` the
    op's creation number: ``Tensor.data`` keeps a copy of such a tensor before handing it out).
    An op not recorded gives its work buffers back at once (``Function.release``); a recorded one
    when ``backward`` frees it."""
    fn = fn_cls()
    needs = fn.needs_input_grad = tuple(map(_requires_grad, inputs))
    try:
        data = fn.forward(*map(_array_of, inputs), **params)
    except (ValueError, IndexError) as exc:
        if fn.releases:
            fn.release()
        if isinstance(exc, TinygradEduError):
            raise
        raise _forward_error(fn_cls, exc, inputs, params) from None
    if type(data) is not np.ndarray:  # numpy ufuncs turn 0-d results into numpy scalars
        data = np.asarray(data)
    make = type(inputs[0])._from_op
    if True in needs and _grad_enabled.get():
        out = make(data, fn)
        fn.parents = inputs
        seq = out._seq
        for t in inputs:
            t._saves += 1
            t._saved_at = seq
    else:
        if fn.releases:
            fn.release()
        out = make(data, None)
    rec = _recorder.get()  # a capture listening (tinygrad_edu.jit), or None: eager
    if rec is not None:
        rec.on_apply(fn, inputs, params, out)
    return out


def _forward_error(fn_cls: type, exc: Exception, inputs: tuple, params: dict) -> Exception:
    """Our error for numpy's complaint about the inputs of ``fn_cls``'s forward."""
    error = TensorIndexError if isinstance(exc, IndexError) else ShapeError
    return error(
        str(exc),
        where=f"op '{fn_cls.__name__}'",
        expected=fn_cls.shape_rule,
        got=" and ".join(str(t.shape) for t in inputs) + _describe(params),
        fix="check the shapes printed here; model.summary() shows every layer's shape",
    )


def _describe(params: dict) -> str:
    shown = {k: v for k, v in params.items() if not isinstance(v, np.ndarray)}
    return f" with {shown}" if shown else ""


def run_backward(
    root: Tensor, grad: np.ndarray, retain_graph: bool, implicit: bool = False
) -> None:
    """Hand gradients back through the graph below ``root``, newest tensor first.

    ``grads`` holds the gradient summed so far of each tensor reached; ``waiting`` (a heap on
    the negated creation number) the op outputs reached but not yet processed. A tensor is
    popped only after every newer one, so all its consumers have already added their share.
    Leaves (weights, inputs) have nothing to pass on: they only collect, in ``leaves``, and
    keep their sums at the end. Before an op's backward runs, its inputs and output are checked
    unmodified since it ran (``_check_unmodified``, when anything was written since:
    ``written.last``); after it, unless ``retain_graph``, the op
    is freed: unlinked and its work buffers released. ``implicit``: ``grad`` is the ones that
    ``backward()`` made for a scalar (a captured step makes them again rather than keep them)."""
    rec = _recorder.get()
    if rec is not None:
        rec.on_backward(root, grad, retain_graph, implicit)
    grads = {root: grad}
    leaves = {}
    waiting = [(-root._seq, id(root), root)]  # id(): a tie-breaker that never compares tensors
    handed = {id(grad)}  # arrays someone else holds: the caller's grad, grads already kept
    while waiting:
        t = heappop(waiting)[2]
        g = grads.pop(t)
        fn = t._ctx
        if fn is None or t._retain:  # the root itself is a leaf, or a retain_grad tensor
            _accumulate_grad(t, g, handed, rec)
        if fn is None:
            continue
        parents = fn.parents
        if written.last > t._seq:  # something was written since this op ran: was it ours?
            _check_unmodified(fn, t, parents)
        in_grads = fn.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if len(in_grads) != len(parents):
            _check_grad_count(fn, in_grads)
        if rec is not None:
            rec.on_node(t, fn, g, in_grads)
        for k, (p, pg, need) in enumerate(zip(parents, in_grads, fn.needs_input_grad)):
            if not need or pg is None:
                continue
            if pg.shape != p._data.shape:
                pg = _unbroadcast_grad(fn, pg, p)
            sums = leaves if p._ctx is None else grads  # a leaf only collects
            prev = sums.get(p)
            sums[p] = pg if prev is None else prev + pg
            if rec is not None:
                rec.on_grad(k, pg, prev, sums[p])
            if prev is None and sums is grads:
                heappush(waiting, (-p._seq, id(p), p))
        if not retain_graph:
            _free(t, fn, parents)
    for t, g in leaves.items():
        _accumulate_grad(t, g, handed, rec)


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
    arrays no longer hold what the forward pass used, so its gradient would be wrong.

    Written after the op ran: stamped later than the op's output was made (``_written_at``,
    through the library), or handed out as ``.data`` later and now different from the copy kept
    then (``_written_since``: a raw numpy write)."""
    seq = out._seq
    for k, p in enumerate(parents):
        if p._written_at > seq or (p._snap is not None and _written_since(p, seq)):
            raise _inplace_error(fn, p, f"input {k}")
    if out._written_at > seq or (out._snap is not None and _written_since(out, seq)):
        raise _inplace_error(fn, out, "output")


def _written_since(t: Tensor, seq: int) -> bool:
    """``t.data`` was handed out after creation number ``seq`` and differs from the copy kept."""
    return t._snap is not None and t._snap_seq > seq and not same_values(t._snap, t._data)


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


def _accumulate_grad(t: Tensor, g: np.ndarray, handed: set, rec: Any = None) -> None:
    """``t.grad += g`` for a leaf (or a ``retain_grad`` tensor), summed over backward calls until
    ``zero_grad()``.

    The first gradient is kept as the very array the op returned when nothing else can see it
    (a fresh result such as Linear's GEMM: it owns its memory, is writable, and was not handed
    to another tensor in this backward - ``handed`` holds the ids of arrays already kept or held
    by the caller, since an Add returns one array for both inputs); otherwise a copy is kept,
    so writing into one ``.grad`` (gradient clipping does) never changes another. This saves
    one copy of every weight's gradient per step."""
    src = g
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
    before = t.grad
    t.grad = g if before is None else before + g
    if rec is not None:
        rec.on_leaf_grad(t, src, g, before, t.grad)


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


__all__ = ["apply", "run_backward", "creation", "same_values", "written"]
