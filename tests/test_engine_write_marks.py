"""The engine's write marks (``engine.written``): backward skips looking at an op's inputs only
when nothing anywhere was written since the op ran - never when a saved tensor was.

A reference model decides, independently of the marks, which ops must refuse: an op is stale when
one of its inputs (or its output) was written after the op ran. Hypothesis draws chains of ops
and writes at random places, and backward must raise exactly for the stale graphs."""

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.engine import written
from tinygrad_edu.errors import DataError, InplaceModificationError, ShapeError, TensorIndexError

#: ops of one or two inputs, each saving its inputs for backward
_OPS = {
    "mul": lambda a, b: a * b,
    "matmul": lambda a, b: a @ b,
    "exp": lambda a, b: (a * 0.1).exp(),
    "tanh": lambda a, b: a.tanh(),
}

_write_kinds = st.sampled_from(["assign", "raw_data", "none"])


@st.composite
def _programs(draw):
    """A chain of ops on a weight ``w`` and a leaf ``x``, and where to write: after op ``k``,
    write into the tensor ``target`` (an index into the tensors made so far) in one of the
    ways a learner can."""
    n = draw(st.integers(1, 5))
    ops = draw(st.lists(st.sampled_from(sorted(_OPS)), min_size=n, max_size=n))
    kind = draw(_write_kinds)
    after = draw(st.integers(0, n - 1))
    target = draw(st.integers(0, after + 2))  # 0: w, 1: x, 2..: outputs of ops 0..after
    return ops, kind, after, target


def _run(ops, kind, after, target):
    """Run the program; return (raised, must_raise) - the engine's verdict and the model's.

    The model: a write after op ``after`` is caught when the written tensor is an input of an
    op that ran before it (x always is: op 0 reads it; w when a mul or matmul ran) or the output
    of such an op (an op may keep its output: Exp does)."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    x = Tensor(rng.normal(size=(3, 3)), requires_grad=True)
    tensors = [w, x]
    for k, name in enumerate(ops):
        tensors.append(_OPS[name](tensors[-1], w))
        if k == after and kind != "none":
            t = tensors[target]
            if kind == "assign":
                t.assign(t.numpy() + 1.0)
            else:
                t.data[...] += 1.0  # a raw write through the array .data hands out
    w_read = any(name in ("mul", "matmul") for name in ops[: after + 1])
    must_raise = kind != "none" and (target >= 1 or w_read)
    try:
        tensors[-1].sum().backward()
    except InplaceModificationError:
        return True, must_raise
    return False, must_raise


@given(_programs())
def test_backward_refuses_exactly_the_graphs_written_into(program):
    raised, must_raise = _run(*program)
    assert raised == must_raise


def test_a_raw_write_into_an_output_its_op_kept_is_caught():
    """Exp keeps its output for backward (d exp(x) = exp(x) dx): a raw write into ``y.data``
    would otherwise turn the gradient into zeros, silently."""
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.exp()
    y.data[...] = 0
    with pytest.raises(InplaceModificationError, match="output of op 'Exp'"):
        y.backward(np.ones(3))


def test_reading_an_output_without_writing_it_leaves_the_gradient_exact():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.exp()
    assert y.data.sum() > 0 and y.numpy()[0] == y.data[0]
    y.backward(np.ones(3))
    np.testing.assert_allclose(x.grad, np.exp(np.ones(3)))


def test_a_write_anywhere_makes_backward_look_and_an_unrelated_one_is_no_false_alarm():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    other = Tensor(np.ones(3))
    loss = (w * w).sum()
    before = written.last
    other.assign(np.zeros(3))  # not in the graph: backward looks, finds nothing, goes on
    assert written.last > before
    assert written.last > loss._seq
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * np.ones((2, 2)))


def test_a_write_in_another_thread_is_caught_in_this_one():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    loss = (w * w).sum()
    thread = threading.Thread(target=lambda: w.assign(np.zeros((2, 2))))
    thread.start()
    thread.join()
    with pytest.raises(InplaceModificationError):
        loss.backward()


def test_the_last_stamp_never_goes_back_when_threads_stamp_at_once():
    seen, stop = [], threading.Event()

    def stamper():
        for _ in range(3000):
            written.stamp()

    def watcher():
        while not stop.is_set():
            seen.append(written.last)

    threads = [threading.Thread(target=stamper) for _ in range(3)]
    watch = threading.Thread(target=watcher)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watch.join()
    mine = written.stamp()
    assert written.last == mine
    assert all(a <= b for a, b in zip(seen, seen[1:]))


def test_item_assignment_is_a_counted_write_a_saved_graph_refuses():
    """``w[0] = 5.0`` (torch users write it) writes in place through the library: a graph that
    saved ``w`` refuses backward rather than use 5.0; ops recorded after it see the new value."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    stale = (x * w).sum()
    w[0] = 5.0
    assert w.numpy().tolist() == [5.0, 4.0]
    with pytest.raises(InplaceModificationError):
        stale.backward()
    x.grad = None
    (x * w).sum().backward()
    assert x.grad.tolist() == [5.0, 4.0]


def test_item_assignment_refuses_what_numpy_would_reinterpret_or_raise_raw():
    t = Tensor(np.zeros((2, 3), np.float32))
    t[:, 1] = Tensor([1.0, 2.0])  # broadcasting and a Tensor value, as numpy
    assert t.numpy()[:, 1].tolist() == [1.0, 2.0] and t.dtype == np.float32
    with pytest.raises(TensorIndexError) as caught:
        t[5] = 1.0
    assert isinstance(caught.value, IndexError)  # still an IndexError for generic code
    with pytest.raises(ShapeError):
        t[0] = np.ones(4)
    for bad in ("a", np.array([1 + 2j, 0, 0])):  # text, complex: never silently cast
        with pytest.raises(DataError):
            t[0] = bad
    assert t.numpy().tolist() == [[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]]  # nothing was written


@pytest.mark.parametrize(
    "write",
    [
        lambda d: d.assign([5.0, 5.0]),
        lambda d: d.data.__setitem__(Ellipsis, 5.0),  # d.data[...] = 5.0
        lambda d: d.__setitem__(0, 5.0),  # d[0] = 5.0
    ],
    ids=["assign", "raw", "item"],
)
def test_a_write_through_a_detached_tensor_is_seen_by_the_graph_that_saved_the_original(write):
    """``x.detach()`` shares x's memory (as torch): writing through it changed the array Mul
    saved, and backward gave x.grad = [10, 10] instead of [2, 4], silently."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    write(x.detach())
    with pytest.raises(InplaceModificationError):
        y.backward()


def test_detaching_without_writing_keeps_the_exact_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    d = x.detach()
    assert np.shares_memory(d.numpy(), x.numpy())  # the same memory, as documented
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]
