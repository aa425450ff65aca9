"""Every optimizer minimizes simple quadratics (gradients set by hand)."""

import numpy as np
import pytest

from tinygrad_edu.optimizers import SGD, Adagrad, Adam, AdamW, ExponentialDecay, RMSprop
from tinygrad_edu.tensor import Tensor

SETUPS = {
    "sgd": lambda p: SGD(p, learning_rate=0.1),
    "sgd-momentum": lambda p: SGD(p, learning_rate=0.05, momentum=0.9),
    "sgd-nesterov": lambda p: SGD(p, learning_rate=0.05, momentum=0.9, nesterov=True),
    "sgd-schedule": lambda p: SGD(p, learning_rate=ExponentialDecay(0.2, 100, 0.5)),
    "adam": lambda p: Adam(p, learning_rate=0.1),
    "adam-amsgrad": lambda p: Adam(p, learning_rate=0.1, amsgrad=True),
    "adamw": lambda p: AdamW(p, learning_rate=0.1, weight_decay=1e-4),
    "rmsprop": lambda p: RMSprop(p, learning_rate=0.02),
    "rmsprop-centered-momentum": lambda p: RMSprop(
        p, learning_rate=0.01, momentum=0.5, centered=True
    ),
    "adagrad": lambda p: Adagrad(p, learning_rate=0.5),
}


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_minimizes_sum_of_squares_to_three(name):
    p = Tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    opt = SETUPS[name]([p])
    for _ in range(500):
        p.grad = 2 * (p.data - 3.0)  # d/dp sum((p - 3)^2)
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(p.data, 3.0, atol=0.05)


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_least_squares(name):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 5)).astype(np.float32)
    x_true = rng.normal(size=5).astype(np.float32)
    b = A @ x_true
    x = Tensor(np.zeros(5, dtype=np.float32), requires_grad=True)
    opt = SETUPS[name]([x])
    loss0 = float(np.sum((A @ x.data - b) ** 2))
    for _ in range(1500):
        x.grad = (2.0 / len(b)) * A.T @ (A @ x.data - b)  # d/dx of mean((Ax - b)^2)
        opt.step()
    loss = float(np.sum((A @ x.data - b) ** 2))
    assert loss < 1e-2 * loss0, (loss0, loss)


def test_global_clipnorm_still_converges_and_bounds_each_step():
    p = Tensor(np.full(3, 100.0, dtype=np.float32), requires_grad=True)
    opt = SGD([p], learning_rate=0.1, global_clipnorm=1.0)
    for _ in range(2000):
        before = p.data.copy()
        p.grad = 2 * (p.data - 3.0)
        opt.step()
        assert np.linalg.norm(p.data - before) <= 0.1 + 1e-5
    np.testing.assert_allclose(p.data, 3.0, atol=1e-3)
