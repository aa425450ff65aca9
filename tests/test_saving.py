"""Saving/loading: round trips, atomic writes, and refusing bad files (never unpickling)."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import layers, saving
from tinygrad_edu.errors import CheckpointError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential, load_model
from tinygrad_edu.saving import atomic  # the module that writes the file (atomic write)


def tiny_model(hidden: int = 4, compile: bool = True, **kwargs) -> Sequential:
    model = Sequential(
        [Dense(hidden, activation="relu", input_shape=(3,)), Dense(2, activation="softmax")]
    )
    if compile:
        model.compile(
            kwargs.get("optimizer", "adam"), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 2, size=40)


def trained(data, **kwargs) -> Sequential:
    model = tiny_model(**kwargs)
    model.fit(*data, epochs=2, batch_size=8, verbose=0, shuffle=False)
    return model


def rewrite(path, arrays) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def temp_leftovers(directory) -> list:
    return [p for p in os.listdir(directory) if p.endswith(".tmp")]


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_round_trip_predictions_and_continued_training(tmp_path, data, optimizer):
    x, y = data
    model = trained(data, optimizer=optimizer)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert [n for n, _ in loaded.metric_fns] == ["accuracy"]
    # one more epoch from the saved state == one more epoch without the save/load
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_round_trip_keeps_names_config_and_layer_settings(tmp_path):
    model = Sequential(
        [
            Dense(5, activation="tanh", use_bias=False, input_shape=(3,), name="hidden"),
            Dense(1, name="out"),
        ],
        name="regressor",
    )
    model.compile("sgd", "mse")
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.get_config() == model.get_config()
    assert list(loaded.named_weights()) == ["hidden/kernel", "out/kernel", "out/bias"]
    assert loaded.loss_fn.name == "mean_squared_error"


def test_loss_object_config_round_trips(tmp_path, data):
    from tinygrad_edu.losses import SparseCategoricalCrossentropy

    x, y = data
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("adam", SparseCategoricalCrossentropy(from_logits=True))
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.loss_fn.config == {"from_logits": True}
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))


def test_uncompiled_model_and_compile_false(tmp_path, data):
    x, _ = data
    model = tiny_model(compile=False)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.loss_fn is None and loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    trained_model = tiny_model()
    trained_model.save(tmp_path / "c.npz")
    assert saving.load_model(tmp_path / "c.npz", compile=False).loss_fn is None


def test_custom_loss_warns_and_loads_uncompiled(tmp_path):
    model = tiny_model(compile=False)

    def my_loss(y_true, y_pred):
        return ((y_pred - 0.5) ** 2).mean()

    model.compile("adam", my_loss)
    with pytest.warns(UserWarning):
        model.save(tmp_path / "m.npz")
    with pytest.warns(UserWarning):
        loaded = load_model(tmp_path / "m.npz")
    assert loaded.loss_fn is None
    assert len(loaded.get_weights()) == 4


def test_model_built_from_data_round_trips(tmp_path, data):
    x, _ = data
    model = Sequential([Dense(4), Dense(2)])
    model.predict(x)
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "m.npz").predict(x), model.predict(x))


def test_conv_layers_round_trip(tmp_path):
    model = Sequential(
        [
            layers.Conv2D(3, (3, 3), activation="relu", input_shape=(6, 6, 2)),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            Dense(2),
        ]
    )
    model.compile("adam", "mse")
    x = np.random.default_rng(1).normal(size=(4, 6, 6, 2)).astype(np.float32)
    model.fit(x, np.zeros((4, 2), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "cnn.npz")
    loaded = load_model(tmp_path / "cnn.npz")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_layers_round_trip(tmp_path, name):
    model = Sequential([getattr(layers, name)(3, input_shape=(5, 2)), Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(2).normal(size=(4, 5, 2)).astype(np.float32)
    model.save(tmp_path / "rnn.npz")
    loaded = load_model(tmp_path / "rnn.npz")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_batchnorm_statistics_are_saved(tmp_path, data):
    x, y = data
    model = Sequential([Dense(4, input_shape=(3,)), layers.BatchNormalization(), Dense(2)])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "bn.npz")
    np.testing.assert_allclose(
        load_model(tmp_path / "bn.npz").predict(x), model.predict(x), rtol=1e-6
    )


def test_weights_round_trip(tmp_path, data):
    x, _ = data
    model = trained(data)
    model.save_weights(tmp_path / "w.weights.npz")
    other = tiny_model()
    other.load_weights(tmp_path / "w.weights.npz")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    # load_weights also reads a full model file
    model.save(tmp_path / "full.npz")
    third = tiny_model(compile=False)
    third.load_weights(tmp_path / "full.npz")
    np.testing.assert_array_equal(third.predict(x), model.predict(x))


def test_load_weights_keeps_optimizer_references(tmp_path, data):
    model = trained(data)
    model.save_weights(tmp_path / "w.npz")
    before = [id(w.data) for w in model.weights]
    model.load_weights(tmp_path / "w.npz")
    assert [id(w.data) for w in model.weights] == before


# ---------------------------------------------------------------------- file layout
def test_npz_layout_has_no_object_arrays(tmp_path, data):
    model = trained(data)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        files = set(f.files)
        assert all(f[k].dtype != object for k in f.files)
        assert f["model_config"].dtype.kind == "U"
        assert int(f["format_version"]) == saving.FORMAT_VERSION
        assert str(f["kind"]) == "model"
    assert {
        "weights/dense/kernel",
        "weights/dense/bias",
        "weights/dense_1/kernel",
        "weights/dense_1/bias",
        "model_config",
        "compile_config",
        "optimizer_config",
        "optimizer/iterations",
        "optimizer/adam/m/0",
    } <= files


@pytest.mark.parametrize("name", ["model", "model.npz", "model.ckpt"])
def test_path_is_used_exactly_as_given(tmp_path, name):
    model = tiny_model()
    model.save(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == [name]
    load_model(str(tmp_path / name))


def test_missing_file_hints_at_npz_sibling(tmp_path):
    tiny_model().save(tmp_path / "m.npz")
    with pytest.raises(CheckpointError) as err:
        load_model(tmp_path / "m")
    assert "m.npz" in err.value.fix
    with pytest.raises(CheckpointError) as err:
        tiny_model().load_weights(tmp_path / "nothing.npz")
    assert err.value.fix


def test_save_into_missing_directory_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError) as err:
        tiny_model().save(tmp_path / "no" / "such" / "m.npz")
    assert "makedirs" in err.value.fix


# ---------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("target", ["savez", "fsync", "replace"])
def test_failed_write_keeps_previous_checkpoint(tmp_path, data, monkeypatch, target):
    x, _ = data
    path = tmp_path / "m.npz"
    old = trained(data)
    old.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    if target == "savez":  # fails halfway: some bytes already in the temp file
        real = np.savez

        def half(file, **arrays):
            file.write(b"PK\x03\x04 partial")
            real(file, **dict(list(arrays.items())[:2]))
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(atomic.np, "savez", half)
    else:
        monkeypatch.setattr(atomic.os, target, boom)
    with pytest.raises(RuntimeError):
        tiny_model(hidden=4).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(load_model(path).predict(x), old.predict(x))
    assert temp_leftovers(tmp_path) == []
    assert os.listdir(tmp_path) == ["m.npz"]


def test_os_error_while_writing_becomes_checkpoint_error(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    tiny_model().save_weights(path)
    before = path.read_bytes()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(CheckpointError):
        tiny_model().save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and temp_leftovers(tmp_path) == []


def test_overwrite_replaces_the_file(tmp_path, data):
    x, _ = data
    path = tmp_path / "m.npz"
    tiny_model().save(path)
    newer = trained(data)
    newer.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x), newer.predict(x))
    assert os.listdir(tmp_path) == ["m.npz"]


# ---------------------------------------------------------------------- bad files
def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    tiny_model().save(path)
    raw = path.read_bytes()
    for cut in (len(raw) // 2, 10, 0):
        path.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError):
            load_model(path)
        with pytest.raises(CheckpointError):
            tiny_model().load_weights(path)


def test_corrupted_bytes_inside_archive_are_refused(tmp_path):
    path = tmp_path / "m.npz"
    tiny_model().save(path)
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(64)  # zeroed block: CRC or header damage
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        load_model(path)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(CheckpointError):
        load_model(path)
    with pytest.raises(CheckpointError):
        tiny_model().load_weights(path)


def test_foreign_npz_and_npy_are_refused(tmp_path):
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    np.save(tmp_path / "single.npy", np.zeros(3))
    for name in ("foreign.npz", "single.npy"):
        with pytest.raises(CheckpointError):
            load_model(tmp_path / name)


def test_weights_file_given_to_load_model(tmp_path):
    tiny_model().save_weights(tmp_path / "w.npz")
    with pytest.raises(CheckpointError) as err:
        load_model(tmp_path / "w.npz")
    assert "load_weights" in err.value.fix


class _Exploit:
    """Unpickling this would call ``_record`` (a stand-in for arbitrary code)."""

    def __reduce__(self):
        return (_record, ("unpickled",))


RAN: list = []


def _record(value):
    RAN.append(value)
    return value


def test_pickle_bearing_npz_is_refused_without_unpickling(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    good = tiny_model()
    good.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["weights/dense/kernel"] = np.array([_Exploit()], dtype=object)
    rewrite(path, arrays)  # np.savez pickles object arrays
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    RAN.clear()
    with pytest.raises(CheckpointError) as err:
        load_model(path)
    assert "pickle" in err.value.got
    with pytest.raises(CheckpointError):
        tiny_model().load_weights(path)
    assert RAN == []


def test_plain_pickle_file_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(_Exploit()))
    RAN.clear()
    with pytest.raises(CheckpointError):
        load_model(path)
    assert RAN == []


def test_unknown_layer_class_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    tiny_model().save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["model_config"] = np.array(str(arrays["model_config"]).replace('"Dense"', '"os"'))
    rewrite(path, arrays)
    with pytest.raises(CheckpointError) as err:
        load_model(path)
    assert "os" in err.value.got


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    tiny_model().save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["format_version"] = np.array(saving.FORMAT_VERSION + 1)
    rewrite(path, arrays)
    with pytest.raises(CheckpointError):
        load_model(path)


# ---------------------------------------------------------------------- architecture mismatch
def test_different_architecture_lists_missing_unexpected_and_misshaped(tmp_path):
    path = tmp_path / "w.npz"
    tiny_model(hidden=4).save_weights(path)
    other = Sequential(
        [
            Dense(5, activation="relu", input_shape=(3,)),  # mis-shaped
            Dense(2, use_bias=False),  # dense_1/bias unexpected
            Dense(2),
        ]
    )  # dense_2/* missing
    before = other.get_weights()
    with pytest.raises(CheckpointError) as info:
        other.load_weights(path)
    err = info.value
    assert err.missing == ["dense_2/kernel", "dense_2/bias"]
    assert err.unexpected == ["dense_1/bias"]
    assert [name for name, _, _ in err.mismatched] == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
    ]
    assert ("dense/kernel", (3, 5), (3, 4)) in err.mismatched
    for name in ("dense_2/kernel", "dense_1/bias", "dense/kernel"):
        assert name in str(err)
    # nothing was loaded
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_renamed_layers_suggest_loading_by_position(tmp_path):
    path = tmp_path / "w.npz"
    tiny_model().save_weights(path)
    renamed = Sequential([Dense(4, input_shape=(3,), name="a"), Dense(2, name="b")])
    with pytest.raises(CheckpointError) as err:
        renamed.load_weights(path)
    assert "set_weights" in err.value.fix


def test_load_weights_into_unbuilt_model(tmp_path):
    tiny_model().save_weights(tmp_path / "w.npz")
    with pytest.raises(CheckpointError):
        Sequential([Dense(4), Dense(2)]).load_weights(tmp_path / "w.npz")


def test_initializer_and_regularizer_objects_round_trip(tmp_path, data):
    from tinygrad_edu import initializers, regularizers

    x, y = data
    model = Sequential(
        [
            Dense(
                4,
                input_shape=(3,),
                kernel_initializer=initializers.RandomNormal(stddev=0.2, seed=3),
                kernel_regularizer=regularizers.L2(0.1),
            ),
            Dense(2),
        ]
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    config = loaded.layers[0].get_config()
    assert isinstance(config["kernel_regularizer"], regularizers.L2)
    assert config["kernel_regularizer"].l2 == pytest.approx(0.1)
    assert config["kernel_initializer"].stddev == pytest.approx(0.2)
    # the penalty is part of the loss: equal losses prove the regularizer came back
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))


def test_unsavable_config_fails_before_writing(tmp_path):
    model = Sequential([Dense(2, activation=lambda t: t * 2, input_shape=(3,))])
    with pytest.raises(CheckpointError) as err:
        model.save(tmp_path / "m.npz")
    assert "save_weights" in err.value.fix
    assert os.listdir(tmp_path) == []
    model.save_weights(tmp_path / "w.npz")  # weights alone still work


def test_learning_rate_schedule_round_trips(tmp_path, data):
    from tinygrad_edu.optimizers import SGD, ExponentialDecay

    x, y = data
    model = tiny_model(compile=False)
    model.compile(
        SGD(learning_rate=ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)),
        "sparse_categorical_crossentropy",
    )
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 5
    assert loaded.optimizer.learning_rate == pytest.approx(model.optimizer.learning_rate)


def test_plain_function_schedule_saves_current_rate(tmp_path, data):
    from tinygrad_edu.optimizers import SGD

    x, y = data
    model = tiny_model(compile=False)
    model.compile(
        SGD(learning_rate=lambda step: 0.1 / (1 + step)), "sparse_categorical_crossentropy"
    )
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    with pytest.warns(UserWarning):
        model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.optimizer.learning_rate == pytest.approx(0.1 / 6)


def test_reduced_learning_rate_is_restored(tmp_path, data):
    model = trained(data, optimizer="sgd")
    model.optimizer.learning_rate = 0.00123
    model.save(tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").optimizer.learning_rate == pytest.approx(0.00123)


# ---------------------------------------------------------------------- how the file is written
def test_the_temp_file_is_ours_and_in_the_target_directory(tmp_path, monkeypatch):
    """The rename is atomic only within one file system: the temporary file must sit beside the
    target, under our naming, and the target must not exist before the rename."""
    renames = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renames.append((src, dst, os.path.exists(dst), os.path.getsize(src)))
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", recording_replace)
    target = tmp_path / "m.npz"
    tiny_model().save(target)
    [(src, dst, existed, size)] = renames
    assert os.path.dirname(os.path.abspath(src)) == str(tmp_path)
    assert atomic._TEMP_NAME.match(os.path.basename(src))
    assert dst == str(target) and not existed and size == target.stat().st_size


def test_the_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(fd):
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        return real_fsync(fd)

    def recording_replace(src, dst):
        events.append("replace")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", recording_fsync)
    monkeypatch.setattr(atomic.os, "replace", recording_replace)
    tiny_model().save(tmp_path / "m.npz")
    assert events == ["fsync file", "replace", "fsync dir"]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_gets_the_permissions_of_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        tiny_model().save(tmp_path / "m.npz")
        tiny_model().save_weights(tmp_path / "w.npz")
    finally:
        os.umask(old)
    for name in ("m.npz", "w.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask


def test_overwriting_keeps_the_mode_of_the_file(tmp_path):
    path = tmp_path / "m.npz"
    tiny_model().save(path)
    path.chmod(0o640)
    tiny_model().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def _temp_name(target: str, pid: int) -> str:
    return f".{target}.tgedu-{pid}-0123456789abcdef.tmp"


def test_stale_temp_files_of_ours_are_removed_on_the_next_save(tmp_path):
    day_ago = time.time() - 86_400
    files = {
        "stale (dead writer, old)": _temp_name("m.npz", 2**30),
        "other target, stale": _temp_name("other.npz", 2**30),
        "fresh (may be a save under way)": _temp_name("m.npz", 2**30 + 1),
        "writer still runs": _temp_name("m.npz", os.getppid()),
        "not our naming": ".m.npz.someone-else.tmp",
        "a user's file": "notes.tmp",
    }
    for label, name in files.items():
        (tmp_path / name).write_bytes(b"partial")
        if not label.startswith("fresh"):
            os.utime(tmp_path / name, (day_ago, day_ago))
    tiny_model().save(tmp_path / "m.npz")
    left = set(os.listdir(tmp_path))
    assert files["stale (dead writer, old)"] not in left
    assert files["other target, stale"] not in left
    for label in ("fresh (may be a save under way)", "writer still runs", "not our naming"):
        assert files[label] in left, label
    assert "notes.tmp" in left and "m.npz" in left


KILLED_SAVE = """
import os, sys, numpy as np
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.saving import atomic
def die(file, **arrays):
    file.write(b"PK partial")
    file.flush()
    os._exit(9)  # killed mid-save: no cleanup runs
atomic.np.savez = die
Sequential([Dense(2, input_shape=(3,))]).save(sys.argv[1])
"""


def test_a_killed_save_leaves_a_temp_file_that_a_later_process_removes(tmp_path):
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    target = str(tmp_path / "m.npz")
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, target], env=env, timeout=120)
    assert done.returncode == 9
    [leftover] = os.listdir(tmp_path)
    assert atomic._TEMP_NAME.match(leftover)
    later = (
        "import sys; from tinygrad_edu.saving import atomic; atomic.remove_stale_temps(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", later, str(tmp_path)], env=env, timeout=120, check=True)
    assert os.listdir(tmp_path) == []


def test_load_weights_writes_through_assign(tmp_path):
    """In place (the optimizer keeps its references) and counted as an in-place write."""
    source = tiny_model()
    source.save_weights(tmp_path / "w.npz")
    model = tiny_model()
    arrays = [w.data for w in model.weights]
    versions = [w._version for w in model.weights]
    model.load_weights(tmp_path / "w.npz")
    assert all(w.data is a for w, a in zip(model.weights, arrays))
    assert all(w._version > v for w, v in zip(model.weights, versions))
    for ours, theirs in zip(model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
