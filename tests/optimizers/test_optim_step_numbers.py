"""The numbers a fused update hands to numpy (``SGD.typed_rate``, ``Adam.fused_numbers``: 0-d
arrays made once per step, faster for numpy than Python floats) give the very bits the Python
floats give, while the rate, the step number, a hyperparameter or the dtype change between steps;
and each optimizer class names itself in its errors (its ``_where`` is made once per class)."""

import numpy as np
import pytest

from tinygrad_edu.errors import ShapeError
from tinygrad_edu.optimizers import SGD, Adam, AdamW
from tinygrad_edu.tensor import Tensor

#: the fused forms' numbers as Python floats: what the 0-d arrays must reproduce bit for bit
PLAIN_NUMBERS = {
    "typed_rate": lambda self, lr, dtype: lr,
    "fused_numbers": lambda self, lr, dtype: (
        1 - self.beta_1,
        1 - self.beta_2,
        self.epsilon,
        self.step_size(lr),
    ),
}

OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, learning_rate=0.1),
    "sgd-momentum": lambda ps: SGD(ps, learning_rate=0.05, momentum=0.9),
    "sgd-nesterov": lambda ps: SGD(ps, learning_rate=0.05, momentum=0.8, nesterov=True),
    "adam": lambda ps: Adam(ps, learning_rate=0.01),
    "adam-amsgrad": lambda ps: Adam(ps, learning_rate=0.02, beta_1=0.5, amsgrad=True),
    "adamw": lambda ps: AdamW(ps, learning_rate=0.01),
}


def run(make, plain_numbers, monkeypatch):
    """Parameters and slots after six steps in which the rate changes, a hyperparameter changes
    once (at a repeated step number), and one parameter is float64 while the others float32."""
    rng = np.random.default_rng(0)
    shapes, dtypes = [(5, 3), (3,), ()], [np.float32, np.float64, np.float32]
    params = [
        Tensor(rng.normal(size=s).astype(d), requires_grad=True) for s, d in zip(shapes, dtypes)
    ]
    opt = make(params)
    if plain_numbers:
        for name, plain in PLAIN_NUMBERS.items():
            if hasattr(type(opt), name):
                monkeypatch.setattr(type(opt), name, plain)
    for step, rate in enumerate([0.01, 0.02, 0.03, 0.03, 0.05, 0.06]):
        opt.learning_rate = rate
        if step == 3:  # the step number and rate of the step before (as an undone step leaves
            opt.iterations -= 1  # them), only a hyperparameter changes
            for name in ("momentum", "beta_1"):
                if getattr(opt, name, 0):
                    setattr(opt, name, 0.7)
        for p in params:
            p.grad = rng.normal(size=p.shape).astype(p.dtype)
        opt.step()
    monkeypatch.undo()
    return [p.data.copy() for p in params] + [a.copy() for a in opt.state_arrays()]


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_the_typed_numbers_give_the_bits_of_the_python_floats(make, monkeypatch):
    fast = run(make, False, monkeypatch)
    plain = run(make, True, monkeypatch)
    assert len(fast) == len(plain)
    for a, b in zip(fast, plain):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


class Mine(Adam):
    """A user's optimizer: errors must name it, not its base class."""


@pytest.mark.parametrize("cls", [SGD, Adam, Mine])
def test_each_optimizer_class_names_itself_in_its_errors(cls):
    w = Tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = cls([w])
    w.grad = np.zeros(2, np.float32)
    with pytest.raises(ShapeError) as caught:
        opt.step()
    assert f"optimizer {cls.__name__}.step (parameter 0)" in str(caught.value)
