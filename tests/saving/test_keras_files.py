"""Keras 3 files without Keras: the fixtures real Keras wrote (tests/fixtures/keras/, made by
make_fixtures.py) load here and predict what Keras predicted; our own .keras/.weights.h5 files
round-trip; everything we lack is a CheckpointError that names it.

Tolerance: atol 1e-6, rtol 1e-5. Both sides compute in float32 with the same weights; only the
order of float32 sums differs (Keras on torch vs our numpy), a few ulps (1.2e-7 each) over the
longest chain here (7 recurrent steps); the fixtures agree to 6e-8.

These tests need h5py (the optional extra ``pip install -e ".[keras]"``): without it they are
skipped locally and fail under CI (``CI`` set), as the torch rule of tests/reference/ does.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import zipfile

import numpy as np
import pytest

from tinygrad_edu import load_model
from tinygrad_edu.errors import CheckpointError
from tinygrad_edu.layers import Dense, Input
from tinygrad_edu.models import Model, Sequential

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "keras"
NAMES = ["mlp", "cnn", "text", "two_inputs", "bidirectional"]
TOL = {"atol": 1e-6, "rtol": 1e-5}

try:
    import h5py  # noqa: F401 - the optional extra these tests exercise

    H5PY_MISSING = ""
except ImportError as err:
    H5PY_MISSING = f'h5py is not installed ({err}): pip install -e ".[keras]"'


@pytest.fixture(autouse=True)
def _needs_h5py():
    """Skipped without h5py; under CI (``CI`` set) failed instead, one test at a time, so the
    rest of the suite still runs."""
    if H5PY_MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"h5py is required under CI: {H5PY_MISSING}", pytrace=False)
        pytest.skip(H5PY_MISSING)


def reference(name):
    """(input for predict, Keras' predictions, Keras' parameter count) of a fixture."""
    data = np.load(FIXTURES / f"{name}.npz")
    xs = [data[k] for k in sorted(data.files) if k.startswith("x")]
    return (xs if len(xs) > 1 else xs[0]), data["y"], int(data["params"])


@pytest.mark.parametrize("name", NAMES)
def test_keras_files_load_and_predict_as_keras(name):
    x, y, params = reference(name)
    model = load_model(FIXTURES / f"{name}.keras")
    np.testing.assert_allclose(model.predict(x), y, **TOL)
    assert model.count_params() == params
    rows = []
    model.summary(print_fn=rows.append)
    assert f"Total params: {params:,}" in "\n".join(rows)


def test_compile_settings_are_restored():
    mlp = load_model(FIXTURES / "mlp.keras")
    assert type(mlp.optimizer).__name__ == "Adam" and mlp.loss_fn.name == "categorical_crossentropy"
    assert [name for name, _ in mlp.metric_fns] == ["accuracy"]
    text = load_model(FIXTURES / "text.keras")
    assert (type(text.optimizer).__name__, text.optimizer.momentum) == ("SGD", 0.9)
    assert np.isclose(text.optimizer.learning_rate, 0.05)
    assert load_model(FIXTURES / "mlp.keras", compile=False).loss_fn is None


@pytest.mark.parametrize("name", ["mlp", "two_inputs"])
def test_keras_weights_h5_loads_into_the_same_architecture(name):
    x, y, _ = reference(name)
    model = load_model(FIXTURES / f"{name}.keras")
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(FIXTURES / f"{name}.weights.h5")
    np.testing.assert_allclose(model.predict(x), y, **TOL)


@pytest.mark.parametrize("name", NAMES)
def test_our_keras_files_round_trip(name, tmp_path):
    x, y, _ = reference(name)
    model = load_model(FIXTURES / f"{name}.keras")
    model.save(tmp_path / "again.keras")
    np.testing.assert_allclose(load_model(tmp_path / "again.keras").predict(x), y, **TOL)
    model.save_weights(tmp_path / "again.weights.h5")
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(tmp_path / "again.weights.h5")
    np.testing.assert_allclose(model.predict(x), y, **TOL)


def config_of(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def test_functional_layers_are_written_in_keras_order(tmp_path):
    """Keras names the weight groups by its own layer order; ours must be the same."""
    load_model(FIXTURES / "two_inputs.keras").save(tmp_path / "ours.keras")
    names = [spec["name"] for spec in config_of(tmp_path / "ours.keras")["config"]["layers"]]
    keras_names = [s["name"] for s in config_of(FIXTURES / "two_inputs.keras")["config"]["layers"]]
    assert names == keras_names


def edited(tmp_path, name, edit):
    """A copy of a fixture whose config.json ``edit`` changed."""
    config = config_of(FIXTURES / f"{name}.keras")
    edit(config)
    path = tmp_path / f"edited_{name}.keras"
    with zipfile.ZipFile(FIXTURES / f"{name}.keras") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = json.dumps(config) if info.filename == "config.json" else src.read(info)
            dst.writestr(info.filename, data)
    return path


def layer_config(config, index):
    return config["config"]["layers"][index]


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda c: layer_config(c, 1).update(class_name="Conv3DTranspose"), "Conv3DTranspose"),
        (lambda c: layer_config(c, 2)["config"].update(groups=2), "groups"),
        (lambda c: layer_config(c, 2)["config"].update(kernel_constraint="non_neg"), "constraint"),
        (lambda c: layer_config(c, 1).update(registered_name="MyPadding"), "MyPadding"),
        (lambda c: layer_config(c, 2)["config"].update(spectral_norm=True), "spectral_norm"),
        (
            lambda c: layer_config(c, 2)["config"]["dtype"]["config"].update(name="mixed_float16"),
            "mixed_float16",
        ),
        (
            lambda c: layer_config(c, 2)["config"]["kernel_initializer"].update(class_name="Mine"),
            "Mine",
        ),
    ],
)
def test_what_we_lack_is_refused_by_name(tmp_path, edit, named):
    with pytest.raises(CheckpointError) as err:
        load_model(edited(tmp_path, "cnn", edit))
    assert named in str(err.value)


def test_refusal_names_the_layer_and_option(tmp_path):
    path = edited(tmp_path, "cnn", lambda c: layer_config(c, 2)["config"].update(groups=2))
    with pytest.raises(CheckpointError) as err:
        load_model(path)
    assert "'conv2d'" in err.value.where and err.value.expected.startswith("groups=1")


def test_mask_zero_is_refused(tmp_path):
    path = edited(tmp_path, "text", lambda c: layer_config(c, 1)["config"].update(mask_zero=True))
    with pytest.raises(CheckpointError, match="mask_zero"):
        load_model(path)


def test_weights_of_another_architecture_are_refused(tmp_path):
    model = Sequential([Dense(6, input_shape=(8,)), Dense(3)])
    with pytest.raises(CheckpointError, match="missing") as err:
        model.load_weights(FIXTURES / "mlp.weights.h5")
    assert "batch_normalization" in str(err.value)


def test_a_subclassed_model_is_refused_as_keras_file(tmp_path):
    class Two(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2)

        def call(self, x, training=False):
            return self.dense(x)

    model = Two()
    model.build((None, 3))
    with pytest.raises(CheckpointError, match="Sequential or functional"):
        model.save(tmp_path / "two.keras")
    assert not (tmp_path / "two.keras").exists()


def test_keras_names_refuse_the_other_kind_of_file(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(CheckpointError, match="model.keras"):
        model.save(tmp_path / "legacy.h5")
    with pytest.raises(CheckpointError, match="weights.h5"):
        model.save_weights(tmp_path / "model.keras")
    with pytest.raises(CheckpointError, match="load_model"):
        model.load_weights(FIXTURES / "mlp.keras")
    assert sorted(os.listdir(tmp_path)) == []


def test_an_npz_under_a_keras_name_still_loads(tmp_path):
    """Files of earlier versions were .npz archives named model.keras: content decides."""
    inputs = Input((3,))
    model = Model(inputs, Dense(2)(inputs))
    model.save(tmp_path / "model.npz")
    shutil.copy(tmp_path / "model.npz", tmp_path / "old.keras")
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(load_model(tmp_path / "old.keras").predict(x), model.predict(x))


def test_a_damaged_archive_is_one_checkpoint_error(tmp_path):
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config_of(FIXTURES / "mlp.keras")))
    with pytest.raises(CheckpointError, match="model.weights.h5"):
        load_model(path)


def test_a_loss_with_options_round_trips_as_a_keras_loss_object(tmp_path):
    from tinygrad_edu.losses import CategoricalCrossentropy

    model = Sequential([Dense(3, input_shape=(2,))])
    model.compile(optimizer="sgd", loss=CategoricalCrossentropy(from_logits=True))
    model.save(tmp_path / "logits.keras")
    loss = config_of(tmp_path / "logits.keras")["compile_config"]["loss"]
    assert loss["class_name"] == "CategoricalCrossentropy" and loss["config"]["from_logits"]
    loaded = load_model(tmp_path / "logits.keras")
    assert loaded.loss_fn.config == {"from_logits": True}


def test_load_model_of_a_weights_file_says_to_use_load_weights():
    with pytest.raises(CheckpointError, match="weights-only") as err:
        load_model(FIXTURES / "mlp.weights.h5")
    assert "load_weights" in err.value.fix


class _Subclassed(Model):
    """A subclassed model: Keras' file format holds it only with its Python code."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(2)

    def call(self, x, training=False):
        return self.dense(x)


