"""The optimizer base class: parameter handover, clipping, decoupled weight decay, per-parameter
state, learning-rate schedules and checkpoints. A subclass writes only its update rule.

An optimizer sees a list of Tensors, never a layer. It reads ``p.grad`` (never modifies it: the
engine may share gradient arrays) and updates the parameter's array in place, so anything holding
the array (a layer, a view, a test) sees the new values. It writes through ``p._data`` (the
``data`` property may copy while a graph holds the tensor) and then calls ``p._bump_version()``,
so ``backward`` of a graph recorded before the step refuses the stale values.

A step is all or nothing for bad input: every gradient is checked (shape, NaN/inf) before any
weight is touched, and a schedule's rate is checked before it is used.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tinygrad_edu.errors import ConfigError, DivergenceError, NotBuiltError, ShapeError, suggest
from tinygrad_edu.optimizers import checkpoint
from tinygrad_edu.optimizers.schedules import (
    LearningRateSchedule,
    check_flag,
    check_number,
    check_schedule,
    checked_rate,
    deserialize,
    serialize,
)
from tinygrad_edu.tensor import Tensor

__all__ = ["Optimizer", "all_finite"]

#: What each hyperparameter means, used as the ``fix`` of a ConfigError about it.
_HINTS = {
    "learning_rate": "the step size must be > 0; 0.01 is typical for SGD, 0.001 for Adam",
    "momentum": "momentum is the fraction of the last update kept; 0.9 is typical, 0 disables it",
    "beta_1": "beta_1 is the decay of the running mean of gradients; 0.9 is typical",
    "beta_2": "beta_2 is the decay of the running mean of squared gradients; 0.999 is typical",
    "rho": "rho is the decay of the running mean of squared gradients; 0.9 is typical",
    "epsilon": "epsilon keeps the division finite, so it must be > 0; 1e-7 is typical",
    "weight_decay": "weight_decay shrinks weights by lr * weight_decay per step; try 0.004 or None",
    "initial_accumulator_value": "the sum of squared gradients starts here; 0.1 is typical",
}
_SHARED_ARGS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")


class Optimizer:
    """Base class: holds the parameters, their state and the learning rate; ``step()`` updates.

    Two ways in, on the same objects:

    - PyTorch loop: ``opt = SGD(model.parameters(), learning_rate=0.1)``, then per batch
      ``loss.backward(); opt.step(); opt.zero_grad()``.
    - Keras path: ``model.compile("sgd")`` creates ``SGD()`` without parameters; the model hands
      them over with ``opt.set_params(model.parameters())`` before the first update.

    Shared arguments (every optimizer): ``learning_rate`` (a number > 0, or a schedule: a
    ``LearningRateSchedule`` or any callable ``step -> rate``), ``lr`` (alias of
    ``learning_rate``), ``weight_decay`` (decoupled: ``p -= lr * weight_decay * p`` before the
    update), and at most one of ``clipvalue`` (clip each gradient element to
    ``[-clipvalue, clipvalue]``), ``clipnorm`` (rescale each gradient whose L2 norm exceeds it) and
    ``global_clipnorm`` (rescale all gradients together when their joint L2 norm exceeds it).
    Keras style ``Adam(0.01)`` (the rate as first positional argument) is accepted too.

    >>> from tinygrad_edu.tensor import Tensor
    >>> from tinygrad_edu.optimizers import SGD
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], learning_rate=0.5)
    >>> w.grad = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt.step()
    >>> w.data, opt.iterations
    (array([0.5, 3. ], dtype=float32), 1)
    """

    #: prefix of this optimizer's keys in ``state_dict()``, e.g. ``"adam"`` in ``"adam/m/0"``
    name = "optimizer"
    #: this optimizer's own constructor arguments (besides the shared ones), for ``get_config``
    _hyperparameters: tuple[str, ...] = ()

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        learning_rate: Any = 0.001,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        lr: Any = None,
    ) -> None:
        params, learning_rate = self._resolve_learning_rate(params, learning_rate, lr)
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
        self.clipnorm = self._optional("clipnorm", clipnorm, low=0, low_open=True)
        self.clipvalue = self._optional("clipvalue", clipvalue, low=0, low_open=True)
        self.global_clipnorm = self._optional(
            "global_clipnorm", global_clipnorm, low=0, low_open=True
        )
        self._params: list[Any] | None = None
        self._state: list[dict[str, np.ndarray]] = []  # one {slot name: array} per parameter
        self._pending: dict[str, Any] | None = None  # state loaded before set_params
        self._buffers: dict[tuple[str, int], np.ndarray] = {}  # reusable scratch, see _scratch
        self._views: dict[tuple[Any, ...], np.ndarray] = {}  # shaped views of _buffers
        self._max_size = 0
        if params is not None:
            self.set_params(params)

    # ------------------------------------------------------------------ what subclasses write
    def _initial_state(self) -> dict[str, float]:
        """``{slot name: initial value}`` for the arrays kept per parameter (shaped like it)."""
        return {}

    def update_step(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], lr: float
    ) -> None:
        """Update ``param`` (the parameter's ``.data``) in place from ``grad`` (already clipped)
        and the parameter's ``state`` arrays, at learning rate ``lr``."""
        raise NotImplementedError(f"{type(self).__name__}.update_step")

    # ------------------------------------------------------------------ parameters
    def set_params(self, params: Iterable[Any]) -> Optimizer:
        """Hand over the Tensors to train (the model calls this at the first ``fit``).

        Calling it again is safe: the state of tensors seen before (matched by identity, same
        shape) is kept, new tensors start fresh, and ``iterations`` is kept. Returns ``self``.
        """
        new = self._as_param_list(params)
        old = {id(p): state for p, state in zip(self._params or (), self._state)}
        self._params = new
        self._state = [self._reuse_or_new_state(old.get(id(p)), p) for p in new]
        self._max_size = max(p._data.size for p in new)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.load_state_dict(pending)
        return self

    @property
    def params(self) -> list[Any]:
        """The Tensors this optimizer updates (empty until they are handed over)."""
        return list(self._params or ())

    def updates(self, params: list[Any]) -> bool:
        """True when ``params`` are exactly the tensors this optimizer updates, in this order."""
        return self._params == params  # Tensors compare by identity: a cheap check per step

    @property
    def built(self) -> bool:
        """True once the optimizer has its parameters (Keras name)."""
        return self._params is not None

    def state_arrays(self) -> list[np.ndarray]:
        """Every state array this optimizer keeps (the live arrays, not copies): what a step
        changes besides the weights and ``iterations``. For undoing a step exactly (``fit`` does
        when an update overflows the weights); use ``state_dict()`` for checkpoints."""
        return [array for slots in self._state for array in slots.values()]

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
        grads = [self._checked_grad(i) for i in active]  # all of them before the first write
        scale = 1.0
        if self.global_clipnorm is not None and grads:
            total = math.sqrt(sum(_squared_norm(g) for g in grads))
            scale = self.global_clipnorm / max(total, self.global_clipnorm)
        clip = scale < 1.0 or self.clipvalue is not None or self.clipnorm is not None
        decay = self.weight_decay
        state = self._state
        for i, grad in zip(active, grads):
            p = params[i]
            param = p._data  # not .data: that may copy the array while a graph holds it
            if clip:
                grad = self._clip(grad, param, scale)
            if decay:
                param *= param.dtype.type(1.0 - lr * decay)
            self.update_step(param, grad, state[i], lr)
            p._bump_version()  # graphs recorded before this write must not backpropagate
        self.iterations += 1

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
        for slot, array in self._state[i].items():
            if array.shape != shape:
                raise ShapeError(
                    where=f"{self._where}.step (parameter {i})",
                    expected=f"state {slot!r} shaped like the parameter {shape}",
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

    def _clip(self, grad: np.ndarray, param: np.ndarray, scale: float) -> np.ndarray:
        """The gradient after clipping (in a scratch array: ``p.grad`` itself is never changed)."""
        if self.clipvalue is not None:
            return np.clip(grad, -self.clipvalue, self.clipvalue, out=self._scratch(param, 1))
        if self.clipnorm is not None:
            scale = self.clipnorm / max(math.sqrt(_squared_norm(grad)), self.clipnorm)
        if scale < 1.0:
            return np.multiply(grad, param.dtype.type(scale), out=self._scratch(param, 1))
        return grad

    def _scratch(self, like: np.ndarray, k: int = 0) -> np.ndarray:
        """Work array ``k`` shaped like ``like``: a view of a buffer that every parameter and step
        reuses, so ``step()`` allocates nothing after the first call. The views are kept too
        (slicing and reshaping a buffer costs more than the update of a small bias)."""
        key = (like.shape, like.dtype, k)
        view = self._views.get(key)
        if view is None:
            buf_key = (like.dtype.str, k)
            buf = self._buffers.get(buf_key)
            if buf is None or buf.size < like.size:
                buf = self._buffers[buf_key] = np.empty(max(like.size, self._max_size), like.dtype)
                self._views = {}  # views of the old buffer would not be shared any more
            view = self._views[key] = buf[: like.size].reshape(like.shape)
        return view

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
        config = {"learning_rate": rate}
        config.update({k: getattr(self, k) for k in self._hyperparameters + _SHARED_ARGS})
        return config

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
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "params"}
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
        the rate); one array per state slot and parameter, ``"<name>/<slot>/<index>"``, e.g.
        ``"adam/m/0"``, ``"adam/v/0"``, ``"sgd/velocity/2"``, where ``index`` is the parameter's
        position in the list handed over. Arrays are copies; the dict fits ``np.savez`` as is.
        """
        if self._params is None and self._pending is not None:
            return dict(self._pending)
        out: dict[str, Any] = {"iterations": int(self.iterations)}
        if self._schedule is None:
            out["learning_rate"] = float(self._lr)
        out.update({key: array.copy() for key, array in checkpoint.slot_arrays(self).items()})
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``'s output (also as loaded from an ``.npz``).

        Everything is checked before anything changes: a missing or unexpected key, or an array
        of the wrong shape, raises ``CheckpointError``. Given before the parameters, the state
        waits and is applied by ``set_params``.
        """
        state, iterations = checkpoint.read(self, state)
        if self._params is None:
            self._pending = state
            self.iterations = iterations
            return
        arrays, rate = checkpoint.validate(self, state)
        for key, target in checkpoint.slot_arrays(self).items():
            np.copyto(target, arrays[key], casting="unsafe")
        self.iterations = iterations
        self._lr = rate

    # ------------------------------------------------------------------ helpers
    @property
    def _where(self) -> str:
        return f"optimizer {type(self).__name__}"

    def _check(self, name: str, value: Any, **bounds: Any) -> float:
        return check_number(self._where, name, value, fix=_HINTS.get(name, ""), **bounds)

    def _flag(self, name: str, value: Any) -> bool:
        return check_flag(self._where, name, value)

    def _optional(self, name: str, value: Any, **bounds: Any) -> float | None:
        return None if value is None else self._check(name, value, **bounds)

    def _resolve_learning_rate(self, params: Any, learning_rate: Any, lr: Any) -> tuple[Any, Any]:
        """Sort out ``lr=`` and Keras' positional ``Adam(0.01)``; returns (params, rate)."""
        default = inspect.signature(type(self).__init__).parameters["learning_rate"].default
        explicit = learning_rate is not default and not (
            isinstance(learning_rate, numbers.Real) and learning_rate == default
        )
        rate_first = isinstance(params, LearningRateSchedule) or (
            isinstance(params, numbers.Real) and not isinstance(params, bool)
        )
        if explicit + (lr is not None) + rate_first > 1:
            raise ConfigError(
                where=self._where,
                expected="the learning rate given once",
                got="several of: a positional rate, learning_rate=, lr=",
                fix=f"write {type(self).__name__}(params, learning_rate=...) "
                "(lr= is only an alias)",
            )
        if rate_first:
            return None, params
        return params, (lr if lr is not None else learning_rate)

    def _as_param_list(self, params: Any) -> list[Any]:
        where = f"{self._where}.set_params"
        if _is_tensor(params):
            params = [params]
        try:
            items = list(params)
        except TypeError:
            fix = (
                "call it: model.parameters()"
                if callable(params)
                else "pass model.parameters() (a list of Tensors)"
            )
            raise ConfigError(
                where=where, expected="an iterable of Tensors", got=type(params).__name__, fix=fix
            ) from None
        unique = list({id(p): p for p in items}.values())
        for i, p in enumerate(unique):
            if not _is_tensor(p):
                fix = (
                    "pass model.parameters() (the Tensors), not the model or its layers"
                    if hasattr(p, "parameters")
                    else "wrap the array as Tensor(x, requires_grad=True)"
                    if isinstance(p, np.ndarray)
                    else "pass a list of Tensors"
                )
                raise ConfigError(
                    where=where,
                    expected="an iterable of Tensors",
                    got=f"item {i} of type {type(p).__name__}",
                    fix=fix,
                )
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

    def _reuse_or_new_state(self, old: dict[str, np.ndarray] | None, p: Any) -> dict:
        if old is not None and all(a.shape == p._data.shape for a in old.values()):
            return old
        return {slot: np.full_like(p._data, value) for slot, value in self._initial_state().items()}

    def _require_params(self, what: str) -> list[Any]:
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
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if v is not None)
        return f"{type(self).__name__}({args})"


def _is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


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


def _squared_norm(g: np.ndarray) -> float:
    """sum(g ** 2) as a Python float."""
    sq = float(np.vdot(g, g))
    if math.isinf(sq):  # a huge float32 gradient overflowed: recompute in float64
        g64 = g.astype(np.float64)
        sq = float(np.vdot(g64, g64))
    return sq
