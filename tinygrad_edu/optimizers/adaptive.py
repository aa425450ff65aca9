"""Optimizers that scale each coordinate by a running measure of its gradients' size:
Adam, AdamW, RMSprop, Adagrad - Keras' formulas, defaults and argument names.

In every update below, ``g`` is the (clipped) gradient, ``lr`` the learning rate of this step,
``t`` the step number (``iterations + 1``), and all arithmetic is elementwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.errors import ConfigError
from tinygrad_edu.optimizers.base import Optimizer

__all__ = ["Adagrad", "Adam", "AdamW", "RMSprop"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), exactly as Keras writes it::

        m     += (g - m) * (1 - beta_1)                  # running mean of g      (m0 = 0)
        v     += (g**2 - v) * (1 - beta_2)               # running mean of g**2   (v0 = 0)
        vhat   = max(vhat, v)                            # only with amsgrad=True (vhat0 = 0)
        alpha  = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)   # bias corrections, folded into lr
        p     -= alpha * m / (sqrt(v or vhat) + epsilon)

    ``epsilon`` (default 1e-7, Keras') is added *outside* the square root, to the bias-uncorrected
    ``sqrt(v)``; PyTorch instead adds its 1e-8 to ``sqrt(v / (1 - beta_2**t))``. The two agree
    except when ``v`` is tiny. ``weight_decay`` (decoupled) first does ``p -= lr * wd * p``.
    State per parameter: ``"adam/m/<i>"``, ``"adam/v/<i>"`` (and ``"adam/vhat/<i>"``).

    >>> from tinygrad_edu.tensor import Tensor
    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], learning_rate=0.1)
    >>> w.grad = np.array([3.0, -0.5], dtype=np.float32)
    >>> opt.step()
    >>> w.data.round(4)          # the first step moves each coordinate by ~lr * sign(g)
    array([ 0.9, -0.9], dtype=float32)
    """

    name = "adam"
    _hyperparameters = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        lr: Any = None,
    ) -> None:
        self.beta_1 = self._check("beta_1", beta_1, low=0, high=1, high_open=True)
        self.beta_2 = self._check("beta_2", beta_2, low=0, high=1, high_open=True)
        self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)
        self.amsgrad = self._flag("amsgrad", amsgrad)
        super().__init__(
            params,
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            lr=lr,
        )

    def _initial_state(self) -> dict[str, float]:
        slots = {"m": 0.0, "v": 0.0}
        if self.amsgrad:
            slots["vhat"] = 0.0
        return slots

    def update_step(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], lr: float
    ) -> None:
        """``m += (g - m)(1 - beta_1)``; ``v += (g² - v)(1 - beta_2)``; (amsgrad: ``v = vhat =
        max(vhat, v)``); ``alpha = lr·sqrt(1 - beta_2^t)/(1 - beta_1^t)``;
        ``p -= alpha · m / (sqrt(v) + epsilon)``."""
        f = param.dtype.type
        t = self.iterations + 1
        alpha = f(lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t))
        m, v, work = state["m"], state["v"], self._scratch(param)
        np.subtract(grad, m, out=work)
        work *= f(1.0 - self.beta_1)
        m += work
        np.multiply(grad, grad, out=work)
        work -= v
        work *= f(1.0 - self.beta_2)
        v += work
        if self.amsgrad:
            v = np.maximum(state["vhat"], v, out=state["vhat"])
        np.sqrt(v, out=work)
        work += f(self.epsilon)
        np.divide(m, work, out=work)
        work *= alpha
        param -= work


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), Keras ``AdamW``::

        p -= lr * weight_decay * p          # first: shrink the weights, independent of g
        (then the Adam update above)

    ``weight_decay`` defaults to 0.004 (Keras) and is required. State keys: ``"adamw/m/<i>"``, ...
    """

    name = "adamw"

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        lr: Any = None,
    ) -> None:
        if weight_decay is None:
            raise ConfigError(
                where=self._where,
                expected="weight_decay a number >= 0",
                got="None",
                fix="AdamW exists for its weight decay: give e.g. 0.004, or use Adam",
            )
        super().__init__(
            params,
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            lr=lr,
        )


class RMSprop(Optimizer):
    """RMSprop (Hinton), Keras' formulation::

        velocity = rho * velocity + (1 - rho) * g**2           # running mean of g**2 (starts 0)
        avg_g    = rho * avg_g + (1 - rho) * g                  # only with centered=True
        denom    = velocity - avg_g**2 + epsilon    (centered)  or  velocity + epsilon
        step     = lr * g / sqrt(denom)                         # epsilon sits *inside* the sqrt
        p       -= step                                         (momentum == 0)
        mom      = momentum * mom + step;   p -= mom            (momentum > 0)

    State per parameter: ``"rmsprop/velocity/<i>"``, and ``"rmsprop/momentum/<i>"`` /
    ``"rmsprop/average_gradient/<i>"`` when momentum > 0 / centered.
    """

    name = "rmsprop"
    _hyperparameters = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        lr: Any = None,
    ) -> None:
        self.rho = self._check("rho", rho, low=0, high=1, high_open=True)
        self.momentum = self._check("momentum", momentum, low=0, high=1)
        self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)
        self.centered = self._flag("centered", centered)
        super().__init__(
            params,
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            lr=lr,
        )

    def _initial_state(self) -> dict[str, float]:
        slots = {"velocity": 0.0}
        if self.momentum > 0:
            slots["momentum"] = 0.0
        if self.centered:
            slots["average_gradient"] = 0.0
        return slots

    def update_step(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], lr: float
    ) -> None:
        """``velocity = rho·velocity + (1 - rho)·g²``; ``step = lr·g / sqrt(velocity [- avg_g²]
        + epsilon)``; ``p -= step``, or through momentum ``mom = momentum·mom + step``."""
        f = param.dtype.type
        rho, one_minus_rho = f(self.rho), f(1.0 - self.rho)
        velocity, work = state["velocity"], self._scratch(param)
        velocity *= rho
        np.multiply(grad, grad, out=work)
        work *= one_minus_rho
        velocity += work
        if self.centered:
            avg = state["average_gradient"]
            avg *= rho
            np.multiply(grad, one_minus_rho, out=work)
            avg += work
            np.multiply(avg, avg, out=work)
            np.subtract(velocity, work, out=work)
            work += f(self.epsilon)
        else:
            np.add(velocity, f(self.epsilon), out=work)
        np.sqrt(work, out=work)
        np.divide(grad, work, out=work)
        work *= f(lr)
        if "momentum" in state:
            mom = state["momentum"]
            mom *= f(self.momentum)
            mom += work
            param -= mom
        else:
            param -= work


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), Keras' formulation::

        accumulator += g**2                          # starts at initial_accumulator_value
        p           -= lr * g / sqrt(accumulator + epsilon)     # epsilon *inside* the sqrt

    State per parameter: ``"adagrad/accumulator/<i>"``.
    """

    name = "adagrad"
    _hyperparameters = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        lr: Any = None,
    ) -> None:
        self.initial_accumulator_value = self._check(
            "initial_accumulator_value", initial_accumulator_value, low=0
        )
        self.epsilon = self._check("epsilon", epsilon, low=0, low_open=True)
        super().__init__(
            params,
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            lr=lr,
        )

    def _initial_state(self) -> dict[str, float]:
        return {"accumulator": self.initial_accumulator_value}

    def update_step(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], lr: float
    ) -> None:
        """``accumulator += g²``; ``p -= lr · g / sqrt(accumulator + epsilon)``."""
        f = param.dtype.type
        accumulator, work = state["accumulator"], self._scratch(param)
        np.multiply(grad, grad, out=work)
        accumulator += work
        np.add(accumulator, f(self.epsilon), out=work)
        np.sqrt(work, out=work)
        np.divide(grad, work, out=work)
        work *= f(lr)
        param -= work
