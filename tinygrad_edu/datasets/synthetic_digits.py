"""An MNIST stand-in drawn procedurally with numpy: no download, no files, same format.

Each digit 0-9 is a few pen strokes (lines, arcs, Bezier curves) in a few handwriting styles
(1 with or without a flag, 7 with or without a bar, open or closed 4, ...). Every image gets its own
stroke jitter, elastic warp, slant, rotation, aspect ratio, stroke thickness and noise, and is then
normalized like MNIST (digit in a ~20x20 box, centre of mass in the middle of a 28x28 field).

Difficulty is MNIST-like: a 784-128-10 ReLU MLP reaches about 98% test accuracy, a linear softmax
classifier about 90% (see ``benchmarks/check_digits_separability.py``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ._render import SIDE, render

CHUNK = 1000  # images drawn per random stream; each chunk has exactly CHUNK // 10 of every digit
_TRAIN, _TEST = 0, 1
_CACHE: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}

Split = tuple[np.ndarray, np.ndarray]


def _check_count(name: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(
            where="load_synthetic_digits",
            expected=f"{name} to be an int >= 0",
            got=repr(value),
            fix=f"pass a whole number of images, e.g. {name}=2000",
        )
    return int(value)


def _draw(n: int, seed: int, stream: int) -> Split:
    """``n`` images from one stream; chunk ``k`` always comes from the same seeds, so a smaller
    ``n`` gives a prefix of a larger one (up to the last, truncated chunk)."""
    x = np.empty((n, SIDE, SIDE), dtype=np.uint8)
    y = np.empty(n, dtype=np.uint8)
    for k, start in enumerate(range(0, n, CHUNK)):
        rng = np.random.default_rng([seed, stream, k])
        labels = rng.permutation(np.tile(np.arange(10, dtype=np.uint8), CHUNK // 10))
        stop = min(start + CHUNK, n)
        labels = labels[: stop - start]
        x[start:stop] = render(labels, rng)
        y[start:stop] = labels
    return x, y


def load_synthetic_digits(
    n_train: int = 60000, n_test: int = 10000, seed: int = 0
) -> tuple[Split, Split]:
    """Generate an MNIST-like digit data set, returned exactly like Keras' ``mnist.load_data()``.

    Returns ``((x_train, y_train), (x_test, y_test))``: ``x`` is uint8 ``(n, 28, 28)`` with values
    0-255 on a 0 background, ``y`` is uint8 ``(n,)`` with labels 0-9 (balanced: every block of 1000
    images holds 100 of each digit). The same ``seed`` gives bit-identical arrays in any process;
    train and test come from independent random streams, so ``n_test`` never changes the training
    set. Results are cached per process (a second call is instant) and every call returns fresh
    writable copies, so changing them never corrupts the cache. 70,000 images take a few seconds.

    >>> (x_train, y_train), (x_test, y_test) = load_synthetic_digits(n_train=1000, n_test=100)
    >>> x_train.shape, x_train.dtype, y_test.shape, y_test.dtype
    ((1000, 28, 28), dtype('uint8'), (100,), dtype('uint8'))
    >>> sorted(set(y_train.tolist())) == list(range(10))
    True
    """
    n_train = _check_count("n_train", n_train)
    n_test = _check_count("n_test", n_test)
    seed = _check_count("seed", seed)
    out = []
    for n, stream in ((n_train, _TRAIN), (n_test, _TEST)):
        key = (n, seed, stream)
        if key not in _CACHE:
            _CACHE[key] = _draw(n, seed, stream)
        x, y = _CACHE[key]
        out.append((x.copy(), y.copy()))
    return out[0], out[1]
