"""The checkpoint file format: header and checked reading (writing is in ``atomic``).

Every entry is a plain numpy array (text as a 0-d unicode array), so ``np.load(path,
allow_pickle=False)`` reads all of it.

Reading never trusts a size the file declares: the zip directory, every member (stored, not
encrypted, an ``.npy`` whose header's shape and dtype add up to exactly the bytes the member
holds) is checked before any array is allocated, so nothing larger than the file is ever
allocated; pickles are refused, and every way a file can be damaged becomes one
``CheckpointError``.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import struct
import zipfile
import zlib
from typing import Any, BinaryIO, Dict, List

import numpy as np

from ..errors import CheckpointError

FORMAT = "tinygrad_edu"
FORMAT_VERSION = 1
WEIGHTS_PREFIX = "weights/"
OPTIMIZER_PREFIX = "optimizer/"
#: the entry naming the registered model class of a whole-model file (absent before it existed:
#: such files hold a Sequential)
MODEL_CLASS = "model_class"

#: a checkpoint holds at most this many arrays (about 30,000 layers); more is refused
MAX_MEMBERS = 100_000
#: the zip directory of MAX_MEMBERS ordinary entries fits in this; a larger one is refused
#: before Python reads it (each entry would become an object of a few hundred bytes)
MAX_DIRECTORY_BYTES = 16 * 2**20
#: numpy's own default limit for an .npy header
MAX_NPY_HEADER = 10_000
#: dtype kinds a checkpoint may hold: bool, ints, floats, and text (unicode or bytes)
ARRAY_KINDS = "biufUS"
#: arrays are read in pieces of this size (no second copy of a large array while reading)
READ_CHUNK = 2**20

#: what zipfile/numpy raise on a truncated or corrupted file
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    ValueError,
    OSError,
    EOFError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
)
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_END = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
_ENCRYPTED = 0x1


# ---------------------------------------------------------------------- paths
def checked_path(path: Any, action: str) -> str:
    """``path`` as a str, or a ``CheckpointError`` saying what to pass instead."""
    where = f"{action} a checkpoint"
    if isinstance(path, (bytes, bytearray)):
        raise _path_error(where, "bytes", "decode it first: os.fsdecode(path)")
    try:
        text = os.fspath(path)
    except TypeError:
        raise _path_error(
            where, type(path).__name__, "pass a file name such as 'model.keras'"
        ) from None
    if isinstance(text, bytes):
        raise _path_error(where, "a path of bytes", "use a str path: os.fsdecode(path)")
    if not text:
        raise _path_error(where, "an empty path", "pass a file name such as 'model.keras'")
    if "\0" in text:
        raise _path_error(where, "a path with a NUL character", "remove the '\\0' from the path")
    return text


def _path_error(where: str, got: str, fix: str) -> CheckpointError:
    return CheckpointError(where=where, expected="a path (str or pathlib.Path)", got=got, fix=fix)


def _show(path: Any) -> str:
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else repr(path)


# ---------------------------------------------------------------------- reading
def read_archive(path: Any) -> Dict[str, np.ndarray]:
    """Every array of a checkpoint file, checked before it is allocated.

    Any unusable file (missing, not a regular file, truncated, random bytes, encrypted or
    compressed members, sizes the file cannot hold, object arrays, another program's file, a
    newer format) raises ``CheckpointError``; nothing larger than the file is allocated.
    """
    path = checked_path(path, "reading")
    where = f"reading {_show(path)}"
    size = _regular_file_size(path, where)
    try:
        with open(path, "rb") as fh:
            _refuse_other_formats(fh, where)
            _check_zip_directory(fh, size, where)
            with zipfile.ZipFile(fh) as archive:
                data = {
                    info.filename[: -len(".npy")]: _read_member(archive, info, where)
                    for info in _checked_members(archive, size, where)
                }
    except CheckpointError:
        raise
    except _READ_ERRORS as err:
        raise _unreadable(where, err) from None
    _check_header(data, where)
    return data


def _regular_file_size(path: str, where: str) -> int:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        sibling = path + ".npz"
        hint = (
            f"{sibling!r} exists - did you mean it?"
            if os.path.exists(sibling)
            else "check the path (and the working directory: os.getcwd())"
        )
        raise CheckpointError(
            where=where, expected="an existing file", got="no such file", fix=hint
        ) from None
    except OSError as err:
        raise CheckpointError(
            where=where,
            expected="a readable file",
            got=f"{type(err).__name__}: {err.strerror or err}",
            fix=_fix_for_os_error(err, "read"),
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise CheckpointError(
            where=where,
            expected="a file",
            got="a directory",
            fix="give the path of the .npz/.keras file inside it",
        )
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(
            where=where,
            expected="a regular file",
            got="a device, pipe or socket",
            fix="copy the checkpoint to a file first",
        )
    return info.st_size


def _refuse_other_formats(fh: BinaryIO, where: str) -> None:
    start = fh.read(len(_NPY_MAGIC))
    fh.seek(0)
    if start == _NPY_MAGIC:
        raise CheckpointError(
            where=where,
            expected="an .npz archive of tinygrad_edu",
            got="a single .npy array",
            fix="save with model.save(path) or model.save_weights(path)",
        )
    if start[:1] == b"\x80":
        raise CheckpointError(
            where=where,
            expected="an .npz archive of tinygrad_edu",
            got="a pickle file (refused: unpickling can run code)",
            fix="only load files you created with model.save/save_weights",
        )


def _check_zip_directory(fh: BinaryIO, size: int, where: str) -> None:
    """Refuse a zip directory of more than MAX_MEMBERS entries or MAX_DIRECTORY_BYTES before
    ``zipfile`` turns every entry into a Python object. A file without a readable end record is
    left to ``zipfile`` (which refuses it)."""
    tail_start = max(0, size - 22 - 65_535)
    fh.seek(tail_start)
    tail = fh.read()
    end = tail.rfind(_ZIP_END)
    if end < 0 or len(tail) < end + 22:
        fh.seek(0)
        return
    entries, directory_bytes = struct.unpack("<xxxxxxxxxxHL", tail[end : end + 16])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        entries, directory_bytes = _zip64_directory(fh, tail, end, entries, directory_bytes)
    fh.seek(0)
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise CheckpointError(
            where=where,
            expected=f"at most {MAX_MEMBERS:,} arrays ({MAX_DIRECTORY_BYTES:,} bytes of zip "
            "directory)",
            got=f"{entries:,} entries in {directory_bytes:,} bytes",
            fix="this is not a checkpoint of tinygrad_edu; save the model again",
        )


def _zip64_directory(
    fh: BinaryIO, tail: bytes, end: int, entries: int, directory_bytes: int
) -> tuple:
    locator = tail[end - 20 : end] if end >= 20 else b""
    if not locator.startswith(_ZIP64_LOCATOR):
        return entries, directory_bytes
    (offset,) = struct.unpack("<Q", locator[8:16])
    fh.seek(offset)
    record = fh.read(56)
    if len(record) < 56 or not record.startswith(_ZIP64_END):
        return entries, directory_bytes
    entries, directory_bytes = struct.unpack("<QQ", record[32:48])
    return entries, directory_bytes


def _checked_members(archive: zipfile.ZipFile, size: int, where: str) -> List[zipfile.ZipInfo]:
    """The archive's members, each checked to be a stored, unencrypted ``.npy`` that lies
    inside the file; any other member refuses the whole file."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _member_error(where, "", f"{len(infos):,} members (at most {MAX_MEMBERS:,})")
    names = set()
    for info in infos:
        name = info.filename
        if name in names:
            raise _member_error(where, name, "a second member of the same name")
        names.add(name)
        if info.flag_bits & _ENCRYPTED:
            raise _member_error(where, name, "an encrypted member (tinygrad_edu never encrypts)")
        if info.compress_type != zipfile.ZIP_STORED:
            raise _member_error(where, name, f"a compressed member (method {info.compress_type})")
        if info.is_dir() or not name.endswith(".npy"):
            raise _member_error(where, name, "a member that is not an .npy array")
        if info.file_size != info.compress_size or info.header_offset + info.file_size > size:
            raise _member_error(
                where,
                name,
                f"a member declaring {info.file_size:,} bytes in a file of {size:,} bytes",
            )
    return infos


