"""How an optimizer is built: the rule for the first positional argument, the shared options
handled once by the base class (signature, docstring template, config), and slots created
lazily - so that a subclass sets its hyperparameters after ``super().__init__()``."""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest

from tinygrad_edu import optimizers
from tinygrad_edu.errors import CheckpointError, ConfigError
from tinygrad_edu.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ExponentialDecay,
    Optimizer,
    RMSprop,
    adaptive,
    base,
    checkpoint,
    deserialize,
    schedules,
    serialize,
    sgd,
)
from tinygrad_edu.optimizers import params as params_module
from tinygrad_edu.tensor import Tensor

CLASSES = [SGD, Adam, AdamW, RMSprop, Adagrad]


def tensors(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=s).astype(np.float32), requires_grad=True) for s in shapes]


def fields_set(err):
    return all(getattr(err, f) for f in ("where", "expected", "got", "fix"))


# ----------------------------------------------------------------------------- the first argument
@pytest.mark.parametrize("cls", CLASSES)
def test_first_argument_params_pytorch_style(cls):
    params = tensors((3, 2), (2,))
    opt = cls(params, learning_rate=0.05)
    assert opt.params == params and opt.learning_rate == 0.05
    opt = cls(params, 0.05)  # PyTorch's positional rate, second
    assert opt.params == params and opt.learning_rate == 0.05
    assert cls(x for x in params).params == params  # any iterable, a generator too
    assert cls(params[0]).params == [params[0]]  # a single Tensor
    assert cls(params).learning_rate == cls.default_learning_rate


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("rate", [0.05, 1, np.float32(0.25), ExponentialDecay(0.1, 10, 0.5)])
def test_first_argument_a_number_or_schedule_is_the_learning_rate(cls, rate):
    opt = cls(rate)
    assert not opt.built
    assert opt.learning_rate == pytest.approx(rate if not callable(rate) else rate(0))
    assert (opt.schedule is rate) == callable(rate)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Adam(0.01, learning_rate=0.1),
        lambda: Adam(0.01, 0.1),
        lambda: Adam(0.01, lr=0.1),
        lambda: SGD(tensors((2,)), 0.1, lr=0.2),
        lambda: RMSprop(learning_rate=0.1, lr=0.2),
        lambda: Adagrad(ExponentialDecay(0.1, 10, 0.5), learning_rate=0.5),
    ],
)
def test_the_learning_rate_is_given_once(make):
    with pytest.raises(ConfigError) as e:
        make()
    assert fields_set(e.value) and "once" in e.value.expected
    assert e.value.got.count("=") + e.value.got.count("first argument") >= 2


@pytest.mark.parametrize(
    "first, fix_word",
    [
        ({"params": [], "lr": 0.1}, "one optimizer per group"),
        ([{"params": tensors((2,))}], "one optimizer per group"),
        ("adam", "optimizers.get('adam')"),
        (True, "learning rate"),
        (np.zeros(3), "Tensor("),
        (lambda step: 0.1, "learning_rate=f"),  # a plain function is a schedule only by name
        (object(), "model.parameters()"),
    ],
)
def test_anything_else_first_is_a_config_error(first, fix_word):
    with pytest.raises(ConfigError) as e:
        Adam(first)
    assert fields_set(e.value) and fix_word in e.value.fix


def test_hyperparameters_are_keyword_arguments():
    with pytest.raises(TypeError):
        Adam(tensors((2,)), 0.01, 0.9)  # beta_1 positionally: Python refuses it
    assert Adam(beta_1=0.5).beta_1 == 0.5


# ----------------------------------------------------------------------------- shared options
@pytest.mark.parametrize("cls", CLASSES)
def test_signature_shows_the_class_own_arguments_with_the_config_defaults(cls):
    signature = inspect.signature(cls)
    names = list(signature.parameters)
    assert names[:2] == ["params", "learning_rate"]
    assert signature.parameters["learning_rate"].default == cls.default_learning_rate
    config = cls().get_config()
    own = [n for n in names[2:] if signature.parameters[n].kind is inspect.Parameter.KEYWORD_ONLY]
    assert own, "the class's hyperparameters appear in its signature"
    for n in own:
        assert signature.parameters[n].default == config[n], n
    assert list(signature.parameters.values())[-1].kind is inspect.Parameter.VAR_KEYWORD


@pytest.mark.parametrize("cls", [Optimizer, *CLASSES])
def test_one_docstring_template_for_the_shared_options(cls):
    doc = inspect.getdoc(cls)
    assert "{shared_options}" not in doc
    for word in ("first positional argument", "lr", "weight_decay", "global_clipnorm", "name"):
        assert word in doc, (cls.__name__, word)


@pytest.mark.parametrize("cls", CLASSES)
def test_shared_options_reach_the_base_class(cls):
    opt = cls(lr=0.5, clipnorm=2.0, weight_decay=0.01, name="mine")
    assert (opt.learning_rate, opt.clipnorm, opt.weight_decay, opt.name) == (0.5, 2.0, 0.01, "mine")
    with pytest.raises(TypeError):
        cls(clip_norm=1.0)  # a misspelt option is not swallowed by **options


