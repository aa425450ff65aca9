"""Without the optional h5py (simulated: ``sys.modules["h5py"] = None`` makes ``import h5py``
fail), Keras file names get a CheckpointError that says how to install it, nothing is written,
and our own ``.npz`` files work as before."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

from tinygrad_edu import load_model
from tinygrad_edu.errors import CheckpointError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "keras"
INSTALL = 'pip install -e ".[keras]"'


@pytest.fixture
def no_h5py(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)


def small_model():
    return Sequential([Dense(2, input_shape=(3,))])


@pytest.mark.parametrize("action", ["save", "save_weights"])
def test_saving_a_keras_name_says_how_to_install_h5py(no_h5py, tmp_path, action):
    name = "model.keras" if action == "save" else "model.weights.h5"
    with pytest.raises(CheckpointError) as err:
        getattr(small_model(), action)(tmp_path / name)
    assert INSTALL in err.value.fix and "h5py" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no npz under a Keras name


def test_loading_a_keras_file_says_how_to_install_h5py(no_h5py):
    with pytest.raises(CheckpointError, match="h5py") as err:
        load_model(FIXTURES / "mlp.keras")
    assert INSTALL in err.value.fix
    with pytest.raises(CheckpointError, match="h5py"):
        Sequential([Dense(6, input_shape=(8,))]).load_weights(FIXTURES / "mlp.weights.h5")


def test_npz_files_need_no_h5py(no_h5py, tmp_path):
    model = small_model()
    model.save(tmp_path / "model.npz")
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(load_model(tmp_path / "model.npz").predict(x), model.predict(x))
