"""Optimizer contract: what step() touches, in place and dtype, parameters handover, arguments,
errors (asserting on fields, not wording), and ``get``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.errors import ConfigError, NotBuiltError, ShapeError
from tinygrad_edu.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ExponentialDecay,
    Optimizer,
    PiecewiseConstantDecay,
    RMSprop,
    get,
)
from tinygrad_edu.tensor import Tensor

ALL = [
    SGD,
    lambda p=None, **k: SGD(p, momentum=0.9, nesterov=True, **k),
    Adam,
    lambda p=None, **k: Adam(p, amsgrad=True, **k),
    AdamW,
    RMSprop,
    lambda p=None, **k: RMSprop(p, momentum=0.5, centered=True, **k),
    Adagrad,
]
ALL_IDS = [
    "sgd",
    "sgd-nesterov",
    "adam",
    "adam-amsgrad",
    "adamw",
    "rmsprop",
    "rmsprop-all",
    "adagrad",
]


def fields_set(err):
    return all(getattr(err, f) for f in ("where", "expected", "got", "fix"))


def tensor(shape=(3, 2), dtype=np.float32, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- what step touches
@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_step_updates_in_place_and_keeps_float32(make):
    p = tensor()
    data_before, values_before = p.data, p.data.copy()
    opt = make([p], learning_rate=0.1)
    for _ in range(3):
        p.grad = np.ones_like(p.data)
        opt.step()
    assert p.data is data_before
    assert p.data.dtype == np.float32
    assert not np.allclose(p.data, values_before)
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_float64_parameters_stay_float64(make):
    p = tensor(dtype=np.float64)
    opt = make([p], learning_rate=0.1)
    p.grad = np.ones(p.shape, dtype=np.float32)
    opt.step()
    assert p.data.dtype == np.float64


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_frozen_and_gradless_params_are_untouched(make):
    frozen, gradless, live = tensor(seed=1, requires_grad=False), tensor(seed=2), tensor(seed=3)
    frozen.grad = np.ones_like(frozen.data)  # even with a stray gradient
    before = [t.data.copy() for t in (frozen, gradless, live)]
    opt = make([frozen, gradless, live], learning_rate=0.1, weight_decay=0.5)
    live.grad = np.ones_like(live.data)
    opt.step()
    np.testing.assert_array_equal(frozen.data, before[0])
    np.testing.assert_array_equal(gradless.data, before[1])
    assert not np.allclose(live.data, before[2])
    assert opt.iterations == 1


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_gradient_array_is_never_modified(make):
    p = tensor()
    grad = np.full(p.shape, 0.5, dtype=np.float32)
    opt = make([p], learning_rate=0.1, clipnorm=0.1)
    for _ in range(2):
        p.grad = grad
        opt.step()
    np.testing.assert_array_equal(grad, 0.5)


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_step_updates_the_same_slot_arrays_in_place(make):
    """The slots are created once and then written in place: ``state_arrays()`` hands out the
    live arrays (fit's undo copies them back), so a step must never replace them."""
    p = tensor()
    opt = make([p], learning_rate=0.1, clipvalue=0.2)
    p.grad = np.ones_like(p.data)
    opt.step()
    live = opt.state_arrays()
    before = [a.copy() for a in live]
    for _ in range(3):
        opt.step()
    assert [id(a) for a in opt.state_arrays()] == [id(a) for a in live]
    for a, b in zip(live, before):  # and they are the ones that change (Adagrad's every step)
        assert not np.array_equal(a, b)


def test_zero_grad_sets_grads_to_none_and_iterations_count_steps():
    a, b = tensor(), tensor()
    opt = Adam([a, b])
    a.grad, b.grad = np.ones_like(a.data), np.ones_like(b.data)
    opt.step()
    opt.step()
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    assert opt.iterations == 2


def test_works_with_real_backward():
    w = Tensor(np.array([1.0, -2.0, 3.0], dtype=np.float32), requires_grad=True)
    opt = SGD([w], learning_rate=0.25)
    for _ in range(30):
        loss = (w * w).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w.data, 0.0, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=4).map(tuple))
