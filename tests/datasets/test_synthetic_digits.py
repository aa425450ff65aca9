"""load_synthetic_digits: Keras' mnist.load_data() format, determinism, caching, plausibility."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.datasets import synthetic_digits as sd
from tinygrad_edu.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
N, N_TEST = 2000, 500


@pytest.fixture(scope="module")
def data():
    return load_synthetic_digits(n_train=N, n_test=N_TEST, seed=0)


def test_format_matches_keras_mnist(data):
    (x, y), (xt, yt) = data
    assert x.shape == (N, 28, 28) and xt.shape == (N_TEST, 28, 28)
    assert y.shape == (N,) and yt.shape == (N_TEST,)
    assert x.dtype == xt.dtype == y.dtype == yt.dtype == np.uint8
    assert set(np.unique(y).tolist()) == set(range(10))
    assert yt.max() <= 9


def test_pixel_values_look_like_mnist(data):
    (x, _), _ = data
    assert (x.max(axis=(1, 2)) >= 180).all(), "every image has bright ink"
    assert np.median(x) == 0, "the background is 0"
    border = np.concatenate([x[:, :2].ravel(), x[:, -2:].ravel(), x[:, :, :2].ravel()])
    assert np.mean(border > 0) < 0.02, "digits stay inside the field"
    ink = np.mean(x > 0, axis=(1, 2))
    assert 0.08 < ink.mean() < 0.3  # MNIST: ~19% of pixels are non-zero


def test_digits_are_centred_by_mass_in_a_20px_box(data):
    (x, _), _ = data
    w = x.astype(np.float64)
    grid = np.arange(28)
    mass = w.sum(axis=(1, 2))
    cy = (w.sum(axis=2) @ grid) / mass
    cx = (w.sum(axis=1) @ grid) / mass
    assert np.abs(cy - 13.5).mean() < 1.5 and np.abs(cx - 13.5).mean() < 1.5
    rows = np.flatnonzero(x.max(axis=(0, 2)) > 0)  # union over all images
    height = (x > 0).any(axis=2).sum(axis=1)
    assert 16 <= np.median(height) <= 24
    assert rows.size <= 28


def test_labels_are_balanced(data):
    (_, y), (_, yt) = data
    assert np.bincount(y, minlength=10).tolist() == [N // 10] * 10
    counts = np.bincount(yt, minlength=10)
    assert counts.min() >= 0.7 * N_TEST / 10 and counts.max() <= 1.3 * N_TEST / 10


def test_images_match_their_labels(data):
    """A nearest-class-mean classifier is far above chance, so labels and shapes agree."""
    (x, y), (xt, yt) = data
    f, ft = x.reshape(N, -1) / 255.0, xt.reshape(N_TEST, -1) / 255.0
    means = np.stack([f[y == d].mean(axis=0) for d in range(10)])
    dist = (ft**2).sum(1)[:, None] - 2 * ft @ means.T + (means**2).sum(1)[None]
    assert np.mean(dist.argmin(axis=1) == yt) > 0.6


def test_same_seed_is_bit_identical_and_other_seed_differs(data):
    sd._CACHE.clear()
    (x, y), (xt, yt) = load_synthetic_digits(n_train=N, n_test=N_TEST, seed=0)
    (x0, y0), (xt0, yt0) = data
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
    assert np.array_equal(xt, xt0) and np.array_equal(yt, yt0)
    (x1, y1), (xt1, _) = load_synthetic_digits(n_train=N, n_test=N_TEST, seed=1)
    assert not np.array_equal(x1, x0) and not np.array_equal(y1, y0)
    assert not np.array_equal(xt1, xt0)


def test_same_seed_is_identical_in_another_process():
    code = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]);"
        "from tinygrad_edu.datasets import load_synthetic_digits as f;"
        "(x, y), (a, b) = f(300, 120, seed=7);"
        "print(hashlib.sha256(x.tobytes() + y.tobytes() + a.tobytes() + b.tobytes()).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True
    ).stdout.strip()
    import hashlib

    (x, y), (a, b) = load_synthetic_digits(300, 120, seed=7)
    assert out == hashlib.sha256(x.tobytes() + y.tobytes() + a.tobytes() + b.tobytes()).hexdigest()


def test_train_and_test_are_independent_streams(data):
    (x, y), (xt, _) = data
    (x2, y2), (xt2, _) = load_synthetic_digits(n_train=N, n_test=50, seed=0)
    assert np.array_equal(x2, x) and np.array_equal(y2, y), "n_test must not change the train set"
    (_, _), (xt3, _) = load_synthetic_digits(n_train=10, n_test=N_TEST, seed=0)
    assert np.array_equal(xt3, xt), "n_train must not change the test set"
    assert np.array_equal(xt2, xt[:50]), "a smaller split is a prefix of a larger one"
    assert not np.array_equal(xt[:100], x[:100])


def test_cache_renders_once_and_callers_cannot_corrupt_it(monkeypatch):
    calls = []
    real = sd.render

    def counting(labels, rng):
        calls.append(len(labels))
        return real(labels, rng)

    monkeypatch.setattr(sd, "render", counting)
    (x, y), (xt, yt) = load_synthetic_digits(n_train=123, n_test=45, seed=3)
    rendered = len(calls)
    assert rendered > 0
    x[:] = 0
    y[:] = 99
    xt[:] = 7
    (x2, y2), (xt2, yt2) = load_synthetic_digits(n_train=123, n_test=45, seed=3)
    assert len(calls) == rendered, "the second call comes from the cache"
    assert x2.max() > 0 and y2.max() <= 9 and not (xt2 == 7).all()
    assert x2.flags.writeable and np.array_equal(yt2, yt)


def test_zero_sized_splits():
    (x, y), (xt, yt) = load_synthetic_digits(n_train=0, n_test=0)
    assert x.shape == (0, 28, 28) and y.shape == (0,) and x.dtype == np.uint8
    assert xt.shape == (0, 28, 28) and yt.shape == (0,)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"n_train": -1}, "n_train"),
        ({"n_test": 2.5}, "n_test"),
        ({"seed": -3}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"n_train": True}, "n_train"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs, field):
    with pytest.raises(ConfigError) as info:
        load_synthetic_digits(**kwargs)
    err = info.value
    assert field in err.expected and err.where == "load_synthetic_digits" and err.fix
