"""A number that changes per batch reaches a replayed step only as an argument of the step:
as a 0-d array it is read afresh at every replay; as a Python float it is guarded by its value
(a new value runs eagerly). Either way the results equal eager's, byte for byte."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import losses, optimizers
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential


def make_step(model):
    opt = optimizers.SGD(model.trainable_weights, learning_rate=0.1)

    def step(x, y, w):
        out = model(x, training=True)
        loss = losses.binary_crossentropy(y, out) * w
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    return step


def twins():
    tg.set_seed(0)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1, "sigmoid")])
    return model, copy.deepcopy(model)


@pytest.mark.parametrize("as_array", [True, False])
def test_a_per_batch_factor_passed_as_an_argument_follows_every_batch(as_array):
    eager_model, jit_model = twins()
    eager, jitted = make_step(eager_model), tg.jit(make_step(jit_model))
    rng = np.random.default_rng(0)
    modes = []
    for w in [0.5, 0.5, 0.25, 0.9, 0.3, 0.3]:
        x = rng.normal(size=(4, 3)).astype(np.float32)
        y = rng.integers(0, 2, (4, 1)).astype(np.float32)
        arg = np.array(w, dtype=np.float32) if as_array else w
        a, b = eager(x, y, arg), jitted(x, y, arg)
        modes.append(jitted.last_mode)
        assert a.numpy().tobytes() == b.numpy().tobytes()
        for p, q in zip(eager_model.weights, jit_model.weights):
            assert p.numpy().tobytes() == q.numpy().tobytes()
    if as_array:  # read afresh at every replay
        assert modes == ["eager", "capture", "replay", "replay", "replay", "replay"]
    else:  # guarded by value: a new value is a guard miss, never a stale number
        assert "replay" not in modes[:5]
