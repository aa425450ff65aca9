"""Optimizers that scale each coordinate by a running measure of its gradients' size:
Adam, AdamW, RMSprop, Adagrad - Keras' formulas, defaults and argument names.

In every update below, ``g`` is the (clipped) gradient, ``lr`` the learning rate of this step,
``t`` the step number (``iterations + 1``), and all arithmetic is elementwise. A running mean
``x += (new - x) * (1 - decay)`` is ``x = decay * x + (1 - decay) * new``: ``x`` moves a fraction
``1 - decay`` of the way to the new value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.errors import ConfigError
from tinygrad_edu.optimizers.base import Optimizer, Rate

__all__ = ["Adagrad", "Adam", "AdamW", "RMSprop"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), as Keras writes it::

        m += (g - m) * (1 - beta_1)                  # running mean of g      (m starts at 0)
        v += (g * g - v) * (1 - beta_2)              # running mean of g**2   (v starts at 0)
        vhat = max(vhat, v)                          # only with amsgrad=True, then used as v
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)      # bias corrections, folded in lr
        p -= alpha * m / (sqrt(v) + epsilon)

    ``epsilon`` (default 1e-7, Keras') is added *outside* the square root, to the bias-uncorrected
    ``sqrt(v)``; PyTorch instead adds its 1e-8 to ``sqrt(v / (1 - beta_2**t))``. The two agree
    except when ``v`` is tiny. Slots: ``m``, ``v`` (and ``vhat``), in ``state_dict()`` as
    ``"adam/m/<i>"``, ...

    {shared_options}

    >>> from tinygrad_edu.tensor import Tensor
    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], learning_rate=0.1)
    >>> w.grad = np.array([3.0, -0.5], dtype=np.float32)
    >>> opt.step()
    >>> w.data.round(4)          # the first step moves each coordinate by ~lr * sign(g)
    array([ 0.9, -0.9], dtype=float32)
    """

    name = "adam"
    hyperparameters = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        params: Any = None,
        learning_rate: Rate = 0.001,
        *,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(params, learning_rate, **options)
        self.beta_1 = self._check("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = self._check("beta_2", beta_2, low=0, high=1, high_open=True)
        self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)
        self.amsgrad = self._flag("amsgrad", amsgrad)

    def slots(self) -> dict[str, float]:
        return {"m": 0.0, "v": 0.0, "vhat": 0.0} if self.amsgrad else {"m": 0.0, "v": 0.0}

    def update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        s["m"] += (g - s["m"]) * (1 - self.beta_1)
        s["v"] += (g * g - s["v"]) * (1 - self.beta_2)
        v = np.maximum(s["vhat"], s["v"], out=s["vhat"]) if self.amsgrad else s["v"]
        alpha = self.step_size(lr)
        p -= alpha * s["m"] / (np.sqrt(v) + self.epsilon)

    def step_size(self, lr: float) -> float:
        """``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` at this step (``t = iterations
        + 1``, read live: a replayed step gets the same number as an eager one)."""
        t = self.iterations + 1
        return lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def fused_update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        """``update_step`` in place, with one temporary array (``work``) reused by every line,
        and its numbers as 0-d arrays (``fused_numbers``)."""
        m, v = s["m"], s["v"]
        work = np.asarray(g - m)  # an array even for a 0-d parameter: it is reused as out=
        one_minus_beta_1, one_minus_beta_2, epsilon, alpha = self.fused_numbers(lr, work.dtype)
        m += np.multiply(work, one_minus_beta_1, out=work)  # m += (g - m) * (1 - beta_1)
        np.subtract(np.multiply(g, g, out=work), v, out=work)
        v += np.multiply(work, one_minus_beta_2, out=work)  # v += (g * g - v) * (1 - beta_2)
        if self.amsgrad:
            v = np.maximum(s["vhat"], v, out=s["vhat"])
        np.add(np.sqrt(v, out=work), epsilon, out=work)  # work = sqrt(v) + epsilon
        p -= np.multiply(np.divide(m, work, out=work), alpha, out=work)  # alpha * m / work

    _fused_key: tuple | None = None  # what fused_numbers' arrays were made for

    def fused_numbers(self, lr: float, dtype: np.dtype) -> tuple:
        """``(1 - beta_1, 1 - beta_2, epsilon, alpha)`` at this step as 0-d arrays of ``dtype``,
        made once per step for every parameter: numpy takes such an array about twice as fast as
        a Python float, with the same result (it casts the float to the array's dtype too)."""
        key = (self.iterations, lr, dtype, self.beta_1, self.beta_2, self.epsilon)
        if key != self._fused_key:
            numbers = (1 - self.beta_1, 1 - self.beta_2, self.epsilon, self.step_size(lr))
            self._fused_numbers = tuple(np.array(x, dtype) for x in numbers)
            self._fused_key = key
        return self._fused_numbers


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), Keras ``AdamW``::

        p -= lr * weight_decay * p          # first: shrink the weights, independent of g
        (then the Adam update above)

    ``weight_decay`` defaults to 0.004 (Keras) and is required; every other argument is Adam's
    (``beta_1``, ``beta_2``, ``epsilon``, ``amsgrad`` and the shared options below). Slots as
    Adam's, in ``state_dict()`` as ``"adamw/m/<i>"``, ...

    {shared_options}
    """

    name = "adamw"

    def __init__(
        self,
        params: Any = None,
        learning_rate: Rate = 0.001,
        *,
        weight_decay: float = 0.004,
        **adam_options: Any,
    ) -> None:
        if weight_decay is None:
            raise ConfigError(
                where=self._where,
                expected="weight_decay a number >= 0",
                got="None",
                fix="AdamW exists for its weight decay: give e.g. 0.004, or use Adam",
            )
        super().__init__(params, learning_rate, weight_decay=weight_decay, **adam_options)


class RMSprop(Optimizer):
    """RMSprop (Hinton), Keras' formulation::

        velocity += (g * g - velocity) * (1 - rho)      # running mean of g**2 (starts at 0)
        average_gradient += (g - average_gradient) * (1 - rho)     # only with centered=True
        denominator = velocity - average_gradient**2 + epsilon     # centered: a variance
                    = velocity + epsilon                           # not centered
        increment = lr * g / sqrt(denominator)                     # epsilon *inside* the sqrt
        p -= increment                                             (momentum == 0)
        s["momentum"] = momentum * s["momentum"] + increment       (momentum > 0: the slot
        p -= s["momentum"]                                          has the argument's name)

    Slots: ``velocity``, and ``momentum`` / ``average_gradient`` when momentum > 0 / centered,
    in ``state_dict()`` as ``"rmsprop/velocity/<i>"``, ...

    {shared_options}
    """

    name = "rmsprop"
    hyperparameters = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        params: Any = None,
        learning_rate: Rate = 0.001,
        *,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(params, learning_rate, **options)
        self.rho = self._check("rho", rho, low=0, high=1, high_open=True)
        self.momentum = self._check("momentum", momentum, low=0, high=1)
        self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)
        self.centered = self._flag("centered", centered)

    def slots(self) -> dict[str, float]:
        slots = {"velocity": 0.0}
        if self.momentum:
            slots["momentum"] = 0.0
        if self.centered:
            slots["average_gradient"] = 0.0
        return slots

    def update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        s["velocity"] += (g * g - s["velocity"]) * (1 - self.rho)
        if self.centered:
            s["average_gradient"] += (g - s["average_gradient"]) * (1 - self.rho)
            denominator = s["velocity"] - s["average_gradient"] ** 2 + self.epsilon
        else:
            denominator = s["velocity"] + self.epsilon
        increment = lr * g / np.sqrt(denominator)
        if self.momentum:
            s["momentum"][...] = self.momentum * s["momentum"] + increment
            p -= s["momentum"]
        else:
            p -= increment


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), Keras' formulation::

        accumulator += g * g                         # starts at initial_accumulator_value
        p -= lr * g / sqrt(accumulator + epsilon)    # epsilon *inside* the sqrt

    Slot: ``accumulator``, in ``state_dict()`` as ``"adagrad/accumulator/<i>"``.

    {shared_options}
    """

    name = "adagrad"
    hyperparameters = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        params: Any = None,
        learning_rate: Rate = 0.001,
        *,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **options: Any,
    ) -> None:
        super().__init__(params, learning_rate, **options)
        self.initial_accumulator_value = self._check(
            "initial_accumulator_value", initial_accumulator_value, low=0
        )
        self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)

    def slots(self) -> dict[str, float]:
        return {"accumulator": self.initial_accumulator_value}

    def update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        s["accumulator"] += g * g
        p -= lr * g / np.sqrt(s["accumulator"] + self.epsilon)
