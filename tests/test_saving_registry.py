"""Model classes by name: a whole-model file names its registered class, ``load_model`` rebuilds
only registered classes, and saving never needs to import the models package."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu.errors import CheckpointError, ConfigError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential, load_model
from tinygrad_edu.saving import register_model_class, registered_model_classes
from tinygrad_edu.saving.archive import MODEL_CLASS


def saved(tmp_path) -> tuple:
    """(path, arrays) of a saved small Sequential."""
    path = tmp_path / "m.npz"
    model = Sequential([Dense(2, input_shape=(3,))], name="small")
    model.compile("sgd", "mse")
    model.save(path)
    with np.load(path) as f:
        return path, {k: f[k] for k in f.files}


def rewritten(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_a_model_file_names_its_class(tmp_path):
    _, arrays = saved(tmp_path)
    assert str(arrays[MODEL_CLASS]) == "Sequential" and arrays[MODEL_CLASS].dtype.kind == "U"
    assert "Sequential" in registered_model_classes()


def test_a_file_written_before_the_class_entry_loads_as_a_sequential(tmp_path):
    path, arrays = saved(tmp_path)
    del arrays[MODEL_CLASS]
    loaded = load_model(rewritten(path, arrays))
    assert type(loaded) is Sequential and loaded.name == "small"


def test_an_unknown_class_name_is_refused_with_the_known_ones(tmp_path):
    path, arrays = saved(tmp_path)
    arrays[MODEL_CLASS] = np.array("Sequentail")
    with pytest.raises(CheckpointError) as err:
        load_model(rewritten(path, arrays))
    assert "Sequentail" in err.value.got and "did you mean 'Sequential'" in err.value.fix


@pytest.mark.parametrize("entry", [np.array(3.0), np.array(["Sequential"]), np.array(b"x")])
def test_a_class_entry_that_is_no_name_is_refused(tmp_path, entry):
    path, arrays = saved(tmp_path)
    arrays[MODEL_CLASS] = entry
    with pytest.raises(CheckpointError) as err:
        load_model(rewritten(path, arrays))
    assert MODEL_CLASS in err.value.expected


def test_only_model_classes_can_be_registered():
    for wrong in (Sequential([Dense(1)]), "Sequential", int):
        with pytest.raises(ConfigError) as err:
            register_model_class(wrong)
        assert "from_config" in err.value.expected


def test_a_taken_name_is_refused_for_another_class_and_re_registering_is_harmless():
    assert register_model_class(Sequential) is Sequential

    class Sequential2(Sequential):
        pass

    Sequential2.__name__ = "Sequential"
    with pytest.raises(ConfigError) as err:
        register_model_class(Sequential2)
    assert "taken" in err.value.expected
    assert registered_model_classes().count("Sequential") == 1
