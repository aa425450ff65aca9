"""The data of a functional model with several inputs or outputs, made into what ``Model``'s
training code batches: one array of input rows and one array of target rows.

- inputs: a list (in ``Model(inputs=[...])`` order) or a dict by ``Input`` name -> each input
  flattened, side by side (``Functional._packed``); the model unpacks them when it runs;
- targets and their ``sample_weight`` (a list or a dict by output name, or one array for every
  output) -> ``OutputLosses.pack``: each output's targets, then one weight column per output;
- ``validation_data=(x, y)`` or ``(x, y, sample_weight)`` in the same forms;
- an iterable of batches ``(x, y)`` / ``(x, y, sample_weight)`` in the same forms (Keras'
  generators: ``((x1, x2), (y1, y2))``, ``({"a": x1, "b": x2}, {"out": y})``) -> each batch
  packed when it is read, the iterable's epochs and length kept.

``class_weight`` with several outputs is refused, as Keras refuses it.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Iterator

from .batch_stream import is_batch_iterable
from .output_losses import OutputLosses

def bound_arguments(method: Callable, x: Any, y: Any, args: tuple, kwargs: dict) -> Dict[str, Any]:
    """The arguments of a call of ``Model.<method>`` by name (as Python would bind them)."""
    bound = inspect.signature(method).bind(None, x, y, *args, **kwargs)
    given = dict(bound.arguments)
    given.pop("self")
    given.update(given.pop("legacy", {}))  # fit's **legacy: Keras 1 names, checked by fit
    return given


def prepared(model: Any, given: Dict[str, Any], where: str) -> Dict[str, Any]:
    """``given`` (arguments by name) with its data packed for ``Model``'s training code."""
    losses = _output_losses(model)
    if losses is not None:
        losses.begin()
    x = given.get("x")
    if is_batch_iterable(x):
        given["x"] = packed_batches(model, x, where)
    elif given.get("y") is not None:
        weights = ("sample_weight", "class_weight")
        packed = batch_item(model, (x, given["y"], *[given.get(k) for k in weights]), where)
        given["x"], given["y"] = packed[:2]
        kept = dict(zip(weights, packed[2:]))  # none when the model packed them into y
        for k in weights:
            if k in given:
                given[k] = kept.get(k)
    else:
        given["x"] = model._packed(x, where)
    val = given.get("validation_data")
    if isinstance(val, (tuple, list)) and len(val) in (2, 3):
        given["validation_data"] = batch_item(model, tuple(val), f"{where}(validation_data)")
    return given


def batch_item(model: Any, item: tuple, where: str) -> tuple:
    """``(x, y[, sample_weight[, class_weight]])`` packed: ``(x_rows, y_rows)`` when the model
    has per-output losses (the weights are then in ``y_rows``), else ``x`` packed and the rest
    as given."""
    x, y, *weights = item
    losses = _output_losses(model)
    if losses is None or y is None:
        return (model._packed(x, where), y, *weights)
    sample_weight, class_weight = (*weights, None, None)[:2]
    return model._packed(x, where), losses.pack(y, where, sample_weight, class_weight)


def packed_batches(model: Any, data: Any, where: str) -> Any:
    """The batches of ``data``, each packed when read; a re-iterable stays one (every epoch
    starts again; with a length, that is the number of steps), a generator stays one stream."""
    if iter(data) is data:
        return (_packed_item(model, item, where) for item in data)
    kind = _SizedPackedBatches if hasattr(data, "__len__") else _PackedBatches
    return kind(model, data, where)


class _PackedBatches:
    """A re-iterable of batches, packed as they are read."""

    def __init__(self, model: Any, data: Any, where: str) -> None:
        self.model, self.data, self.where = model, data, where

    def __iter__(self) -> Iterator[Any]:
        return (_packed_item(self.model, item, self.where) for item in self.data)


class _SizedPackedBatches(_PackedBatches):
    def __len__(self) -> int:
        return len(self.data)


def _packed_item(model: Any, item: Any, where: str) -> Any:
    """One batch packed; what is not a ``(x, y[, w])`` tuple is left to the batch checks."""
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return batch_item(model, tuple(item), where)
    return item


def _output_losses(model: Any) -> Any:
    loss = getattr(model, "loss_fn", None)
    return loss if isinstance(loss, OutputLosses) else None


__all__ = ["batch_item", "bound_arguments", "packed_batches", "prepared"]
