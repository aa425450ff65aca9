"""The whole model in one file: ``save_model`` and ``load_model`` (architecture, weights,
compile settings and optimizer state)."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Dict, List

import numpy as np

from ..errors import CheckpointError, ConfigError, TinygradEduError
from ..summary import weight_elements, weights_without_storage
from .archive import MODEL_CLASS, _header, _scalar, _show, _text, checked_path, read_archive
from .atomic import write_atomic
from .configs import (
    CONFIG_ERRORS,
    _compile_config,
    _dumps,
    _layer_from_config,
    _loads,
    _optimizer_arrays,
    _restore_compile,
)
from .keras_archive import is_hdf5, is_keras_archive, load_keras_model, save_keras_model
from .keras_legacy import load_legacy_h5
from .registry import model_class, registered_name
from .weights import (
    _assign_weights,
    _weight_arrays,
    _weights_in,
    check_model_argument,
    check_weights_match,
)


def save_model(model: Any, path: Any) -> None:
    """Architecture, weights, compile settings and optimizer state, in one atomic ``.npz``;
    a name ending in ``.keras`` gets a Keras 3 archive instead (``keras_archive``)."""
    check_model_argument(model, "save_model")
    checked_path(path, "saving")
    if str(path).lower().endswith(".keras"):
        save_keras_model(model, path)
        return
    if str(path).lower().endswith(".h5"):
        raise CheckpointError(
            where=f"save_model({_show(path)})",
            expected="model.keras (Keras 3's format) or model.npz (ours)",
            got="an .h5 name (Keras 2's legacy whole-model format, or weights only)",
            fix="model.save('model.keras'), or model.save_weights('model.weights.h5')",
        )
    arrays = _header("model")
    arrays[MODEL_CLASS] = _text(registered_name(type(model), "save_model"))
    config = getattr(model, "file_config", model.get_config)()  # a subclassed model: its own
    arrays["model_config"] = _text(_dumps(config, "the model config"))
    arrays.update(_weight_arrays(model))
    if getattr(model, "loss_fn", None) is not None:
        compile_config = _compile_config(model)
        if compile_config is not None:
            arrays["compile_config"] = _text(json.dumps(compile_config, allow_nan=False))
        arrays.update(_optimizer_arrays(model.optimizer))
    write_atomic(path, arrays)


def load_model(path: Any, compile: bool = True, custom_objects: Any = None) -> Any:
    """Rebuild a model saved by ``save_model`` - of the registered class the file names, or of
    ``custom_objects={"Net": Net}`` (Keras' argument) - with its layers, weights, and (when
    ``compile``) the loss, metrics and optimizer with its state, so training continues exactly.

    Nothing is allocated that the file cannot hold: the architecture is first built with weight
    placeholders (no storage), and a config asking for more parameters than the file's weights
    hold, or for other names/shapes, is refused before any weight is created.
    """
    if not isinstance(compile, bool):
        raise ConfigError(
            where="load_model",
            expected="compile as True or False",
            got=repr(compile),
            fix="load_model(path) or load_model(path, compile=False)",
        )
    where = f"load_model({_show(path)})"
    if is_keras_archive(checked_path(path, "reading")):
        return load_keras_model(path, compile, where, _build_model)
    if is_hdf5(path):  # Keras' legacy whole-model .h5 (Keras 2 tutorials)
        return load_legacy_h5(path, compile, where, _build_model)
    data = read_archive(path)
    if _scalar(data["kind"]) != "model":
        raise CheckpointError(
            where=where,
            expected="a file written by model.save(path)",
            got="a weights-only file (model.save_weights)",
            fix="build the same model in code, then call model.load_weights(path)",
        )
    cls = model_class(_class_name(data, where), where, custom_objects)
    config = _model_config(data, where)
    weights = _weights_in(data)
    _check_planned_weights(cls, config, weights, path, where)
    model = _build_model(cls, _layers_from(config, where), config, where)
    _assign_weights(model, weights, path)
    if compile and "compile_config" in data:
        _restore_compile(model, data, where)
    elif compile and "optimizer_config" in data:
        warnings.warn(
            f"{where}: the model was compiled with a custom loss that cannot be stored; "
            "it is returned uncompiled - call model.compile(...) again",
            stacklevel=2,
        )
    return model


def _class_name(data: Dict[str, np.ndarray], where: str) -> str:
    """The model class a file names; files written before the entry existed hold a
    ``Sequential`` (the only model class then)."""
    if MODEL_CLASS not in data:
        return "Sequential"
    try:
        name = _scalar(data[MODEL_CLASS])
    except ValueError:
        name = None
    if not isinstance(name, str):
        raise CheckpointError(
            where=where,
            expected=f"the {MODEL_CLASS!r} entry as a class name",
            got=f"an array of dtype {data[MODEL_CLASS].dtype}",
            fix="the file was altered or damaged; save the model again",
        )
    return name


def _model_config(data: Dict[str, np.ndarray], where: str) -> Dict[str, Any]:
    """The model config, checked to have the shape ``get_config`` gives it."""
    config = _loads(data, "model_config", where)
    ok = (
        isinstance(config, dict)
        and isinstance(config.get("layers"), list)
        and isinstance(config.get("name", ""), (str, type(None)))
        and isinstance(config.get("input_shape"), (list, type(None)))
    )
    if not ok:
        raise CheckpointError(
            where=where,
            expected='a model_config {"name": str, "input_shape": [...], "layers": [...]}',
            got=f"{type(config).__name__} {str(config)[:60]}",
            fix="the file was altered or damaged; save the model again",
        )
    return config


def _check_planned_weights(
    cls: type, config: Dict[str, Any], weights: Dict[str, np.ndarray], path: Any, where: str
) -> None:
    """Build the architecture with weight placeholders and compare it with the file's weights:
    refuse a config that needs more elements than the file holds (with the numbers), or other
    names/shapes, before any real weight is allocated."""
    layers = _layers_from(config, where)
    with weights_without_storage(layers):
        planned = _build_model(cls, layers, config, where)
    needed = weight_elements(planned)
    held = sum(int(a.size) for a in weights.values())
    if needed > held:
        file_bytes = os.path.getsize(checked_path(path, "reading"))
        raise CheckpointError(
            where=where,
            expected=f"weights for the {needed:,} parameters the config asks for "
            f"({needed * 4:,} bytes as float32)",
            got=f"{held:,} weight values ({sum(a.nbytes for a in weights.values()):,} bytes) "
            f"in a file of {file_bytes:,} bytes",
            fix="the config was altered or the weights are missing; save the model again",
        )
    check_weights_match(planned, weights, path)


def _layers_from(config: Dict[str, Any], where: str) -> List[Any]:
    return [_layer_from_config(spec, where) for spec in config["layers"]]


def _build_model(cls: type, layers: List[Any], config: Dict[str, Any], where: str) -> Any:
    """``cls.from_config(config, layers)``, every failure a ``CheckpointError``."""
    try:
        return getattr(cls, "from_file_config", cls.from_config)(config, layers)
    except CheckpointError:
        raise
    except TinygradEduError as err:
        raise CheckpointError(
            where=where,
            expected="a config this version can build",
            got=str(err),
            fix="save the model again with this version",
        ) from None
    except CONFIG_ERRORS as err:
        raise CheckpointError(
            where=where,
            expected="a valid model_config",
            got=f"{type(err).__name__}: {str(err)[:120]}",
            fix="the file is damaged; save the model again",
        ) from None
