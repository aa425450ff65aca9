"""Batches given one at a time: ``fit(generator, steps_per_epoch=...)`` and ``predict(generator)``.

What counts as batches (Keras' generator / ``PyDataset`` input): a generator or iterator, any
other iterable object that is not array-like, or a list of ``(x, y)`` tuples. Each item is
``(x, y)`` or ``(x, y, sample_weight)`` for ``fit``; ``predict`` takes ``x`` or a tuple whose
first item is ``x``.

Epochs, as Keras: a re-iterable (a list, a dataset object) starts again at every epoch; a
generator is one stream that the epochs share - give ``steps_per_epoch`` (batches per epoch)
and make it loop forever. When the data runs out before an epoch has its ``steps_per_epoch``
batches, training stops there with Keras' warning ("Your input ran out of data").

>>> is_batch_iterable(x for x in []), is_batch_iterable([[1.0, 2.0]])
(True, False)
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, Iterator, List, Optional

import numpy as np

from ..errors import ConfigError, DataError
from ..tensor import Tensor
from .data import samples_and_targets
from .weighting import batch_weights

_ARRAYS = (np.ndarray, Tensor)


def is_batch_iterable(x: Any) -> bool:
    """True when ``x`` hands out batches rather than being one array of samples."""
    if x is None or isinstance(x, (*_ARRAYS, str, bytes, dict, range, np.generic, int, float)):
        return False
    if hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return False  # array-likes (a torch tensor, a DataFrame) are converted as arrays
    if isinstance(x, (list, tuple)):  # a list of batches: (x, y) tuples, x maybe a list/dict
        return bool(x) and isinstance(x[0], tuple) and bool(x[0]) and _inputs_like(x[0][0])
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


def refuse_separate_targets(where: str, **given: Any) -> None:
    """Batches carry their own targets and weights: ``y=``/``sample_weight=`` beside them are
    refused (Keras refuses them too), never ignored."""
    for name, value in given.items():
        if value is not None:
            raise ConfigError(
                where=where,
                expected=f"{name}=None when x yields the batches (they carry their targets and "
                "weights)",
                got=f"{name} of type {type(value).__name__}",
                fix=f"model.{where}(batches, steps=...) with batches yielding (x, y) or "
                "(x, y, sample_weight)",
            )


class BatchStream:
    """The batches of ``fit``, checked one by one (as arrays of the model's data would be)."""

    def __init__(
        self,
        model: Any,
        data: Any,
        steps_per_epoch: Optional[int],
        check_finite: bool,
        class_weight: Any,
    ) -> None:
        self.model, self.data, self.check_finite = model, data, check_finite
        self.class_weight = class_weight
        self.reiterable = iter(data) is not data
        if not self.reiterable and not hasattr(data, "__next__"):
            data = iter(data)  # an iterable that is its own iterator without __next__
        self._iterator = iter(data)
        self._peeked: List[tuple] = []
        self.steps = steps_per_epoch
        if self.steps is None and hasattr(data, "__len__"):
            self.steps = len(data)

    def peek(self) -> tuple:
        """The first batch (kept for the first epoch): the model is built from it."""
        if not self._peeked:
            first = next(self._iterator, None)
            if first is None:
                raise DataError(
                    where=f"model '{self.model.name}'.fit",
                    expected="at least one batch",
                    got="an empty iterable",
                    fix="check the generator: next(iter(batches)) should give (x, y)",
                )
            self._peeked.append(self._checked(first))
        return self._peeked[0]

    def epoch(self, epoch: int) -> Iterator[tuple]:
        """The checked batches of one epoch (``epoch`` numbers it; a re-iterable restarts)."""
        if self.reiterable and epoch > 0 and not self._peeked:
            self._iterator = iter(self.data)
        items = itertools.chain(self._peeked, (self._checked(b) for b in self._iterator))
        self._peeked = []
        count = 0
        for batch in itertools.islice(items, self.steps):
            count += 1
            yield batch
        if self.steps is not None and count < self.steps:
            self._ran_out(epoch)
        elif self.steps is None and count == 0:
            self._ran_out(epoch)

    def _ran_out(self, epoch: int) -> None:
        warnings.warn(
            f"Your input ran out of data at epoch {epoch + 1}; interrupting training. Make sure "
            "that your generator can generate at least `steps_per_epoch * epochs` batches "
            "(e.g. loop forever with `while True:`).",
            UserWarning,
            stacklevel=4,
        )
        self.model.stop_training = True

    def _checked(self, item: Any) -> tuple:
        """``(x, y, weights or None)`` from ``(x, y)`` or ``(x, y, sample_weight)``."""
        where = "fit"
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise DataError(
                where=f"model '{self.model.name}'.fit",
                expected="batches (x, y) or (x, y, sample_weight)",
                got=f"a {type(item).__name__}"
                + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""),
                fix="yield x_batch, y_batch from the generator",
            )
        x, y = samples_and_targets(self.model, item[0], item[1], where, self.check_finite)
        weights = item[2] if len(item) == 3 else None
        return x, y, batch_weights(y, weights, self.class_weight, where)


def predict_batches(model: Any, data: Any, steps: Optional[int]) -> Iterator[np.ndarray]:
    """The input arrays of ``predict(generator)``: ``x``, or the first item of a tuple (Keras'
    ``(x,)`` or ``(x, y)``); for a model with several inputs ``x`` is a list or a dict of them."""
    several = len(getattr(model, "inputs", None) or ()) > 1
    for item in itertools.islice(data, steps):
        x = item
        if isinstance(item, (tuple, list)) and item and (several or isinstance(item[0], _ARRAYS)):
            x = item[0]
        if several and not isinstance(x, (tuple, list, dict)):
            raise DataError(
                where=f"model '{model.name}'.predict",
                expected=f"batches whose first item is the list of the {len(model.inputs)} inputs",
                got=f"a batch whose first item is a {type(x).__name__}",
                fix="yield ((x1, x2),) (or ((x1, x2), y)) from the generator: a tuple whose "
                "first item holds the inputs",
            )
        yield model._check_x(x, "predict")


def _inputs_like(x: Any) -> bool:
    """An array, or a list/tuple of arrays or a dict of them (the inputs of several Inputs)."""
    if isinstance(x, dict):
        return bool(x) and all(isinstance(v, _ARRAYS) for v in x.values())
    if isinstance(x, (list, tuple)):
        return bool(x) and isinstance(x[0], _ARRAYS)
    return isinstance(x, _ARRAYS)


__all__ = ["BatchStream", "is_batch_iterable", "predict_batches", "refuse_separate_targets"]
