"""The check behind ``Model.set_weights``: the new values as arrays of the weights' shapes, every
one checked before any weight is written; and ``Model.trainable``, Keras' switch for the whole
model (``base.trainable = False`` freezes a pretrained base: every layer, nested models' too);
and ``distinct``, the layers whose weights a model holds."""

from __future__ import annotations

from typing import Any, List

import numpy as np

from .. import validation as check
from .._shapes import as_numeric_array
from ..errors import DataError, ShapeError


def distinct(layers: Any) -> List[Any]:
    """Each layer once, in order of first use: a layer used twice in a model (shared weights,
    ``Sequential([..., shared, shared])``) holds one set of weights, and Keras counts, lists and
    trains it once."""
    if len(set(map(id, layers))) == len(layers):
        return layers  # the common case, told in C: no layer used twice
    seen: set = set()
    return [layer for layer in layers if not (id(layer) in seen or seen.add(id(layer)))]


def checked_weight_arrays(model: Any, weights: Any) -> List[np.ndarray]:
    """``weights`` as one numeric array per weight of ``model``, in ``get_weights`` order and
    shapes; a ``DataError``/``ShapeError`` naming the first one that does not fit."""
    where = f"model '{model.name}'.set_weights"
    if isinstance(weights, (np.ndarray, str, bytes)) or not hasattr(weights, "__iter__"):
        raise DataError(
            where=where,
            expected="a list of arrays",
            got=type(weights).__name__,
            fix="pass the list get_weights() returns",
        )
    weights = list(weights)
    expected = len(model.weights)
    if len(weights) != expected:
        raise ShapeError(
            where=where,
            expected=f"{expected} arrays",
            got=f"{len(weights)} arrays",
            fix="pass the list model.get_weights() returns",
        )
    arrays = [as_numeric_array(w, where) for w in weights]
    slots = [
        (layer, name, w.shape)
        for layer in model.layers
        for name, w in zip(layer.weight_names, layer.weights)
    ]
    for (layer, name, shape), new in zip(slots, arrays):
        _check_one(layer, name, shape, new)
    return arrays


def _check_one(layer: Any, name: str, shape: tuple, new: np.ndarray) -> None:
    if new.dtype.kind == "b":  # True/False as a weight is a mistake, not a value
        raise DataError(
            where=f"{layer.where}.set_weights",
            expected=f"{name} as numbers",
            got=f"an array of dtype bool, shape {new.shape}",
            fix="convert it first if you mean 0/1: array.astype('float32')",
        )
    if new.shape != shape:
        raise ShapeError(
            where=layer.where,
            expected=f"{name} of shape {shape}",
            got=str(new.shape),
            fix="weights follow Keras' layouts; pass what get_weights() returns",
        )


def is_trainable(model: Any) -> bool:
    """``model.trainable``: False once every layer is frozen (True for a model without layers)."""
    return not model.layers or any(layer.trainable for layer in model.layers)


def set_trainable(model: Any, value: Any) -> None:
    """``model.trainable = value`` sets every layer's flag: their weights leave (or rejoin) the
    trainable weights, which ``fit`` hands to the optimizer at its start."""
    flag = check.flag("trainable", value, f"model '{model.name}'", "model.trainable = False")
    for layer in model.layers:
        layer.trainable = flag


__all__ = ["checked_weight_arrays", "is_trainable", "set_trainable"]
