"""A custom layer that holds other layers must own their weights - checked at its first call.

Keras tracks the layers a custom ``Layer`` assigns to its attributes (``self.dense =
Dense(4)`` in ``__init__``) and lists their weights as its own. Here a ``Layer`` lists only the
weights it made with ``add_weight`` (the wrappers hand their inner layers' weights over
themselves), so a sublayer's weights would be missing from ``weights``, ``count_params``, the
optimizer and saved files: never trained, never saved, and nothing said. ``check_sublayers``
turns that into our ``ConfigError`` at the layer's first call on data, naming the attribute and
the two ways that work: a ``Model`` subclass for a block of layers (models track the layers
assigned to them), or weights made in ``build`` with ``add_weight``.
"""

from __future__ import annotations

from typing import Any, Iterator, Tuple

from ..errors import ConfigError


def held_layers(layer: Any, layer_class: type) -> Iterator[Tuple[str, Any]]:
    """``(attribute, sublayer)`` for each ``layer_class`` instance held by ``layer``'s
    attributes, directly or in a list, tuple or dict."""
    for name, value in vars(layer).items():
        items = value.values() if isinstance(value, dict) else value
        items = items if isinstance(value, (list, tuple, dict)) else [value]
        for item in items:
            if item is not layer and isinstance(item, layer_class):
                yield name, item


def check_sublayers(layer: Any, layer_class: type) -> None:
    """Refuse ``layer`` when a layer it holds has weights that ``layer.weights`` does not list
    (``layer_class``: ``Layer``, passed in by ``Layer.__call__``: this module is below it)."""
    own = {id(w) for w in layer.weights}
    for name, sub in held_layers(layer, layer_class):
        missing = [w for w in sub.weights if id(w) not in own]
        if missing:
            raise ConfigError(
                where=f"layer '{layer.name}' ({type(layer).__name__})",
                expected="every weight it uses among its own weights (trained, counted, saved)",
                got=f"self.{name} = {type(sub).__name__}(...) with {len(missing)} weight(s) "
                f"that {type(layer).__name__}.weights does not list: they would never be "
                "trained or saved",
                fix="for a block of layers, subclass Model (class Block(Model): ... - a model "
                "tracks the layers assigned to it) and use it as the whole model; or create the "
                "weights in build() with self.add_weight(...)",
            )


__all__ = ["check_sublayers", "held_layers"]
