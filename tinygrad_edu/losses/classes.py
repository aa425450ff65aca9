"""Configured losses and the registry of names: ``Loss(fn, **options)``, the Keras classes
(``MeanSquaredError``, ``Huber(delta=2.0)``, ``SparseCategoricalCrossentropy(from_logits=True)``,
...) whose options are checked at construction, and ``get`` (a name, a ``Loss`` or a callable).

>>> Huber(2.0).get_config()
{'name': 'huber', 'delta': 2.0}
>>> get("mse").name
'mean_squared_error'
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from .. import validation as check
from ..errors import ConfigError, resolve
from ..tensor import Tensor
from .functions import (
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)
from .inputs import CLASS_NAMES, OPTION_CHECKS, options


class Loss:
    """A configured loss: ``Loss(fn, **config)(y_true, y_pred)`` -> scalar Tensor. The options
    of a built-in ``fn`` are checked here, at construction, not at the first batch."""

    def __init__(self, fn: Callable[..., Tensor], name: str | None = None, **config: Any):
        if not callable(fn):
            raise ConfigError(
                where="Loss()",
                expected="fn as a loss function (y_true, y_pred) -> Tensor",
                got=check.describe(fn),
                fix="e.g. Loss(losses.huber, delta=2.0)",
            )
        self.fn = fn
        self.name = check.name_or_none("name", name, "Loss()", "Loss(losses.huber, name='huber')")
        self.name = self.name or getattr(fn, "__name__", type(fn).__name__)
        self.config = _checked_config(fn, config)

    def __call__(self, y_true: Any, y_pred: Any) -> Tensor:
        value = self.fn(y_true, y_pred, **self.config)
        if isinstance(value, Tensor) and value.ndim and self.fn not in _BUILT_IN:
            # a user's loss may give one value per sample (or per element), as Keras loss
            # functions do: Keras averages them (reduction "sum_over_batch_size")
            return value.mean()
        return value

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.config}


def _option_names(fn: Callable[..., Tensor]) -> tuple[str, ...]:
    """The options a built-in loss takes after (y_true, y_pred), in order."""
    return tuple(inspect.signature(fn).parameters)[2:]


def _checked_config(fn: Callable[..., Tensor], config: dict[str, Any]) -> dict[str, Any]:
    """A built-in loss's options: known names only, each value checked (a custom fn's config is
    passed on as given)."""
    loss = getattr(fn, "__name__", "")
    if BY_NAME.get(loss) is not fn:
        return dict(config)
    valid = _option_names(fn)
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise ConfigError(
            where=f"loss '{loss}'",
            expected=f"options among {valid}",
            got=", ".join(unknown),
            fix=f"remove or rename {', '.join(unknown)}, e.g. losses.{CLASS_NAMES[loss]}()",
        )
    options(loss, **config)
    return dict(config)


def _loss_class(fn: Callable[..., Tensor], cls_name: str):
    def __init__(self, *args: Any, name: str | None = None, **config: Any):
        Loss.__init__(self, fn, name=name, **_positional_options(fn, cls_name, args, config))

    return type(cls_name, (Loss,), {"__init__": __init__, "__doc__": fn.__doc__})


def _positional_options(fn, cls_name: str, args: tuple, config: dict[str, Any]) -> dict[str, Any]:
    """Keras' positional form, ``Huber(2.0)`` = ``Huber(delta=2.0)``, as keywords."""
    names = _option_names(fn)
    first, good = names[0], OPTION_CHECKS[names[0]][1]
    if len(args) > len(names) or any(n in config for n in names[: len(args)]):
        raise ConfigError(
            where=f"{cls_name}()",
            expected=f"at most {len(names)} options {names}, each given once",
            got=f"{len(args)} positional ({', '.join(map(repr, args))}) and keywords "
            f"{sorted(config)}",
            fix=f"name the options, e.g. losses.{cls_name}({first}={good!r})",
        )
    return {**dict(zip(names, args)), **config}


MeanSquaredError = _loss_class(mean_squared_error, "MeanSquaredError")
MeanAbsoluteError = _loss_class(mean_absolute_error, "MeanAbsoluteError")
Huber = _loss_class(huber, "Huber")
BinaryCrossentropy = _loss_class(binary_crossentropy, "BinaryCrossentropy")
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "CategoricalCrossentropy")
SparseCategoricalCrossentropy = _loss_class(
    sparse_categorical_crossentropy, "SparseCategoricalCrossentropy"
)

BY_NAME = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}

_BUILT_IN = tuple(BY_NAME.values())  # they reduce as told (reduction="none" keeps the values)


def get(identifier: Any) -> Loss:
    """A Keras loss name, a ``Loss``, or any callable ``(y_true, y_pred) -> scalar Tensor``."""
    if isinstance(identifier, Loss):
        return identifier
    found = resolve(identifier, BY_NAME, "compile(loss=...)", "a loss")
    return Loss(found, name=getattr(found, "__name__", "loss"))
