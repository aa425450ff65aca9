"""Learning-rate schedules: callables ``step -> learning rate`` (Keras semantics and names).

Give one to any optimizer as ``learning_rate=``; the optimizer then uses
``schedule(optimizer.iterations)`` at each ``step()`` (``iterations`` counts the steps already
taken, so the first step uses ``schedule(0)``).

>>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> s(0), s(10), s(20)
(0.1, 0.05, 0.025)
>>> PiecewiseConstantDecay(boundaries=[100], values=[1.0, 0.5])(100)
1.0
"""

from __future__ import annotations

import bisect
import inspect
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu import validation as check
from tinygrad_edu.errors import ConfigError, suggest

__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "check_schedule",
    "checked_rate",
    "deserialize",
    "serialize",
]


def check_schedule(schedule: Any, owner: str) -> None:
    """A ConfigError unless ``schedule`` can be called with a step: ``schedule(step)``."""
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):  # a builtin without a signature: the first call decides
        return
    try:
        signature.bind(0)
    except TypeError:
        raise ConfigError(
            where=f"{owner}, learning-rate schedule {_schedule_name(schedule)}",
            expected="a callable taking the step number: schedule(step) -> rate",
            got=f"a callable with signature {signature}",
            fix="e.g. lambda step: 0.01 * 0.5 ** (step / 1000), or ExponentialDecay(...)",
        ) from None


def checked_rate(schedule: Any, step: int, owner: str) -> float:
    """``schedule(step)`` as a float, or a ConfigError naming the schedule and the step when it is
    not a finite number >= 0. Called at every step: kept to a call and a few comparisons."""
    value = schedule(step)
    if type(value) is not float:  # the common case skips the conversions below
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
            raise _bad_rate(schedule, step, owner, value)
        try:
            value = float(value)
        except OverflowError:  # an int beyond the float range
            raise _bad_rate(schedule, step, owner, value) from None
    if math.isfinite(value) and value >= 0:
        return float(value)
    raise _bad_rate(schedule, step, owner, value)


def _bad_rate(schedule: Any, step: int, owner: str, value: Any) -> ConfigError:
    return ConfigError(
        where=f"{owner}, learning-rate schedule {_schedule_name(schedule)}",
        expected="a learning rate: a finite number >= 0",
        got=f"{value!r} at step {step}",
        fix="make the schedule return a finite rate >= 0 at every step (check the formula "
        "near that step: a division by zero, a negative base, a log of 0?)",
    )


def _schedule_name(schedule: Any) -> str:
    if isinstance(schedule, LearningRateSchedule):
        return repr(schedule)
    return getattr(schedule, "__qualname__", None) or type(schedule).__name__


