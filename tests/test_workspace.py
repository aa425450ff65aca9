"""``tinygrad_edu.workspace``: buffers reused from op to op, given back only explicitly (a
workspace's ``release``, or ``give`` for a temporary), never by garbage collection; checked mode
(poison + bookkeeping), which ``tests/conftest.py`` turns on for the whole session."""

import gc
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from tinygrad_edu import workspace
from tinygrad_edu.workspace import BufferPool, Workspace, WorkspaceError


def checked_pool(**kwargs) -> BufferPool:
    return BufferPool(checked=True, **kwargs)


# ---------------------------------------------------------------- the session's setting
def test_the_test_session_runs_in_checked_mode():
    assert os.environ[workspace.POISON_ENV_VAR] == "1"
    assert workspace.POOL.checked


def test_checked_mode_is_fixed_when_the_pool_is_made():
    with pytest.raises(AttributeError):
        workspace.POOL.checked = False  # no flag to flip at run time


@pytest.mark.parametrize("value, checked", [("1", True), ("0", False), ("", False)])
def test_the_environment_variable_is_read_at_import(value, checked):
    code = "import tinygrad_edu.workspace as w; print(w.POOL.checked)"
    env = {**os.environ, workspace.POISON_ENV_VAR: value}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(checked)


# ---------------------------------------------------------------- buffers
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_take_gives_aligned_writable_c_contiguous_buffers(dtype):
    pool = BufferPool()
    buf = Workspace(pool).take((10, 20), dtype)
    assert buf.shape == (10, 20) and buf.dtype == dtype
    assert buf.flags.c_contiguous and buf.flags.writeable
    assert buf.ctypes.data % 64 == 0


def test_large_buffers_sit_on_whole_huge_pages_where_the_platform_has_them():
    pool = BufferPool(huge_from=1 << 16)
    shape = ((1 << 16) // 4 + 5,)
    buf = Workspace(pool).take(shape, np.float32)
    assert buf.shape == shape and buf.flags.writeable
    assert buf.ctypes.data % (2 << 20 if workspace._HUGE_PAGES else 64) == 0
    buf[:] = 1.5
    assert buf.sum() == 1.5 * buf.size


def test_released_buffers_are_handed_to_the_next_workspace_most_recent_first():
    pool = BufferPool()
    first, second = Workspace(pool), Workspace(pool)
    a, b = first.take((4, 5), np.float32), second.take((4, 5), np.float32)
    first.release()
    second.release()
    again = Workspace(pool)
    assert again.take((4, 5), np.float32) is b
    assert again.take((4, 5), np.float32) is a
    assert again.take((4, 5), np.float32) is not a  # each handed out once
    assert again.take((5, 4), np.float32).shape == (5, 4)  # shape and dtype must match
    assert again.take((4, 5), np.float64).dtype == np.float64


def test_the_pool_keeps_at_most_its_budget_letting_the_oldest_go():
    pool = BufferPool(max_bytes=3 * 800)
    ws = Workspace(pool)
    bufs = [ws.take((10, 20), np.float32) for _ in range(4)]  # 800 bytes each
    ws.release()  # given back in the order taken: the first one goes
    kept = Workspace(pool)
    assert {id(kept.take((10, 20), np.float32)) for _ in range(3)} == {id(b) for b in bufs[1:]}


def test_give_returns_a_temporary_before_release_and_only_once():
    pool = checked_pool()
    ws = Workspace(pool)
    keep, tmp = ws.take((3,), np.float64), ws.take((3,), np.float64)
    ws.give(tmp)
    assert ws.held == (keep,)
    with pytest.raises(WorkspaceError, match="does not hold"):
        ws.give(tmp)
    with pytest.raises(WorkspaceError, match="does not hold"):
        ws.give(np.zeros(3))  # never taken from it
    ws.release()


# ---------------------------------------------------------------- checked mode
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_checked_buffers_start_as_nan_and_are_poisoned_when_given_back(dtype):
    pool = checked_pool()
    ws = Workspace(pool)
    kept, tmp = ws.take((2, 3), dtype), ws.take((4,), dtype)
    assert np.isnan(kept).all() and np.isnan(tmp).all()  # reading before writing shows
    kept[...], tmp[...] = 1, 2
    view = kept[1:]  # a view that (wrongly) survives the release
    ws.give(tmp)
    assert np.isnan(tmp).all() and (kept == 1).all()
    ws.release()
    assert np.isnan(kept).all() and np.isnan(view).all()


def test_non_float_buffers_are_poisoned_with_every_bit_set():
    pool = checked_pool()
    ws = Workspace(pool)
    buf = ws.take((3,), np.int32)
    buf[:] = 7
    ws.release()
    assert (buf == -1).all()


def test_an_unchecked_pool_leaves_values_alone():
    pool = BufferPool()
    ws = Workspace(pool)
    buf = ws.take((3,), np.float64)
    buf[:] = 7
    ws.release()
    ws.release()  # harmless outside checked mode
    assert (buf == 7).all()


def test_checked_mode_refuses_a_second_release_and_a_take_after_release():
    ws = Workspace(checked_pool())
    ws.take((2,), np.float32)
    ws.release()
    assert ws.released and ws.held == ()
    with pytest.raises(WorkspaceError, match="twice"):
        ws.release()
    with pytest.raises(WorkspaceError, match="after release"):
        ws.take((2,), np.float32)


def test_checked_pool_counts_taken_given_back_and_outstanding_buffers():
    pool = checked_pool()
    ws = Workspace(pool)
    a = ws.take((2,), np.float32)
    ws.take((3,), np.float32)
    stats = pool.stats()
    assert (stats.taken, stats.given_back, stats.outstanding, stats.releases) == (2, 0, 2, 0)
    ws.give(a)
    assert pool.stats().outstanding == 1
    ws.release()
    stats = pool.stats()
    assert (stats.taken, stats.given_back, stats.outstanding, stats.releases) == (2, 2, 0, 1)
    assert stats.dropped == 0


def test_a_workspace_collected_unreleased_is_dropped_not_reused():
    """Nothing comes back by garbage collection: the buffers of a workspace nobody released are
    freed with it (counted as dropped in checked mode), never handed to anyone else."""
    pool = checked_pool()
    ws = Workspace(pool)
    lost = ws.take((8,), np.float64)  # kept alive here, to see it is not handed out again
    del ws
    gc.collect()
    stats = pool.stats()
    assert (stats.dropped, stats.given_back, stats.outstanding) == (1, 0, 0)
    assert Workspace(pool).take((8,), np.float64) is not lost


def test_known_buffers_are_every_live_buffer_of_a_checked_pool():
    pool = checked_pool()
    ws = Workspace(pool)
    a, b = ws.take((2,), np.float32), ws.take((3,), np.float32)
    ws.give(b)
    known = pool.known_buffers()
    assert any(k is a for k in known) and any(k is b for k in known)


# ---------------------------------------------------------------- threads
def test_threads_never_get_the_same_buffer_at_once():
    """Many threads borrow and release buffers of one shape through one pool: each writes its
    own number into its buffers and must read it back untouched before releasing them."""
    pool, errors = BufferPool(max_bytes=1 << 20), []
    start = threading.Barrier(8)

    def borrow(k: int) -> None:
        start.wait()
        for _ in range(300):
            ws = Workspace(pool)
            bufs = [ws.take((64,), np.float64) for _ in range(3)]
            for buf in bufs:
                buf.fill(k)
            if not all((buf == k).all() for buf in bufs):
                errors.append(k)
            ws.release()

    threads = [threading.Thread(target=borrow, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
