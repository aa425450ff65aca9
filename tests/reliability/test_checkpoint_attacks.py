"""Checkpoints under attack: every hostile or broken file is one ``CheckpointError``, and loading
never allocates more than the file can hold (peak memory measured with tracemalloc)."""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from reliability_helpers import assert_teaches, ints_in

from tinygrad_edu.errors import CheckpointError, ConfigError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential, load_model
from tinygrad_edu.saving import archive, atomic, configs, load_weights, save_model, save_weights

#: loading may allocate the file's arrays, the str of a text entry (numpy hands it out as UCS-4
#: first: up to twice the entry's bytes) and a little more - never what a header declares
FILE_COPIES = 3
SMALL_PEAK = 2 * 2**20


def small_model() -> Sequential:
    return Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)], name="small")


def saved_arrays(tmp_path) -> dict:
    path = tmp_path / "good.npz"
    save_model(small_model(), path)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def write_npz(path, arrays) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def with_config(tmp_path, edit) -> str:
    """A saved small model whose model_config JSON went through ``edit`` (dict -> dict)."""
    arrays = saved_arrays(tmp_path)
    config = json.loads(str(arrays["model_config"]))
    arrays["model_config"] = np.array(json.dumps(edit(config)))
    path = tmp_path / "edited.npz"
    write_npz(path, arrays)
    return path


def with_config_text(tmp_path, text) -> str:
    arrays = saved_arrays(tmp_path)
    arrays["model_config"] = text if isinstance(text, np.ndarray) else np.array(text)
    path = tmp_path / "edited.npz"
    write_npz(path, arrays)
    return path


def npy_header(shape, descr="<f4", fortran=False) -> bytes:
    """The bytes of an .npy header declaring ``shape`` (no data after it)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}
    )
    return buf.getvalue()


def zip_of(path, members, compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)


def header_members(tmp_path) -> dict:
    """The header members of a good file, as raw .npy bytes."""
    out = {}
    for key, value in saved_arrays(tmp_path).items():
        if not key.startswith("weights/"):
            buf = io.BytesIO()
            np.save(buf, value)
            out[key + ".npy"] = buf.getvalue()
    return out


def refused_with_small_peak(load, path) -> CheckpointError:
    """``load(path)`` raises CheckpointError and allocates at most FILE_COPIES times the file
    plus SMALL_PEAK."""
    limit = FILE_COPIES * os.path.getsize(path) + SMALL_PEAK
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as err:
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak {peak:,} bytes for a file of {os.path.getsize(path):,}"
    assert_teaches(err.value)
    return err.value


LOADERS = {
    "load_model": load_model,
    "load_weights": lambda path: load_weights(small_model(), path),
}


# ---------------------------------------------------------------------- sizes the file lies about
@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize(
    "shape, descr, fortran",
    [
        ((10**12,), "<f4", False),
        ((10**6, 10**6), "<f8", False),
        ((2**40, 2**40), "<f4", True),
        ((3, 4), "<f4", False),  # plausible, but only 8 bytes of data follow
    ],
)
def test_npy_header_declaring_more_than_the_member_holds(tmp_path, loader, shape, descr, fortran):
    members = header_members(tmp_path)
    members["weights/dense/kernel.npy"] = npy_header(shape, descr, fortran) + b"\0" * 8
    path = tmp_path / "huge_header.npz"
    zip_of(path, members)
    err = refused_with_small_peak(LOADERS[loader], path)
    assert "declaring shape" in err.got and "bytes" in err.got


def test_member_declaring_more_bytes_than_the_file_has(tmp_path):
    path = tmp_path / "m.npz"
    save_model(small_model(), path)
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    raw[central + 20 : central + 28] = struct.pack("<LL", 2**31, 2**31)  # sizes: 2 GB
    path.write_bytes(bytes(raw))
    err = refused_with_small_peak(load_model, path)
    assert "2,147,483,648" in err.got


def test_config_asking_for_more_weights_than_the_file_holds(tmp_path):
    path = with_config(tmp_path, lambda c: _set_units(c, 10**6))  # 16 MB of weights asked
    err = refused_with_small_peak(load_model, path)
    assert "parameters the config asks for" in err.expected
    asked = ints_in(err.expected.replace(",", ""))[0]
    assert asked == 3 * 4 + 4 + 4 * 10**6 + 10**6
    held = 3 * 4 + 4 + 4 * 2 + 2
    assert held in ints_in(err.got.replace(",", ""))
    assert os.path.getsize(path) in ints_in(err.got.replace(",", ""))


@pytest.mark.parametrize(
    "edit", [lambda c: _set_units(c, 10**12), lambda c: _set_input_shape(c, [10**12])]
)
def test_config_asking_for_absurd_weights_is_refused_before_building(tmp_path, edit):
    """Refused with the numbers, by the file-size check or by the layers' own size limit."""
    err = refused_with_small_peak(load_model, with_config(tmp_path, edit))
    assert max(ints_in(str(err).replace(",", ""))) >= 4 * 10**12


