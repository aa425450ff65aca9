"""Reusable work memory for ops, given back exactly when the engine says the op is done.

Why reuse at all: a fresh multi-megabyte numpy array is mapped from the operating system page
by page, and the first touch of every 4 KB costs a page fault and a zeroed page (measured: about
a third of an LSTM(128) forward + backward at batch 64 over 20 steps). An array of the same shape
and dtype that an earlier op gave back is already mapped.

Why it cannot alias, by construction:

- an op borrows only through its own ``Workspace`` (``ws = Workspace()``, ``ws.take(shape,
  dtype)``); nobody else ever sees those buffers;
- buffers go back to the pool at two moments only, both explicit: ``ws.release()``, which the
  op's ``Function.release`` calls and the engine runs exactly once, when the op is done (after
  forward when no graph is recorded, after backward when the graph is freed, when forward
  raises); and ``ws.give(a)`` for a temporary the op itself no longer needs (its promise: nothing
  it returned views ``a``);
- nothing comes back by garbage collection: a workspace dropped without ``release`` (a graph
  discarded without backward) simply lets its buffers be freed, never reused;
- an op copies whatever it returns out of its buffers (``np.array(view)``, never
  ``np.ascontiguousarray``, which returns the view itself when it is already contiguous).

Checked mode, for tests (the environment variable ``TINYGRAD_EDU_POISON_WORKSPACE=1`` when this
module is first imported; ``tests/conftest.py`` sets it for the whole session): a per-process
setting fixed at import, never flipped at run time. In it

- every buffer given back is filled with NaN (and every buffer taken starts as NaN), so a view
  that survived its release, or a read of memory never written, turns results into NaN;
- the pool counts buffers taken, given back and dropped with an unreleased workspace
  (``POOL.stats()``), raises ``WorkspaceError`` on a second ``release`` or a ``take`` after it,
  and knows every buffer it made (``POOL.known_buffers()``) so a test can check that no output or
  gradient shares memory with one.

Large buffers (``huge_from`` bytes and more) get their own 2 MB-aligned mapping with
``madvise(MADV_HUGEPAGE)`` where the platform has it (the per-step strided rows of the recurrent
ops then stop missing the TLB); the others start on a 64-byte boundary (numpy's own large arrays
start 16 bytes into a page, so every AVX-512 load would straddle two cache lines). Measured in
CPU time (1 BLAS thread, interleaved rounds) on the LSTM(128) training step of
``benchmarks/bench_rnn.py``: both together save 2-3% (each alone about half of that, within the
noise); SimpleRNN(128) shows no difference. Reuse itself saves 26% (LSTM) and 17% (SimpleRNN).
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

#: ``1`` (when this module is first imported) turns on checked mode for the process
POISON_ENV_VAR = "TINYGRAD_EDU_POISON_WORKSPACE"

_HUGE_PAGES = all(hasattr(mmap, a) for a in ("MADV_HUGEPAGE", "MAP_PRIVATE", "MAP_ANONYMOUS"))
_HUGE_PAGE = 2 << 20
_CACHE_LINE = 64


class WorkspaceError(RuntimeError):
    """A workspace was misused: released twice, used after release, or handed a foreign array."""


@dataclass(frozen=True)
class PoolStats:
    """Buffer counts of a pool since it was made (``dropped`` is counted in checked mode only)."""

    taken: int  #: buffers handed out by ``take``
    given_back: int  #: buffers returned by ``give`` or ``release``
    dropped: int  #: buffers lost with a workspace collected before its ``release``
    releases: int  #: ``Workspace.release`` calls

    @property
    def outstanding(self) -> int:
        """Buffers held right now by workspaces not yet released."""
        return self.taken - self.given_back - self.dropped


def _allocate(nbytes: int, huge: bool) -> np.ndarray:
    """A fresh uninitialized byte array: 64-byte aligned, or on whole 2 MB pages when ``huge``."""
    if huge:
        size = -(-nbytes // _HUGE_PAGE) * _HUGE_PAGE + _HUGE_PAGE  # whole pages, room to align
        mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        raw = np.frombuffer(mapping, np.uint8)
        start = -raw.ctypes.data % _HUGE_PAGE
        mapping.madvise(mmap.MADV_HUGEPAGE, start, size - start)
    else:
        raw = np.empty(nbytes + _CACHE_LINE, np.uint8)
        start = -raw.ctypes.data % _CACHE_LINE
    return raw[start : start + nbytes]


def _poison(buf: np.ndarray) -> None:
    """Fill with NaN (all bits set for non-float dtypes, which is a NaN pattern too)."""
    if buf.dtype.kind in "fc":
        buf.fill(np.nan)
    else:
        buf.reshape(-1).view(np.uint8).fill(0xFF)


class BufferPool:
    """Buffers handed from one op to the next, most recently given back first; thread-safe.

    At most ``max_bytes`` are kept free; beyond that the oldest are let go. ``checked``: see the
    module docstring (fixed when the pool is made). Ops do not call ``take``/``give`` directly:
    they go through a ``Workspace``.
    """

    def __init__(
        self, max_bytes: int = 64 << 20, *, checked: bool = False, huge_from: int = 1 << 19
    ) -> None:
        self.max_bytes = max_bytes
        self.huge_from = huge_from
        self._checked = bool(checked)
        # the free buffers by (shape, dtype), each list oldest first; and all of them in the
        # order they were given back (by id), which says who goes first when over the budget
        self._free: Dict[Tuple[Tuple[int, ...], np.dtype], List[np.ndarray]] = {}
        self._age: Dict[int, np.ndarray] = {}
        self._free_bytes = 0
        self._lock = threading.Lock()
        self._counts = {"taken": 0, "given_back": 0, "dropped": 0, "releases": 0}
        self._known: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()

    @property
    def checked(self) -> bool:
        """Checked mode (poison and bookkeeping), fixed when the pool was made."""
        return self._checked

    def take(self, shape: Tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialized C-contiguous array of this shape and dtype (NaN in checked mode)."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        buf = self._reuse(shape, dtype)
        if buf is None:
            nbytes = int(np.prod(shape)) * dtype.itemsize
            huge = _HUGE_PAGES and nbytes >= self.huge_from
            buf = _allocate(nbytes, huge).view(dtype).reshape(shape)
            if self._checked:
                with self._lock:
                    self._known[id(buf)] = buf
        if self._checked:
            _poison(buf)
        return buf

    def _reuse(self, shape: Tuple[int, ...], dtype: np.dtype) -> Optional[np.ndarray]:
        """The most recently given back free buffer of this shape and dtype, if any."""
        with self._lock:
            self._counts["taken"] += 1
            same = self._free.get((shape, dtype))
            if not same:
                return None
            buf = same.pop()
            del self._age[id(buf)]
            self._free_bytes -= buf.nbytes
            return buf

    def give(self, buffers: Sequence[np.ndarray], *, releases: int = 0) -> None:
        """Take back buffers from ``take`` that nothing else holds or views any more."""
        if self._checked:
            for buf in buffers:
                _poison(buf)
        with self._lock:
            self._counts["given_back"] += len(buffers)
            self._counts["releases"] += releases
            for buf in buffers:
                self._free.setdefault((buf.shape, buf.dtype), []).append(buf)
                self._age[id(buf)] = buf
                self._free_bytes += buf.nbytes
            while self._age and self._free_bytes > self.max_bytes:  # let the oldest go
                oldest = self._age.pop(next(iter(self._age)))
                self._free[oldest.shape, oldest.dtype].pop(0)  # oldest of its kind too
                self._free_bytes -= oldest.nbytes

    def _note_dropped(self, held: Dict[int, np.ndarray]) -> None:
        """A workspace was collected while still holding ``held`` (they are freed, not kept)."""
        with self._lock:
            self._counts["dropped"] += len(held)

    def stats(self) -> PoolStats:
        """The counts so far."""
        with self._lock:
            return PoolStats(**self._counts)

    def known_buffers(self) -> List[np.ndarray]:
        """Every buffer this pool made that is still alive, free or held (checked mode only)."""
        with self._lock:
            return list(self._known.values())


def _checked_from_env() -> bool:
    return os.environ.get(POISON_ENV_VAR, "") == "1"


#: the process-wide pool every ``Workspace`` borrows from unless given another
POOL = BufferPool(checked=_checked_from_env())


class Workspace:
    """The buffers one op borrows, given back all at once by ``release()``.

    ``take`` hands out an uninitialized buffer the op keeps as long as it likes; ``give`` returns
    temporaries early (nothing the op returned may view them); ``release`` returns the rest and
    ends the workspace. Used by one op at a time (the pool behind it is what threads share).
    """

    __slots__ = ("_pool", "_held", "_released", "_on_drop", "__weakref__")

    def __init__(self, pool: Optional[BufferPool] = None) -> None:
        self._pool = POOL if pool is None else pool
        self._held: Dict[int, np.ndarray] = {}  # by id, in the order taken
        self._released = False
        # checked mode only: count what a workspace collected before release() takes with it
        self._on_drop = None
        if self._pool.checked:
            self._on_drop = weakref.finalize(self, self._pool._note_dropped, self._held)

    @property
    def held(self) -> Tuple[np.ndarray, ...]:
        """The buffers taken and not yet given back."""
        return tuple(self._held.values())

    @property
    def released(self) -> bool:
        return self._released

    def take(self, shape: Tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialized C-contiguous buffer, this workspace's until ``give`` or ``release``."""
        if self._released and self._pool.checked:
            raise WorkspaceError("take() after release(): the op is done with its workspace")
        buf = self._pool.take(shape, dtype)
        self._held[id(buf)] = buf
        return buf

    def give(self, *buffers: np.ndarray) -> None:
        """Return temporaries before ``release``: the caller keeps no reference nor view."""
        for buf in buffers:
            if self._held.pop(id(buf), None) is not buf:  # a held buffer is alive: ids unique
                raise WorkspaceError(
                    f"give() of an array of shape {buf.shape} this workspace does not hold "
                    "(given back already, or never taken from it)"
                )
        self._pool.give(buffers)

    def release(self) -> None:
        """Return every buffer still held; the workspace is done (checked mode: only once)."""
        if self._released and self._pool.checked:
            raise WorkspaceError("release() called twice on one workspace")
        self._released = True
        if self._on_drop is not None:
            self._on_drop.detach()
        buffers = tuple(self._held.values())
        self._held.clear()
        self._pool.give(buffers, releases=1)


__all__ = ["BufferPool", "POOL", "POISON_ENV_VAR", "PoolStats", "Workspace", "WorkspaceError"]
