"""The fast paths of one training step, each held to its plain form (models/steps.py,
optimizers/gradients.py):

- ``UndoBuffer.weights_finite``: one sum of squares over 1-D views kept from step to step, against
  ``np.isfinite(w).all()`` per weight - never a false "finite"; the views follow a weight whose
  array was replaced;
- ``checked_grads``: one fused sum of squares for every gradient, against the exact check;
- the undo itself: an interrupt halfway through the update leaves weights, optimizer slots and
  step count exactly as before;
- the optimizer's parameters follow the layers' trainable flags between ``train_on_batch`` calls;
- the data checks hand a numeric array on as the plain conversion does (``data._numeric``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_edu import set_seed
from tinygrad_edu._shapes import as_numeric_array
from tinygrad_edu.errors import DataError, DivergenceError
from tinygrad_edu.layers import BatchNormalization, Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.models.data import _numeric
from tinygrad_edu.models.steps import UndoBuffer
from tinygrad_edu.optimizers import SGD, Adam
from tinygrad_edu.optimizers.gradients import checked_grads
from tinygrad_edu.tensor import Tensor

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflows are the point

#: finite values that overflow a float32 sum of squares (beyond ~1.8e19), NaN and inf
SPECIAL = st.sampled_from([0.0, 1.0, -2.5, 3e19, -3e38, np.nan, np.inf, -np.inf])


def weight_arrays() -> st.SearchStrategy:
    """An array as a weight may hold it: float32/float64, 0-d to 3-d, C- or F-ordered, or a
    strided view (no 1-D view of it exists), special values included."""
    dtype = st.sampled_from([np.float32, np.float64])
    shape = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
    values = st.one_of(SPECIAL, st.floats(-1e3, 1e3, width=32))
    base = st.tuples(dtype, shape).flatmap(lambda ds: arrays(ds[0], ds[1], elements=values))
    layout = st.sampled_from(["C", "F", "strided"])
    return st.tuples(base, layout).map(lambda a: _laid_out(*a))


def _laid_out(a: np.ndarray, layout: str) -> np.ndarray:
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided" and a.ndim:
        return np.repeat(a, 2, axis=-1)[..., ::2]  # a view with gaps between its elements
    return a


def _plain_finite(arrays_: list) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays_)


def _exact_after_fast(undo: UndoBuffer, tensors: list) -> bool:
    """What the step concludes: the fast verdict, confirmed weight by weight when negative."""
    return undo.weights_finite() or _plain_finite([t._data for t in tensors])


@given(st.lists(weight_arrays(), min_size=1, max_size=4))
def test_weights_finite_never_says_finite_wrongly_and_the_step_agrees_with_the_plain_check(
    found,
):
    tensors = [Tensor(a) for a in found]
    for t, a in zip(tensors, found):
        t._data = a  # the very array, in its layout (Tensor() may keep it; make sure)
    undo = UndoBuffer()
    undo.save(tensors, SGD(learning_rate=0.1))
    plain = _plain_finite(found)
    if undo.weights_finite():
        assert plain
    assert _exact_after_fast(undo, tensors) == plain


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(value=st.sampled_from([np.nan, np.inf, -np.inf]), where=st.integers(0, 11))
def test_the_kept_views_see_in_place_writes_made_after_save(layout, dtype, value, where):
    """The views are kept from step to step: an in-place write into the weight (as the update
    makes) must be seen by the next check, whatever the array's layout."""
    a = _laid_out(np.ones((3, 4), dtype), layout)
    t = Tensor(a)
    t._data = a
    undo = UndoBuffer()
    undo.save([t], SGD(learning_rate=0.1))
    assert undo.weights_finite()
    a[np.unravel_index(where, a.shape)] = value  # written after the save, as an update writes
    assert not undo.weights_finite()


def test_the_views_follow_a_weight_whose_array_was_replaced():
    """``w.data = new`` between two steps gives the weight another array: the next save must
    view that one (a view of the old array would miss a NaN in the new one)."""
    w = Tensor(np.ones((3, 2), np.float32))
    undo = UndoBuffer()
    opt = SGD(learning_rate=0.1)
    undo.save([w], opt)
    assert undo.weights_finite()
    w.data = np.ones((3, 2), np.float32)
    undo.save([w], opt)
    w._data[1, 1] = np.nan
    assert not undo.weights_finite()