def _set_units(config, units):
    config["layers"][1]["config"]["units"] = units
    return config


def _set_input_shape(config, shape):
    config["layers"][0]["config"]["input_shape"] = shape
    return config


def test_config_too_large_to_describe_is_refused_without_allocating(tmp_path):
    def huge(config):  # a kernel of 10**15 x 10**15 elements: more than numpy can describe
        config["layers"][0]["config"]["units"] = 10**15
        return _set_units(config, 10**15)

    path = with_config(tmp_path, huge)
    err = refused_with_small_peak(load_model, path)
    assert "at most" in str(err)


def test_a_config_with_the_right_count_but_other_shapes_is_refused_before_building(tmp_path):
    def swap(config):  # Dense(4) -> Dense(2) becomes Dense(2) -> Dense(4) on 3 inputs: 3*2+2+2*4+4
        config["layers"][0]["config"]["units"], config["layers"][1]["config"]["units"] = 2, 4
        return config

    err = refused_with_small_peak(load_model, with_config(tmp_path, swap))
    assert err.mismatched


# ---------------------------------------------------------------------- hostile JSON
@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
def test_config_nested_thousands_of_levels_deep(tmp_path, depth):
    text = '{"layers": [], "name": ' + "[" * depth + "]" * depth + "}"
    err = refused_with_small_peak(load_model, with_config_text(tmp_path, text))
    assert "nested deeper than 64" in err.got


def test_deep_nesting_inside_strings_is_just_text(tmp_path):
    def bracket_name(config):
        config["name"] = "[" * 1000
        return config

    model = load_model(with_config(tmp_path, bracket_name))
    assert model.name == "[" * 1000


@pytest.mark.parametrize(
    "text, got",
    [
        ('{"name": "a", "name": "b", "input_shape": [3], "layers": []}', "twice"),
        ('{"name": NaN, "input_shape": [3], "layers": []}', "NaN"),
        ('{"name": "a", "input_shape": [Infinity], "layers": []}', "Infinity"),
        ('{"name": "a", "input_shape": [3], "layers": [}', "damaged JSON"),
        ('{"name": "a", "input_shape": [3], "layers": [' + "9" * 5000 + "]}", "damaged JSON"),
    ],
)
def test_json_that_is_not_strict_json(tmp_path, text, got):
    err = refused_with_small_peak(load_model, with_config_text(tmp_path, text))
    assert got in err.got


def test_a_nan_hyperparameter_is_refused_when_saving(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,))])
    model.layers[0]._declared_input_shape = (None, float("nan"))
    with pytest.raises(CheckpointError) as err:
        save_model(model, tmp_path / "nan.npz")
    assert "NaN" in err.value.fix and not os.listdir(tmp_path)


@pytest.mark.parametrize(
    "entry",
    [
        np.array(b'{"name": "\xff\xfe", "layers": []}'),  # bytes that are not UTF-8
        np.array('{"name": "\udcff", "layers": []}'),  # a lone surrogate
    ],
)
def test_config_text_that_is_not_utf8(tmp_path, entry):
    err = refused_with_small_peak(load_model, with_config_text(tmp_path, entry))
    assert "UTF-8" in err.got


