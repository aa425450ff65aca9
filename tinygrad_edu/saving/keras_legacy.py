"""Keras' legacy whole-model ``.h5`` files (what Keras 2 tutorials save with ``model.save("m.h5")``,
and Keras 3 still writes for an ``.h5`` name), read only.

The HDF5 file's attributes hold the model as JSON (``model_config``; the compile settings in
``training_config``), and the group ``model_weights`` one group per layer, by the layer's name,
whose attribute ``weight_names`` lists its weights in Keras' order (trainable, then the others)::

    model_weights/dense   weight_names = ["dense/kernel:0", "dense/bias:0"]
    model_weights/dense/dense/kernel:0   [in, units]

Keras 2 wrote a few things differently from Keras 3, read here as well: the input shape as the
first layer's ``batch_input_shape``, a functional call as ``[["layer", call, output, {}], ...]``,
and options of its own (``implementation``, ``time_major``; see ``keras_layers.KERAS_ONLY``).
Anything else we lack is a ``CheckpointError`` naming it, as for ``.keras`` files.
"""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

import numpy as np

from ..errors import CheckpointError
from ..summary import weights_without_storage
from .archive import _text, checked_path
from .configs import _check_json_depth, _loads
from .keras_compile import compile_from_keras
from .keras_graph import layers_from_keras, model_from_keras
from .keras_h5 import import_h5py, reading_errors
from .registry import model_class


def load_legacy_h5(path: Any, compile: bool, where: str, build: Callable) -> Any:
    """Our model from a legacy Keras ``.h5`` file: architecture, weights, compile settings.
    ``build(cls, layers, config, where)`` makes the model (full_model's)."""
    h5py = import_h5py(where)
    with reading_errors(where, "a readable HDF5 file", "check the path; the file may be damaged"):
        with h5py.File(checked_path(path, "reading"), "r") as h5file:
            spec = _attribute_json(h5file, "model_config", where)
            if spec is None:
                raise CheckpointError(
                    where=where,
                    expected="a whole model (.h5 with a model_config attribute)",
                    got="a weights-only .h5 file",
                    fix="build the same model in code, then model.load_weights(path)",
                )
            model = _model_with_weights(h5file, spec, where, build)
            training = _attribute_json(h5file, "training_config", where)
    if compile and isinstance(training, dict):
        training = {**training, "optimizer": training.get("optimizer_config")}
        compile_from_keras(model, training, where)
    return model


def _model_with_weights(h5file: Any, spec: Any, where: str, build: Callable) -> Any:
    cls_name, config, layer_specs = model_from_keras(spec, where)
    cls = model_class(cls_name, where)
    weights = h5file.get("model_weights", h5file)  # load_weights-style files keep them at the root
    planned = layers_from_keras(layer_specs, where)
    with weights_without_storage(planned):
        build(cls, planned, config, where)
    _matched(weights, planned, where)  # names and shapes, before any real weight exists
    layers = layers_from_keras(layer_specs, where)
    model = build(cls, layers, config, where)
    for weight, dataset in _matched(weights, layers, where):
        weight.assign(np.asarray(dataset[()], dtype=weight.data.dtype))
    return model


def _matched(weights: Any, layers: List[Any], where: str) -> List[Tuple[Any, Any]]:
    """(our weight, its dataset) for every layer's weights, each group's ``weight_names`` in
    order; any missing, extra or mis-shaped weight refuses the file with the whole list."""
    pairs, problems = [], []
    for layer in layers:
        group = weights.get(layer.name)
        names = [] if group is None else [_text_of(n) for n in group.attrs.get("weight_names", [])]
        if len(names) != len(layer.weights):
            problems.append(f"{layer.name}: {len(names)} weights in the file, {len(layer.weights)}")
            continue
        for name, weight in zip(names, layer.weights):
            dataset = group.get(name)
            if dataset is None or tuple(dataset.shape) != tuple(weight.shape):
                got = "missing" if dataset is None else tuple(dataset.shape)
                problems.append(f"{layer.name}/{name}: {got} vs {tuple(weight.shape)}")
            else:
                pairs.append((weight, dataset))
    if problems:
        raise CheckpointError(
            "; ".join(problems[:8]),
            where=where,
            expected="the weights of every layer, named and shaped as the config builds them",
            got=f"{len(problems)} layers or weights that differ",
            fix="the file is damaged or altered; save the model again in Keras",
        )
    return pairs


def _attribute_json(h5file: Any, key: str, where: str) -> Any:
    raw = h5file.attrs.get(key)
    if raw is None:
        return None
    text = _text_of(raw)
    _check_json_depth(text, key, where)
    return _loads({key: _text(text)}, key, where)


def _text_of(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


__all__ = ["load_legacy_h5"]
