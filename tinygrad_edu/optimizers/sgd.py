"""Stochastic gradient descent, with optional (Nesterov) momentum - Keras' formulation."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu.optimizers.base import Optimizer, Rate

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras ``SGD``; arguments as Keras names them).

    For each parameter ``p`` with gradient ``g`` at learning rate ``lr``::

        momentum == 0:  p -= lr * g
        momentum > 0:   velocity = momentum * velocity - lr * g          (velocity starts at 0)
                        p += velocity                                    (nesterov=False)
                        p += momentum * velocity - lr * g                (nesterov=True)

    Slot (only with momentum): ``velocity``, in ``state_dict()`` as ``"sgd/velocity/<i>"``.

    {shared_options}

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
    default_learning_rate = 0.01
    hyperparameters = ("momentum", "nesterov")

    def __init__(
        self,
        params: Any = None,
        learning_rate: Rate = 0.01,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(params, learning_rate, **options)
        self.momentum = self._check("momentum", momentum, low=0, high=1)
        self.nesterov = self._flag("nesterov", nesterov)

    def slots(self) -> dict[str, float]:
        return {"velocity": 0.0} if self.momentum else {}

    def update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        if not self.momentum:
            p -= lr * g
            return
        velocity = s["velocity"]
        velocity[...] = self.momentum * velocity - lr * g
        if self.nesterov:
            p += self.momentum * velocity - lr * g
        else:
            p += velocity

    def fused_update_step(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], lr: float
    ) -> None:
        """``update_step`` in place, with one temporary array (``lr * g``) reused, and ``lr`` as a
        0-d array (``typed_rate``)."""
        step = np.multiply(g, self.typed_rate(lr, g.dtype))
        if not self.momentum:
            p -= step
            return
        step = np.asarray(step)  # an array even for a 0-d parameter: it is reused as out=
        velocity = s["velocity"]
        velocity *= self.momentum
        velocity -= step  # velocity = momentum * velocity - lr * g
        if self.nesterov:
            p -= step
            p += np.multiply(velocity, self.momentum, out=step)  # p += momentum * velocity - lr * g
        else:
            p += velocity

    _rate_key: tuple | None = None  # what typed_rate's array was made for

    def typed_rate(self, lr: float, dtype: np.dtype) -> np.ndarray:
        """``lr`` as a 0-d array of ``dtype``, made once per step for every parameter: numpy
        takes it about twice as fast as a Python float, with the same result (it casts the float
        to the array's dtype too)."""
        key = (lr, dtype)
        if key != self._rate_key:
            self._rate, self._rate_key = np.array(lr, dtype), key
        return self._rate
