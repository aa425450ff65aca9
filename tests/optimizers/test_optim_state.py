"""Checkpoints and configs: state_dict / load_state_dict (also through .npz), get_config."""

import ast
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.errors import CheckpointError
from tinygrad_edu.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineDecay,
    RMSprop,
    checkpoint,
    deserialize,
    serialize,
)
from tinygrad_edu.tensor import Tensor

MAKERS = {
    "sgd": lambda p: SGD(p, learning_rate=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: Adam(p, learning_rate=0.01, amsgrad=True, clipnorm=1.0),
    "adamw": lambda p: AdamW(p, learning_rate=CosineDecay(0.01, 20)),
    "rmsprop": lambda p: RMSprop(p, momentum=0.5, centered=True, weight_decay=0.01),
    "adagrad": lambda p: Adagrad(p, learning_rate=0.1),
}


def fields_set(err):
    return all(getattr(err, f) for f in ("where", "expected", "got", "fix"))


def make_params(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=s).astype(np.float32), requires_grad=True) for s in shapes]


def train(opt, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = rng.normal(size=p.shape).astype(np.float32)
        opt.step()
        opt.zero_grad()


@pytest.mark.parametrize("name", sorted(MAKERS))
@settings(max_examples=10, deadline=None)
@given(before=st.integers(0, 4), after=st.integers(1, 4), via_npz=st.booleans())
def test_resume_from_state_dict_equals_uninterrupted(
    name, before, after, via_npz, tmp_path_factory
):
    shapes = [(4, 3), (3,)]
    straight = make_params(shapes)
    opt = MAKERS[name](straight)
    train(opt, straight, before, seed=1)
    saved_state = opt.state_dict()
    saved_weights = [p.data.copy() for p in straight]
    train(opt, straight, after, seed=2)

    resumed = make_params(shapes, seed=99)
    for p, w in zip(resumed, saved_weights):
        p.data[...] = w
    opt2 = MAKERS[name](resumed)
    if via_npz:
        path = tmp_path_factory.mktemp("ckpt") / "opt.npz"
        np.savez(path, **saved_state)
        with np.load(path) as f:
            opt2.load_state_dict(f)
    else:
        opt2.load_state_dict(saved_state)
    assert opt2.iterations == before
    train(opt2, resumed, after, seed=2)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.data, b.data)
    assert opt2.iterations == opt.iterations


def test_state_dict_key_format_and_copies():
    p = make_params([(2, 2), (2,)])
    opt = Adam(p, amsgrad=True)
    for q in p:
        q.grad = np.ones_like(q.data)
    opt.step()
    state = opt.state_dict()
    assert set(state) == {"iterations", "learning_rate"} | {
        f"adam/{slot}/{i}" for slot in ("m", "v", "vhat") for i in (0, 1)
    }
    assert state["iterations"] == 1 and state["learning_rate"] == 0.001
    state["adam/m/0"][...] = 123.0  # a copy: the optimizer is unaffected
    assert not np.any(opt.state_dict()["adam/m/0"] == 123.0)
    assert set(SGD(p).state_dict()) == {"iterations", "learning_rate"}
    assert "sgd/velocity/1" in SGD(p, momentum=0.9).state_dict()
    assert "rmsprop/average_gradient/0" in RMSprop(p, centered=True).state_dict()
    assert "adagrad/accumulator/1" in Adagrad(p).state_dict()
    assert "learning_rate" not in Adam(p, learning_rate=CosineDecay(0.1, 5)).state_dict()


def test_learning_rate_survives_the_round_trip():
    p = make_params([(2,)])
    opt = SGD(p, learning_rate=0.1)
    opt.learning_rate = 0.025  # e.g. set by ReduceLROnPlateau
    opt2 = SGD(make_params([(2,)]))
    opt2.load_state_dict(opt.state_dict())
    assert opt2.learning_rate == 0.025


