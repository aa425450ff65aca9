"""batches: covers every sample once, last batch smaller, seeded shuffles, argument errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.datasets import batches
from tinygrad_edu.errors import ConfigError, DataError


def make(n):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return x, np.arange(n)


@given(
    n=st.integers(0, 300),
    batch_size=st.integers(1, 64),
    shuffle=st.booleans(),
    seed=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
)
def test_every_index_exactly_once_with_a_smaller_last_batch(n, batch_size, shuffle, seed):
    x, y = make(n)
    out = list(batches(x, y, batch_size, shuffle=shuffle, seed=seed))
    sizes = [len(yb) for _, yb in out]
    assert len(out) == -(-n // batch_size)
    assert all(s == batch_size for s in sizes[:-1])
    if n:
        assert sizes[-1] == n - batch_size * (len(out) - 1)
    seen = np.concatenate([yb for _, yb in out]) if out else np.array([], dtype=int)
    assert sorted(seen.tolist()) == list(range(n))
    for xb, yb in out:
        np.testing.assert_array_equal(xb, x[yb])  # x and y stay paired
    if not shuffle:
        assert seen.tolist() == list(range(n))


def test_shuffle_is_deterministic_per_seed():
    x, y = make(100)

    def order(seed):
        return np.concatenate([yb for _, yb in batches(x, y, 16, seed=seed)])

    assert np.array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))
    assert not np.array_equal(order(3), np.arange(100))


def test_y_none_yields_none():
    x, _ = make(10)
    out = list(batches(x, None, 4, shuffle=False))
    assert [xb.shape for xb, _ in out] == [(4, 3), (4, 3), (2, 3)]
    assert all(yb is None for _, yb in out)


def test_unshuffled_batches_are_views_not_copies():
    x, y = make(50)
    xb, yb = next(batches(x, y, 8, shuffle=False))
    assert np.shares_memory(xb, x) and np.shares_memory(yb, y)


def test_lists_are_accepted():
    out = list(batches([[1, 2], [3, 4], [5, 6]], [0, 1, 2], 2, shuffle=False))
    assert out[0][0].tolist() == [[1, 2], [3, 4]] and out[1][1].tolist() == [2]


@pytest.mark.parametrize("bad", [0, -4, 2.5, True, "32", None])
def test_bad_batch_size_is_config_error(bad):
    x, y = make(5)
    with pytest.raises(ConfigError) as info:
        batches(x, y, bad)  # raised at the call, before iterating
    assert "batch_size" in info.value.expected and info.value.got == repr(bad)


def test_length_mismatch_is_data_error():
    x, y = make(10)
    with pytest.raises(DataError) as info:
        batches(x, y[:7], 4)
    assert "10" in info.value.expected and "7" in info.value.got and info.value.fix


def test_scalar_x_is_data_error():
    with pytest.raises(DataError):
        batches(np.float32(3.0), None, 2)