@pytest.mark.parametrize(
    "call",
    ["model.save('m.keras')", "model.save_weights('m.weights.h5')"],
)
def test_a_subclassed_model_in_a_keras_file_is_refused_with_a_fix_that_runs(
    call, tmp_path, monkeypatch
):
    """The refusal's fix is the same call in our own format, and it runs as written."""
    monkeypatch.chdir(tmp_path)
    model = _Subclassed()
    model(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(CheckpointError) as err:
        eval(call)
    fix = err.value.fix
    assert ".keras" not in fix and ".h5" not in fix
    exec(fix.split(": ", 1)[1], {"model": model})
    assert len(os.listdir(tmp_path)) == 1


@pytest.mark.parametrize("name", ["broken.h5", "broken.weights.h5"])
def test_a_truncated_hdf5_file_is_one_checkpoint_error(tmp_path, name):
    """An HDF5 file cut short (h5py raises OSError): our CheckpointError says what was expected."""
    path = tmp_path / name
    path.write_bytes((FIXTURES / "mlp.weights.h5").read_bytes()[:700])
    with pytest.raises(CheckpointError) as err:
        if name == "broken.h5":
            load_model(path)
        else:
            load_model(FIXTURES / "mlp.keras").load_weights(path)
    expected = "a readable HDF5 file" if name == "broken.h5" else "a Keras .weights.h5 file"
    assert err.value.expected == expected
    assert "OSError" in err.value.got


def test_saving_a_trained_model_as_keras_file_warns_that_the_optimizer_state_stays_out(
    tmp_path,
):
    """A .keras file of ours holds no optimizer state (keras_compile.py): a run resumed from it
    restarts Adam's moments and the schedule's step. Keras' own .keras files keep that state,
    so a trained model's save says so; an untrained one (or our .npz) saves silently."""
    import warnings

    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("adam", "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "fresh.keras")
        model.train_on_batch(np.ones((2, 3)), np.ones((2, 1)))
        model.save(tmp_path / "trained.npz")
    with pytest.warns(UserWarning, match="after 1 steps .*model.npz") as record:
        model.save(tmp_path / "trained.keras")
    assert len(record) == 1
    assert load_model(tmp_path / "trained.keras").optimizer.iterations == 0
    assert load_model(tmp_path / "trained.npz").optimizer.iterations == 1