def test_state_loaded_before_params_waits_for_set_params():
    p = make_params([(3,)])
    opt = Adam(p)
    train(opt, p, 3, seed=0)
    state = opt.state_dict()
    later = Adam()
    later.load_state_dict(state)
    assert later.iterations == 3
    later.set_params(make_params([(3,)]))
    for key, value in state.items():
        np.testing.assert_array_equal(later.state_dict()[key], value)


@pytest.mark.parametrize(
    "mutate, word",
    [
        (lambda s: s.pop("adam/v/1"), "missing"),
        (lambda s: s.update({"adam/vhat/0": np.zeros(3)}), "unexpected"),
        (lambda s: s.update({"adam/m/0": np.zeros((3, 1))}), "shape"),
        (lambda s: s.pop("iterations"), "iterations"),
    ],
)
def test_mismatched_state_is_a_checkpoint_error_and_changes_nothing(mutate, word):
    p = make_params([(3,), (2, 2)])
    opt = Adam(p)
    train(opt, p, 2, seed=0)
    state = opt.state_dict()
    mutate(state)
    fresh = Adam(make_params([(3,), (2, 2)]))
    before = fresh.state_dict()
    with pytest.raises(CheckpointError) as e:
        fresh.load_state_dict(state)
    assert fields_set(e.value)
    assert word in (e.value.got + e.value.expected)
    after = fresh.state_dict()
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


def test_state_of_another_optimizer_names_it():
    p = make_params([(3,)])
    with pytest.raises(CheckpointError) as e:
        Adam(p).load_state_dict(SGD(p, momentum=0.9).state_dict())
    assert "sgd" in e.value.fix
    with pytest.raises(CheckpointError) as e:  # a model with other layer sizes
        Adam(make_params([(4,)])).load_state_dict(Adam(p).state_dict())
    assert "(4,)" in e.value.expected and "(3,)" in e.value.got


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_get_config_round_trip(name):
    opt = MAKERS[name](make_params([(2,)]))
    config = opt.get_config()
    clone = type(opt).from_config(config)
    assert clone.get_config() == config
    again = deserialize(serialize(opt))
    assert type(again) is type(opt) and again.get_config() == config
    assert not clone.built


# ----------------------------------------------------------------------------- checkpoint as data
def test_checkpoint_functions_work_on_plain_data():
    slots = [{"m": np.arange(3.0), "v": np.ones(3)}, {"m": np.zeros((2, 2)), "v": np.ones((2, 2))}]
    flat = checkpoint.flatten("adam", slots, iterations=7, learning_rate=0.5)
    assert set(flat) == {"iterations", "learning_rate"} | {
        f"adam/{s}/{i}" for s in ("m", "v") for i in (0, 1)
    }
    slots[0]["m"][0] = 99.0  # flatten copies
    assert flat["adam/m/0"][0] == 0.0
    loaded = checkpoint.unflatten(
        flat, name="adam", slot_names=["m", "v"], shapes=[(3,), (2, 2)], where="test"
    )
    assert (loaded.iterations, loaded.learning_rate) == (7, 0.5)
    np.testing.assert_array_equal(loaded.slots[1]["v"], np.ones((2, 2)))
    kept = checkpoint.unflatten(
        flat, name="adam", slot_names=["m", "v"], shapes=[(3,), (2, 2)], where="t", keep_rate=True
    )
    assert kept.learning_rate is None
    with pytest.raises(CheckpointError) as e:
        checkpoint.unflatten(flat, name="adam", slot_names=["m"], shapes=[(3,), (2, 2)], where="t")
    assert "adam/v/0" in e.value.got and e.value.where == "t"


def test_no_import_cycle_between_the_optimizer_and_its_checkpoints():
    """checkpoint.py is pure functions on data: it imports nothing of the optimizer classes, and
    no optimizer module hides an import inside a function."""
    package = pathlib.Path(checkpoint.__file__).parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        top_level = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                assert node in top_level, f"{path.name}:{node.lineno} imports inside a function"
                if path.name == "checkpoint.py" and isinstance(node, ast.ImportFrom):
                    assert node.module.split(".")[-1] not in {"base", "sgd", "adaptive"}, (
                        node.module
                    )
