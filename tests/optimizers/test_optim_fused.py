"""The fast update forms (``fused_update_step``: in place, one temporary array reused) against the
formula form (``update_step``, the reference, run under ``config.fused(False)``), and the one
fused finiteness check of all gradients against a per-gradient check."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import config
from tinygrad_edu.errors import DivergenceError
from tinygrad_edu.layers import Dense
from tinygrad_edu.optimizers import SGD, Adam, AdamW
from tinygrad_edu.tensor import Tensor

FAST = settings(max_examples=25, deadline=None)

#: every optimizer with a fused form, in each of its branches
FUSED = {
    "sgd": lambda ps, **k: SGD(ps, learning_rate=0.1, **k),
    "sgd-momentum": lambda ps, **k: SGD(ps, learning_rate=0.05, momentum=0.9, **k),
    "sgd-nesterov": lambda ps, **k: SGD(ps, learning_rate=0.05, momentum=0.8, nesterov=True, **k),
    "adam": lambda ps, **k: Adam(ps, learning_rate=0.01, **k),
    "adam-amsgrad": lambda ps, **k: Adam(ps, learning_rate=0.02, beta_1=0.5, amsgrad=True, **k),
    "adamw": lambda ps, **k: AdamW(ps, learning_rate=0.01, **k),
}
OPTIONS = [{}, {"weight_decay": 0.1}, {"clipnorm": 0.5}, {"global_clipnorm": 1.0}]
shapes_st = st.lists(st.lists(st.integers(1, 5), max_size=3).map(tuple), min_size=1, max_size=4)


def train(make, params, grad_steps, fused, **options):
    """The parameters and the slots after the steps, fused form or formula form."""
    tensors = [Tensor(p.copy(), requires_grad=True, dtype=p.dtype) for p in params]
    opt = make(tensors, **options)
    with config.fused(fused):
        for grads in grad_steps:
            for t, g in zip(tensors, grads):
                t.grad = g.copy()
            opt.step()
    return [t.data for t in tensors], opt.state_dict()


def problem(shapes, steps, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(steps)]
    return params, grads


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("make", FUSED.values(), ids=FUSED.keys())
@FAST
@given(shapes=shapes_st, steps=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_the_fused_form_equals_the_formula(make, options, shapes, steps, seed):
    params, grads = problem(shapes, steps, seed)
    fast, fast_state = train(make, params, grads, True, **options)
    formula, formula_state = train(make, params, grads, False, **options)
    for a, b in zip(fast, formula):  # float64: only the rounding order differs
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert fast_state.keys() == formula_state.keys()
    for key in fast_state:
        np.testing.assert_allclose(fast_state[key], formula_state[key], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("make", FUSED.values(), ids=FUSED.keys())
def test_the_fused_form_equals_the_formula_in_float32(make):
    params, grads = problem([(784, 32), (32,), (32, 10), (10,)], 5, seed=4, dtype=np.float32)
    fast, _ = train(make, params, grads, True)
    formula, _ = train(make, params, grads, False)
    for a, b in zip(fast, formula):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)  # a few ulp of |p| ~ 2


class Counting(SGD):
    """SGD with momentum that counts which form ran."""

    def __init__(self, params):
        super().__init__(params, learning_rate=0.1, momentum=0.5)
        self.calls = {"formula": 0, "fused": 0}

    def update_step(self, p, g, s, lr):
        self.calls["formula"] += 1
        super().update_step(p, g, s, lr)

    def fused_update_step(self, p, g, s, lr):
        self.calls["fused"] += 1
        super().fused_update_step(p, g, s, lr)


def test_the_one_switch_chooses_the_form():
    w = Tensor(np.ones(3), requires_grad=True)
    opt = Counting([w])
    w.grad = np.ones(3)
    opt.step()
    with config.fused(False):
        opt.step()
        opt.step()
    assert opt.calls == {"fused": 1, "formula": 2}


@pytest.mark.parametrize("kind", ["sgd", "sgd-nesterov"])
def test_the_fused_form_follows_a_parameter_cast_to_float64(kind):
    """check_layer casts a layer's weights: after the cast both forms compute in float64. (Slots
    made before the cast stay float32; Adam's formula then computes its last term in float32, its
    fused form in float64 - they differ by ~1e-11, so only the SGD forms, whose terms are float64
    either way, are compared here.)"""
    make = FUSED[kind]
    results = []
    for fused in (True, False):
        layer = Dense(3, kernel_initializer="ones")
        layer.build_for((None, 2))
        opt = make(layer.weights)
        with config.fused(fused):
            for dtype in (np.float32, np.float64, np.float64):
                layer.cast(dtype)
                for w in layer.weights:
                    w.grad = np.full(w.shape, 1 / 3, dtype)
                opt.step()
        results.append([w.data for w in layer.weights])
    for fast, formula in zip(*results):
        assert fast.dtype == np.float64
        np.testing.assert_allclose(fast, formula, rtol=1e-13, atol=1e-15)  # float32 is ~1e-8


# ----------------------------------------------------------------------------- the fused check
@given(
    sizes=st.lists(st.integers(1, 50), min_size=1, max_size=5),
    bad_at=st.data(),
    bad=st.sampled_from([math.nan, math.inf, -math.inf, 1e30, -3e38]),
)
@FAST
def test_the_fused_check_refuses_exactly_the_steps_a_per_gradient_check_refuses(sizes, bad_at, bad):
    """One sum of squares for all gradients: NaN/inf anywhere is found and named (the first
    parameter holding one), and huge finite values that overflow the sum are let through."""
    rng = np.random.default_rng(len(sizes))
    params = [Tensor(np.zeros(n, np.float32), requires_grad=True) for n in sizes]
    for p in params:
        p.grad = rng.normal(size=p.shape).astype(np.float32)
    i = bad_at.draw(st.integers(0, len(sizes) - 1))
    params[i].grad[bad_at.draw(st.integers(0, sizes[i] - 1))] = bad
    opt = SGD(params, learning_rate=1e-40)
    first_bad = next((k for k, p in enumerate(params) if not np.isfinite(p.grad).all()), None)
    if first_bad is None:
        opt.step()
        assert opt.iterations == 1
        return
    with pytest.raises(DivergenceError) as err:
        opt.step()
    assert err.value.parameter_index == first_bad and err.value.parameter is params[first_bad]
    assert all((p.data == 0).all() for p in params) and opt.iterations == 0
