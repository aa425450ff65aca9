"""The whole model in one file: ``save_model`` and ``load_model`` (architecture, weights,
compile settings and optimizer state)."""

from __future__ import annotations

import json
import warnings
from typing import Any

from ..errors import CheckpointError, TinygradEduError
from .archive import _header, _scalar, _show, _text, _write_atomic, read_archive
from .configs import (
    _compile_config,
    _dumps,
    _layer_from_config,
    _loads,
    _optimizer_arrays,
    _restore_compile,
)
from .weights import _assign_weights, _weight_arrays, _weights_in


def save_model(model: Any, path: Any) -> None:
    """Architecture, weights, compile settings and optimizer state, in one atomic ``.npz``."""
    arrays = _header("model")
    arrays["model_config"] = _text(_dumps(model.get_config(), "the model config"))
    arrays.update(_weight_arrays(model))
    if getattr(model, "loss_fn", None) is not None:
        compile_config = _compile_config(model)
        if compile_config is not None:
            arrays["compile_config"] = _text(json.dumps(compile_config))
        arrays.update(_optimizer_arrays(model.optimizer))
    _write_atomic(path, arrays)


def load_model(path: Any, compile: bool = True) -> Any:
    """Rebuild a ``Sequential`` saved by ``save_model``: layers, weights, and (when
    ``compile``) the loss, metrics and optimizer with its state, so training continues exactly."""
    from ..models import Sequential  # models imports this package lazily too

    data = read_archive(path)
    where = f"load_model({_show(path)})"
    if _scalar(data["kind"]) != "model":
        raise CheckpointError(
            where=where,
            expected="a file written by model.save(path)",
            got="a weights-only file (model.save_weights)",
            fix="build the same model in code, then call model.load_weights(path)",
        )
    config = _loads(data, "model_config", where)
    try:
        layers = [_layer_from_config(spec, where) for spec in config["layers"]]
        model = Sequential(layers, name=config.get("name"))
        if config.get("input_shape") is not None and not model.built:
            model.build((None, *config["input_shape"]))
    except (KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(
            where=where,
            expected="a valid model_config",
            got=f"{type(err).__name__}: {err}",
            fix="the file is damaged; save the model again",
        ) from None
    except TinygradEduError as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(
            where=where,
            expected="a config this version can build",
            got=str(err),
            fix="save the model again with this version",
        ) from None
    _assign_weights(model, _weights_in(data), path)
    if compile and "compile_config" in data:
        _restore_compile(model, data, where)
    elif compile and "optimizer_config" in data:
        warnings.warn(
            f"{where}: the model was compiled with a custom loss that cannot be stored; "
            "it is returned uncompiled - call model.compile(...) again",
            stacklevel=2,
        )
    return model
