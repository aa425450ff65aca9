"""The optimizer base class: the arguments every optimizer shares, parameter handover, clipping,
decoupled weight decay, per-parameter slots, learning-rate schedules and checkpoints.

A subclass writes its own hyperparameters, its slots and its update rule - nothing else (here a
shortened Adagrad)::

    class Adagrad(Optimizer):
        name = "adagrad"
        hyperparameters = ("epsilon",)

        def __init__(self, params=None, learning_rate=0.001, *, epsilon=1e-7, **options):
            super().__init__(params, learning_rate, **options)
            self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)

        def slots(self):
            return {"accumulator": 0.1}          # slot name -> initial value

        def update_step(self, p, g, s, lr):
            s["accumulator"] += g * g
            p -= lr * g / np.sqrt(s["accumulator"] + self.epsilon)

``update_step`` gets the parameter's array ``p`` and its (clipped) gradient ``g`` as numpy arrays,
the parameter's slots ``s`` (``{slot name: array shaped like p}``) and the rate ``lr`` of this step.
It updates ``p`` and the slots in place - ``+=``, ``*=``, or ``a[...] = ...`` (which writes into
``a``) - because anything holding these arrays (a layer, a view, ``state_arrays()``) must see the
new values. ``p`` is written through the tensor's ``_data`` (the ``data`` property may copy while
a graph holds the tensor) and ``step`` then bumps the tensor's version, so ``backward`` of a graph
recorded before the step refuses the stale values. ``p.grad`` is never modified (the engine may
share gradient arrays).

A parameter's slots are created when first needed - at its first update, or when
``state_arrays()`` hands them out - not in ``__init__``: so a subclass sets its hyperparameters
after ``super().__init__()``, and ``slots()`` may read them.

A step is all or nothing for bad input: every gradient is checked (shape, NaN/inf) before any
weight is touched, and a schedule's rate is checked before it is used.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union

import numpy as np

from tinygrad_edu import validation as check
from tinygrad_edu.errors import ConfigError, DivergenceError, NotBuiltError, ShapeError, suggest
from tinygrad_edu.optimizers import checkpoint
from tinygrad_edu.optimizers.params import as_param_list, is_rate
from tinygrad_edu.optimizers.schedules import (
    LearningRateSchedule,
    check_schedule,
    checked_rate,
    deserialize,
    serialize,
)
from tinygrad_edu.tensor import Tensor

__all__ = ["SHARED_OPTIONS", "Optimizer", "Rate", "all_finite"]

#: a learning rate: a number > 0, or a schedule ``step -> rate``
Rate = Union[float, LearningRateSchedule, Callable[[int], float]]

#: What each hyperparameter means and a typical value: the ``fix`` of a ConfigError about it
#: says the first and ends with an example using the second (the rate's is the class default).
_MEANINGS = {
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
_SHARED = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "name")

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


class Optimizer:
    """Base class: holds the parameters, their slots and the learning rate; ``step()`` updates.

    Two ways in, on the same objects:

    - PyTorch loop: ``opt = SGD(model.parameters(), learning_rate=0.1)``, then per batch
      ``loss.backward(); opt.step(); opt.zero_grad()``.
    - Keras path: ``model.compile("sgd")`` creates ``SGD()`` without parameters; the model hands
      them over with ``opt.set_params(model.parameters())`` before the first update.

    {shared_options}

    >>> from tinygrad_edu.tensor import Tensor
    >>> from tinygrad_edu.optimizers import SGD
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], learning_rate=0.5)
    >>> w.grad = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt.step()
    >>> w.data, opt.iterations
    (array([0.5, 3. ], dtype=float32), 1)
    """

    #: the default ``name``: the prefix of the ``state_dict()`` keys, e.g. ``"adam/m/0"``
    name = "optimizer"
    #: the rate when none is given (a subclass's signature shows the same number)
    default_learning_rate = 0.001
    #: the subclass's own arguments that ``get_config`` saves (besides the shared ones)
    hyperparameters: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__doc__:
            cls.__doc__ = cls.__doc__.replace("{shared_options}", SHARED_OPTIONS)

    def __init__(
        self,
        params: Any = None,
        learning_rate: Rate | None = None,
        *,
        lr: Rate | None = None,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        self.name = self._checked_name(type(self).name if name is None else name)
        params, learning_rate = self._params_and_rate(params, learning_rate, lr)
        self.iterations = 0  # steps taken (Keras name); the next step is number iterations + 1
        self._schedule: Any = None
        self._lr = 0.0
        self.learning_rate = learning_rate
        self.weight_decay = self._optional("weight_decay", weight_decay, low=0)
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [k for k, v in clips.items() if v is not None]
        if len(given) > 1:
            raise ConfigError(
                where=self._where,
                expected="at most one of clipnorm, clipvalue, global_clipnorm",
                got=", ".join(given),
                fix="keep the one clipping rule you want",
            )
        for key, value in clips.items():
            setattr(self, key, self._optional(key, value, low=0, low_open=True))
        self._params: list[Tensor] | None = None
        self._slots: list[dict[str, np.ndarray] | None] = []  # per parameter, None until needed
        self._pending: dict[str, Any] | None = None  # state loaded before set_params
        if params is not None:
            self.set_params(params)

    # ------------------------------------------------------------------ what subclasses write
    def slots(self) -> dict[str, float]:
        """``{slot name: initial value}``: the arrays kept per parameter (shaped like it)."""
        return {}

    def update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        """Update ``p`` (the parameter's array) and its slots ``s`` in place from the gradient
        ``g`` (already clipped) at learning rate ``lr``."""
        raise NotImplementedError(f"{type(self).__name__}.update_step")

    # ------------------------------------------------------------------ parameters
    def set_params(self, params: Iterable[Any]) -> Optimizer:
        """Hand over the Tensors to train (the model calls this at the first ``fit``).

        Calling it again is safe: the slots of tensors seen before (matched by identity) are kept
        while their shape still fits, and ``iterations`` is kept. Returns ``self``.
        """
        new = as_param_list(params, f"{self._where}.set_params")
        old = {id(p): s for p, s in zip(self._params or (), self._slots)}
        self._params = new
        self._slots = [self._fitting(old.get(id(p)), p) for p in new]
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.load_state_dict(pending)
        return self

    @property
    def params(self) -> list[Tensor]:
        """The Tensors this optimizer updates (empty until they are handed over)."""
        return list(self._params or ())

    def updates(self, params: list[Any]) -> bool:
        """True when ``params`` are exactly the tensors this optimizer updates, in this order."""
        mine = self._params  # by identity: Tensor == compares values (element by element)
        same_count = mine is not None and len(mine) == len(params)
        return same_count and all(p is q for p, q in zip(mine, params))

    @property
    def built(self) -> bool:
        """True once the optimizer has its parameters (Keras name)."""
        return self._params is not None

    def state_arrays(self) -> list[np.ndarray]:
        """Every slot array a step may change (the live arrays, not copies), for undoing a step
        exactly (``fit`` does when an update overflows the weights). The slots of every parameter
        that requires grad are created here if they do not exist yet, so that the step that
        would create them changes them instead. For checkpoints use ``state_dict()``."""
        params = self._params or ()
        live = [self._slots_of(i) for i, p in enumerate(params) if p.requires_grad]
        return [array for slots in live for array in slots.values()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``p.grad = None``) before the next backward."""
        for p in self._params or ():
            p.grad = None

    # ------------------------------------------------------------------ the update
    def step(self) -> None:
        """Update, in place, every parameter that requires grad and has a ``.grad``.

        Order: clip the gradients, decay the weights (if ``weight_decay``), apply the rule at
        ``lr = self.learning_rate``, then ``iterations += 1``.

        Nothing changes unless everything is usable: the rate (a schedule's must be finite and
        >= 0: ``ConfigError``) and every gradient (its shape: ``ShapeError``; NaN/inf:
        ``DivergenceError`` naming the parameter) are checked before any weight is written.
        """
        params = self._require_params("step")
        lr = self.learning_rate
        active = [i for i, p in enumerate(params) if p.grad is not None and p.requires_grad]
        grads = [self._checked_grad(i) for i in active]  # every one before the first write
        for i, g in zip(active, self._clipped(grads)):
            p = params[i]._data
            if self.weight_decay:
                p *= 1 - lr * self.weight_decay
            self.update_step(p, g, self._slots_of(i), lr)
            params[i]._bump_version()  # graphs recorded before this write must not backpropagate
        self.iterations += 1

    def _slots_of(self, i: int) -> dict[str, np.ndarray]:
        """Parameter ``i``'s slots, created at their initial values on first use."""
        s = self._slots[i]
        if s is None:
            s = self._slots[i] = self._initial_slots(self._params[i])
        return s

    def _initial_slots(self, p: Tensor) -> dict[str, np.ndarray]:
        return {slot: np.full_like(p._data, value) for slot, value in self.slots().items()}

    def _fitting(self, slots: dict[str, np.ndarray] | None, p: Tensor) -> dict | None:
        """``slots`` if still shaped like ``p``, else None (new slots at the next step)."""
        if slots is not None and all(a.shape == p._data.shape for a in slots.values()):
            return slots
        return None

    def _checked_grad(self, i: int) -> np.ndarray:
        p = self._params[i]
        grad, shape = p.grad, p._data.shape
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad, p._data.dtype)
        if grad.shape != shape:
            raise ShapeError(
                where=f"{self._where}.step (parameter {i})",
                expected=f"a gradient shaped like the parameter {shape}",
                got=f"{grad.shape}",
                fix="set p.grad to an array of the parameter's shape (backward() does this)",
            )
        for slot, array in (self._slots[i] or {}).items():
            if array.shape != shape:
                raise ShapeError(
                    where=f"{self._where}.step (parameter {i})",
                    expected=f"slot {slot!r} shaped like the parameter {shape}",
                    got=f"{array.shape}",
                    fix="the parameter's array was replaced by one of another shape; call "
                    "opt.set_params(model.parameters()) again after rebuilding the model",
                )
        if not all_finite(grad):
            raise self._non_finite_gradient(i, grad)
        return grad

    def _non_finite_gradient(self, i: int, grad: np.ndarray) -> DivergenceError:
        p = self._params[i]
        counts = (("NaN", int(np.isnan(grad).sum())), ("inf", int(np.isinf(grad).sum())))
        kinds = " and ".join(f"{n} {kind}" for kind, n in counts if n)
        err = DivergenceError(
            "no weight was changed (every gradient is checked before the first update)",
            where=f"{self._where}.step",
            expected="finite gradients",
            got=f"{kinds} in the gradient of {_describe(p, i)}",
            fix="a NaN/inf gradient comes from the loss or an op (log(0), sqrt(0), 0/0, an "
            "overflow): check the data for NaN/inf, lower the learning rate, scale the inputs; "
            "clipping (clipnorm=...) bounds large gradients but cannot repair NaN",
        )
        # for callers that know the weights' names (fit says 'dense/kernel', not 'kernel')
        err.parameter, err.parameter_index, err.bad_values = p, i, kinds
        return err

    def _clipped(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The gradients after clipping: new arrays, ``p.grad`` itself is never changed."""
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            return [g * (self.clipnorm / max(_norm(g), self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(_squared_norm(g) for g in grads))
            return [g * (self.global_clipnorm / max(total, self.global_clipnorm)) for g in grads]
        return grads

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The rate the next ``step()`` uses: ``schedule(iterations)`` when a schedule was given.

        Settable (e.g. by ReduceLROnPlateau) with a number > 0 or a new schedule.
        """
        if self._schedule is not None:
            return checked_rate(self._schedule, self.iterations, self._where)
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, type):
            raise ConfigError(
                where=self._where,
                expected="a number or a schedule instance",
                got=f"the class {value.__name__}",
                fix=f"create the schedule first: {value.__name__}(...)",
            )
        if callable(value):
            check_schedule(value, self._where)  # a bad schedule fails here, early
            checked_rate(value, self.iterations, self._where)
            self._schedule = value
            return
        if self._schedule is not None:
            raise ConfigError(
                where=self._where,
                expected="a new schedule (this optimizer follows a schedule)",
                got=repr(value),
                fix="the rate comes from the schedule; give a new schedule, or create the "
                "optimizer with a fixed learning_rate to set numbers (e.g. ReduceLROnPlateau)",
            )
        self._lr = self._check("learning_rate", value, low=0, low_open=True)

    @property
    def schedule(self) -> Any:
        """The learning-rate schedule the rate follows, or None for a fixed rate (which
        callbacks such as ReduceLROnPlateau may set)."""
        return self._schedule

    @property
    def lr(self) -> float:
        """Alias of ``learning_rate``."""
        return self.learning_rate

    @lr.setter
    def lr(self, value: Any) -> None:
        self.learning_rate = value

    # ------------------------------------------------------------------ config and checkpoints
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (a schedule as ``{"class_name", "config"}``)."""
        rate = self._schedule if self._schedule is not None else self._lr
        if isinstance(rate, LearningRateSchedule):
            rate = serialize(rate)
        keys = self.hyperparameters + _SHARED
        return {"learning_rate": rate, **{k: getattr(self, k) for k in keys}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
        """A new optimizer (without parameters) from ``get_config()``'s output."""
        if not isinstance(config, Mapping):
            raise ConfigError(
                where=f"{cls.__name__}.from_config",
                expected="a dict from get_config()",
                got=type(config).__name__,
                fix=f"{cls.__name__}.from_config(opt.get_config())",
            )
        config = dict(config)
        accepted = {"learning_rate", *cls.hyperparameters, *_SHARED}
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
        return cls(**config)

    def state_dict(self) -> dict[str, Any]:
        """All that training needs to continue, as a flat ``{str: array or number}`` dict.

        Keys: ``"iterations"`` (int); ``"learning_rate"`` (float, absent when a schedule drives
        the rate); one array per slot and parameter, ``"<name>/<slot>/<index>"``, e.g.
        ``"adam/m/0"``, ``"adam/v/0"``, ``"sgd/velocity/2"``, where ``index`` is the parameter's
        position in the list handed over (a slot not created yet is saved at its initial value).
        Arrays are copies; the dict fits ``np.savez`` as is.
        """
        if self._params is None and self._pending is not None:
            return dict(self._pending)
        slots = [
            s if s is not None else self._initial_slots(p)
            for p, s in zip(self._params or (), self._slots)
        ]
        rate = None if self._schedule is not None else self._lr
        return checkpoint.flatten(self.name, slots, self.iterations, rate)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s output (also as loaded from an ``.npz``).

        Everything is checked before anything changes: a missing or unexpected key, an array of
        the wrong shape or with NaN/inf raises ``CheckpointError``. Given before the parameters,
        the state waits and is applied by ``set_params``.
        """
        where = f"{self._where}.load_state_dict"
        if self._params is None:
            self._pending, self.iterations = checkpoint.read(state, where)
            return
        loaded = checkpoint.unflatten(
            state,
            name=self.name,
            slot_names=list(self.slots()),
            shapes=[p._data.shape for p in self._params],
            where=where,
            keep_rate=self._schedule is not None,
        )
        for i, arrays in enumerate(loaded.slots):
            for slot, target in self._slots_of(i).items():
                np.copyto(target, arrays[slot], casting="unsafe")
        self.iterations = loaded.iterations
        if loaded.learning_rate is not None:
            self._lr = loaded.learning_rate

    # ------------------------------------------------------------------ helpers
    @property
    def _where(self) -> str:
        return f"optimizer {type(self).__name__}"

    def _check(self, name: str, value: Any, **bounds: Any) -> float:
        """``value`` as a float inside ``bounds`` (``validation.real``'s), or a ConfigError
        saying what the hyperparameter means and ending with a working example."""
        why, typical = _MEANINGS.get(name, ("", 0.5))
        cls = type(self).__name__
        example = f"{cls}({name}={self.default_learning_rate if typical is None else typical!r})"
        return check.real(name, value, self._where, example, why=why, **bounds)

    def _flag(self, name: str, value: Any) -> bool:
        return check.flag(name, value, self._where, f"{type(self).__name__}({name}=True)")

    def _optional(self, name: str, value: Any, **bounds: Any) -> float | None:
        return None if value is None else self._check(name, value, **bounds)

    def _checked_name(self, name: Any) -> str:
        if isinstance(name, str) and name and "/" not in name:
            return name
        raise ConfigError(
            where=self._where,
            expected="name a non-empty string without '/' (it prefixes the state_dict keys)",
            got=repr(name),
            fix=f"e.g. name={type(self).name!r}, or leave it out",
        )

    def _params_and_rate(self, first: Any, learning_rate: Any, lr: Any) -> tuple[Any, Rate]:
        """The rule for the first positional argument (see ``SHARED_OPTIONS``): a number or a
        schedule is the learning rate, anything else the parameters (checked by ``set_params``).
        The rate may be given once: positionally, as ``learning_rate=`` or as ``lr=``."""
        given = []  # (how it was given, the rate)
        if is_rate(first):
            given.append((f"{first!r} as the first argument", first))
        if not _is_default(learning_rate, self.default_learning_rate):
            given.append((f"learning_rate={learning_rate!r}", learning_rate))
        if lr is not None:
            given.append((f"lr={lr!r}", lr))
        if len(given) > 1:
            raise ConfigError(
                where=self._where,
                expected="the learning rate given once",
                got=", ".join(how for how, _ in given),
                fix=f"write {type(self).__name__}(params, learning_rate=...); hyperparameters "
                "are keyword arguments (lr= is only an alias)",
            )
        rate = given[0][1] if given else self.default_learning_rate
        return (None if is_rate(first) else first), rate

    def _require_params(self, what: str) -> list[Tensor]:
        if self._params is None:
            raise NotBuiltError(
                where=f"{self._where}.{what}",
                expected="parameters to update",
                got="none: the optimizer was created without params",
                fix=f"pass them at creation, {type(self).__name__}(model.parameters()), "
                "or call opt.set_params(model.parameters())",
            )
        return self._params

    def __repr__(self) -> str:
        config = self.get_config()
        if config["name"] == type(self).name:
            del config["name"]
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if v is not None)
        return f"{type(self).__name__}({args})"


Optimizer.__doc__ = Optimizer.__doc__.replace("{shared_options}", SHARED_OPTIONS)


def _is_default(learning_rate: Any, default: float) -> bool:
    """True when ``learning_rate`` was left out (None) or equals the default (a rate equal to
    the default cannot be told from it, and then it does not matter which one counts)."""
    return learning_rate is None or (
        isinstance(learning_rate, numbers.Real) and learning_rate == default
    )


def _describe(p: Tensor, i: int) -> str:
    """``parameter 2 'kernel' of shape (3, 1)``: how errors name a parameter."""
    name = f" {p.name!r}" if p.name else ""
    return f"parameter {i}{name} of shape {p._data.shape}"


def all_finite(a: np.ndarray) -> bool:
    """True when ``a`` holds no NaN/inf, in one fast pass: NaN/inf make the sum of squares
    non-finite (a BLAS dot, ~2x faster than ``np.isfinite(a).all()``); only when it is - or when
    it overflowed, for float32 values beyond ~1e19 - is the exact elementwise check run."""
    flat = a.ravel(order="K")  # a view for C- and F-ordered arrays alike
    if flat.dtype.kind != "f" or math.isfinite(np.vdot(flat, flat)):
        return True
    return bool(np.isfinite(flat).all())


def _norm(g: np.ndarray) -> float:
    """The L2 norm of ``g`` as a Python float."""
    return math.sqrt(_squared_norm(g))


def _squared_norm(g: np.ndarray) -> float:
    """sum(g ** 2) as a Python float (in float64 when float32's sum overflows)."""
    sq = float(np.vdot(g, g))
    if math.isinf(sq):
        g64 = g.astype(np.float64)
        sq = float(np.vdot(g64, g64))
    return sq
