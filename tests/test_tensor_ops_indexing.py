"""The picking and copying methods beyond the op table: argmax/argmin (int64, no gradient),
split (a list of slices whose gradients land in the right places), prod's gradient at zeros in
closed form, gather's repeated indices, the numpy-vs-torch names (repeat, tile, split), and bad
arguments refused with our typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, DataError, ShapeError, Tensor, gradcheck
from tinygrad_edu.errors import TensorIndexError
from tinygrad_edu.testing import arrays, axes, shapes


# ------------------------------------------------------------------ argmax / argmin
@st.composite
def arg_case(draw):
    a = np.round(draw(arrays(shapes(max_dims=3))))  # a coarse grid: ties are frequent
    axis = draw(st.none() | axes(a.ndim)) if a.ndim else None
    return a, axis, draw(st.booleans())


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(c=arg_case())
def test_argmax_argmin_are_numpys_first_index_as_int64_without_grad(name, c):
    a, axis, keep = c
    got = getattr(Tensor(a, requires_grad=True), name)(axis=axis, keepdims=keep)
    assert got.dtype == np.int64 and not got.requires_grad and got.op is None
    np.testing.assert_array_equal(got.data, getattr(np, name)(a, axis=axis, keepdims=keep))


def test_argmax_of_a_0d_tensor_takes_axis_0_as_torch():
    assert Tensor(5.0).argmax().item() == 0 and Tensor(5.0).argmin(axis=-1).item() == 0


def test_argmax_indexes_other_tensors():
    logits = Tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
    rows = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    picked = rows.take_along_axis(logits.argmax(axis=1, keepdims=True), axis=1)
    assert picked.tolist() == [[1.0], [3.0]]


# ------------------------------------------------------------------ split
@given(
    n=st.integers(1, 6),
    cuts=st.lists(st.integers(-7, 7), max_size=3),
    axis=st.sampled_from([0, 1, -1]),
)
def test_split_at_positions_is_numpys_and_each_gradient_lands_in_its_slice(n, cuts, axis):
    """Cuts out of order or beyond the ends included: pieces may then be empty or overlap."""
    a = np.arange(n * 3.0).reshape(n, 3)
    a = a if axis == 0 else a.T  # the split axis has n elements
    t = Tensor(a, requires_grad=True)
    pieces = t.split(cuts, axis=axis)
    expected = np.split(a, cuts, axis=axis)
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(p.data, e)
    total = sum((p * float(k + 1)).sum() for k, p in enumerate(pieces))
    total.backward()
    want = np.zeros(n)  # piece k adds k + 1 to the gradient of each element it holds
    for k, held in enumerate(np.split(np.arange(n), cuts)):
        want[held] += k + 1
    np.testing.assert_array_equal(
        t.grad, np.broadcast_to(want[:, None] if axis == 0 else want, a.shape)
    )


def test_split_into_equal_pieces_and_the_torch_difference():
    t = Tensor(np.arange(6.0))
    assert [p.tolist() for p in t.split(3)] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]  # 3 pieces
    assert gradcheck(lambda x: x.split([2, 5])[1] * 3, np.arange(6.0))


# ------------------------------------------------------------------ closed forms
def test_prod_gradient_with_one_zero_and_two_zeros():
    """d prod / da_i = the product of the others: only the zero gets one when there is one
    zero; nobody when there are two (out / a_i would give nan there)."""
    t = Tensor(np.array([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.0, 2.0, 4.0]]), requires_grad=True)
    out = t.prod(axis=1)
    out.backward(np.ones(3))
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 8.0])
    np.testing.assert_array_equal(t.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])


def test_std_gradient_is_zero_where_the_values_are_all_equal():
    t = Tensor(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 6.0]]), requires_grad=True)
    out = t.std(axis=1)
    out.backward(np.ones(2))
    np.testing.assert_allclose(out.data, [0.0, np.std([1.0, 2.0, 6.0])])
    np.testing.assert_array_equal(t.grad[0], [0.0, 0.0, 0.0])  # no nan from 0 / 0
    np.testing.assert_allclose(t.grad[1], (t.data[1] - 3.0) / (3 * out.data[1]))


def test_gather_adds_the_gradient_of_repeated_indices():
    t = Tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    out = t.gather(1, np.array([[2, 2, 0, 2]]))
    assert out.tolist() == [[3.0, 3.0, 1.0, 3.0]]
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [[1.0, 0.0, 3.0]])  # np.add.at, not the last write


def test_repeat_is_numpys_repeat_and_tile_is_numpys_tile():
    t = Tensor([[1.0, 2.0]])
    assert t.repeat(2, axis=1).tolist() == [[1.0, 1.0, 2.0, 2.0]]  # torch: repeat_interleave
    assert t.tile((1, 2)).tolist() == [[1.0, 2.0, 1.0, 2.0]]  # torch: t.repeat(1, 2)
    assert t.repeat(2).tolist() == [1.0, 1.0, 2.0, 2.0]  # axis=None flattens, as numpy
    assert t.tile((2, 1, 1)).shape == (2, 1, 2)  # longer reps add leading axes


def test_round_halves_to_even_and_step_functions_have_zero_gradient():
    t = Tensor(np.array([-1.5, -0.5, 0.5, 1.5, 2.5, 0.27]), requires_grad=True)
    assert t.round().tolist() == [-2.0, -0.0, 0.0, 2.0, 2.0, 0.0]
    assert t.round(1).data[-1] == pytest.approx(0.3)
    (t.round() + t.floor() + t.ceil() + t.sign()).sum().backward()
    np.testing.assert_array_equal(t.grad, np.zeros(6))


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    "call, error, where",
    [
        (lambda t: t.argmax(axis=2), ShapeError, "argmax"),
        (lambda t: t.argmin(axis=(0, 1)), ConfigError, "argmin"),
        (lambda t: t.cumsum(axis=1.0), ConfigError, "CumSum"),
        (lambda t: t.flip(axis=(0, 0)), ConfigError, "Flip"),
        (lambda t: t.repeat(-1), ConfigError, "Repeat"),
        (lambda t: t.repeat([1, 2, 3], axis=0), ConfigError, "Repeat"),
        (lambda t: t.repeat(1.5), ConfigError, "Repeat"),
        (lambda t: t.tile("2"), ConfigError, "Tile"),
        (lambda t: t.tile((2, -1)), ConfigError, "Tile"),
        (lambda t: t.reshape(-1).tril(), ShapeError, "Tril"),
        (lambda t: t.triu(k=0.5), ConfigError, "Triu"),
        (lambda t: t.split(4), ShapeError, "Tensor.split"),
        (lambda t: t.split("2"), ConfigError, "Tensor.split"),
        (lambda t: t.split([1.5]), ConfigError, "Tensor.split"),
        (lambda t: t.take_along_axis(np.array([[0.0]]), axis=1), DataError, "TakeAlongAxis"),
        (lambda t: t.take_along_axis(np.array([0]), axis=0), DataError, "TakeAlongAxis"),
        (lambda t: t.take_along_axis(np.array([[5]]), axis=1), TensorIndexError, "TakeAlongAxis"),
        (lambda t: t.gather(1, np.zeros((3, 1), np.int64)), ShapeError, "Tensor.gather"),
        (lambda t: t.one_hot(2), DataError, "one_hot"),
        (lambda t: t.round(decimals=1.0), ConfigError, "Round"),
    ],
)
def test_bad_arguments_get_our_typed_errors(call, error, where):
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(error) as e:
        call(t)
    assert where in e.value.where and e.value.fix
