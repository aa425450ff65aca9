"""One switch for the fused paths, one rule (issue 12 item 2), held for every layer family.

The rule: ``fused=True`` / ``fused=False`` given to a layer always wins; ``fused=None`` (the
default) follows ``config.is_fused_enabled()``, which ``with config.fused(...)`` sets for its block
in the current thread only. The path a layer took is read from the graph: the fused op's class is
recorded behind the output only when the fused path ran.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any, Callable, Dict, NamedTuple, Optional

import numpy as np
import pytest

import tinygrad_edu.layers as layers_module
from tinygrad_edu import ConfigError, Tensor, config, ops
from tinygrad_edu.layers import (
    GRU,
    LSTM,
    AveragePooling2D,
    Conv2D,
    Dense,
    MaxPooling2D,
    SimpleRNN,
)
from tinygrad_edu.testing.layers import ops_in_graph


class Family(NamedTuple):
    make: Callable[..., Any]  # fused= -> a layer
    input_shape: tuple
    fused_op: type


FAMILIES: Dict[str, Family] = {
    "Dense": Family(lambda **kw: Dense(3, **kw), (2, 4), ops.Linear),
    "Conv2D": Family(lambda **kw: Conv2D(2, 2, **kw), (1, 4, 4, 2), ops.Conv2D),
    "MaxPooling2D": Family(lambda **kw: MaxPooling2D(**kw), (1, 4, 4, 2), ops.MaxPool2D),
    "AveragePooling2D": Family(lambda **kw: AveragePooling2D(**kw), (1, 4, 4, 2), ops.AvgPool2D),
    "SimpleRNN": Family(lambda **kw: SimpleRNN(2, **kw), (2, 3, 2), ops.SimpleRNNSequence),
    "LSTM": Family(lambda **kw: LSTM(2, **kw), (2, 3, 2), ops.LSTMSequence),
    "GRU": Family(lambda **kw: GRU(2, **kw), (2, 3, 2), ops.GRUSequence),
    # issue 14: the 1-D layers run the 2-D ops on a one-pixel-wide image
    "Conv1D": Family(lambda **kw: layers_module.Conv1D(2, 2, **kw), (1, 5, 2), ops.Conv2D),
    "MaxPooling1D": Family(lambda **kw: layers_module.MaxPooling1D(**kw), (1, 5, 2), ops.MaxPool2D),
    "AveragePooling1D": Family(
        lambda **kw: layers_module.AveragePooling1D(**kw), (1, 5, 2), ops.AvgPool2D
    ),
}
SETTINGS = [True, False]
CHOICES = [None, True, False]


def _input(family: Family) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(family.input_shape).astype(np.float32)


def _took_fused_path(layer: Any, family: Family) -> bool:
    out = layer(Tensor(_input(family), requires_grad=True))
    return family.fused_op in ops_in_graph(out)


def _reference_twin(layer: Any, family: Family) -> Any:
    """The same layer with the same weights, always on the reference form."""
    twin = family.make(fused=False)
    twin.build_for((None, *family.input_shape[1:]))
    twin.set_weights(layer.get_weights())
    return twin


# ---------------------------------------------------------------- the rule, every family
@pytest.mark.parametrize("choice", CHOICES, ids=lambda c: f"fused={c}")
@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"setting={s}")
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_an_explicit_choice_wins_and_none_follows_the_setting(name, setting, choice):
    family = FAMILIES[name]
    layer = family.make(fused=choice)
    with config.fused(setting):
        took_fused = _took_fused_path(layer, family)
        out = layer(_input(family)).data
    expected = setting if choice is None else choice
    assert took_fused is expected, f"{name}(fused={choice}) under config.fused({setting})"
    twin = _reference_twin(layer, family)
    np.testing.assert_allclose(out, twin(_input(family)).data, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_default_is_none_and_fuses(name):
    family = FAMILIES[name]
    layer = family.make()
    assert layer.fused is None and config.is_fused_enabled()
    assert _took_fused_path(layer, family)


def _takes_fused_argument(cls: type) -> bool:
    return any(
        "fused" in inspect.signature(klass.__init__).parameters
        for klass in cls.__mro__
        if "__init__" in vars(klass)
    )


def test_every_layer_with_a_fused_argument_is_held_to_the_rule():
    classes = {getattr(layers_module, name) for name in layers_module.__all__}
    with_fused = {
        cls.__name__ for cls in classes if isinstance(cls, type) and _takes_fused_argument(cls)
    }
    assert with_fused == set(FAMILIES), "add the new layer family to FAMILIES here"


# ---------------------------------------------------------------- Keras config
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_fused_is_in_the_config_only_when_given(name):
    family = FAMILIES[name]
    default = family.make()
    assert "fused" not in default.get_config()
    assert type(default).from_config(default.get_config()).fused is None
    for choice in (True, False):
        config_dict = family.make(fused=choice).get_config()
        assert config_dict["fused"] is choice
        assert type(default).from_config(config_dict).fused is choice


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("bad", ["False", "True", 0, 1, 1.0])
def test_fused_must_be_a_bool_or_none(name, bad):
    with pytest.raises(ConfigError) as err:
        FAMILIES[name].make(fused=bad)
    assert "True or False (or None)" in err.value.expected


# ---------------------------------------------------------------- the setting itself
def test_the_context_manager_restores_nests_and_survives_errors():
    assert config.is_fused_enabled()
    with config.fused(False):
        assert not config.is_fused_enabled()
        with config.fused(True):
            assert config.is_fused_enabled()
        assert not config.is_fused_enabled()
    with pytest.raises(RuntimeError), config.fused(False):
        raise RuntimeError("boom")
    assert config.is_fused_enabled()


def test_one_switch_object_can_be_entered_again():
    off = config.fused(False)
    with off:
        with off:
            assert not config.is_fused_enabled()
        assert not config.is_fused_enabled()
    assert config.is_fused_enabled()


@pytest.mark.parametrize("bad", ["False", 0, None])
def test_the_setting_takes_only_a_bool(bad):
    with pytest.raises(ConfigError, match="config.fused"):
        config.fused(bad)
    with pytest.raises(ConfigError, match="config.set_fused"):
        config.set_fused(bad)


def _in_a_thread(fn: Callable[[], Any]) -> Any:
    result: Dict[str, Any] = {}

    def run() -> None:
        result["value"] = fn()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return result["value"]


def test_set_fused_changes_only_the_current_thread():
    def switch_off_here() -> bool:
        config.set_fused(False)
        return config.is_fused_enabled()

    assert _in_a_thread(switch_off_here) is False
    assert config.is_fused_enabled()


@pytest.mark.parametrize("name", ["Dense", "Conv2D", "LSTM"])
def test_a_thread_switching_off_does_not_change_another_threads_path(name):
    """Thread A holds ``config.fused(False)`` open while thread B runs the same layer: B still
    fuses, A does not; both finish their forward while the other's setting is in force."""
    family = FAMILIES[name]
    layer = family.make()
    layer.build_for((None, *family.input_shape[1:]))
    a_inside, b_done = threading.Event(), threading.Event()
    paths: Dict[str, Optional[bool]] = {"A": None, "B": None}

    def thread_a() -> None:
        with config.fused(False):
            a_inside.set()
            b_done.wait(timeout=30)
            paths["A"] = _took_fused_path(layer, family)

    def thread_b() -> None:
        a_inside.wait(timeout=30)
        paths["B"] = _took_fused_path(layer, family)
        b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert a_inside.is_set() and b_done.is_set(), "the threads did not overlap"
    assert paths == {"A": False, "B": True}
    assert config.is_fused_enabled()