def test_config_longer_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(configs, "MAX_CONFIG_CHARS", 100)
    err = refused_with_small_peak(load_model, with_config_text(tmp_path, " " * 101 + "{}"))
    assert "characters" in err.got


# ---------------------------------------------------------------------- members of the wrong kind
def _entry(key, value):
    def edit(arrays):
        arrays[key] = value
        return arrays

    return edit


WRONG_MEMBERS = {
    "format as a list": _entry("format", np.array(["tinygrad_edu"])),
    "format_version as a list": _entry("format_version", np.array([1])),
    "model_config as a number": _entry("model_config", np.array(3.0)),
    "model_config as a 1-d array": _entry("model_config", np.array(["{}", "{}"])),
    "model_config a JSON list": _entry("model_config", np.array("[1, 2]")),
    "layers a dict": _entry("model_config", np.array('{"name": "m", "layers": {}}')),
    "a layer as a string": _entry("model_config", np.array('{"name": "m", "layers": ["Dense"]}')),
    "units as text": _entry(
        "model_config",
        np.array('{"name": "m", "layers": [{"class_name": "Dense", "config": {"units": "x"}}]}'),
    ),
    "units as a list": _entry(
        "model_config",
        np.array('{"name": "m", "layers": [{"class_name": "Dense", "config": {"units": [2]}}]}'),
    ),
    "an unknown argument": _entry(
        "model_config",
        np.array(
            '{"name": "m", "layers": [{"class_name": "Dense", "config": {"units": 2, "evil": 1}}]}'
        ),
    ),
    "an initializer object with a list config": _entry(
        "model_config",
        np.array(
            '{"name": "m", "layers": [{"class_name": "Dense", "config": {"units": 2, '
            '"kernel_initializer": {"__object__": "Zeros", "module": "initializers", '
            '"config": [1]}}}]}'
        ),
    ),
    "weights as text": _entry("weights/dense/kernel", np.full((3, 4), "x")),
    "weights as complex numbers": _entry("weights/dense/kernel", np.zeros((3, 4), np.complex64)),
    "weights as records": _entry(
        "weights/dense/kernel", np.zeros((3, 4), dtype=[("a", "<f4"), ("b", "<i4")])
    ),
    "optimizer state of the wrong kind": _entry("optimizer/iterations", np.array("many")),
}


@pytest.mark.parametrize("case", list(WRONG_MEMBERS))
def test_members_of_the_wrong_type(tmp_path, case):
    model = small_model()
    model.compile("adam", "mse")
    path = tmp_path / "m.npz"
    save_model(model, path)
    with np.load(path) as f:
        arrays = WRONG_MEMBERS[case]({k: f[k] for k in f.files})
    write_npz(path, arrays)
    refused_with_small_peak(load_model, path)


def test_a_member_that_is_not_an_npy_array(tmp_path):
    members = header_members(tmp_path)
    members["notes.txt"] = b"hello"
    zip_of(tmp_path / "m.npz", members)
    err = refused_with_small_peak(load_model, tmp_path / "m.npz")
    assert "notes.txt" in err.where


def test_a_member_twice(tmp_path):
    members = header_members(tmp_path)
    path = tmp_path / "m.npz"
    zip_of(path, members)
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as zf:
        zf.writestr("format.npy", members["format.npy"])
    err = refused_with_small_peak(load_model, path)
    assert "second member" in err.got


def test_a_compressed_archive(tmp_path):
    arrays = saved_arrays(tmp_path)
    np.savez_compressed(tmp_path / "c.npz", **arrays)
    err = refused_with_small_peak(load_model, tmp_path / "c.npz")
    assert "compressed" in err.got


def test_an_encrypted_member(tmp_path):
    path = tmp_path / "m.npz"
    save_model(small_model(), path)
    raw = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start >= 0:
            raw[start + flag_at] |= 0x01
            start = raw.find(signature, start + 4)
    path.write_bytes(bytes(raw))
    for load in LOADERS.values():
        err = refused_with_small_peak(load, path)
        assert "encrypted" in err.got


