"""What an optimizer refuses, and that a refused step changes nothing: NaN/inf gradients (checked
for every parameter before the first write), schedules whose rate is NaN/inf/negative (at
construction and at each step), and hyperparameters out of range or of the wrong type. Also the
engine contract: an update is an in-place write, counted by the tensor's version."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_edu.errors import (
    CheckpointError,
    ConfigError,
    DivergenceError,
    InplaceModificationError,
)
from tinygrad_edu.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineDecay,
    ExponentialDecay,
    PiecewiseConstantDecay,
    RMSprop,
)
from tinygrad_edu.tensor import Tensor

ALL = {
    "sgd": SGD,
    "sgd-momentum": lambda p=None, **k: SGD(p, momentum=0.9, **k),
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": lambda p=None, **k: RMSprop(p, momentum=0.5, centered=True, **k),
    "adagrad": Adagrad,
}


def assert_teaches(err) -> None:
    """One of our errors with the fields that teach: where, expected/got and a fix."""
    assert err.where and err.fix and (err.expected is not None or err.got is not None), err


def assert_example_runs(err) -> None:
    """The call that ends the fix (``..., e.g. Adam(beta_1=0.9)``) works as written."""
    example = err.fix.rsplit("e.g. ", 1)[1]
    eval(example, globals())  # noqa: S307 - our own fix text


def named_params():
    rng = np.random.default_rng(0)
    return [
        Tensor(rng.normal(size=shape).astype(np.float32), requires_grad=True, name=name)
        for name, shape in (("kernel", (3, 2)), ("bias", (2,)), ("gamma", (4,)))
    ]


def give_grads(params, seed=1):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = rng.normal(size=p.shape).astype(np.float32)


def snapshot(params, opt):
    return [p.data.copy() for p in params], opt.state_dict()


def assert_unchanged(params, opt, before):
    values, state = before
    for p, v in zip(params, values):
        np.testing.assert_array_equal(p.data, v)
    now = opt.state_dict()
    assert now.keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(now[key], state[key])


# ----------------------------------------------------------------------------- NaN/inf gradients
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_a_non_finite_gradient_is_refused_before_any_weight_changes(make, bad):
    params = named_params()
    opt = make(params, learning_rate=0.1)
    give_grads(params)
    opt.step()  # a normal step first: the state is not trivial
    give_grads(params, seed=2)
    params[2].grad[1] = bad  # the last parameter: the others come first in the update loop
    before = snapshot(params, opt)
    with pytest.raises(DivergenceError) as err:
        opt.step()
    e = err.value
    assert_teaches(e)
    assert isinstance(e, FloatingPointError)
    assert "'gamma'" in e.got and "(4,)" in e.got and "parameter 2" in e.got
    assert ("NaN" if math.isnan(bad) else "inf") in e.got
    assert e.parameter is params[2] and e.parameter_index == 2
    assert_unchanged(params, opt, before)
    assert opt.iterations == 1


def test_non_finite_gradient_check_is_exact_for_huge_finite_gradients():
    """The fast check (a sum of squares) overflows for |g| > ~1e19 in float32: such finite
    gradients must still be accepted."""
    p = Tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = SGD([p], learning_rate=1e-30)
    p.grad = np.full(3, 1e30, np.float32)
    opt.step()
    np.testing.assert_allclose(p.data, -1.0)


def test_frozen_parameters_with_nan_gradients_are_ignored():
    params = named_params()
    params[1].requires_grad = False
    params[1].grad = np.full(2, np.nan, np.float32)
    opt = SGD(params, learning_rate=0.1)
    params[0].grad = np.ones((3, 2), np.float32)
    opt.step()
    assert opt.iterations == 1


# ----------------------------------------------------------------------------- in-place contract
@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_each_updated_parameter_counts_one_in_place_write(make):
    params = named_params()
    opt = make(params, learning_rate=0.1)
    give_grads(params[:2])  # the third has no gradient: not updated, not counted
    versions = [p._version for p in params]
    opt.step()
    assert [p._version - v for p, v in zip(params, versions)] == [1, 1, 0]


def test_backward_of_a_graph_recorded_before_the_step_is_refused():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = SGD([w], learning_rate=0.1)
    stale = (w * w).sum()  # saves w for its backward
    w.grad = np.ones(3, np.float32)
    opt.step()
    with pytest.raises(InplaceModificationError):
        stale.backward()


# ----------------------------------------------------------------------------- schedules at use
@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.1, "0.1", None, True, 10**400, np.nan])
def test_a_schedule_giving_a_bad_rate_later_stops_that_step(bad):
    def schedule(step):
        return 0.1 if step < 2 else bad

    params = named_params()
    opt = SGD(params, learning_rate=schedule)
    for _ in range(2):
        give_grads(params)
        opt.step()
    give_grads(params)
    before = snapshot(params, opt)
    with pytest.raises(ConfigError) as err:
        opt.step()
    assert_teaches(err.value)
    assert "SGD" in err.value.where and "schedule" in err.value.where
    assert "step 2" in err.value.got and repr(bad) in err.value.got
    assert_unchanged(params, opt, before)


@pytest.mark.parametrize("bad", [math.nan, -1.0, "fast"])
def test_a_schedule_bad_at_the_first_step_is_refused_at_construction(bad):
    with pytest.raises(ConfigError) as err:
        Adam(learning_rate=lambda step: bad)
    assert "step 0" in err.value.got and "<lambda>" in err.value.where


def test_a_callable_that_takes_no_step_is_refused():
    with pytest.raises(ConfigError) as err:
        SGD(learning_rate=lambda: 0.1)
    assert "schedule(step)" in err.value.expected


def test_a_schedule_reaching_zero_is_allowed():
    """CosineDecay ends at alpha * rate: 0 by default, a legitimate last rate."""
    opt = SGD(named_params(), learning_rate=CosineDecay(0.1, decay_steps=2))
    opt.iterations = 5
    assert opt.learning_rate == 0.0


# ----------------------------------------------------------------------------- hyperparameters
@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: Adam(epsilon=0), "epsilon"),
        (lambda: AdamW(epsilon=0.0), "epsilon"),
        (lambda: RMSprop(epsilon=0), "epsilon"),
        (lambda: Adagrad(epsilon=0), "epsilon"),
        (lambda: Adam(epsilon=math.nan), "epsilon"),
        (lambda: SGD(learning_rate=10**400), "learning_rate"),
        (lambda: Adam(beta_1=1), "beta_1"),
        (lambda: Adam(beta_2=1.0), "beta_2"),
        (lambda: Adam(beta_1=-0.01), "beta_1"),
        (lambda: SGD(momentum=1.01), "momentum"),
        (lambda: RMSprop(momentum=-0.5), "momentum"),
        (lambda: SGD(weight_decay=-1e-4), "weight_decay"),
        (lambda: AdamW(weight_decay=-0.004), "weight_decay"),
        (lambda: SGD(clipnorm=0), "clipnorm"),
        (lambda: SGD(global_clipnorm=-1.0), "global_clipnorm"),
        (lambda: SGD(clipvalue=0.0), "clipvalue"),
        (lambda: SGD(momentum=True), "momentum"),
        (lambda: Adam(beta_1="0.9"), "beta_1"),
        (lambda: SGD(clipnorm=True), "clipnorm"),
        (lambda: SGD(weight_decay="0.01"), "weight_decay"),
        (lambda: Adam(amsgrad="False"), "amsgrad"),
        (lambda: SGD(nesterov=1), "nesterov"),
        (lambda: RMSprop(centered="yes"), "centered"),
        (lambda: ExponentialDecay(0.1, 10, 0.5, staircase="no"), "staircase"),
        (lambda: ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5), "decay_steps"),
        (lambda: PiecewiseConstantDecay(boundaries=10, values=[0.1, 0.01]), "boundaries"),
        (lambda: PiecewiseConstantDecay(boundaries=[10], values=[0.1, -0.01]), "value"),
    ],
)
def test_bad_hyperparameters_are_config_errors_naming_them(make, name):
    with pytest.raises(ConfigError) as err:
        make()
    assert_teaches(err.value)
    assert name in err.value.expected
    assert_example_runs(err.value)


def test_numpy_numbers_and_bools_are_accepted():
    opt = Adam(learning_rate=np.float32(0.01), beta_1=np.float64(0.8), amsgrad=np.bool_(True))
    assert opt.amsgrad is True and opt.beta_1 == pytest.approx(0.8)


@pytest.mark.parametrize("cls", [SGD, Adam, ExponentialDecay])
def test_from_config_with_an_unknown_key_is_a_config_error(cls):
    if cls is ExponentialDecay:
        config = {**ExponentialDecay(0.1, 10, 0.5).get_config(), "decay": 0.5}
    else:
        config = {**cls().get_config(), "lerning_rate": 0.1}
    with pytest.raises(ConfigError) as err:
        cls.from_config(config)
    assert_teaches(err.value)


def test_from_config_of_a_schedule_without_a_required_argument():
    with pytest.raises(ConfigError) as err:
        ExponentialDecay.from_config({"initial_learning_rate": 0.1})
    assert "decay_steps" in err.value.got


def test_a_state_with_nan_moments_is_not_loaded():
    params = named_params()
    opt = Adam(params)
    state = opt.state_dict()
    state["adam/m/1"] = np.full(2, np.nan, np.float32)
    before = snapshot(params, opt)
    with pytest.raises(CheckpointError) as err:
        opt.load_state_dict(state)
    assert "adam/m/1" in err.value.expected
    assert_unchanged(params, opt, before)
