"""Creation functions (``tinygrad_edu.zeros`` ... ``randn``, ``one_hot``): shapes given as ints
or one tuple, float32 unless ``dtype=`` says, ``requires_grad`` like torch, numpy's values,
``set_seed`` repeats the random ones, and bad arguments get our ``ConfigError``/``DataError``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import ConfigError, DataError, Tensor

SHAPED = ["zeros", "ones", "rand", "randn"]


@pytest.mark.parametrize("name", SHAPED)
@given(shape=st.lists(st.integers(0, 4), max_size=3).map(tuple))
def test_shape_as_ints_or_one_tuple(name, shape):
    make = getattr(tg, name)
    a, b, c = make(*shape) if shape else make(()), make(shape), make(list(shape))
    assert a.shape == b.shape == c.shape == shape
    assert a.dtype == b.dtype == np.float32 and not a.requires_grad


@pytest.mark.parametrize("name", SHAPED)
def test_dtype_and_requires_grad(name):
    t = getattr(tg, name)(2, 3, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    (t * t).sum().backward()
    np.testing.assert_allclose(t.grad, 2 * t.data)


def test_values_are_numpys():
    np.testing.assert_array_equal(tg.zeros(2, 3).data, np.zeros((2, 3)))
    np.testing.assert_array_equal(tg.ones(4).data, np.ones(4))
    np.testing.assert_array_equal(tg.full((2, 2), 7.5).data, np.full((2, 2), 7.5))
    np.testing.assert_array_equal(tg.full(3, np.nan).data, np.full(3, np.nan))
    np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(tg.eye(2, 4, k=1).data, np.eye(2, 4, 1))
    np.testing.assert_allclose(tg.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
    np.testing.assert_allclose(tg.linspace(0, 1, 4, endpoint=False).data, [0, 0.25, 0.5, 0.75])
    assert tg.linspace(2.0, 3.0).shape == (50,)  # numpy's default num


@given(
    start=st.integers(-5, 5) | st.floats(-5, 5),
    length=st.floats(0, 5),
    step=st.sampled_from([1, 2, 0.5, 0.3, -1, -0.25]),
)
def test_arange_is_numpys_in_float32(start, length, step):
    stop = start + length * (1 if step > 0 else -1)
    expected = np.arange(start, stop, step)
    got = tg.arange(start, stop, step)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got.data, expected, rtol=1e-6, atol=1e-5)


def test_arange_one_argument_and_integer_dtype():
    assert tg.arange(4).tolist() == [0.0, 1.0, 2.0, 3.0]
    idx = tg.arange(3, dtype=np.int64)  # torch's default for ints; ours needs dtype=
    assert idx.dtype == np.int64 and idx.tolist() == [0, 1, 2]
    assert tg.zeros(2, dtype=np.int32).dtype == np.int32


def test_like_functions_keep_shape_and_dtype():
    x = Tensor(np.arange(6.0).reshape(2, 3))  # float64
    for make, value in ((tg.zeros_like, 0.0), (tg.ones_like, 1.0)):
        t = make(x)
        assert t.shape == (2, 3) and t.dtype == np.float64 and (t.data == value).all()
        assert make(x, dtype=np.float32).dtype == np.float32
        assert make(np.zeros((4,), np.int64)).dtype == np.int64


def test_set_seed_repeats_rand_and_randn():
    tg.set_seed(3)
    first = (tg.rand(2, 3).data, tg.randn(4).data)
    tg.set_seed(3)
    again = (tg.rand(2, 3).data, tg.randn(4).data)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(tg.rand(2, 3).data, first[0])  # the generator moved on
    u = tg.rand(10_000, dtype=np.float64).data
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    z = tg.randn(10_000, dtype=np.float64).data
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_one_hot_function_and_method():
    labels = Tensor([0.0, 2.0, 1.0])  # float32, whole numbers: labels as the library makes them
    expected = np.eye(3, dtype=np.float32)[[0, 2, 1]]
    for t in (tg.one_hot(labels, 3), labels.one_hot(3), tg.one_hot(np.array([0, 2, 1]), 3)):
        assert t.dtype == np.float32 and not t.requires_grad
        np.testing.assert_array_equal(t.data, expected)
    assert tg.one_hot([[1, 0]], 2, dtype=np.int64).data.tolist() == [[[0, 1], [1, 0]]]


@pytest.mark.parametrize(
    "call, error, fix_runs",
    [
        (lambda: tg.zeros(2, -1), ConfigError, True),
        (lambda: tg.zeros(2.0, 3), ConfigError, True),
        (lambda: tg.zeros("3"), ConfigError, True),
        (lambda: tg.ones(True), ConfigError, True),
        (lambda: tg.zeros(), ConfigError, True),
        (lambda: tg.full((2,), "a"), ConfigError, True),
        (lambda: tg.eye(-1), ConfigError, True),
        (lambda: tg.eye(2, k=0.5), ConfigError, True),
        (lambda: tg.arange(0, 10, 0), ConfigError, True),
        (lambda: tg.arange(0, np.inf), ConfigError, True),
        (lambda: tg.linspace(0, 1, 2.5), ConfigError, True),
        (lambda: tg.zeros(2, dtype="text"), ConfigError, False),
        (lambda: tg.zeros(2, dtype=np.int64, requires_grad=True), ConfigError, True),
        (lambda: tg.rand(2, dtype=np.int64), ConfigError, True),
        (lambda: tg.zeros_like([1, 2]), ConfigError, True),
        (lambda: tg.one_hot([0, 3], 3), DataError, True),
        (lambda: tg.one_hot([0.5], 3), DataError, False),
        (lambda: tg.one_hot([-1, 0], 3), DataError, False),
        (lambda: tg.one_hot([0], 0), ConfigError, False),
    ],
)
def test_bad_arguments_are_refused_with_a_fix_that_runs(call, error, fix_runs):
    with pytest.raises(error) as e:
        call()
    assert e.value.expected and e.value.fix
    if fix_runs:  # the fix is a call of the same function that works as written
        out = eval(e.value.fix, {"np": np, **vars(tg), "labels": [0, 3]})
        assert isinstance(out, Tensor)
