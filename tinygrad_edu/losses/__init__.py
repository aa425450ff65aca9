"""Losses with Keras names, taking ``(y_true, y_pred)`` and returning the batch mean (a scalar
Tensor, so ``loss.backward()`` works directly; ``reduction="none"`` gives one value per sample).

Cross-entropies are computed from logits whenever they can be: with ``from_logits=True``, or when
``y_pred`` came out of a softmax/sigmoid (``y_pred.logits``). Then a probability that rounds to
exactly 0 or 1 never yields inf/NaN. Without logits, probabilities are clipped to [1e-7, 1 - 1e-7]
as Keras does.

The package: ``functions.py`` (the loss functions, written like their formulas), ``classes.py``
(``Loss``, the Keras classes and ``get``), ``inputs.py`` (the options' checks, the targets shaped
for each formula, the logits to compute from). Everything is importable from here.

>>> from tinygrad_edu import Tensor
>>> z = Tensor([[2.0, 0.0, -1.0]], requires_grad=True)
>>> round(sparse_categorical_crossentropy([0], z.softmax()).item(), 4)
0.1698
"""

from __future__ import annotations

from .classes import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    get,
)
from .functions import (
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)
from .inputs import EPSILON, REDUCTIONS

__all__ = [
    "EPSILON",
    "REDUCTIONS",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get",
    "huber",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "sparse_categorical_crossentropy",
]