def test_any_shape_including_scalars_and_empty(shape):
    p = Tensor(np.ones(shape, dtype=np.float32), requires_grad=True)
    opt = Adam([p], learning_rate=0.1, global_clipnorm=1.0)
    p.grad = np.ones(shape, dtype=np.float32)
    opt.step()
    assert p.data.shape == shape and p.data.dtype == np.float32
    assert np.all(p.data < 1.0) or p.data.size == 0


# ----------------------------------------------------------------------------- params handover
def test_params_given_later_with_set_params():
    opt = get("adam")
    assert not opt.built and opt.params == []
    p = tensor()
    assert opt.set_params([p]) is opt
    assert opt.built and opt.params == [p]
    p.grad = np.ones_like(p.data)
    opt.step()
    assert opt.iterations == 1


def test_set_params_again_keeps_state_of_known_tensors():
    a, b = tensor(seed=1), tensor(seed=2)
    opt = SGD([a], learning_rate=0.1, momentum=0.9)
    a.grad = np.ones_like(a.data)
    opt.step()
    velocity = opt.state_dict()["sgd/velocity/0"]
    opt.set_params([b, a])  # a is now at position 1
    state = opt.state_dict()
    np.testing.assert_array_equal(state["sgd/velocity/1"], velocity)
    np.testing.assert_array_equal(state["sgd/velocity/0"], 0.0)
    assert opt.iterations == 1


def test_single_tensor_generator_and_duplicates_are_accepted():
    p = tensor()
    assert SGD(p).params == [p]
    assert SGD(x for x in [p]).params == [p]
    assert SGD([p, p]).params == [p]  # a shared weight is updated once


def test_step_without_params_is_a_not_built_error():
    with pytest.raises(NotBuiltError) as e:
        Adam().step()
    assert fields_set(e.value) and "set_params" in e.value.fix
    Adam().zero_grad()  # nothing to zero: fine


@pytest.mark.parametrize(
    "bad, fix_word",
    [
        ([], "input_shape"),
        ([np.zeros(3)], "Tensor("),
        (5j, "parameters()"),
        ([Tensor(np.zeros(3), dtype=np.int64)], "float"),
        ([object()], "list of Tensors"),
    ],
)
def test_bad_params_are_config_errors(bad, fix_word):
    with pytest.raises(ConfigError) as e:
        SGD(bad)
    assert fields_set(e.value) and fix_word in e.value.fix


def test_model_method_instead_of_its_result():
    class Model:
        def parameters(self):
            return [tensor()]

    with pytest.raises(ConfigError) as e:
        Adam(Model().parameters)
    assert "model.parameters()" in e.value.fix
    with pytest.raises(ConfigError) as e:
        Adam([Model()])
    assert "model.parameters()" in e.value.fix


def test_gradient_of_wrong_shape_is_a_shape_error():
    p = tensor((3, 2))
    p.grad = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(ShapeError) as e:
        Adam([p]).step()
    assert fields_set(e.value) and "(3, 2)" in e.value.expected and "(2, 3)" in e.value.got


# ----------------------------------------------------------------------------- arguments
def test_lr_is_an_alias_of_learning_rate():
    assert SGD(lr=0.3).learning_rate == 0.3
    opt = Adam(lr=0.02)
    assert opt.learning_rate == opt.lr == 0.02
    opt.lr = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ConfigError) as e:
        Adam(learning_rate=0.1, lr=0.2)
    assert fields_set(e.value)


def test_keras_positional_learning_rate():
    opt = Adam(0.01)
    assert opt.learning_rate == 0.01 and not opt.built
    s = ExponentialDecay(0.1, 10, 0.5)
    assert SGD(s).learning_rate == 0.1
    with pytest.raises(ConfigError):
        Adam(0.01, learning_rate=0.1)


