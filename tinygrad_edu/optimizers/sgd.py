"""Stochastic gradient descent, with optional (Nesterov) momentum - Keras' formulation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_edu.optimizers.base import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras ``SGD``; arguments as Keras names them).

    Update for each parameter ``p`` with gradient ``g`` at learning rate ``lr``::

        momentum == 0:   p -= lr * g
        momentum > 0:    velocity = momentum * velocity - lr * g          (velocity starts at 0)
                         p += velocity                                    (nesterov=False)
                         p += momentum * velocity - lr * g                (nesterov=True)

    ``weight_decay`` (decoupled, as in Keras 3) first shrinks ``p -= lr * weight_decay * p``.
    State per parameter (only with momentum): ``"sgd/velocity/<i>"``.

    >>> from tinygrad_edu.tensor import Tensor
    >>> w = Tensor([0.0], requires_grad=True)
    >>> opt = SGD([w], learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = np.array([1.0], dtype=np.float32)
    ...     opt.step()
    >>> w.data.round(4)          # -0.1, then -0.1 + (0.9 * -0.1 - 0.1)
    array([-0.29], dtype=float32)
    """

    name = "sgd"
    _hyperparameters = ("momentum", "nesterov")

    def __init__(
        self,
        params: Iterable[Any] | None = None,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        lr: Any = None,
    ) -> None:
        self.momentum = self._check("momentum", momentum, low=0, high=1)
        self.nesterov = self._flag("nesterov", nesterov)
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
        return {"velocity": 0.0} if self.momentum > 0 else {}

    def update_step(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], lr: float
    ) -> None:
        """``velocity = momentum * velocity - lr * g``; ``p += velocity`` (plain momentum) or
        ``p += momentum * velocity - lr * g`` (Nesterov); without momentum ``p -= lr * g``."""
        step = self._scratch(param)
        np.multiply(grad, param.dtype.type(lr), out=step)  # step = lr * g
        if "velocity" not in state:
            param -= step
            return
        velocity, momentum = state["velocity"], param.dtype.type(self.momentum)
        velocity *= momentum
        velocity -= step
        if self.nesterov:
            param -= step
            np.multiply(velocity, momentum, out=step)
            param += step
        else:
            param += velocity
