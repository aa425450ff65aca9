"""An MNIST stand-in drawn procedurally with numpy: no download, no files, same format.

Each digit 0-9 is a few pen strokes (lines, arcs, Bezier curves) in a few handwriting styles
(1 with or without a flag, 7 with or without a bar, open or closed 4, ...). Every image gets its own
stroke jitter, elastic warp, slant, rotation, aspect ratio, stroke thickness and noise, and is then
normalized like MNIST (digit in a ~20x20 box, centre of mass in the middle of a 28x28 field).

Difficulty is MNIST-like: a 784-128-10 ReLU MLP reaches about 98% test accuracy, a linear softmax
classifier about 90% (see ``benchmarks/check_digits_separability.py``).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..errors import ConfigError
from ._render import SIDE, render

CHUNK = 1000  # images per random stream; each chunk holds exactly CHUNK // 10 of every digit
MAX_CACHED_CHUNKS = 160  # ~125 MB: two full 70k data sets
_TRAIN, _TEST = 0, 1
_CACHE: OrderedDict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()

Split = tuple[np.ndarray, np.ndarray]


def _check_count(name: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(
            where="load_synthetic_digits",
            expected=f"{name} to be an int >= 0",
            got=repr(value),
            fix=f"pass a whole number, e.g. {name}=2000" if name != "seed" else "pass e.g. seed=0",
        )
    return int(value)


def _chunk(seed: int, stream: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk ``k`` of a stream, always drawn whole from its own seed (cached, LRU)."""
    key = (seed, stream, k)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    rng = np.random.default_rng([seed, stream, k])
    labels = rng.permutation(np.tile(np.arange(10, dtype=np.uint8), CHUNK // 10))
    _CACHE[key] = (render(labels, rng), labels)
    while len(_CACHE) > MAX_CACHED_CHUNKS:
        _CACHE.popitem(last=False)
    return _CACHE[key]


def _draw(n: int, seed: int, stream: int) -> Split:
    """The first ``n`` images of a stream (so a smaller ``n`` is a prefix of a larger one)."""
    x = np.empty((n, SIDE, SIDE), dtype=np.uint8)
    y = np.empty(n, dtype=np.uint8)
    for k, start in enumerate(range(0, n, CHUNK)):
        stop = min(start + CHUNK, n)
        cx, cy = _chunk(seed, stream, k)
        x[start:stop] = cx[: stop - start]
        y[start:stop] = cy[: stop - start]
    return x, y


def load_synthetic_digits(
    n_train: int = 60000, n_test: int = 10000, seed: int = 0
) -> tuple[Split, Split]:
    """Generate an MNIST-like digit data set, returned exactly like Keras' ``mnist.load_data()``.

    Returns ``((x_train, y_train), (x_test, y_test))``: ``x`` is uint8 ``(n, 28, 28)`` with values
    0-255 on a 0 background, ``y`` is uint8 ``(n,)`` with labels 0-9 (balanced: every block of 1000
    images holds 100 of each digit).

    The same ``seed`` gives bit-identical arrays in any process (same numpy, same machine: the
    rounding of numpy's math kernels may differ between CPUs). Train and test come from
    independent random streams, so ``n_test`` never changes the training set, and a smaller ``n``
    gives the first ``n`` images of a larger one. Images are drawn in blocks of 1000 that are
    cached per process (a second call is instant; the most recent 160 blocks are kept), and every
    call returns fresh writable arrays, so changing them never corrupts the cache. 70,000 images
    take about 5 s.

    >>> (x_train, y_train), (x_test, y_test) = load_synthetic_digits(n_train=1000, n_test=100)
    >>> x_train.shape, x_train.dtype, y_test.shape, y_test.dtype
    ((1000, 28, 28), dtype('uint8'), (100,), dtype('uint8'))
    >>> sorted(set(y_train.tolist())) == list(range(10))
    True
    """
    n_train = _check_count("n_train", n_train)
    n_test = _check_count("n_test", n_test)
    seed = _check_count("seed", seed)
    return _draw(n_train, seed, _TRAIN), _draw(n_test, seed, _TEST)