def test_too_many_members_are_refused_before_reading_them(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(small_model(), path)
    monkeypatch.setattr(archive, "MAX_MEMBERS", 4)
    err = refused_with_small_peak(load_model, path)
    assert "entries" in err.got


@pytest.mark.parametrize("cut", [0, 1, 21, 100, "half", -1])
def test_truncated_files(tmp_path, cut):
    path = tmp_path / "m.npz"
    save_model(small_model(), path)
    raw = path.read_bytes()
    cut = {"half": len(raw) // 2, -1: len(raw) - 1}.get(cut, cut)
    path.write_bytes(raw[:cut])
    for load in LOADERS.values():
        refused_with_small_peak(load, path)


def test_every_single_byte_flip_is_refused_or_loads_the_same_model(tmp_path):
    """Flip bytes all over a real file: a CheckpointError or the very same weights, never
    another exception (a fuzz over the zip structures, npy headers, JSON and data)."""
    path = tmp_path / "m.npz"
    original = small_model()
    save_model(original, path)
    raw = path.read_bytes()
    for i in range(0, len(raw), 11):
        damaged = bytearray(raw)
        damaged[i] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            loaded = load_model(path)
        except CheckpointError:
            continue
        for ours, theirs in zip(original.get_weights(), loaded.get_weights()):
            np.testing.assert_array_equal(ours, theirs)


def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    err = refused_with_small_peak(load_model, fifo)
    assert "pipe" in err.got


# ---------------------------------------------------------------------- paths and arguments
@pytest.mark.parametrize("path", [3, None, b"model.npz", "", "bad\0name", 1.5, ["m.npz"]])
def test_bad_path_types(path):
    for call in (
        lambda: save_model(small_model(), path),
        lambda: save_weights(small_model(), path),
        lambda: load_model(path),
        lambda: load_weights(small_model(), path),
    ):
        with pytest.raises(CheckpointError) as err:
            call()
        assert_teaches(err.value)
        assert "path" in err.value.expected


def test_a_directory_as_target(tmp_path):
    for call in (lambda: save_model(small_model(), tmp_path), lambda: load_model(tmp_path)):
        with pytest.raises(CheckpointError) as err:
            call()
        assert "directory" in err.value.got and err.value.fix


@pytest.mark.parametrize("parent", ["missing", "a file"])
def test_a_parent_that_is_not_a_directory(tmp_path, parent):
    if parent == "a file":
        (tmp_path / "sub").write_text("x")
    with pytest.raises(CheckpointError) as err:
        save_model(small_model(), tmp_path / "sub" / "m.npz")
    assert "makedirs" in err.value.fix


def test_a_read_only_target_is_not_replaced(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"keep me")
    path.chmod(0o444)
    with pytest.raises(CheckpointError) as err:
        save_model(small_model(), path)
    assert "read-only" in err.value.got and "chmod" in err.value.fix
    assert path.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["m.npz"]


def test_a_pipe_as_target_is_not_replaced(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError) as err:
        save_model(small_model(), fifo)
    assert "pipe" in err.value.got and os.listdir(tmp_path) == ["pipe.npz"]


def test_an_unwritable_directory(tmp_path, monkeypatch):
    real_open = os.open

    def refuse_temp(path, flags, mode=0o777, **kwargs):
        if os.path.basename(path).startswith(".m.npz.tgedu-"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refuse_temp)
    with pytest.raises(CheckpointError) as err:
        save_model(small_model(), tmp_path / "m.npz")
    assert "permissions" in err.value.fix and os.listdir(tmp_path) == []


def test_model_arguments_are_checked():
    with pytest.raises(ConfigError) as err:
        save_model("m.npz", small_model())  # arguments swapped
    assert "model" in err.value.expected
    for call in (
        lambda: save_weights(None, "w.npz"),
        lambda: load_weights("w.npz", "w.npz"),
        lambda: load_model("m.npz", compile="yes"),
    ):
        with pytest.raises(ConfigError):
            call()