def _member_error(where: str, name: str, got: str) -> CheckpointError:
    return CheckpointError(
        where=where + (f", member {name!r}" if name else ""),
        expected="stored (uncompressed, unencrypted) .npy arrays as np.savez writes them",
        got=got,
        fix="the file was not written by tinygrad_edu or was altered; save the model again",
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    """One ``.npy`` member: header checked against the member's size, then read in chunks
    into an array of exactly that size."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(member, max_header_size=MAX_NPY_HEADER)
        else:
            header = np.lib.format.read_array_header_2_0(member, max_header_size=MAX_NPY_HEADER)
        shape, fortran_order, dtype = header
        payload = info.file_size - member.tell()
        _check_npy_header(info.filename, shape, dtype, payload, where)
        array = np.empty(shape[::-1] if fortran_order else shape, dtype=dtype)
        _read_exactly(member, array)
    return array.T if fortran_order else array


def _check_npy_header(name: str, shape: tuple, dtype: np.dtype, payload: int, where: str) -> None:
    if dtype.hasobject:
        raise CheckpointError(
            where=f"{where}, member {name!r}",
            expected="plain numeric/text arrays",
            got="pickled Python objects (refused: unpickling can run code)",
            fix="only load files you created with model.save/save_weights; "
            "re-save the weights as numeric arrays",
        )
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise _member_error(where, name, f"an array of dtype {dtype}")
    if any(not isinstance(d, int) or d < 0 for d in shape):
        raise _member_error(where, name, f"an array of shape {shape}")
    declared = math.prod(shape) * dtype.itemsize
    if declared != payload:
        raise _member_error(
            where,
            name,
            f"a header declaring shape {shape} of {dtype} ({declared:,} bytes) over "
            f"{payload:,} bytes of data",
        )


def _read_exactly(member: BinaryIO, array: np.ndarray) -> None:
    if array.nbytes == 0:
        return
    target = memoryview(array.reshape(-1).view(np.uint8))
    filled = 0
    while filled < len(target):
        chunk = member.read(min(READ_CHUNK, len(target) - filled))
        if not chunk:
            raise EOFError("the array data ends early")
        target[filled : filled + len(chunk)] = chunk
        filled += len(chunk)


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
        version = int(_scalar(data["format_version"]))
        ok = _scalar(data["format"]) == FORMAT and _scalar(data["kind"]) in ("model", "weights")
    except (TypeError, ValueError, OverflowError):
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
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "Uiuf" or arr.ndim != 0:
        raise ValueError("not a scalar")
    return arr.item()


# ---------------------------------------------------------------------- the entries written
def _header(kind: str) -> Dict[str, np.ndarray]:
    return {
        "format": _text(FORMAT),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "kind": _text(kind),
    }


def _text(s: str) -> np.ndarray:
    return np.array(s, dtype=np.str_)  # a 0-d unicode array: loads without pickle


def _fix_for_os_error(err: OSError, action: str) -> str:
    permissions = (
        f"this user may not {action} there: choose another directory or fix its permissions"
    )
    fixes = {
        "EACCES": permissions,
        "EPERM": permissions,
        "EROFS": "the file system is read-only: save somewhere else",
        "ENOSPC": "the disk is full: free some space or save somewhere else",
        "EDQUOT": "the disk quota is used up: free some space or save somewhere else",
        "ENAMETOOLONG": "the file name is too long: use a shorter one",
        "ENOTDIR": "a part of the path is a file, not a directory: check the path",
    }
    name = errno.errorcode.get(err.errno or 0, "")
    return fixes.get(name, "check the path, free disk space and permissions")