def test_name_prefixes_the_state_keys_and_round_trips():
    params = tensors((2,))
    opt = Adam(params, name="encoder")
    assert {k.split("/")[0] for k in opt.state_dict() if "/" in k} == {"encoder"}
    assert repr(opt).endswith("name='encoder')") and "name" not in repr(Adam())
    clone = deserialize(serialize(opt))
    assert clone.name == "encoder" and type(clone) is Adam
    with pytest.raises(CheckpointError) as e:  # state saved under another name
        Adam(params).load_state_dict(opt.state_dict())
    assert "encoder" in e.value.fix


@pytest.mark.parametrize("bad", ["", "a/b", 3, ["adam"]])
def test_bad_names_are_config_errors(bad):
    with pytest.raises(ConfigError) as e:
        SGD(name=bad)
    assert fields_set(e.value) and "name" in e.value.expected


# ----------------------------------------------------------------------------- lazy slots
class SignMomentum(Optimizer):
    """A custom optimizer written as the base class asks: hyperparameters after
    ``super().__init__()`` (which already receives the parameters), slots read from them."""

    name = "sign_momentum"
    hyperparameters = ("beta", "start")

    def __init__(self, params=None, learning_rate=0.001, *, beta=0.9, start=0.5, **options):
        super().__init__(params, learning_rate, **options)
        self.beta = self._check("beta", beta, low=0, high=1)
        self.start = start

    def slots(self):
        return {"m": self.start}

    def update_step(self, p, g, s, lr):
        s["m"] += (g - s["m"]) * (1 - self.beta)
        p -= lr * np.sign(s["m"])


def test_a_subclass_sets_hyperparameters_after_super_init_with_params():
    params = tensors((3,), (2, 2))
    opt = SignMomentum(params, learning_rate=0.1, beta=0.5, start=2.0)
    before = [p.data.copy() for p in params]
    for p in params:
        p.grad = -np.ones_like(p.data)
    opt.step()
    m = 2.0 + (-1.0 - 2.0) * 0.5  # the slot started at `start`, read after super().__init__()
    assert m > 0  # (from the default start 0.5 it would be < 0: the step would go up)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b - np.float32(0.1))
    np.testing.assert_allclose(opt.state_dict()["sign_momentum/m/1"], np.full((2, 2), m))
    assert SignMomentum.from_config(opt.get_config()).get_config() == opt.get_config()


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, momentum=0.9),
        lambda p: Adam(p, amsgrad=True),
        lambda p: AdamW(p),
        lambda p: RMSprop(p, momentum=0.5, centered=True),
        lambda p: Adagrad(p, initial_accumulator_value=0.3),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
)
def test_slots_are_created_at_a_parameters_first_update(make):
    a, b = tensors((3, 2), (4,))
    opt = make([a, b])
    assert opt._slots == [None, None]  # nothing allocated at construction
    initial = opt.state_dict()  # reported at their initial values, still not created
    assert opt._slots == [None, None]
    a.grad = np.ones_like(a.data)
    opt.step()  # b has no gradient: not updated, no slots yet
    assert set(opt._slots[0]) == set(opt.slots()) and opt._slots[1] is None
    state = opt.state_dict()
    assert state.keys() == initial.keys()
    for key in (k for k in state if k.endswith("/1")):
        np.testing.assert_array_equal(state[key], initial[key])


def test_state_arrays_creates_the_slots_a_step_would_create():
    """fit copies ``state_arrays()`` before a step and copies them back when the step diverges:
    the first step must change those very arrays, not slots it creates itself."""
    a, frozen = tensors((3,), (2,))
    frozen.requires_grad = False
    opt = Adam([a, frozen], learning_rate=0.1)
    live = opt.state_arrays()
    assert len(live) == 2 and opt._slots[1] is None  # m, v of `a`; none for a frozen tensor
    saved = [x.copy() for x in live]
    a.grad = np.full(3, 1e3, np.float32)
    opt.step()
    assert all(not np.array_equal(x, s) for x, s in zip(live, saved))
    for x, s in zip(live, saved):  # the undo
        np.copyto(x, s)
    opt.iterations = 0
    fresh = Adam([Tensor(np.zeros(3, np.float32)), frozen], learning_rate=0.1)
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(opt.state_dict()[key], value)


def test_set_params_keeps_slots_of_known_tensors_and_drops_reshaped_ones():
    a, b = tensors((3,), (2,))
    opt = SGD([a, b], learning_rate=0.1, momentum=0.9)
    a.grad, b.grad = np.ones(3, np.float32), np.ones(2, np.float32)
    opt.step()
    kept = opt._slots[0]
    b._data = np.zeros(5, np.float32)  # rebuilt with another shape
    opt.set_params([b, a])
    assert opt._slots == [None, kept]


# ----------------------------------------------------------------------------- docstrings run
@pytest.mark.parametrize(
    "module",
    [optimizers, base, sgd, adaptive, checkpoint, params_module, schedules],
    ids=lambda m: m.__name__.rsplit(".", 1)[-1],
)
def test_docstring_examples_run(module):
    """The formulas live in the docstrings; their examples must stay true."""
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
