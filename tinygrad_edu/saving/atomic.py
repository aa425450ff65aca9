"""Atomic writes of a checkpoint: a file is either the old one or the complete new one.

Writing goes to a temporary file of our own naming (``.<name>.tgedu-<pid>-<random>.tmp``) in the
target's directory, so the final ``os.replace`` is atomic; the temporary file is flushed and
fsynced, given the permissions a new file gets (``0o666 & ~umask``, or the mode of the file it
replaces), renamed onto the target, and the directory is fsynced so the rename itself survives a
crash. A save that was killed leaves its temporary file behind: the next save into that directory
removes such leftovers (ours only, written by a process that no longer runs, before this one
started).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import threading
import time
from typing import Any, Dict, List, Optional

import numpy as np

from ..errors import CheckpointError
from .archive import _fix_for_os_error, _show, checked_path

#: our temporary files: ".<target name>.tgedu-<pid>-<16 hex digits>.tmp"
_TEMP_NAME = re.compile(r"^\..*\.tgedu-(\d+)-[0-9a-f]{16}\.tmp$")
#: a temporary file older than this was not written by a save of this process
_PROCESS_START = time.time()
_UMASK_LOCK = threading.Lock()


def write_atomic(path: Any, arrays: Dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an .npz at exactly ``path``: a temporary file in the same directory,
    fsync, permissions, ``os.replace``, fsync of the directory."""
    path = checked_path(path, "saving")
    where = f"saving {_show(path)}"
    tmp_name: Optional[str] = None
    try:
        directory = _target_directory(path, where)
        mode = _mode_for(path)
        remove_stale_temps(directory)
        tmp_name, fd = _create_temp(directory, os.path.basename(path))
        with os.fdopen(fd, "wb") as tmp:
            if isinstance(arrays, bytes):  # a file built in memory (a Keras archive)
                tmp.write(arrays)
            else:
                np.savez(tmp, **arrays)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_directory(directory)
    except CheckpointError:
        raise
    except OSError as err:
        raise CheckpointError(
            where=where,
            expected="a writable location",
            got=f"{type(err).__name__}: {err}",
            fix=_fix_for_os_error(err, "write") + "; any previous file at this path is unchanged",
        ) from err
    finally:
        if tmp_name is not None:
            _remove_quietly(tmp_name)


def _target_directory(path: str, where: str) -> str:
    """The directory the file goes to, after refusing targets that cannot be written."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        got = "a file" if os.path.exists(directory) else "no such directory"
        raise CheckpointError(
            where=where,
            expected=f"an existing directory {directory!r}",
            got=got,
            fix=f"create it first: os.makedirs({directory!r}, exist_ok=True)",
        )
    if os.path.isdir(path):
        raise CheckpointError(
            where=where,
            expected="a file path",
            got="an existing directory",
            fix="add a file name, e.g. os.path.join(path, 'model.keras')",
        )
    if os.path.lexists(path):
        _check_replaceable(path, where)
    return directory


def _check_replaceable(path: str, where: str) -> None:
    info = os.stat(path) if os.path.exists(path) else os.lstat(path)
    if not stat.S_ISREG(info.st_mode) and not stat.S_ISLNK(info.st_mode):
        raise CheckpointError(
            where=where,
            expected="a regular file (or a new name) as target",
            got="a device, pipe or socket",
            fix="save to a file name, e.g. 'model.keras'",
        )
    if stat.S_ISREG(info.st_mode) and not info.st_mode & 0o222:
        raise CheckpointError(
            where=where,
            expected="a writable target",
            got=f"a read-only file (mode {stat.filemode(info.st_mode)})",
            fix="save under another name, or make it writable first: os.chmod(path, 0o644)",
        )


def _mode_for(path: str) -> int:
    """The permissions of the saved file: those of the file it replaces, else what a new file
    gets (``0o666 & ~umask``; the temporary file is created private, 0o600)."""
    try:
        info = os.stat(path)
    except OSError:
        return 0o666 & ~current_umask()
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux), else by
    setting and restoring it under a lock."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _create_temp(directory: str, target_name: str) -> tuple:
    """A new private file ``.<name>.tgedu-<pid>-<random>.tmp`` in ``directory``: (path, fd)."""
    for _ in range(100):
        name = f".{target_name[:120]}.tgedu-{os.getpid()}-{secrets.token_hex(8)}.tmp"
        full = os.path.join(directory, name)
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return full, os.open(full, flags | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the file itself is synced
    finally:
        os.close(fd)


def remove_stale_temps(directory: str) -> List[str]:
    """Remove the temporary files that killed saves left in ``directory``; return their names.

    Only files of our naming, not written by this process, last modified before this process
    started, whose writing process no longer runs. On systems without POSIX process checks
    nothing is removed.
    """
    if os.name != "posix":
        return []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        match = _TEMP_NAME.match(name)
        full = os.path.join(directory, name)
        if match and _is_stale(full, int(match.group(1))) and _remove_quietly(full):
            removed.append(name)
    return removed


def _is_stale(full: str, pid: int) -> bool:
    if pid == os.getpid():
        return False  # a save of this process, perhaps in another thread
    try:
        info = os.lstat(full)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_mtime < _PROCESS_START and not _process_runs(pid)


def _process_runs(pid: int) -> bool:
    if pid <= 0:
        return True  # not a single process: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    except (OSError, OverflowError):
        return False
    return True


def _remove_quietly(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


__all__ = ["current_umask", "remove_stale_temps", "write_atomic"]
