"""Each optimizer against its update rule written out by hand in numpy (float64, several steps)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from tinygrad_edu.tensor import Tensor

FAST = settings(max_examples=25, deadline=None)


# ----------------------------------------------------------------------------- references
def ref_sgd(lr, momentum=0.0, nesterov=False):
    def rule(p, g, s, t):
        if momentum == 0:
            return p - lr * g
        s["v"] = momentum * s.get("v", 0.0) - lr * g
        return p + (momentum * s["v"] - lr * g if nesterov else s["v"])

    return rule


def ref_adam(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    def rule(p, g, s, t):
        s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
        s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
        v = s["v"]
        if amsgrad:
            s["vhat"] = v = np.maximum(s.get("vhat", 0.0), s["v"])
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        return p - alpha * s["m"] / (np.sqrt(v) + eps)

    return rule


def ref_rmsprop(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def rule(p, g, s, t):
        s["vel"] = rho * s.get("vel", 0.0) + (1 - rho) * g * g
        denom = s["vel"] + eps
        if centered:
            s["avg"] = rho * s.get("avg", 0.0) + (1 - rho) * g
            denom = s["vel"] - s["avg"] ** 2 + eps
        inc = lr * g / np.sqrt(denom)
        if momentum > 0:
            s["mom"] = momentum * s.get("mom", 0.0) + inc
            return p - s["mom"]
        return p - inc

    return rule


def ref_adagrad(lr, init=0.1, eps=1e-7):
    def rule(p, g, s, t):
        s["acc"] = s.get("acc", init) + g * g
        return p - lr * g / np.sqrt(s["acc"] + eps)

    return rule


def run_reference(rule, params, grad_steps, lr, wd=None, clip=None):
    """Apply ``rule`` step by step; ``clip`` = ("value"|"norm"|"global", c) as Keras does it."""
    params = [p.copy() for p in params]
    states = [{} for _ in params]
    for t, grads in enumerate(grad_steps, start=1):
        grads = [g.copy() for g in grads]
        if clip and clip[0] == "value":
            grads = [np.clip(g, -clip[1], clip[1]) for g in grads]
        elif clip and clip[0] == "norm":
            grads = [g * clip[1] / max(np.linalg.norm(g), clip[1]) for g in grads]
        elif clip and clip[0] == "global":
            total = np.sqrt(sum(np.sum(g * g) for g in grads))
            grads = [g * clip[1] / max(total, clip[1]) for g in grads]
        for i, g in enumerate(grads):
            if wd:
                params[i] = params[i] - params[i] * wd * lr
            params[i] = rule(params[i], g, states[i], t)
    return params


def run_optimizer(opt_cls, params, grad_steps, **kwargs):
    tensors = [Tensor(p.copy(), requires_grad=True) for p in params]
    opt = opt_cls(tensors, **kwargs)
    for grads in grad_steps:
        for tensor, g in zip(tensors, grads):
            tensor.grad = g.copy()
        opt.step()
        opt.zero_grad()
    return [t.data for t in tensors]


def make_problem(shapes, steps, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]
    grads = [[scale * rng.normal(size=s) for s in shapes] for _ in range(steps)]
    return params, grads


shapes_st = st.lists(st.lists(st.integers(1, 4), max_size=3).map(tuple), min_size=1, max_size=3)

CASES = [
    (SGD, {"learning_rate": 0.1}, ref_sgd(0.1)),
    (SGD, {"learning_rate": 0.05, "momentum": 0.9}, ref_sgd(0.05, 0.9)),
    (SGD, {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True}, ref_sgd(0.05, 0.8, True)),
    (Adam, {"learning_rate": 0.01}, ref_adam(0.01)),
    (
        Adam,
        {"learning_rate": 0.02, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3},
        ref_adam(0.02, 0.5, 0.9, 1e-3),
    ),
    (Adam, {"learning_rate": 0.01, "amsgrad": True}, ref_adam(0.01, amsgrad=True)),
    (RMSprop, {"learning_rate": 0.01}, ref_rmsprop(0.01)),
    (RMSprop, {"learning_rate": 0.01, "momentum": 0.9}, ref_rmsprop(0.01, momentum=0.9)),
    (RMSprop, {"learning_rate": 0.01, "centered": True}, ref_rmsprop(0.01, centered=True)),
    (
        RMSprop,
        {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True, "epsilon": 1e-4},
        ref_rmsprop(0.01, 0.8, 0.5, 1e-4, True),
    ),
    (Adagrad, {"learning_rate": 0.1}, ref_adagrad(0.1)),
    (
        Adagrad,
        {"learning_rate": 0.1, "initial_accumulator_value": 1.0, "epsilon": 1e-3},
        ref_adagrad(0.1, 1.0, 1e-3),
    ),
]
IDS = [f"{c.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for c, kw, _ in CASES]


@pytest.mark.parametrize("opt_cls, kwargs, rule", CASES, ids=IDS)
@FAST
@given(shapes=shapes_st, steps=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_update_rule_matches_hand_written_formula(opt_cls, kwargs, rule, shapes, steps, seed):
    params, grads = make_problem(shapes, steps, seed)
    got = run_optimizer(opt_cls, params, grads, **kwargs)
    want = run_reference(rule, params, grads, kwargs["learning_rate"])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("opt_cls, kwargs, rule", CASES[::2], ids=IDS[::2])
def test_decoupled_weight_decay(opt_cls, kwargs, rule):
    params, grads = make_problem([(3, 2), (4,)], 5, seed=1)
    got = run_optimizer(opt_cls, params, grads, weight_decay=0.1, **kwargs)
    want = run_reference(rule, params, grads, kwargs["learning_rate"], wd=0.1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_adamw_is_adam_with_decoupled_decay():
    params, grads = make_problem([(3, 2), (4,)], 5, seed=2)
    got = run_optimizer(AdamW, params, grads, learning_rate=0.01)  # default weight_decay 0.004
    want = run_reference(ref_adam(0.01), params, grads, 0.01, wd=0.004)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    got = run_optimizer(AdamW, params, grads, learning_rate=0.01, weight_decay=0.0)
    want = run_optimizer(Adam, params, grads, learning_rate=0.01)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("clip", [("value", 0.5), ("norm", 1.0), ("global", 1.5)])
@pytest.mark.parametrize("opt_cls, kwargs, rule", [CASES[1], CASES[3]], ids=[IDS[1], IDS[3]])
@FAST
@given(
    shapes=shapes_st,
    steps=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([0.01, 1.0, 10.0]),
)
def test_clipping(opt_cls, kwargs, rule, clip, shapes, steps, seed, scale):
    params, grads = make_problem(shapes, steps, seed, scale)
    arg = {"value": "clipvalue", "norm": "clipnorm", "global": "global_clipnorm"}[clip[0]]
    got = run_optimizer(opt_cls, params, grads, **{arg: clip[1]}, **kwargs)
    want = run_reference(rule, params, grads, kwargs["learning_rate"], clip=clip)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("arg", ["clipvalue", "clipnorm", "global_clipnorm"])
def test_clipping_never_touches_the_gradient_array(arg):
    p = Tensor(np.zeros(3), requires_grad=True)
    grad = np.array([10.0, -20.0, 0.5])
    p.grad = grad
    SGD([p], learning_rate=1.0, **{arg: 0.1}).step()
    np.testing.assert_array_equal(grad, [10.0, -20.0, 0.5])
    assert p.grad is grad
    assert np.all(np.abs(p.data) <= 0.1 + 1e-12)


def test_float32_matches_float64_reference_closely():
    params, grads = make_problem([(5, 3)], 10, seed=3)
    p32 = [p.astype(np.float32) for p in params]
    g32 = [[g.astype(np.float32) for g in step] for step in grads]
    for opt_cls, kwargs, rule in CASES:
        got = run_optimizer(opt_cls, p32, g32, **kwargs)[0]
        want = run_reference(rule, params, grads, kwargs["learning_rate"])[0]
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=opt_cls.__name__)
