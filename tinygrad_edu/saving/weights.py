"""Weights by name: ``save_weights``/``load_weights`` and the report of what does not match."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Tuple

import numpy as np

from ..errors import CheckpointError, ConfigError
from .archive import WEIGHTS_PREFIX, _header, _show, checked_path, read_archive
from .atomic import write_atomic
from .keras_archive import is_hdf5, is_keras_archive, load_keras_weights, save_keras_weights


def save_weights(model: Any, path: Any) -> None:
    """Only the weights, by ``layer/weight`` name, in one atomic ``.npz``; a name ending in
    ``.h5`` (``x.weights.h5``) gets Keras 3's HDF5 weight layout instead."""
    check_model_argument(model, "save_weights")
    checked_path(path, "saving")
    if str(path).lower().endswith(".keras"):
        raise CheckpointError(
            where=f"save_weights({_show(path)})",
            expected="a weights file name (.weights.h5 for Keras, else .npz)",
            got="a .keras name (a whole model)",
            fix="model.save_weights('model.weights.h5') or model.save('model.keras')",
        )
    if str(path).lower().endswith(".h5"):
        save_keras_weights(model, path)
        return
    arrays = _header("weights")
    arrays.update(_weight_arrays(model))
    write_atomic(path, arrays)


def load_weights(model: Any, path: Any) -> None:
    """Set ``model``'s weights from a file of ``save_weights`` or ``save_model``.

    Matching is by name (``dense/kernel``). Missing, unexpected or mis-shaped weights raise one
    ``CheckpointError`` listing all three (also as ``err.missing``, ``err.unexpected``,
    ``err.mismatched``), and then nothing is loaded. An HDF5 file is read as Keras 3's
    ``.weights.h5`` layout (weights by layer kind and position, as Keras matches them).
    """
    check_model_argument(model, "load_weights")
    keras_file = is_hdf5(checked_path(path, "reading"))
    if not keras_file and is_keras_archive(path):
        raise CheckpointError(
            where=f"load_weights({_show(path)})",
            expected="a weights file (.weights.h5 or .npz)",
            got="a whole Keras model (.keras)",
            fix="model = load_model(path)",
        )
    data = {} if keras_file else read_archive(path)
    if not model.built:
        raise CheckpointError(
            where=f"model '{model.name}'.load_weights",
            expected="a built model",
            got="layers without weights yet",
            fix="give the first layer input_shape=(...) (or call model.build(...)) before "
            "load_weights, or use load_model(path) for a file written by model.save",
        )
    if keras_file:  # Keras 3's .weights.h5 layout (by position, as Keras reads it)
        load_keras_weights(model, path)
        return
    _assign_weights(model, _weights_in(data), path)


def weight_mismatches(
    model: Any, arrays: Dict[str, np.ndarray]
) -> Tuple[List[str], List[str], List[Tuple[str, tuple, tuple]]]:
    """(missing, unexpected, mis-shaped as (name, expected shape, file shape)) between the
    model's named weights and ``arrays``."""
    expected = {name: tuple(w.data.shape) for name, w in model.named_weights().items()}
    missing = [n for n in expected if n not in arrays]
    unexpected = sorted(n for n in arrays if n not in expected)
    mismatched = [
        (n, shape, tuple(arrays[n].shape))
        for n, shape in expected.items()
        if n in arrays and tuple(arrays[n].shape) != shape
    ]
    return missing, unexpected, mismatched


def _weight_arrays(model: Any) -> Dict[str, np.ndarray]:
    return {WEIGHTS_PREFIX + name: np.array(w.data) for name, w in model.named_weights().items()}


def _weights_in(data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    return {k[len(WEIGHTS_PREFIX) :]: v for k, v in data.items() if k.startswith(WEIGHTS_PREFIX)}


def check_model_argument(model: Any, where: str) -> None:
    """Refuse anything but a model (a ``Sequential``, or an object with ``named_weights``)."""
    if not callable(getattr(model, "named_weights", None)) or isinstance(model, (str, os.PathLike)):
        raise ConfigError(
            where=where,
            expected="a model (a tinygrad_edu.models.Model, e.g. a Sequential) as first argument",
            got=type(model).__name__,
            fix=f"{where}(model, path) - or model.{where}(path)",
        )


def _assign_weights(model: Any, arrays: Dict[str, np.ndarray], path: Any) -> None:
    """Check every name, shape and dtype first, then write the arrays in place (``assign``:
    the optimizer keeps its references and the version counter sees the write)."""
    check_weights_match(model, arrays, path)
    for name, w in model.named_weights().items():
        w.assign(arrays[name])


def check_weights_match(model: Any, arrays: Dict[str, np.ndarray], path: Any) -> None:
    """One ``CheckpointError`` listing missing, unexpected, mis-shaped and non-numeric weights
    between ``model`` and ``arrays`` (also as ``err.missing``/``unexpected``/``mismatched``)."""
    missing, unexpected, mismatched = weight_mismatches(model, arrays)
    bad_dtype = [n for n, a in arrays.items() if a.dtype.kind not in "biuf"]
    if missing or unexpected or mismatched or bad_dtype:
        shaped = [f"{n} {exp} vs file {got}" for n, exp, got in mismatched]
        err = CheckpointError(
            f"missing: {missing}; unexpected: {unexpected}; mis-shaped: {shaped}"
            + (f"; non-numeric: {bad_dtype}" if bad_dtype else ""),
            where=f"model '{model.name}' loading {_show(path)}",
            expected=f"{len(model.named_weights())} weights named and shaped like this model's",
            got=f"{len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(mismatched)} mis-shaped",
            fix=_mismatch_fix(model, arrays, missing, unexpected),
        )
        err.missing, err.unexpected, err.mismatched = missing, unexpected, mismatched
        raise err


def _mismatch_fix(
    model: Any, arrays: Dict[str, np.ndarray], missing: List[str], unexpected: List[str]
) -> str:
    ours = [tuple(w.data.shape) for w in model.named_weights().values()]
    theirs = [tuple(a.shape) for a in arrays.values()]
    if missing and unexpected and ours == theirs:
        return (
            "the shapes match in order but the names differ (renamed layers?); build the "
            "model with the same layer names, or assign by position: "
            "model.set_weights([...])"
        )
    return (
        "the file was saved from a different architecture; build the same layers (units, "
        "kernel sizes, order) as the saved model, or use load_model(path) for a full model"
    )
