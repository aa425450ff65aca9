"""What an optimizer accepts as its first argument: the parameters (a Tensor or an iterable of
Tensors) or, Keras style, the learning rate (a number or a ``LearningRateSchedule``).

>>> is_rate(0.01), is_rate(True), is_rate([])
(True, False, False)
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_edu.errors import ConfigError
from tinygrad_edu.optimizers.schedules import LearningRateSchedule
from tinygrad_edu.tensor import Tensor

__all__ = ["as_param_list", "is_rate"]


def is_rate(x: Any) -> bool:
    """True for a learning rate given where the parameters go: a real number (not a bool) or a
    ``LearningRateSchedule``. Other callables are not: ``Adam(model.parameters)`` is a mistake,
    not a schedule, and a plain function as a schedule goes by name, ``learning_rate=f``."""
    if isinstance(x, LearningRateSchedule):
        return True
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def as_param_list(params: Any, where: str) -> list[Tensor]:
    """``params`` as a list of distinct floating-point Tensors (a shared weight once), or a
    ConfigError saying what to pass instead."""
    if isinstance(params, Tensor):
        params = [params]
    if isinstance(params, (str, bytes, Mapping, np.ndarray)):
        raise _not_params(where, type(params).__name__, params)
    try:
        items = list(params)
    except TypeError:
        raise _not_params(where, type(params).__name__, params) from None
    unique = list({id(p): p for p in items}.values())
    for i, p in enumerate(unique):
        if not isinstance(p, Tensor):
            raise _not_params(where, f"item {i} of type {type(p).__name__}", p)
        if not np.issubdtype(p._data.dtype, np.floating):
            raise ConfigError(
                where=where,
                expected="floating-point Tensors",
                got=f"item {i} of dtype {p._data.dtype}",
                fix="create it as Tensor(x, dtype=np.float32)",
            )
    if not unique:
        raise ConfigError(
            where=where,
            expected="at least one Tensor",
            got="an empty list",
            fix="build the model first (give the first layer input_shape=...) so "
            "model.parameters() is not empty, or create the optimizer without params",
        )
    return unique


def _not_params(where: str, got: str, x: Any) -> ConfigError:
    if isinstance(x, Mapping):
        fix = (
            "parameter groups are not supported: create one optimizer per group of settings, "
            "each with its list of Tensors"
        )
    elif isinstance(x, str):
        fix = f"for an optimizer by name use optimizers.get({x!r})"
    elif hasattr(x, "parameters"):
        fix = "pass model.parameters() (the Tensors), not the model or its layers"
    elif callable(x):
        fix = "call it: model.parameters(); a schedule function goes as learning_rate=f"
    elif isinstance(x, np.ndarray):
        fix = "wrap the array as Tensor(x, requires_grad=True)"
    else:
        fix = "pass model.parameters() (a list of Tensors), or a learning rate (a number)"
    return ConfigError(
        where=where, expected="an iterable of Tensors (or a learning rate)", got=got, fix=fix
    )