class LearningRateSchedule:
    """Base class: ``schedule(step)`` returns the learning rate (a float) for that step.

    Subclasses implement ``__call__(step)`` and ``get_config()`` (the constructor arguments, so that
    ``type(s).from_config(s.get_config())`` rebuilds an equal schedule).
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__}.__call__")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__}.get_config")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(str(k) for k in set(config) - accepted) if isinstance(config, dict) else []
        if not isinstance(config, dict) or unknown:
            raise ConfigError(
                where=f"schedule {cls.__name__}.from_config",
                expected=f"a dict of {cls.__name__}'s arguments",
                got=", ".join(repr(k) for k in unknown) if unknown else type(config).__name__,
                fix=suggest(unknown[0], accepted) if unknown else "pass schedule.get_config()",
            )
        missing = [
            name
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.default is p.empty and name not in config
        ]
        if missing:
            raise ConfigError(
                where=f"schedule {cls.__name__}.from_config",
                expected=f"every required argument of {cls.__name__}",
                got=f"missing {', '.join(missing)}",
                fix="pass schedule.get_config()",
            )
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``: the rate drops in steps.

    >>> ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)(3)
    0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        owner, example = "schedule ExponentialDecay", "ExponentialDecay(0.1, 1000, 0.96)"
        self.initial_learning_rate = check.positive_real(
            "initial_learning_rate", initial_learning_rate, owner, example
        )
        self.decay_steps = check.positive_real("decay_steps", decay_steps, owner, example)
        self.decay_rate = check.real(
            "decay_rate",
            decay_rate,
            owner,
            example,
            low=0,
            low_open=True,
            why="decay_rate multiplies the rate every decay_steps steps; 0.96 or 0.5 are typical",
        )
        self.staircase = check.flag("staircase", staircase, owner, example)

    def __call__(self, step: int) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary.

    >>> s = PiecewiseConstantDecay(boundaries=[10, 20], values=[1.0, 0.5, 0.1])
    >>> s(10), s(11), s(21)
    (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float]) -> None:
        owner = "schedule PiecewiseConstantDecay"
        for name, given in (("boundaries", boundaries), ("values", values)):
            if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
                raise ConfigError(
                    where=owner,
                    expected=f"{name} as a list of numbers",
                    got=repr(given),
                    fix="e.g. PiecewiseConstantDecay(boundaries=[1000], values=[0.1, 0.01])",
                )
        example = "PiecewiseConstantDecay(boundaries=[1000], values=[0.1, 0.01])"
        self.boundaries: list[float] = [
            check.real(f"boundaries[{i}]", b, owner, example) for i, b in enumerate(boundaries)
        ]
        self.values: list[float] = [
            check.non_negative_real(f"values[{i}]", v, owner, example) for i, v in enumerate(values)
        ]
        if len(self.values) != len(self.boundaries) + 1:
            raise ConfigError(
                where=owner,
                expected=f"len(values) == len(boundaries) + 1 = {len(self.boundaries) + 1}",
                got=f"{len(self.values)} values for {len(self.boundaries)} boundaries",
                fix="n boundaries cut the steps into n + 1 pieces: give one value per piece",
            )
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ConfigError(
                where=owner,
                expected="strictly increasing boundaries",
                got=repr(self.boundaries),
                fix="sort the boundaries (and their values) by step",
            )

    def __call__(self, step: int) -> float:
        return self.values[bisect.bisect_left(self.boundaries, float(step))]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Keras ``CosineDecay``).

    Without warmup (``warmup_target=None``), with ``s = min(step, decay_steps)``::

        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)

    With ``warmup_target`` set, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` steps, then decays from ``warmup_target`` by the formula
    above with ``s = min(step - warmup_steps, decay_steps)``. ``alpha`` is the final fraction kept.

    >>> round(CosineDecay(1.0, decay_steps=10)(5), 6)
    0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        owner, example = "schedule CosineDecay", "CosineDecay(0.1, decay_steps=1000)"
        self.initial_learning_rate = check.non_negative_real(
            "initial_learning_rate", initial_learning_rate, owner, example
        )
        self.decay_steps = check.positive_real("decay_steps", decay_steps, owner, example)
        self.alpha = check.real(
            "alpha",
            alpha,
            owner,
            example,
            low=0,
            high=1,
            why="alpha is the fraction of the rate left at the end of the decay (0.0 or 0.1)",
        )
        self.warmup_target = check.real(
            "warmup_target", warmup_target, owner, example, low=0, low_open=True, allow_none=True
        )
        self.warmup_steps = check.real(
            "warmup_steps", warmup_steps, owner, example, low=0, why="0 means no warmup"
        )

    def _decay(self, step: float, from_lr: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return from_lr * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        step = float(step)
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = (self.warmup_target - self.initial_learning_rate) * step / self.warmup_steps
            return self.initial_learning_rate + rise
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_SCHEDULES = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` - plain data a model file can store."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """Inverse of :func:`serialize`."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _SCHEDULES:
        raise ConfigError(
            where="optimizers.schedules.deserialize",
            expected='{"class_name": <schedule name>, "config": {...}}',
            got=repr(config),
            fix=suggest(str(name), _SCHEDULES),
        )
    return _SCHEDULES[name].from_config(dict(config.get("config", {})))
