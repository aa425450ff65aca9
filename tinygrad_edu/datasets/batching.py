"""Mini-batches over ``(x, y)`` arrays, optionally shuffled, without copying the data set."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import ConfigError, DataError


def batches(
    x: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(x_batch, y_batch)`` pairs that together cover every sample exactly once.

    ``x`` is ``(N, ...)`` and ``y`` is ``(N, ...)`` or ``None`` (then every ``y_batch`` is ``None``).
    Batches hold ``batch_size`` samples; the last one holds the remaining ``N % batch_size`` when
    that is not 0. With ``shuffle=True`` the order is a random permutation (the same one for the
    same ``seed``); only the indices are shuffled, each batch is gathered when it is yielded.

    >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(x, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> sorted(i for _, yb in batches(x, y, 2, seed=0) for i in yb.tolist())
    [0, 1, 2, 3, 4]
    """
    if (
        isinstance(batch_size, (bool, np.bool_))
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ConfigError(
            where="batches",
            expected="batch_size to be an int > 0",
            got=repr(batch_size),
            fix="pass a positive whole number such as batch_size=32",
        )
    x = x if hasattr(x, "shape") else np.asarray(x)
    y = y if y is None or hasattr(y, "shape") else np.asarray(y)
    n = _length(x, "x")
    if y is not None and _length(y, "y") != n:
        raise DataError(
            "x and y must hold the same number of samples",
            where="batches",
            expected=f"len(y) == len(x) == {n}",
            got=f"len(y) == {len(y)}",
            fix="pass the labels that belong to x (check for a slice applied to only one of them)",
        )
    return _generate(x, y, n, int(batch_size), shuffle, seed)


def _length(a: object, name: str) -> int:
    if np.ndim(a) == 0:
        raise DataError(
            f"{name} must have a sample axis",
            where="batches",
            expected=f"{name} with shape (N, ...)",
            got=f"a scalar of type {type(a).__name__}",
            fix=f"pass an array whose first axis indexes samples, e.g. np.asarray([{name}])",
        )
    return len(a)  # type: ignore[arg-type]


def _generate(x, y, n: int, batch_size: int, shuffle: bool, seed: int | None):
    # A separate generator function so argument errors raise at the call, not at first next().
    order = np.random.default_rng(seed).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            idx = slice(start, start + batch_size)
        else:
            idx = order[start : start + batch_size]
        yield x[idx], (None if y is None else y[idx])
