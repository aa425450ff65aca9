"""A failed ``train_on_batch`` step leaves no trace: training on afterwards gives bit for bit what
a twin model gets that never saw the failed step - weights, moving statistics, every optimizer
slot and the step count - for every built-in optimizer and its options, with and without
BatchNormalization (written during the forward pass), at unit counts 1, 3 and 64.

Three ways a step fails: its loss is not finite (targets scaled to 1e30: the forward pass has
already moved BatchNormalization's statistics); an interrupt arrives after the update rule has
written some of the parameters (the ``j``-th update raises ``KeyboardInterrupt``); or the update
overflows (the ``j``-th update writes an inf after the rule ran: every parameter, slot and the
step count have been written when the check of the updated weights finds it).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import set_seed
from tinygrad_edu.errors import DivergenceError
from tinygrad_edu.layers import BatchNormalization, Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the 1e30 targets overflow

OPTIMIZERS = {
    "sgd": lambda o: SGD(0.05, momentum=o["momentum"], nesterov=o["nesterov"], **o["shared"]),
    "adam": lambda o: Adam(0.01, amsgrad=o["amsgrad"], **o["shared"]),
    "adamw": lambda o: AdamW(0.01, weight_decay=0.01, amsgrad=o["amsgrad"]),
    "rmsprop": lambda o: RMSprop(
        0.01, momentum=o["momentum"], centered=o["centered"], **o["shared"]
    ),
    "adagrad": lambda o: Adagrad(0.05, **o["shared"]),
}
options = st.fixed_dictionaries(
    {
        "momentum": st.sampled_from([0.0, 0.9]),
        "nesterov": st.booleans(),
        "amsgrad": st.booleans(),
        "centered": st.booleans(),
        "shared": st.sampled_from([{}, {"clipnorm": 0.5}, {"clipvalue": 0.1}]),
    }
)


class _Interrupt(KeyboardInterrupt):
    pass


@contextlib.contextmanager
def failing_update(opt, j: int, failure: str):
    """The optimizer's ``j``-th parameter update (0-based) fails: raises before it runs
    (``"interrupt"``: the ones before it ran), or writes an inf after it ran (``"overflow"``)."""
    cls, saved = type(opt), {}
    count = [0]
    for name in ("update_step", "fused_update_step"):
        rule = getattr(cls, name)
        if rule is None:
            continue
        saved[name] = rule

        def counting(self, p, g, s, lr, rule=rule):
            if count[0] == j and failure == "interrupt":
                raise _Interrupt()
            rule(self, p, g, s, lr)
            if count[0] == j:
                p.flat[-1] = np.inf
            count[0] += 1

        setattr(cls, name, counting)
    try:
        yield
    finally:
        for name, rule in saved.items():
            setattr(cls, name, rule)


def _model(kind: str, opts: dict, units: int, batchnorm: bool) -> Sequential:
    set_seed(7)
    stack = [Dense(units, activation="tanh", input_shape=(5,))]
    if batchnorm:
        stack.append(BatchNormalization())
    stack.append(Dense(2))
    model = Sequential(stack)
    model.compile(OPTIMIZERS[kind](opts), "mse")
    return model


def _state(model: Sequential) -> list:
    opt = model.optimizer
    return [*model.get_weights(), *(a.copy() for a in opt.state_arrays()), opt.iterations]


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("failure", ["loss", "interrupt", "overflow"])
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@settings(deadline=None)
@given(
    opts=options,
    units=st.sampled_from([1, 3, 64]),
    batchnorm=st.booleans(),
    steps_before=st.integers(0, 2),
    j=st.integers(0, 5),
)
def test_training_on_after_a_failed_step_equals_never_having_tried_it(
    kind, opts, units, batchnorm, steps_before, failure, j
):
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(8, 5)), rng.normal(size=(8, 2))) for _ in range(steps_before + 1)]
    tried, twin = _model(kind, opts, units, batchnorm), _model(kind, opts, units, batchnorm)
    for x, y in batches[:-1]:
        tried.train_on_batch(x, y)
        twin.train_on_batch(x, y)
    before = _state(tried)
    x, y = batches[-1]
    if failure == "loss":
        with pytest.raises(DivergenceError):
            tried.train_on_batch(x, y * 1e30)
    else:
        raised = _Interrupt if failure == "interrupt" else DivergenceError
        n_params = len(tried.trainable_weights)
        with failing_update(tried.optimizer, j % n_params, failure), pytest.raises(raised):
            tried.train_on_batch(x, y)
    assert _same(_state(tried), before), "the failed step left a trace"
    assert all(w.grad is None for w in tried.trainable_weights)
    tried.train_on_batch(x, y)
    twin.train_on_batch(x, y)
    assert _same(_state(tried), _state(twin)), "training on differs from the twin's"
