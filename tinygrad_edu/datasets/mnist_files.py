"""Load real MNIST from files the user already has: the four IDX files or Keras' ``mnist.npz``.

IDX format (big-endian): a 4-byte magic number ``0x00 0x00 <type> <ndim>`` (type ``0x08`` means
unsigned byte), then ``ndim`` 4-byte sizes, then the data in C order. MNIST image files have magic
2051 (``0x00000803``, shape ``(n, 28, 28)``) and label files 2049 (``0x00000801``, shape ``(n,)``).
"""

from __future__ import annotations

import gzip
import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_UBYTE = 0x08
_WHERE = "load_mnist"
_FIX_LAYOUT = (
    "put the four MNIST files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end in .gz) in one directory "
    "and pass that directory, e.g. load_mnist('~/data/mnist'); or pass the path of Keras' "
    "mnist.npz file (keys x_train, y_train, x_test, y_test)"
)

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(path: str | os.PathLike) -> tuple[Split, Split]:
    """Read MNIST from disk, returned exactly like Keras' ``mnist.load_data()``.

    ``path`` is a directory holding the four IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    optionally gzipped with a ``.gz`` suffix), or the path of Keras' ``mnist.npz``. Returns
    ``((x_train, y_train), (x_test, y_test))``: uint8 images ``(n, 28, 28)`` and uint8 labels
    ``(n,)``. A missing path or file, or a corrupt one, raises ``DataError`` whose ``fix`` says
    what to put where. No download is ever attempted.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        files = _find_idx_files(p)
        if files is None and (p / "mnist.npz").is_file():
            return _load_npz(p / "mnist.npz")
        if files is None:
            files = _find_idx_files(p, strict=True)
        arrays = {key: _read_idx(f, labels=key.endswith("labels")) for key, f in files.items()}
        train = _pair(arrays["train_images"], arrays["train_labels"], files, "train")
        test = _pair(arrays["test_images"], arrays["test_labels"], files, "test")
        return train, test
    if p.is_file():
        if p.suffix == ".npz" or zipfile.is_zipfile(p):
            return _load_npz(p)
        raise DataError(
            "a single file that is not an .npz archive was given",
            where=_WHERE,
            expected="a directory with the four MNIST IDX files, or a .npz file",
            got=str(p),
            fix=f"pass the directory that contains it ({p.parent}) instead; {_FIX_LAYOUT}",
        )
    raise DataError(
        "the MNIST path does not exist",
        where=_WHERE,
        expected="an existing directory or .npz file",
        got=str(p),
        fix=_FIX_LAYOUT,
    )


def _find_idx_files(folder: Path, strict: bool = False) -> dict[str, Path] | None:
    """Map each IDX key to its file (plain name preferred over ``.gz``); None if any is missing."""
    found, missing = {}, []
    for key, name in IDX_FILES.items():
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(name)
    if not missing:
        return found
    if not strict:
        return None
    raise DataError(
        f"missing MNIST file(s) in {folder}: {', '.join(missing)}",
        where=_WHERE,
        expected=", ".join(IDX_FILES.values()) + " (each may end in .gz)",
        got="present: " + (", ".join(sorted(f.name for f in found.values())) or "none of them"),
        fix=f"put {', '.join(missing)} (or the same names with .gz) into {folder}; "
        "or pass the path of Keras' mnist.npz instead",
    )


def _read_bytes(file: Path) -> bytes:
    """The file's bytes, gunzipped when they are gzip data (whatever the file is called)."""
    try:
        data = file.read_bytes()
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"cannot read {file.name}: {exc}",
            where=f"{_WHERE} ({file})",
            expected="a readable IDX file (plain or gzipped)",
            got=type(exc).__name__,
            fix=f"the file looks damaged; download {file.name} again and replace {file}",
        ) from exc


def _read_idx(file: Path, labels: bool) -> np.ndarray:
    """Parse one IDX file of unsigned bytes: labels (magic 2049, 1-D) or images (2051, 3-D)."""
    data = _read_bytes(file)
    ndim = 1 if labels else 3
    magic = 0x0800 + ndim
    kind = "label" if labels else "image"

    def corrupt(expected: str, got: str) -> DataError:
        return DataError(
            f"{file.name} is not a valid MNIST {kind} file",
            where=f"{_WHERE} ({file})",
            expected=expected,
            got=got,
            fix=f"download {file.name} again and replace {file} (check that it is the {kind} "
            "file: image files have magic 2051, label files 2049)",
        )

    if len(data) < 4 + 4 * ndim:
        raise corrupt(f"an IDX header of {4 + 4 * ndim} bytes", f"a file of {len(data)} bytes")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise corrupt(f"magic number {magic} (0x{magic:08x})", f"{found} (0x{found:08x})")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = data[4 + 4 * ndim :]
    size = math.prod(shape)
    if len(body) != size:
        raise corrupt(
            f"{size} data bytes for shape {shape}",
            f"{len(body)} bytes (the file is {'truncated' if len(body) < size else 'too long'})",
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()


def _pair(x: np.ndarray, y: np.ndarray, files: dict[str, Path], split: str) -> Split:
    if len(x) != len(y):
        raise DataError(
            f"the {split} images and labels have different counts",
            where=_WHERE,
            expected=f"as many labels as images ({len(x)})",
            got=f"{len(y)} labels in {files[split + '_labels'].name}",
            fix=f"use {files[split + '_images'].name} and {files[split + '_labels'].name} "
            "from the same MNIST download",
        )
    return x, y


def _load_npz(file: Path) -> tuple[Split, Split]:
    def bad(message: str, expected: str, got: str) -> DataError:
        return DataError(
            message,
            where=f"{_WHERE} ({file})",
            expected=expected,
            got=got,
            fix=f"replace {file} with Keras' original mnist.npz, or {_FIX_LAYOUT}",
        )

    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise bad(
                    "the .npz file lacks MNIST arrays",
                    ", ".join(NPZ_KEYS),
                    "keys " + ", ".join(npz.files),
                )
            arrays = {k: npz[k] for k in NPZ_KEYS}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise bad(
            f"cannot read the .npz file: {exc}", "a valid .npz archive", type(exc).__name__
        ) from exc
    out = []
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.dtype != np.uint8 or x.ndim != 3:
            raise bad(
                f"x_{split} is not MNIST images",
                "uint8 array (n, 28, 28)",
                f"{x.dtype} array {x.shape}",
            )
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise bad(
                f"y_{split} does not match x_{split}",
                f"integer labels ({len(x)},)",
                f"{y.dtype} array {y.shape}",
            )
        if y.size and (y.min() < 0 or y.max() > 255):
            raise bad(
                f"y_{split} has labels outside 0-255", "labels 0-9", f"labels {y.min()}..{y.max()}"
            )
        out.append((x, y.astype(np.uint8)))
    return out[0], out[1]
