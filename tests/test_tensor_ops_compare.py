"""Comparisons (``== != < <= > >=``) and ``isnan/isinf/isfinite``: numpy bool arrays, element by
element, never in the graph; and tensors still hashable by identity.

The contract, as torch's: ``a == b`` compares values, so ``t in [a, b]`` (which calls ``==``
after an identity test) is a value test - it raises for tensors of several elements (numpy's
"truth value of an array is ambiguous") and compares the value for one element. Dicts and sets
of tensors work by identity (``__hash__`` is ``object.__hash__`` and a dict tests identity
before ``==``). The library itself finds tensors in lists with ``is`` (``test_identity_*``).
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import DataError, ShapeError, Tensor
from tinygrad_edu.testing import arrays, broadcastable_shapes

OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@st.composite
def pairs(draw):
    """Two broadcastable arrays on a coarse grid, so equal values are frequent."""
    sa, sb = draw(broadcastable_shapes(2))
    a, b = (np.round(draw(arrays(s, -2.0, 2.0))) for s in (sa, sb))
    return a, b


@pytest.mark.parametrize("symbol", list(OPERATORS))
@given(ab=pairs())
def test_every_comparison_is_numpys_bool_array_without_graph(symbol, ab):
    a, b = ab
    compare = OPERATORS[symbol]
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    for got in (compare(ta, tb), compare(ta, b), compare(a, tb)):
        assert type(got) is np.ndarray and got.dtype == bool  # a mask, not a Tensor: no graph
        np.testing.assert_array_equal(got, compare(a, b))


@pytest.mark.parametrize("symbol", list(OPERATORS))
def test_comparison_with_a_number(symbol):
    t = Tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(OPERATORS[symbol](t, 2), OPERATORS[symbol](t.data, 2))


@pytest.mark.parametrize("symbol", list(OPERATORS))
def test_shapes_that_do_not_broadcast_give_shape_error(symbol):
    with pytest.raises(ShapeError) as e:
        OPERATORS[symbol](Tensor(np.ones((2, 3))), Tensor(np.ones((4,))))
    assert e.value.where == f"Tensor {symbol}" and "(2, 3)" in e.value.got


def test_none_and_strings_are_never_equal_as_in_torch():
    t = Tensor([1.0])
    assert (t == None) is False and (t != None) is True
    assert (t == "1.0") is False and (t != "1.0") is True and (t == np.str_("1")) is False
    with pytest.raises(DataError):
        t < None  # noqa: B015 - ordering against None is an error, not False


def test_tensors_are_dict_keys_and_set_members_by_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])  # equal values, different tensors
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b, a}) == 2
    assert hash(a) == object.__hash__(a)
    assert a in {a} and b not in {a}


def test_membership_in_a_list_is_a_value_test_as_in_torch():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert a in [a, b]  # found by identity before any == is called
    with pytest.raises(ValueError, match="ambiguous"):
        a in [b, a]  # noqa: B015 - b == a is an array of 2 bools first
    one, same_value = Tensor([3.0]), Tensor([3.0])
    assert one in [same_value]  # one element: its value decides, as torch's `in`
    assert any(p is a for p in [b, a]) and not any(p is one for p in [same_value])


@given(a=arrays(max_value=1e300) | st.just(np.array([np.nan, np.inf, -np.inf, 0.0])))
def test_isnan_isinf_isfinite_are_numpys(a):
    t = Tensor(a, requires_grad=True)
    for name in ("isnan", "isinf", "isfinite"):
        got = getattr(t, name)()
        assert type(got) is np.ndarray and got.dtype == bool
        np.testing.assert_array_equal(got, getattr(np, name)(a))


def test_masks_feed_indexing_and_where():
    t = Tensor([-1.0, 2.0, -3.0], requires_grad=True)
    picked = t[t > 0]  # a bool mask indexes, with a gradient for the picked elements
    picked.sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 0.0])
    assert float(np.mean(Tensor([1.0, 2.0]).argmax() == Tensor([0.0, 1.0]).argmax())) == 1.0