def test_defaults_match_keras():
    assert SGD().get_config() == {
        "learning_rate": 0.01,
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": None,
        "clipnorm": None,
        "clipvalue": None,
        "global_clipnorm": None,
        "name": "sgd",
    }
    cfg = Adam().get_config()
    assert (cfg["learning_rate"], cfg["beta_1"], cfg["beta_2"], cfg["epsilon"], cfg["amsgrad"]) == (
        0.001,
        0.9,
        0.999,
        1e-7,
        False,
    )
    assert AdamW().weight_decay == 0.004
    cfg = RMSprop().get_config()
    assert (cfg["learning_rate"], cfg["rho"], cfg["momentum"], cfg["epsilon"], cfg["centered"]) == (
        0.001,
        0.9,
        0.0,
        1e-7,
        False,
    )
    cfg = Adagrad().get_config()
    assert (cfg["learning_rate"], cfg["initial_accumulator_value"], cfg["epsilon"]) == (
        0.001,
        0.1,
        1e-7,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(learning_rate=0),
        lambda: SGD(learning_rate=-0.1),
        lambda: Adam(learning_rate=float("nan")),
        lambda: Adam(learning_rate="fast"),
        lambda: SGD(learning_rate=True),
        lambda: SGD(momentum=-0.1),
        lambda: SGD(momentum=1.5),
        lambda: Adam(beta_1=1.0),
        lambda: Adam(beta_2=-0.1),
        lambda: Adam(epsilon=-1e-7),
        lambda: AdamW(weight_decay=None),
        lambda: Adam(weight_decay=-0.1),
        lambda: RMSprop(rho=1.0),
        lambda: RMSprop(momentum=-1),
        lambda: Adagrad(initial_accumulator_value=-0.1),
        lambda: SGD(clipnorm=0),
        lambda: SGD(clipvalue=-1),
        lambda: SGD(clipnorm=1.0, clipvalue=1.0),
        lambda: SGD(learning_rate=ExponentialDecay),
    ],
)
def test_bad_hyperparameters_are_config_errors(make):
    with pytest.raises(ConfigError) as e:
        make()
    assert fields_set(e.value)
    assert type(e.value).__name__ in str(e.value)


def test_learning_rate_is_settable():
    opt = SGD(learning_rate=0.1)
    opt.learning_rate = 0.01
    assert opt.learning_rate == 0.01
    assert opt.get_config()["learning_rate"] == 0.01
    with pytest.raises(ConfigError):
        opt.learning_rate = 0.0
    assert opt.learning_rate == 0.01


def test_learning_rate_is_the_schedule_at_iterations():
    p = tensor(dtype=np.float64)
    schedule = PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    opt = SGD([p], learning_rate=schedule)
    start = p.data.copy()
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        p.grad = np.ones_like(p.data)
        opt.step()
    assert seen == [1.0, 1.0, 0.5, 0.25]
    np.testing.assert_allclose(p.data, start - sum(seen))
    with pytest.raises(ConfigError) as e:  # Keras: a scheduled rate cannot be set to a number
        opt.learning_rate = 0.1
    assert fields_set(e.value)
    opt.learning_rate = lambda step: 0.125  # a new schedule (any callable step -> rate) is fine
    assert opt.learning_rate == 0.125


# ----------------------------------------------------------------------------- get
@pytest.mark.parametrize(
    "name, cls",
    [
        ("sgd", SGD),
        ("SGD", SGD),
        ("adam", Adam),
        ("Adam", Adam),
        ("adamw", AdamW),
        ("AdamW", AdamW),
        ("rmsprop", RMSprop),
        ("RMSprop", RMSprop),
        ("adagrad", Adagrad),
    ],
)
def test_get_by_name_gives_a_fresh_default_instance(name, cls):
    opt = get(name)
    assert type(opt) is cls and not opt.built
    assert get(name) is not opt
    assert opt.get_config() == cls().get_config()


def test_get_passes_instances_through_and_builds_classes():
    opt = Adam(learning_rate=0.5)
    assert get(opt) is opt
    assert type(get(RMSprop)) is RMSprop
    assert isinstance(get({"class_name": "SGD", "config": {"momentum": 0.5}}), Optimizer)


@pytest.mark.parametrize(
    "bad, suggestion",
    [("adma", "adam"), ("rms_prop", "rmsprop"), ("sgdd", "sgd"), ("nadam", None), (3, None)],
)
def test_get_unknown_is_a_config_error_with_suggestion(bad, suggestion):
    with pytest.raises(ConfigError) as e:
        get(bad)
    assert fields_set(e.value)
    assert repr(bad) in e.value.got
    for name in ("adam", "sgd", "rmsprop", "adagrad", "adamw"):
        assert repr(name) in e.value.expected
    if suggestion:
        assert f"did you mean {suggestion!r}" in e.value.fix
