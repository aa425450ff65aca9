"""The arguments every optimizer shares: how the first positional argument is read (the
parameters or, Keras style, the learning rate), a learning rate set later (a number or a
schedule), the text of the shared options for docstrings, and what each hyperparameter means
(said by the fixes of its errors). Functions of the optimizer
class, called by ``Optimizer.__init__`` and the subclasses' ``_check``.

>>> from tinygrad_edu.optimizers import Adam
>>> params_and_rate(Adam, 0.01, None, None)          # Adam(0.01): Keras style
(None, 0.01)
>>> hyperparameter(Adam, "beta_1", 0.8, low=0, high=1, high_open=True)
0.8
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, Union

from tinygrad_edu import validation as check
from tinygrad_edu.errors import ConfigError, suggest
from tinygrad_edu.optimizers.params import is_rate
from tinygrad_edu.optimizers.schedules import (
    LearningRateSchedule,
    check_schedule,
    checked_rate,
    deserialize,
)

__all__ = [
    "MEANINGS",
    "SHARED",
    "SHARED_OPTIONS",
    "Rate",
    "checked_name",
    "clipping",
    "config_arguments",
    "fixed_rate",
    "hyperparameter",
    "is_schedule",
    "params_and_rate",
]

#: a learning rate: a number > 0, or a schedule ``step -> rate``
Rate = Union[float, LearningRateSchedule, Callable[[int], float]]

#: the shared options ``get_config`` saves (besides ``learning_rate``)
SHARED = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "name")

#: What each hyperparameter means and a typical value: the ``fix`` of a ConfigError about it
#: says the first and ends with an example using the second (the rate's is the class default).
MEANINGS = {
    "learning_rate": (
        "learning_rate is the step size (0.01 is typical for SGD, 0.001 for Adam)",
        None,
    ),
    "momentum": ("momentum is the fraction of the last update kept, 0 disables it", 0.9),
    "beta_1": ("beta_1 is the decay of the running mean of gradients", 0.9),
    "beta_2": ("beta_2 is the decay of the running mean of squared gradients", 0.999),
    "rho": ("rho is the decay of the running mean of squared gradients", 0.9),
    "epsilon": ("epsilon keeps the division finite, so it must be > 0", 1e-7),
    "weight_decay": ("weight_decay shrinks weights by lr * weight_decay per step (or None)", 0.004),
    "initial_accumulator_value": ("the sum of squared gradients starts here", 0.1),
    "clipnorm": ("each gradient is rescaled to at most this L2 norm", 1.0),
    "clipvalue": ("each gradient element is clipped into [-clipvalue, clipvalue]", 0.5),
    "global_clipnorm": ("all gradients together are rescaled to at most this norm", 1.0),
}
#: The arguments every optimizer takes, written once: ``{shared_options}`` in a subclass's
#: docstring is replaced by this text.
SHARED_OPTIONS = """\
The first positional argument is the parameters or, Keras style, the learning rate:

    - a Tensor or an iterable of Tensors (``model.parameters()``): the parameters to update,
      PyTorch style - ``Adam(model.parameters(), learning_rate=1e-3)``, or ``Adam(params, 1e-3)``;
    - a number or a ``LearningRateSchedule``: the learning rate - ``Adam(1e-3)``; the parameters
      come later through ``set_params`` (``model.compile`` does it);
    - nothing: ``Adam(learning_rate=1e-3)``, parameters later too.

    Anything else (a dict of parameter groups, a model, a string, a bool) is a ConfigError: one
    optimizer per group of settings. Hyperparameters are keyword arguments.

    Options every optimizer shares (keyword arguments, handled by ``Optimizer``):

    - ``learning_rate``, alias ``lr``: a number > 0, or a schedule - a ``LearningRateSchedule`` or
      any callable ``step -> rate`` - read at each step as ``schedule(iterations)``;
    - ``weight_decay`` (default None): decoupled decay, ``p -= lr * weight_decay * p`` before the
      update;
    - at most one of ``clipvalue`` (each gradient element clipped into ``[-clipvalue,
      clipvalue]``), ``clipnorm`` (each gradient rescaled to an L2 norm <= clipnorm) and
      ``global_clipnorm`` (all gradients rescaled together to a joint L2 norm <= it);
    - ``name``: the prefix of the ``state_dict()`` keys (default: the class's, e.g. ``"adam"``)."""


def where(cls: type) -> str:
    """How errors name an optimizer: ``optimizer Adam``."""
    return f"optimizer {cls.__name__}"


def hyperparameter(cls: type, name: str, value: Any, **bounds: Any) -> float:
    """``value`` as a float inside ``bounds`` (``validation.real``'s), or a ConfigError saying
    what the hyperparameter means and ending with a working example, e.g. ``Adam(beta_1=0.9)``."""
    why, typical = MEANINGS.get(name, ("", 0.5))
    example = (
        f"{cls.__name__}({name}={cls.default_learning_rate if typical is None else typical!r})"
    )
    return check.real(name, value, where(cls), example, why=why, **bounds)


def clipping(
    cls: type, clipnorm: Any, clipvalue: Any, global_clipnorm: Any
) -> tuple[float | None, float | None, float | None]:
    """The three clipping options, checked (each None or a number > 0; at most one given)."""
    clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
    given = [k for k, v in clips.items() if v is not None]
    if len(given) > 1:
        raise ConfigError(
            where=where(cls),
            expected="at most one of clipnorm, clipvalue, global_clipnorm",
            got=", ".join(given),
            fix="keep the one clipping rule you want",
        )
    return tuple(
        None if value is None else hyperparameter(cls, key, value, low=0, low_open=True)
        for key, value in clips.items()
    )


def config_arguments(cls: type, config: Any) -> dict[str, Any]:
    """``get_config()``'s output as ``cls``'s keyword arguments: a dict of its argument names
    only (a typo gets the closest name), a saved schedule deserialized."""
    if not isinstance(config, Mapping):
        raise ConfigError(
            where=f"{cls.__name__}.from_config",
            expected="a dict from get_config()",
            got=type(config).__name__,
            fix=f"{cls.__name__}.from_config(opt.get_config())",
        )
    config = dict(config)
    accepted = {"learning_rate", *cls.hyperparameters, *SHARED}
    unknown = sorted(str(k) for k in set(config) - accepted)
    if unknown:
        raise ConfigError(
            where=f"{cls.__name__}.from_config",
            expected=f"{cls.__name__}'s argument names",
            got=", ".join(repr(k) for k in unknown),
            fix=suggest(unknown[0], accepted),
        )
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = deserialize(config["learning_rate"])
    return config


def is_schedule(cls: type, value: Any, iterations: int) -> bool:
    """True for a learning-rate schedule (any callable ``step -> rate``), checked now - at the
    current step - so that a bad one fails where it is given; False for anything else (a rate,
    see ``fixed_rate``). A class is refused (``ExponentialDecay``, not ``ExponentialDecay(...)``).
    """
    if isinstance(value, type):
        raise ConfigError(
            where=where(cls),
            expected="a number or a schedule instance",
            got=f"the class {value.__name__}",
            fix=f"create the schedule first: {value.__name__}(...)",
        )
    if not callable(value):
        return False
    check_schedule(value, where(cls))
    checked_rate(value, iterations, where(cls))
    return True


def fixed_rate(cls: type, value: Any, schedule: Any) -> float:
    """``value`` as a fixed learning rate (> 0); refused while ``schedule`` drives the rate."""
    if schedule is not None:
        raise ConfigError(
            where=where(cls),
            expected="a new schedule (this optimizer follows a schedule)",
            got=repr(value),
            fix="the rate comes from the schedule; give a new schedule, or create the "
            "optimizer with a fixed learning_rate to set numbers (e.g. ReduceLROnPlateau)",
        )
    return hyperparameter(cls, "learning_rate", value, low=0, low_open=True)


def checked_name(cls: type, name: Any) -> str:
    """The optimizer's ``name``: a non-empty string without '/' (it prefixes the state keys)."""
    if isinstance(name, str) and name and "/" not in name:
        return name
    expected = "a non-empty string without '/' (it prefixes the state_dict keys)"
    check.refuse("name", name, where(cls), expected, f"{cls.__name__}(name={cls.name!r})")


def params_and_rate(cls: type, first: Any, learning_rate: Any, lr: Any) -> tuple[Any, Rate]:
    """The rule for the first positional argument (see ``SHARED_OPTIONS``): a number or a
    schedule is the learning rate, anything else the parameters (checked by ``set_params``).
    The rate may be given once: positionally, as ``learning_rate=`` or as ``lr=``."""
    given = []  # (how it was given, the rate)
    if is_rate(first):
        given.append((f"{first!r} as the first argument", first))
    if not _is_default(learning_rate, cls.default_learning_rate):
        given.append((f"learning_rate={learning_rate!r}", learning_rate))
    if lr is not None:
        given.append((f"lr={lr!r}", lr))
    if len(given) > 1:
        raise ConfigError(
            where=where(cls),
            expected="the learning rate given once",
            got=", ".join(how for how, _ in given),
            fix=f"write {cls.__name__}(params, learning_rate=...); hyperparameters "
            "are keyword arguments (lr= is only an alias)",
        )
    rate = given[0][1] if given else cls.default_learning_rate
    return (None if is_rate(first) else first), rate


def _is_default(learning_rate: Any, default: float) -> bool:
    """True when ``learning_rate`` was left out (None) or equals the default (a rate equal to
    the default cannot be told from it, and then it does not matter which one counts)."""
    return learning_rate is None or (
        isinstance(learning_rate, numbers.Real) and learning_rate == default
    )
