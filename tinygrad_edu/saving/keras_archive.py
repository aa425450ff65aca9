"""Keras 3 files: the ``.keras`` archive and the ``.weights.h5`` weights.

A ``.keras`` file is a zip of three members: ``config.json`` (the model, its layers and compile
settings, see ``keras_graph``/``keras_layers``), ``model.weights.h5`` (the weights in Keras'
HDF5 layout, see ``keras_h5``) and ``metadata.json`` (the Keras version). ``load_keras_model``
reads one written by Keras 3 (or by us); ``save_keras_model`` writes one that
``keras.saving.load_model`` reads. Reading is defensive as for our ``.npz``: the zip directory
and member sizes are checked before reading, JSON is read strictly, every weight shape is
compared with the rebuilt model before a value is read, and anything we do not have is a
``CheckpointError`` that names it.

File names decide the format when saving: ``.keras`` -> this archive, ``.h5`` -> Keras'
weights layout (``save_weights``), anything else -> our ``.npz``. Loading looks at the content, so
an ``.npz`` written under a ``.keras`` name by an older version still loads.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import time
import warnings
import zipfile
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from ..errors import CheckpointError
from ..summary import weights_without_storage
from .archive import MAX_MEMBERS, _check_zip_directory, _show, _text, checked_path
from .atomic import write_atomic
from .configs import _check_json_depth, _loads
from .keras_compile import compile_from_keras, compile_to_keras
from .keras_graph import (
    functional_to_keras,
    layers_from_keras,
    model_from_keras,
    sequential_to_keras,
)
from .keras_h5 import import_h5py, matched_datasets, reading_errors, write_weights
from .registry import model_class

#: the Keras version whose files this module reads and writes (what metadata.json says)
KERAS_VERSION = "3.15.1"
#: a .keras member larger than this is refused before it is read (weights of ~250M floats)
MAX_MEMBER_BYTES = 2**30
_MEMBERS = ("config.json", "model.weights.h5", "metadata.json")


def is_keras_name(path: Any) -> bool:
    """Does the file name ask for a Keras format (``.keras`` or ``.h5``)?"""
    return str(path).lower().endswith((".keras", ".h5"))


def _regular_file(path: str) -> bool:
    """Only regular files are opened to look inside (a pipe would block the reader)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def is_keras_archive(path: str) -> bool:
    """A zip holding ``config.json``: a Keras archive (our ``.npz`` holds ``.npy`` members).
    A zip directory too large to be either is refused before ``zipfile`` reads it."""
    if not _regular_file(path):
        return False
    try:
        with open(path, "rb") as fh:
            _check_zip_directory(fh, os.fstat(fh.fileno()).st_size, f"reading {_show(path)}")
            with zipfile.ZipFile(fh) as archive:
                return "config.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, struct.error) as err:
        if isinstance(err, CheckpointError):
            raise
        return False


def is_hdf5(path: str) -> bool:
    """Does the file start with HDF5's signature (Keras' .weights.h5 and legacy .h5)?"""
    if not _regular_file(path):
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


# ---------------------------------------------------------------------- saving
def save_keras_model(model: Any, path: Any) -> None:
    """The model as a Keras 3 ``.keras`` archive, written atomically."""
    where = f"save_model({_show(path)})"
    h5py = import_h5py(where)
    spec, weight_layers = _model_spec(model, where, "model.save('model.npz')")
    compile_config = compile_to_keras(model)
    if compile_config is not None:
        spec["compile_config"] = compile_config
    _warn_optimizer_state_left_out(model, path)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5file:
        write_weights(h5file, weight_layers, model.name)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(spec, allow_nan=False))
        archive.writestr("model.weights.h5", weights.getvalue())
    write_atomic(path, buffer.getvalue())


def _warn_optimizer_state_left_out(model: Any, path: Any) -> None:
    """A trained optimizer's state (moments, step count - a schedule's position) is not written
    to a .keras file (keras_compile.py): say so, since Keras' own .keras files keep it and a run
    resumed from this file restarts its optimizer."""
    steps = getattr(getattr(model, "optimizer", None), "iterations", 0)
    if steps:
        warnings.warn(
            f"save_model({_show(path)}): the optimizer's state after {steps} steps (moments, "
            "step count, the schedule's position) is not written to a .keras file; training "
            "resumed from it starts the optimizer afresh. model.save('model.npz') keeps it.",
            UserWarning,
            stacklevel=4,
        )


