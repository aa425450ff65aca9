"""Keras 3's HDF5 weight layout (``model.weights.h5`` inside a ``.keras`` archive, and the
``.weights.h5`` files of ``save_weights``), read and written with h5py.

Keras does not address a layer's weights by the layer's name (names are generated and differ
between two builds of one model) but by its class and position in the model: the layers in
``model.layers`` order (Sequential: without its InputLayer) are called by their class name in
snake case, a second one of the same class gets ``_1``, and so on::

    layers/dense/vars/0          Dense kernel [in, units]   (vars in creation order:
    layers/dense/vars/1          Dense bias   [units]        trainable, then the others)
    layers/dense_1/vars/0 ...
    layers/lstm/cell/vars/0..2   a recurrent layer's weights live in its cell
    layers/bidirectional/forward_layer/cell/vars/0..2, .../backward_layer/cell/vars/0..2
    layers/time_distributed/layer/vars/0..1

Our layers keep Keras' weights in Keras' order and layouts, so weight ``i`` of a layer is
``vars/i`` of its group. Every shape is compared with the model before a value is read.

h5py is optional (``pip install -e ".[keras]"``); it is imported only when a Keras file is used.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np

from ..errors import CheckpointError

INSTALL = 'pip install -e ".[keras]"'
#: the recurrent layers, whose weights Keras keeps in the layer's ``cell``
_RECURRENT = ("SimpleRNN", "LSTM", "GRU")


def import_h5py(where: str) -> Any:
    """h5py, or a ``CheckpointError`` saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise CheckpointError(
            "Keras files (.keras, .h5) need the optional h5py package",
            where=where,
            expected="h5py installed",
            got="no module named 'h5py'",
            fix=f"{INSTALL}   (or use a .npz file name: model.save('model.npz'))",
        ) from None
    return h5py


@contextmanager
def reading_errors(where: str, expected: str, fix: str) -> Iterator[None]:
    """Inside the block, an ``OSError`` from reading an HDF5 file (missing, damaged, not HDF5)
    becomes our ``CheckpointError`` saying what was expected; our own errors pass through."""
    try:
        yield
    except OSError as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(
            where=where,
            expected=expected,
            got=f"{type(err).__name__}: {str(err)[:120]}",
            fix=fix,
        ) from None


def snake_case(class_name: str) -> str:
    """Keras' group name for a class: ``BatchNormalization`` -> ``batch_normalization``,
    ``SimpleRNN`` -> ``simple_rnn``, ``Conv2D`` -> ``conv2d``."""
    words = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)  # a capitalised word starts
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()  # lower then upper: a new word


def layer_groups(layers: Sequence[Any]) -> List[Tuple[Any, str]]:
    """(layer, its group under ``layers/``) for the layers in Keras' order."""
    used: Dict[str, int] = {}
    groups = []
    for layer in layers:
        base = snake_case(type(layer).__name__)
        used[base] = used.get(base, -1) + 1
        groups.append((layer, base if used[base] == 0 else f"{base}_{used[base]}"))
    return groups


def var_groups(layer: Any, path: str) -> List[Tuple[str, int]]:
    """Where ``layer``'s weights live: (group, how many of the layer's weights, in order)."""
    name = type(layer).__name__
    if name == "Bidirectional":
        return var_groups(layer.forward_layer, f"{path}/forward_layer") + var_groups(
            layer.backward_layer, f"{path}/backward_layer"
        )
    if name == "TimeDistributed":
        return var_groups(layer.layer, f"{path}/layer")
    if name in _RECURRENT:
        return [(f"{path}/cell", len(layer.weights))]
    return [(path, len(layer.weights))]


def _empty_groups(layer: Any, path: str) -> List[Tuple[str, str]]:
    """(group, layer name) of every level Keras writes, weights or not."""
    name = type(layer).__name__
    out = [(path, layer.name)]
    if name == "Bidirectional":
        out += _empty_groups(layer.forward_layer, f"{path}/forward_layer")
        out += _empty_groups(layer.backward_layer, f"{path}/backward_layer")
    elif name == "TimeDistributed":
        out += _empty_groups(layer.layer, f"{path}/layer")
    elif name in _RECURRENT:
        out.append((f"{path}/cell", f"{snake_case(name)}_cell"))
    return out


def weight_slots(layers: Sequence[Any]) -> List[Tuple[str, Any]]:
    """(``group/vars/i`` path, our weight tensor) for every weight, in file order."""
    slots = []
    for layer, group in layer_groups(layers):
        weights = list(layer.weights)
        for path, count in var_groups(layer, f"layers/{group}"):
            slots += [(f"{path}/vars/{i}", w) for i, w in enumerate(weights[:count])]
            weights = weights[count:]
    return slots


def write_weights(h5file: Any, layers: Sequence[Any], model_name: str) -> None:
    """Every weight of ``layers`` (Keras order) into the open h5py file, Keras' layout."""
    h5file.create_group("vars").attrs["name"] = model_name
    for layer, group in layer_groups(layers):
        for path, name in _empty_groups(layer, f"layers/{group}"):
            h5file.require_group(f"{path}/vars").attrs["name"] = name
    for path, weight in weight_slots(layers):
        h5file.create_dataset(path, data=np.asarray(weight.data, dtype=np.float32))


def matched_datasets(h5file: Any, layers: Sequence[Any], where: str) -> List[Tuple[Any, Any]]:
    """(our weight, the file's dataset) for every weight of ``layers``, after checking every
    name, shape and dtype (missing, unexpected and mis-shaped listed together); no value is
    read here."""
    slots = weight_slots(layers)
    expected = {path: tuple(w.shape) for path, w in slots}
    held = _datasets(h5file.get("layers"), "layers")
    missing = [p for p in expected if p not in held]
    unexpected = sorted(p for p in held if p not in expected)
    shaped = [
        f"{p} {expected[p]} vs file {held[p].shape}"
        for p in expected
        if p in held and tuple(held[p].shape) != expected[p]
    ]
    numeric = [p for p in expected if p in held and held[p].dtype.kind not in "biuf"]
    if missing or unexpected or shaped or numeric:
        raise CheckpointError(
            f"missing: {missing[:8]}; unexpected: {unexpected[:8]}; mis-shaped: {shaped[:8]}"
            + (f"; non-numeric: {numeric[:8]}" if numeric else ""),
            where=where,
            expected=f"{len(expected)} weights in Keras' layout for this architecture",
            got=f"{len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(shaped) + len(numeric)} mis-shaped or non-numeric",
            fix="the weights were saved from a different architecture (layer kinds, sizes or "
            "order); build the same model as the file's, or load the whole .keras file",
        )
    return [(w, held[path]) for path, w in slots]


def _datasets(group: Any, prefix: str) -> Dict[str, Any]:
    """Every dataset under ``group`` by its path (``layers/dense/vars/0``)."""
    found: Dict[str, Any] = {}
    if group is None:
        return found
    for key, item in group.items():
        path = f"{prefix}/{key}"
        if hasattr(item, "shape"):
            found[path] = item
        else:
            found.update(_datasets(item, path))
    return found


__all__ = [
    "INSTALL",
    "import_h5py",
    "layer_groups",
    "matched_datasets",
    "snake_case",
    "var_groups",
    "weight_slots",
    "write_weights",
]
