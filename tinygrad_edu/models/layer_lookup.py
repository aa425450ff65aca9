"""``model.get_layer(name)`` / ``model.get_layer(index=i)``: one layer of any model (Sequential,
functional or subclassed), by name or by position in ``model.layers``, as Keras does.

>>> from tinygrad_edu.layers import Dense
>>> from tinygrad_edu.models import Sequential
>>> model = Sequential([Dense(4, input_shape=(3,), name="hidden"), Dense(2, name="out")])
>>> model.get_layer("out").units
2
>>> model.get_layer(index=0).name
'hidden'
"""

from __future__ import annotations

from typing import Any, Optional

from .. import validation as check
from ..errors import ConfigError
from ..layers.base import Layer


def get_layer(model: Any, name: Optional[str] = None, index: Optional[int] = None) -> Layer:
    """The layer called ``name`` (or at ``index`` of ``model.layers``); a ``ConfigError`` that
    lists the names otherwise."""
    layers = list(model.layers)
    where = f"model '{model.name}'.get_layer"
    if name is None and index is not None:
        if check.is_int(index) and -len(layers) <= index < len(layers):
            return layers[index]
        raise ConfigError(
            where=where,
            expected=f"an index in [{-len(layers)}, {len(layers) - 1}]",
            got=f"index={index!r}",
            fix="model.get_layer(index=-1)" if layers else "model.add(Dense(...))",
        )
    for layer in layers:
        if layer.name == name:
            return layer
    raise ConfigError(
        where=where,
        expected=f"one of {[layer.name for layer in layers]}",
        got=repr(name),
        fix=f"model.get_layer({layers[-1].name!r})" if layers else "model.add(Dense(...))",
    )


__all__ = ["get_layer"]