@given(st.lists(weight_arrays(), min_size=1, max_size=4))
def test_checked_grads_refuses_exactly_the_non_finite_gradients(found):
    params = [Tensor(np.zeros(g.shape, g.dtype), requires_grad=True) for g in found]
    for p, g in zip(params, found):
        p.grad = g
    slots = [None] * len(params)
    if _plain_finite(found):
        todo = checked_grads(params, slots, "SGD")
        assert [i for i, _, _ in todo] == list(range(len(params)))
    else:
        with pytest.raises(DivergenceError) as caught:
            checked_grads(params, slots, "SGD")
        first_bad = next(i for i, g in enumerate(found) if not np.isfinite(g).all())
        assert caught.value.parameter_index == first_bad


class _Interrupted(KeyboardInterrupt):
    pass


def _interrupt_after_first_update(opt, monkeypatch):
    """Make ``opt``'s update rule raise an interrupt after it updated one parameter."""
    cls = type(opt)
    done = []
    for name in ("update_step", "fused_update_step"):
        rule = getattr(cls, name)
        if rule is None:
            continue

        def interrupting(self, p, g, s, lr, rule=rule):
            if done:
                raise _Interrupted()
            rule(self, p, g, s, lr)
            done.append(1)

        monkeypatch.setattr(cls, name, interrupting)


@pytest.mark.parametrize("make_opt", [lambda: SGD(learning_rate=0.1, momentum=0.9), Adam])
def test_an_interrupt_halfway_through_the_update_is_undone_exactly(make_opt, monkeypatch):
    set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(2)])
    model.compile(make_opt(), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    y = np.random.default_rng(1).normal(size=(8, 2)).astype(np.float32)
    model.train_on_batch(x, y)  # slots exist and hold non-trivial values
    weights = model.get_weights()
    slots = [a.copy() for a in model.optimizer.state_arrays()]
    iterations = model.optimizer.iterations
    _interrupt_after_first_update(model.optimizer, monkeypatch)
    with pytest.raises(_Interrupted):
        model.train_on_batch(x, y)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(model.optimizer.state_arrays(), slots):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == iterations
    assert all(p.grad is None for p in model.optimizer.params)


def test_an_overflowing_update_is_undone_with_the_step_count():
    """The update itself overflows (finite loss and gradients): weights, slots and the step
    count - already incremented by the optimizer - are as before the step."""
    set_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(learning_rate=1e35, momentum=0.5), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32) * 1e3
    y = x.sum(axis=1, keepdims=True)
    model.optimizer.set_params(model.trainable_weights)
    slots = [a.copy() for a in model.optimizer.state_arrays()]
    weights = model.get_weights()
    with pytest.raises(DivergenceError, match="NaN/inf"):
        model.train_on_batch(x, y)
    assert model.optimizer.iterations == 0
    for got, want in zip(model.get_weights() + model.optimizer.state_arrays(), weights + slots):
        np.testing.assert_array_equal(got, want)


def test_a_layer_frozen_between_two_train_on_batch_calls_stays_frozen():
    """The parameters handed to the optimizer follow the trainable flags: freezing the first
    layer after a step stops its weights, the other layer keeps training; unfreezing resumes."""
    set_seed(0)
    first, second = Dense(4, input_shape=(3,)), Dense(1)
    model = Sequential([first, second])
    model.compile(SGD(learning_rate=0.1), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    y = np.ones((8, 1), np.float32)
    model.train_on_batch(x, y)
    first.trainable = False
    frozen, moving = first.get_weights(), second.get_weights()
    model.train_on_batch(x, y)
    for got, want in zip(first.get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(second.get_weights()[0], moving[0])
    first.trainable = True
    model.train_on_batch(x, y)
    assert not np.array_equal(first.get_weights()[0], frozen[0])


NUMERIC_INPUTS = [
    np.ones((2, 3), np.float32),
    np.arange(4),
    np.arange(4, dtype=np.uint8),
    np.array([True, False]),
    np.array([1 + 2j]),
    np.array([None, 1.0], dtype=object),
    np.array(["a", "b"]),
    [[1.0, 2.0], [3.0, 4.0]],
    [[1.0], [2.0, 3.0]],
    Tensor(np.ones(3, np.float32)),
]


@pytest.mark.parametrize("x", NUMERIC_INPUTS, ids=lambda x: type(x).__name__)
def test_the_data_checks_take_numeric_arrays_as_the_plain_conversion_does(x):
    """``data._numeric`` hands a numeric array on without building the error location first: the
    same array (the very object) or the same refusal as the plain form."""
    model = Sequential([Dense(1, input_shape=(3,))], name="m")

    def plain():
        return x._data if isinstance(x, Tensor) else as_numeric_array(x, "model 'm'.fit")

    try:
        want = plain()
    except DataError as err:
        with pytest.raises(DataError) as caught:
            _numeric(model, x, "fit")
        assert str(caught.value) == str(err)
    else:
        got = _numeric(model, x, "fit")
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert (got is x) == (want is x)