def _model_spec(model: Any, where: str, native: str) -> Tuple[Dict[str, Any], List[Any]]:
    """Keras' config of ``model`` and its layers with weights; ``native`` is the same call in
    our own format, for the fix when Keras' format cannot hold the model."""
    kind = type(model).__name__
    if kind == "Sequential":
        return sequential_to_keras(model)
    if kind == "Functional":
        return functional_to_keras(model, model.get_config())
    raise CheckpointError(
        where=where,
        expected="a Sequential or functional model (what a Keras file can hold without code)",
        got=f"a {kind}",
        fix=f"use our own format, which holds every kind of model: {native}",
    )


def save_keras_weights(model: Any, path: Any) -> None:
    """Only the weights, in Keras' ``.weights.h5`` layout (``keras_model.load_weights`` reads
    it), written atomically."""
    where = f"save_weights({_show(path)})"
    h5py = import_h5py(where)
    _, weight_layers = _model_spec(model, where, "model.save_weights('model.weights.npz')")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5file:
        write_weights(h5file, weight_layers, model.name)
    write_atomic(path, buffer.getvalue())


# ---------------------------------------------------------------------- loading
def load_keras_model(path: Any, compile: bool, where: str, build: Callable) -> Any:
    """Our model from a Keras 3 ``.keras`` archive: architecture, weights, compile settings.
    ``build(cls, layers, config, where)`` makes the model (full_model's, shared with .npz).

    The architecture is first built with weight placeholders and compared with the file's
    weights, so a config asking for more than the file holds allocates nothing."""
    h5py = import_h5py(where)
    members = _members(path, where)
    spec = _json(members["config.json"], "config.json", where)
    cls_name, config, layer_specs = model_from_keras(spec, where)
    cls = model_class(cls_name, where)
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as h5file:
        planned = layers_from_keras(layer_specs, where)
        with weights_without_storage(planned):
            build(cls, planned, config, where)
        matched_datasets(h5file, planned, where)
        layers = layers_from_keras(layer_specs, where)  # the file's order names the weights
        model = build(cls, layers, config, where)
        _assign(matched_datasets(h5file, layers, where))
    if compile and isinstance(spec.get("compile_config"), dict):
        compile_from_keras(model, spec["compile_config"], where)
    return model


def load_keras_weights(model: Any, path: Any) -> None:
    """Set ``model``'s weights from a Keras ``.weights.h5`` file (names and shapes checked)."""
    where = f"model '{model.name}'.load_weights({_show(path)})"
    h5py = import_h5py(where)
    weight_layers = _model_spec(model, where, "model.load_weights('model.weights.npz')")[1]
    fix = "check the path; save it with keras_model.save_weights('x.weights.h5')"
    with reading_errors(where, "a Keras .weights.h5 file", fix):
        with h5py.File(checked_path(path, "reading"), "r") as h5file:
            _assign(matched_datasets(h5file, weight_layers, where))


def _assign(pairs: List[Tuple[Any, Any]]) -> None:
    for weight, dataset in pairs:
        weight.assign(np.asarray(dataset[()], dtype=weight.data.dtype))


def _members(path: Any, where: str) -> Dict[str, bytes]:
    """The archive's members, sizes checked before reading; a missing one is refused."""
    path = checked_path(path, "reading")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise _damaged(where, f"{len(infos):,} members")
            found = {}
            for info in infos:
                if info.filename in _MEMBERS:
                    if info.file_size > MAX_MEMBER_BYTES:
                        raise _damaged(where, f"{info.filename} of {info.file_size:,} bytes")
                    found[info.filename] = archive.read(info)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, RuntimeError) as err:
        if isinstance(err, CheckpointError):
            raise
        raise _damaged(where, f"{type(err).__name__}: {str(err)[:100]}") from None
    for name in _MEMBERS[:2]:
        if name not in found:
            raise _damaged(where, f"no {name} member")
    return found


def _json(raw: bytes, name: str, where: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeError:
        raise _damaged(where, f"{name} that is not UTF-8") from None
    _check_json_depth(text, name, where)
    return _loads({name: _text(text)}, name, where)


def _damaged(where: str, got: str) -> CheckpointError:
    return CheckpointError(
        where=where,
        expected="a Keras 3 .keras archive (config.json + model.weights.h5)",
        got=got,
        fix="the file is damaged or not a Keras file; save the model again in Keras",
    )


__all__ = [
    "KERAS_VERSION",
    "is_hdf5",
    "is_keras_archive",
    "is_keras_name",
    "load_keras_model",
    "load_keras_weights",
    "save_keras_model",
    "save_keras_weights",
]
