"""The optimizer base class: parameter handover, the step (decoupled weight decay, the update
rule), per-parameter slots, the learning rate (a number or a schedule), config and checkpoints.
The arguments every optimizer shares are read in ``options.py``; the gradients are checked and
clipped in ``gradients.py``; checkpoints are flattened in ``checkpoint.py``.

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

A subclass may also write ``fused_update_step(p, g, s, lr)``: the same update with fewer passes
over memory (in-place operations, one temporary array reused by every line). ``step`` uses it
unless ``tinygrad_edu.config.fused(False)`` is on - the one switch that also selects the layers'
reference forms - and tests/optimizers/test_optim_fused.py holds it equal to ``update_step``, the
formula, which stays the reference.

A parameter's slots are created when first needed - at its first update, or when
``state_arrays()`` hands them out - not in ``__init__``: so a subclass sets its hyperparameters
after ``super().__init__()``, and ``slots()`` may read them.

A step is all or nothing for bad input: every gradient is checked (shape, NaN/inf) before any
weight is touched, and a schedule's rate is checked before it is used.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu import capture_hooks, config
from tinygrad_edu import validation as check
from tinygrad_edu.errors import NotBuiltError
from tinygrad_edu.optimizers import checkpoint, options
from tinygrad_edu.optimizers.gradients import all_finite, checked_grads, clipped
from tinygrad_edu.optimizers.options import SHARED_OPTIONS, Rate
from tinygrad_edu.optimizers.params import as_param_list
from tinygrad_edu.optimizers.schedules import LearningRateSchedule, checked_rate, serialize
from tinygrad_edu.optimizers.slots import reconcile
from tinygrad_edu.tensor import Tensor

# SHARED_OPTIONS, Rate and all_finite live in options.py and gradients.py, importable from here
__all__ = ["SHARED_OPTIONS", "Optimizer", "Rate", "StepScalars", "all_finite"]


class StepScalars(NamedTuple):
    """The host numbers one step uses: the rate at this iteration and the step number."""

    lr: float
    t: int  #: the step number, ``iterations + 1``


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

    #: how errors name this optimizer, ``optimizer Adam``: made once per class, not per step
    _where: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._where = options.where(cls)
        if cls.__doc__:
            cls.__doc__ = cls.__doc__.replace("{shared_options}", options.SHARED_OPTIONS)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        made = self.__dict__.get("_slots") or ()  # slots made: they follow the settings
        if name in type(self).hyperparameters and any(s is not None for s in made):
            reconcile(made, [p._data for p in self._params], self.slots())  # slots.py

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
        cls = type(self)
        self.name = options.checked_name(cls, cls.name if name is None else name)
        params, learning_rate = options.params_and_rate(cls, params, learning_rate, lr)
        self.iterations = 0  # steps taken (Keras name); the next step is number iterations + 1
        self._schedule: Any = None
        self._lr = 0.0
        self.learning_rate = learning_rate
        self.weight_decay = self._optional("weight_decay", weight_decay, low=0)
        self.clipnorm, self.clipvalue, self.global_clipnorm = options.clipping(
            cls, clipnorm, clipvalue, global_clipnorm
        )
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

    #: the subclass's faster form of update_step (see the module docstring), or None
    fused_update_step = None

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
        return same_count and all(map(operator.is_, mine, params))

    @property
    def built(self) -> bool:
        """True once the optimizer has its parameters (Keras name)."""
        return self._params is not None

    def state_arrays(self) -> list[np.ndarray]:
        """Every slot array a step may change (the live arrays, not copies), for undoing a step
        exactly (``fit`` does when an update overflows the weights). The slots of every parameter
        that requires grad are created here if they do not exist yet, so that the step that
        would create them changes them instead. For checkpoints use ``state_dict()``."""
        params, slots = self._params or (), self._slots
        if None in slots:  # some not created yet (cheaper to ask than to walk every parameter)
            for i, p in enumerate(params):
                if p.requires_grad:
                    self._slots_of(i)
        return [a for p, s in zip(params, slots) if p.requires_grad for a in s.values()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``p.grad = None``) before the next backward."""
        rec = capture_hooks.active()
        if rec is not None:
            rec.on_zero_grad(self._params or ())
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
        scalars = self.step_scalars()
        todo = checked_grads(self._require_params("step"), self._slots, self._where)
        rec = capture_hooks.active()
        if rec is not None:  # a captured step replays apply_update with its own gradients
            rec.on_update(self, todo)
        self.apply_update(todo, scalars)

    def step_scalars(self) -> StepScalars:
        """The host numbers of the next step, computed in this one place (``step`` and a replayed
        step both call it, so a schedule or a rate changed mid-run is never baked in)."""
        return StepScalars(self.learning_rate, self.iterations + 1)

    def apply_update(self, todo: list, scalars: StepScalars) -> None:
        """The update proper, on checked gradients: ``todo`` holds ``(i, p, g)`` per parameter
        (``checked_grads``' output). Clip, decay, apply the rule, ``iterations += 1``."""
        lr = scalars.lr
        clipvalue, clipnorm, global_clipnorm = self.clipvalue, self.clipnorm, self.global_clipnorm
        if clipvalue is not None or clipnorm is not None or global_clipnorm is not None:
            grads = clipped([g for _, _, g in todo], clipvalue, clipnorm, global_clipnorm)
            todo = [(i, p, g) for (i, p, _), g in zip(todo, grads)]
        decay, slots = self.weight_decay, self._slots
        update = fused = self.fused_update_step
        if fused is None or not config.is_fused_enabled():
            update = self.update_step
        for i, p, g in todo:  # nothing was written before this loop
            w, s = p._data, slots[i]
            if s is None:
                s = self._slots_of(i)
            if decay:
                w *= 1 - lr * decay
            update(w, g, s, lr)
            p._bump_version()  # graphs recorded before this write must not backpropagate
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
        if options.is_schedule(type(self), value, self.iterations):
            self._schedule = value
        else:
            self._lr = options.fixed_rate(type(self), value, self._schedule)

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
        keys = self.hyperparameters + options.SHARED
        return {"learning_rate": rate, **{k: getattr(self, k) for k in keys}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
        """A new optimizer (without parameters) from ``get_config()``'s output."""
        return cls(**options.config_arguments(cls, config))

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
    def _check(self, name: str, value: Any, **bounds: Any) -> float:
        return options.hyperparameter(type(self), name, value, **bounds)

    def _flag(self, name: str, value: Any) -> bool:
        return check.flag(name, value, self._where, f"{type(self).__name__}({name}=True)")

    def _optional(self, name: str, value: Any, **bounds: Any) -> float | None:
        return None if value is None else self._check(name, value, **bounds)

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


Optimizer.__doc__ = Optimizer.__doc__.replace("{shared_options}", options.SHARED_OPTIONS)
Optimizer._where = options.where(Optimizer)