# ---------------------------------------------------------------- the image data format
IMAGE_LAYERS = {
    "Conv2D": lambda **kw: layers_module.Conv2D(2, 3, **kw),
    "MaxPooling2D": lambda **kw: layers_module.MaxPooling2D(**kw),
    "AveragePooling2D": lambda **kw: layers_module.AveragePooling2D(**kw),
    "GlobalMaxPooling2D": lambda **kw: layers_module.GlobalMaxPooling2D(**kw),
    "GlobalAveragePooling2D": lambda **kw: layers_module.GlobalAveragePooling2D(**kw),
    "Flatten": lambda **kw: layers_module.Flatten(**kw),
}


def test_the_image_data_format_is_channels_last_unless_set():
    assert config.image_data_format() == "channels_last"
    with config.data_format("channels_first"):
        assert config.image_data_format() == "channels_first"
        with config.data_format("channels_last"):
            assert config.image_data_format() == "channels_last"
        assert config.image_data_format() == "channels_first"
    with pytest.raises(RuntimeError), config.data_format("channels_first"):
        raise RuntimeError("boom")
    assert config.image_data_format() == "channels_last"


@pytest.mark.parametrize("name", sorted(IMAGE_LAYERS))
def test_every_image_layer_left_at_none_follows_the_setting_and_an_explicit_one_wins(name):
    make = IMAGE_LAYERS[name]
    with config.data_format("channels_first"):
        follows, explicit = make(), make(data_format="channels_last")
    assert follows.data_format == "channels_first" and explicit.data_format == "channels_last"
    assert make().data_format == "channels_last"
    assert follows.data_format == "channels_first"  # read once, when the layer is made
    rebuilt = type(follows).from_config(follows.get_config())  # the config holds the resolved one
    assert rebuilt.data_format == "channels_first"


def test_a_channels_first_setting_builds_channels_first_shapes():
    with config.data_format("channels_first"):
        conv = layers_module.Conv2D(4, 3)
    assert conv(np.zeros((2, 3, 8, 8), dtype=np.float32)).shape == (2, 4, 6, 6)


@pytest.mark.parametrize("bad", ["th", "channels-first", None, 1])
def test_the_data_format_setting_takes_only_keras_names(bad):
    with pytest.raises(ConfigError) as err:
        config.set_image_data_format(bad)
    assert "config.set_image_data_format('channels_first')" in err.value.fix
    with pytest.raises(ConfigError):
        config.data_format(bad)
    assert config.image_data_format() == "channels_last"


def test_set_image_data_format_changes_only_the_current_thread():
    def set_here() -> str:
        config.set_image_data_format("channels_first")
        return layers_module.Conv2D(2, 3).data_format

    assert _in_a_thread(set_here) == "channels_first"
    assert config.image_data_format() == "channels_last"
    assert layers_module.Conv2D(2, 3).data_format == "channels_last"
