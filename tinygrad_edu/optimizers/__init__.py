"""Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, learning-rate schedules, and ``get``.

An optimizer sees only a list of Tensors. PyTorch loop::

    opt = Adam(model.parameters(), learning_rate=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

Keras path: ``model.compile("adam")`` calls ``get("adam")`` (an ``Adam()`` without parameters),
and the model hands the parameters over with ``opt.set_params(model.parameters())``.

>>> get("Adam")
Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False)
"""

from __future__ import annotations

from typing import Any

from tinygrad_edu.errors import ConfigError, suggest
from tinygrad_edu.optimizers import schedules
from tinygrad_edu.optimizers.adaptive import Adagrad, Adam, AdamW, RMSprop
from tinygrad_edu.optimizers.base import Optimizer
from tinygrad_edu.optimizers.schedules import (
    CosineDecay,
    ExponentialDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
)
from tinygrad_edu.optimizers.sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "Optimizer",
    "PiecewiseConstantDecay",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

_BY_NAME = {cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}


def get(identifier: Any) -> Optimizer:
    """An optimizer from a Keras-style identifier.

    A name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, any case) gives a new
    instance with the defaults and no parameters yet; an ``Optimizer`` instance is returned as is;
    an optimizer class is instantiated; a ``{"class_name", "config"}`` dict is deserialized.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.strip().lower() in _BY_NAME:
        return _BY_NAME[identifier.strip().lower()]()
    raise ConfigError(
        where="optimizers.get",
        expected="an optimizer name ("
        + ", ".join(repr(n) for n in sorted(_BY_NAME))
        + ") or an Optimizer instance",
        got=repr(identifier),
        fix=suggest(str(identifier).lower(), _BY_NAME)
        if isinstance(identifier, str)
        else "pass a name such as 'adam', or an instance such as Adam(learning_rate=1e-3)",
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name": "Adam", "config": {...}}``: plain data a model file can store."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """Inverse of :func:`serialize` (a new optimizer without parameters)."""
    classes = {cls.__name__: cls for cls in _BY_NAME.values()}
    name = config.get("class_name")
    if name not in classes:
        raise ConfigError(
            where="optimizers.deserialize",
            expected='{"class_name": <optimizer class>, "config": {...}}',
            got=repr(name),
            fix=suggest(str(name), classes),
        )
    return classes[name].from_config(config.get("config", {}))
