"""load_mnist: IDX (plain and gzipped) and Keras .npz round trips, and errors that say the fix."""

import gzip

import numpy as np
import pytest

from tinygrad_edu.datasets import load_mnist
from tinygrad_edu.datasets.mnist_files import IDX_FILES
from tinygrad_edu.errors import DataError

NAMES = list(IDX_FILES.values())


def idx_bytes(a: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
    return header + a.astype(np.uint8).tobytes()


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 7, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 3, dtype=np.uint8),
    }


def write_idx(folder, arrays, gz=()):
    for key, name in IDX_FILES.items():
        data = idx_bytes(arrays[key])
        if key in gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


def check_equal(loaded, arrays):
    (x, y), (xt, yt) = loaded
    for got, key in (
        (x, "train_images"),
        (y, "train_labels"),
        (xt, "test_images"),
        (yt, "test_labels"),
    ):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


@pytest.mark.parametrize("gz", [(), tuple(IDX_FILES), ("train_images", "test_labels")])
def test_idx_round_trip(tmp_path, arrays, gz):
    write_idx(tmp_path, arrays, gz)
    loaded = load_mnist(tmp_path)
    check_equal(loaded, arrays)
    assert loaded[0][0].flags.writeable
    check_equal(load_mnist(str(tmp_path)), arrays)


def test_gzip_detected_by_content_not_name(tmp_path, arrays):
    write_idx(tmp_path, arrays)
    f = tmp_path / IDX_FILES["train_images"]
    f.write_bytes(gzip.compress(f.read_bytes()))
    check_equal(load_mnist(tmp_path), arrays)


def test_npz_round_trip(tmp_path, arrays):
    path = tmp_path / "mnist.npz"
    np.savez(
        path,
        x_train=arrays["train_images"],
        y_train=arrays["train_labels"],
        x_test=arrays["test_images"],
        y_test=arrays["test_labels"],
    )
    check_equal(load_mnist(path), arrays)
    check_equal(load_mnist(tmp_path), arrays)  # a directory holding only mnist.npz works too


def test_missing_path_says_which_files_to_put_where(tmp_path):
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "nowhere")
    err = info.value
    assert "nowhere" in err.got
    assert all(name in err.fix for name in NAMES) and "mnist.npz" in err.fix


def test_missing_file_names_it_and_the_folder(tmp_path, arrays):
    write_idx(tmp_path, arrays)
    (tmp_path / IDX_FILES["test_labels"]).unlink()
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    err = info.value
    assert IDX_FILES["test_labels"] in err.fix and str(tmp_path) in err.fix
    assert IDX_FILES["train_images"] not in err.fix
    assert IDX_FILES["train_images"] in err.got


def test_bad_magic_number(tmp_path, arrays):
    write_idx(tmp_path, arrays)
    # Swap: an image file where a label file belongs.
    (tmp_path / IDX_FILES["train_labels"]).write_bytes(idx_bytes(arrays["train_images"]))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    err = info.value
    assert "2049" in err.expected and "2051" in err.got
    assert IDX_FILES["train_labels"] in err.where and err.fix


@pytest.mark.parametrize("cut", [-5, 1])
def test_wrong_size_is_corrupt(tmp_path, arrays, cut):
    write_idx(tmp_path, arrays)
    f = tmp_path / IDX_FILES["test_images"]
    data = f.read_bytes()
    f.write_bytes(data[:cut] if cut < 0 else data + b"\0" * cut)
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    assert str(3 * 28 * 28) in info.value.expected and IDX_FILES["test_images"] in info.value.fix


def test_short_header_is_corrupt(tmp_path, arrays):
    write_idx(tmp_path, arrays)
    (tmp_path / IDX_FILES["train_labels"]).write_bytes(b"\0\0")
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    assert "header" in info.value.expected


def test_corrupt_gzip(tmp_path, arrays):
    write_idx(tmp_path, arrays, gz=("train_images",))
    f = tmp_path / (IDX_FILES["train_images"] + ".gz")
    f.write_bytes(f.read_bytes()[:40])
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    assert info.value.fix and "train-images" in info.value.where


def test_count_mismatch(tmp_path, arrays):
    arrays["train_labels"] = arrays["train_labels"][:5]
    write_idx(tmp_path, arrays)
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    assert "7" in info.value.expected and "5" in info.value.got


def test_npz_errors(tmp_path, arrays):
    missing = tmp_path / "a.npz"
    np.savez(missing, x_train=arrays["train_images"])
    with pytest.raises(DataError) as info:
        load_mnist(missing)
    assert "y_train" in info.value.expected and info.value.fix

    pickled = tmp_path / "b.npz"
    objs = np.empty(2, dtype=object)
    np.savez(pickled, x_train=objs, y_train=objs, x_test=objs, y_test=objs)
    with pytest.raises(DataError):
        load_mnist(pickled)

    garbage = tmp_path / "c.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError):
        load_mnist(garbage)

    floats = tmp_path / "d.npz"
    np.savez(
        floats,
        x_train=arrays["train_images"] / 255.0,
        y_train=arrays["train_labels"],
        x_test=arrays["test_images"],
        y_test=arrays["test_labels"],
    )
    with pytest.raises(DataError) as info:
        load_mnist(floats)
    assert "uint8" in info.value.expected and "float64" in info.value.got


def test_single_idx_file_points_to_its_folder(tmp_path, arrays):
    write_idx(tmp_path, arrays)
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / IDX_FILES["train_images"])
    assert str(tmp_path) in info.value.fix
