"""The checkpoint file format: header, atomic writes, and checked reading.

Every entry is a plain numpy array (text as a 0-d unicode array), so ``np.load(path,
allow_pickle=False)`` reads all of it. Writing goes to a temporary file in the target's directory
that is flushed, fsynced and ``os.replace``-d onto the target; reading refuses pickles and turns
every way a file can be damaged into one ``CheckpointError``.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
import zlib
from typing import Any, Dict

import numpy as np

from ..errors import CheckpointError

FORMAT = "tinygrad_edu"
FORMAT_VERSION = 1
WEIGHTS_PREFIX = "weights/"
OPTIMIZER_PREFIX = "optimizer/"
#: what numpy/zipfile raise on a truncated, corrupted or pickle-bearing file
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    ValueError,
    OSError,
    EOFError,
    KeyError,
    NotImplementedError,
)


# ---------------------------------------------------------------------- reading
def read_archive(path: Any) -> Dict[str, np.ndarray]:
    """Every array of a checkpoint file, read with ``allow_pickle=False`` and checked.

    Any unreadable file (missing, truncated, random bytes, holding object arrays, from another
    program or a newer format) raises ``CheckpointError``.
    """
    path = _fspath(path)
    where = f"reading {_show(path)}"
    if not os.path.exists(path):
        sibling = path + ".npz"
        hint = (
            f"{sibling!r} exists - did you mean it?"
            if os.path.exists(sibling)
            else "check the path (and the working directory: os.getcwd())"
        )
        raise CheckpointError(
            where=where, expected="an existing file", got="no such file", fix=hint
        )
    if os.path.isdir(path):
        raise CheckpointError(
            where=where,
            expected="a file",
            got="a directory",
            fix="give the path of the .npz/.keras file inside it",
        )
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise CheckpointError(
                where=where,
                expected="an .npz archive of tinygrad_edu",
                got=f"a single .npy array of shape {np.shape(loaded)}",
                fix="save with model.save(path) or model.save_weights(path)",
            )
        with loaded:
            data = {name: loaded[name] for name in loaded.files}
    except CheckpointError:
        raise
    except _READ_ERRORS as err:
        raise _unreadable(where, err) from None
    _check_header(data, where)
    return data


def _check_header(data: Dict[str, np.ndarray], where: str) -> None:
    if "format" not in data or "kind" not in data or "format_version" not in data:
        raise CheckpointError(
            where=where,
            expected="a file written by tinygrad_edu",
            got=f"an .npz with arrays {sorted(data)[:5]}",
            fix="save with model.save(path) or model.save_weights(path); to "
            "load your own arrays, use model.set_weights(list_of_arrays)",
        )
    try:
        version = int(data["format_version"])
        ok = _scalar(data["format"]) == FORMAT and _scalar(data["kind"]) in ("model", "weights")
    except (TypeError, ValueError):
        ok, version = False, -1
    if not ok:
        raise CheckpointError(
            where=where,
            expected="a tinygrad_edu header",
            got="a damaged header",
            fix="save the model again",
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            where=where,
            expected=f"format version <= {FORMAT_VERSION}",
            got=f"version {version}",
            fix="the file comes from a newer tinygrad_edu; upgrade to load it",
        )


def _unreadable(where: str, err: BaseException) -> CheckpointError:
    text = str(err)
    if "pickle" in text.lower() or "object arrays" in text.lower():
        return CheckpointError(
            where=where,
            expected="plain numeric/text arrays",
            got="pickled Python objects (refused: unpickling can run code)",
            fix="only load files you created with model.save/save_weights; "
            "re-save the weights as numeric arrays",
        )
    return CheckpointError(
        where=where,
        expected="a complete .npz archive",
        got=f"an unreadable file ({type(err).__name__}: {text[:80]})",
        fix="the file is truncated or corrupted (an interrupted copy?); use "
        "another checkpoint or save again",
    )


def _scalar(arr: np.ndarray) -> Any:
    if arr.dtype.kind not in "Uiuf" or arr.ndim != 0:
        raise ValueError("not a scalar")
    return arr.item()


# ---------------------------------------------------------------------- writing
def _header(kind: str) -> Dict[str, np.ndarray]:
    return {
        "format": _text(FORMAT),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "kind": _text(kind),
    }


def _text(s: str) -> np.ndarray:
    return np.array(s, dtype=np.str_)  # a 0-d unicode array: loads without pickle


def _write_atomic(path: Any, arrays: Dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an .npz at exactly ``path``: temp file, fsync, ``os.replace``."""
    path = _fspath(path)
    where = f"saving {_show(path)}"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CheckpointError(
            where=where,
            expected="an existing directory",
            got=f"no directory {directory!r}",
            fix=f"create it first: os.makedirs({directory!r}, exist_ok=True)",
        )
    if os.path.isdir(path):
        raise CheckpointError(
            where=where,
            expected="a file path",
            got="an existing directory",
            fix="add a file name, e.g. os.path.join(path, 'model.keras')",
        )
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            np.savez(tmp, **arrays)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_directory(directory)
    except OSError as err:
        raise CheckpointError(
            where=where,
            expected="a writable location",
            got=f"{type(err).__name__}: {err}",
            fix="check the path, free disk space and permissions; "
            "any previous file at this path is unchanged",
        ) from err
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- paths
def _fspath(path: Any) -> str:
    try:
        return os.fspath(path)
    except TypeError:
        raise CheckpointError(
            where="saving/loading",
            expected="a path (str or pathlib.Path)",
            got=type(path).__name__,
            fix="pass a file name such as 'model.keras'",
        ) from None


def _show(path: Any) -> str:
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else repr(path)
