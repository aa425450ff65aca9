"""Learning-rate schedules against their Keras formulas."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.errors import ConfigError
from tinygrad_edu.optimizers import (
    CosineDecay,
    ExponentialDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    schedules,
)

FAST = settings(max_examples=50, deadline=None)
steps = st.integers(0, 10_000)


@FAST
@given(
    step=steps,
    lr=st.floats(1e-4, 1.0),
    decay_steps=st.integers(1, 500),
    rate=st.floats(0.1, 1.0),
    staircase=st.booleans(),
)
def test_exponential_decay(step, lr, decay_steps, rate, staircase):
    p = step / decay_steps
    want = lr * rate ** (math.floor(p) if staircase else p)
    got = ExponentialDecay(lr, decay_steps, rate, staircase=staircase)(step)
    assert got == pytest.approx(want, rel=1e-12)


def test_piecewise_constant_decay_boundaries_belong_to_the_left_piece():
    s = PiecewiseConstantDecay(boundaries=[100, 110], values=[1.0, 0.5, 0.1])
    assert [s(0), s(100), s(101), s(110), s(111), s(10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def cosine_reference(step, lr, decay_steps, alpha, target, warmup):
    if target is None:
        s = min(step, decay_steps)
        return lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
    s = min(step, decay_steps + warmup)
    if s < warmup:
        return lr + (target - lr) * s / warmup
    s -= warmup
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)


@FAST
@given(
    step=steps,
    lr=st.floats(0.0, 1.0),
    decay_steps=st.integers(1, 2000),
    alpha=st.floats(0.0, 1.0),
    target=st.none() | st.floats(1e-3, 1.0),
    warmup=st.integers(0, 300),
)
def test_cosine_decay(step, lr, decay_steps, alpha, target, warmup):
    s = CosineDecay(lr, decay_steps, alpha=alpha, warmup_target=target, warmup_steps=warmup)
    want = cosine_reference(step, lr, decay_steps, alpha, target, warmup)
    assert s(step) == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_cosine_decay_landmarks():
    s = CosineDecay(1.0, 100, alpha=0.1)
    assert s(0) == 1.0 and s(50) == pytest.approx(0.55) and s(100) == s(1000) == pytest.approx(0.1)
    w = CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert w(0) == 0.0 and w(5) == 0.5 and w(10) == 1.0 and w(110) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "schedule",
    [
        ExponentialDecay(0.1, 10, 0.9, staircase=True),
        PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001]),
        CosineDecay(0.1, 100, alpha=0.2, warmup_target=0.5, warmup_steps=3),
    ],
)
def test_config_round_trip(schedule):
    assert isinstance(schedule, LearningRateSchedule)
    clone = type(schedule).from_config(schedule.get_config())
    assert clone == schedule and [clone(i) for i in range(20)] == [schedule(i) for i in range(20)]
    assert schedules.deserialize(schedules.serialize(schedule)) == schedule


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExponentialDecay(0.1, 0, 0.5),
        lambda: ExponentialDecay(-0.1, 10, 0.5),
        lambda: ExponentialDecay(0.1, 10, 0.0),
        lambda: PiecewiseConstantDecay([10, 20], [1.0, 0.5]),
        lambda: PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1]),
        lambda: CosineDecay(0.1, 0),
        lambda: CosineDecay(0.1, 10, alpha=1.5),
        lambda: CosineDecay(0.1, 10, warmup_steps=-1),
        lambda: schedules.deserialize({"class_name": "CosineDeacy", "config": {}}),
    ],
)
def test_bad_schedule_arguments_are_config_errors(make):
    with pytest.raises(ConfigError) as e:
        make()
    assert all(getattr(e.value, f) for f in ("where", "expected", "got", "fix"))
