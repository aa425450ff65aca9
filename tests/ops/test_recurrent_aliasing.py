"""The recurrent ops' work buffers (``tinygrad_edu.workspace``) never leak into results.

The session runs in checked mode (``tests/conftest.py``): buffers given back are filled with NaN,
so any output or gradient that still views one turns NaN, and the pool keeps counts. Checked
here: the fused layers equal their reference form (``fused=False``, a loop of Tensor ops) in
stacks, where one layer's buffers are the next one's; ``predict`` does not depend on the batch
size; nothing an op returns shares memory with a pool buffer; buffers live exactly as long as
the engine says (released at once when no graph is recorded, kept by ``retain_graph``, dropped
- not reused - with a graph discarded unused); threads sharing the pool get sequential results.
"""

import gc
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, no_grad, ops, tensor_from_op, workspace
from tinygrad_edu.layers import GRU, LSTM, Dense, SimpleRNN
from tinygrad_edu.models import Sequential

KINDS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
POOLED_OPS = [ops.SimpleRNNSequence, ops.LSTMSequence]
GATES = {ops.SimpleRNNSequence: 1, ops.LSTMSequence: 4, ops.GRUSequence: 3}


# ---------------------------------------------------------------- helpers
def stack_model(specs, input_shape, fused, dtype=np.float64):
    """Sequential recurrent layers ``[(kind, units, go_backwards), ...]``; every layer but the
    last returns its whole sequence, the last one only if ``specs`` asks (4th item)."""
    layers = []
    for k, (kind, units, go_backwards, *last_seq) in enumerate(specs):
        seq = k < len(specs) - 1 or bool(last_seq and last_seq[0])
        kwargs = {"input_shape": input_shape} if k == 0 else {}
        layers.append(
            KINDS[kind](
                units, return_sequences=seq, go_backwards=go_backwards, fused=fused, **kwargs
            )
        )
    model = Sequential(layers)
    for layer in model.layers:
        layer.cast(dtype)
    return model


def random_weights(model, seed):
    """Weights (biases too) of moderate size, so every path carries signal."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.6 / np.sqrt(w.shape[0]), w.shape) for w in model.get_weights()]


def fused_and_reference(specs, x, seed=0):
    """(fused model, reference model) with the same weights."""
    fused = stack_model(specs, x.shape[1:], fused=True, dtype=x.dtype)
    reference = stack_model(specs, x.shape[1:], fused=False, dtype=x.dtype)
    weights = random_weights(fused, seed)
    fused.set_weights(weights)
    reference.set_weights(weights)
    return fused, reference


def output_and_grads(model, x, seed=1):
    """The output and the gradients of ``sum(out * r)`` w.r.t. x and every weight."""
    xt = Tensor(x, requires_grad=True)
    out = model(xt)
    out.backward(np.random.default_rng(seed).standard_normal(out.shape).astype(x.dtype))
    return [out.data, xt.grad] + [w.grad for w in model.weights]


def assert_same_results(fused, reference, x, rtol=1e-9, atol=1e-11):
    got, want = output_and_grads(fused, x), output_and_grads(reference, x)
    names = ["output", "dx"] + [w.name or f"weight {k}" for k, w in enumerate(fused.weights)]
    for name, a, b in zip(names, got, want):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)
    return got


def assert_no_pool_memory(arrays):
    """None of ``arrays`` shares memory with any buffer the pool has made (free or held)."""
    buffers = workspace.POOL.known_buffers()
    for k, a in enumerate(arrays):
        if a is None:
            continue
        hits = [b.shape for b in buffers if np.shares_memory(a, b)]
        assert not hits, f"array {k} {a.shape} views workspace buffers {hits}"


def op_inputs(op, units, seed=0, batch=3, steps=4, feats=2):
    rng = np.random.default_rng(seed)
    g = GATES[op] * units
    b_shape = (2, g) if op is ops.GRUSequence else (g,)
    return [
        rng.normal(size=(batch, steps, feats)),
        rng.normal(0, 0.5, (feats, g)),
        rng.normal(0, 0.5 / np.sqrt(units), (units, g)),
        rng.normal(0, 0.3, b_shape),
    ]


# ---------------------------------------------------------------- the reported bug
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_stacked_simple_rnn_of_one_unit_get_their_own_gradients(dtype):
    """Issue 11: with one unit, dU/dW/db of the 2nd layer came out as copies of the 1st layer's
    (a view of a pooled array, overwritten by the 1st layer's backward before the engine kept
    it)."""
    x = np.random.default_rng(3).normal(size=(3, 5, 1)).astype(dtype)
    specs = [("SimpleRNN", 1, False), ("SimpleRNN", 1, False)]
    fused, reference = fused_and_reference(specs, x)
    tol = {"rtol": 1e-9, "atol": 1e-11} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-6}
    grads = assert_same_results(fused, reference, x, **tol)[2:]
    first, second = grads[:3], grads[3:]
    assert not any(np.array_equal(a, b) for a, b in zip(first, second))


# ---------------------------------------------------------------- fused == reference in stacks
@st.composite
def stack_case(draw):
    """2-3 recurrent layers of 1, 7 or 64 units (any kinds, directions), a float64 input."""
    specs = [
        (
            draw(st.sampled_from(sorted(KINDS))),
            draw(st.sampled_from([1, 7, 64])),
            draw(st.booleans()),
            draw(st.booleans()),
        )
        for _ in range(draw(st.integers(2, 3)))
    ]
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    seed = draw(st.integers(0, 2**16))
    return specs, np.random.default_rng(seed).normal(size=shape), seed


@given(case=stack_case())
def test_stacks_of_fused_layers_equal_the_reference_form(case):
    specs, x, seed = case
    fused, reference = fused_and_reference(specs, x, seed)
    assert_no_pool_memory(assert_same_results(fused, reference, x))


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("units", [1, 7, 64])
def test_three_layer_stacks_of_one_kind_equal_the_reference_form(kind, units):
    """The same shapes layer after layer: each layer's buffers are exactly the next one's."""
    x = np.random.default_rng(units).normal(size=(4, 6, units))
    specs = [(kind, units, False), (kind, units, True), (kind, units, False, True)]
    fused, reference = fused_and_reference(specs, x, seed=units)
    assert_no_pool_memory(assert_same_results(fused, reference, x))


# ---------------------------------------------------------------- predict and the batch size
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("batch_size", [1, 16, 25])
def test_predict_does_not_depend_on_the_batch_size(kind, batch_size):
    """Batches of different sizes go through the pool in turn; each must see only its own.
    (float32: BLAS may round a batch of 1 differently, hence a tolerance - far below a mix-up.)"""
    x = np.random.default_rng(0).normal(size=(64, 7, 3)).astype(np.float32)
    specs = [(kind, 16, False), (kind, 16, True), (kind, 1, False)]
    model = stack_model(specs, x.shape[1:], fused=True, dtype=np.float32)
    model.set_weights([w.astype(np.float32) for w in random_weights(model, 2)])
    whole = model.predict(x, batch_size=len(x))
    got = model.predict(x, batch_size=batch_size)
    np.testing.assert_allclose(got, whole, rtol=1e-4, atol=1e-8)
    assert np.isfinite(whole).all()


# ---------------------------------------------------------------- what ops return
@pytest.mark.parametrize("op", POOLED_OPS + [ops.GRUSequence], ids=lambda o: o.__name__)
@pytest.mark.parametrize("units", [1, 7, 64])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_nothing_an_op_returns_shares_memory_with_its_workspace(op, units, return_sequences):
    """The op contract, checked on the op itself (the engine copies some views before keeping
    them, which would hide a view here): output and every gradient are fresh arrays."""
    fn = op()
    fn.needs_input_grad = (True,) * 4
    params = {"return_sequences": return_sequences}
    if op is ops.LSTMSequence:
        params["return_cell"] = True
    out = fn.forward(*op_inputs(op, units), **params)
    grads = fn.backward(np.ones_like(out))
    held = fn.ws.held if fn.releases else ()
    assert not fn.releases or held  # the saved arrays are still borrowed
    for k, a in enumerate([out, *grads]):
        assert not any(np.shares_memory(a, b) for b in held), f"result {k} views the workspace"
    assert_no_pool_memory([out, *grads])
    if fn.releases:
        fn.release()


# ---------------------------------------------------------------- lifetimes
def _fresh_stats():
    gc.collect()  # garbage of earlier tests is counted now, not during the test
    return workspace.POOL.stats()


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM"])
def test_predict_without_a_graph_releases_every_workspace_at_once(kind):
    x = np.random.default_rng(0).normal(size=(10, 5, 2)).astype(np.float32)
    model = stack_model([(kind, 8, False), (kind, 4, False)], x.shape[1:], True, np.float32)
    before = _fresh_stats()
    model.predict(x, batch_size=4)  # 3 batches x 2 layers
    after = _fresh_stats()
    assert after.releases - before.releases == 6
    assert after.dropped == before.dropped and after.outstanding == before.outstanding


@pytest.mark.parametrize("op", POOLED_OPS, ids=lambda o: o.__name__)
def test_an_op_not_recorded_releases_during_apply(op):
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(op, 5)]
    before = _fresh_stats()
    with no_grad():
        out = tensor_from_op(op, *ts, return_sequences=True)
    after = workspace.POOL.stats()
    assert out._ctx is None and after.releases == before.releases + 1
    assert after.outstanding == before.outstanding and np.isfinite(out.data).all()


@pytest.mark.parametrize("op", POOLED_OPS, ids=lambda o: o.__name__)
def test_retain_graph_keeps_the_saved_buffers_until_the_graph_is_freed(op):
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(op, 5)]
    out = tensor_from_op(op, *ts, return_sequences=True)
    fn = out._ctx
    saved = list(fn.ws.held)  # what backward reads: the state columns (LSTM: and z, c, act(c))
    assert len(saved) == (1 if op is ops.SimpleRNNSequence else 4)
    out.backward(np.ones(out.shape), retain_graph=True)
    first = [t.grad.copy() for t in ts]
    # backward gave its own temporaries back, kept what a second backward needs, untouched
    assert not fn.ws.released and len(fn.ws.held) == len(saved)
    assert all(np.isfinite(b).all() for b in saved)
    out.backward(np.ones(out.shape))  # frees the graph: now everything goes back, poisoned
    assert fn.ws.released and fn.ws.held == ()
    assert all(np.isnan(b).all() for b in saved)
    for t, g in zip(ts, first):
        np.testing.assert_allclose(t.grad, 2 * g, rtol=1e-12)


@pytest.mark.parametrize("op", POOLED_OPS, ids=lambda o: o.__name__)
def test_released_buffers_are_poisoned_after_backward(op):
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(op, 3)]
    out = tensor_from_op(op, *ts)
    fn = out._ctx
    saved = list(fn.ws.held)
    before = _fresh_stats()
    out.sum().backward()
    assert all(np.isnan(b).all() for b in saved)
    assert all(np.isfinite(t.grad).all() for t in ts) and np.isfinite(out.data).all()
    after = workspace.POOL.stats()
    assert after.releases == before.releases + 1
    assert after.outstanding == before.outstanding - len(saved)


@pytest.mark.parametrize("op", POOLED_OPS, ids=lambda o: o.__name__)
def test_a_graph_dropped_without_backward_drops_its_buffers(op):
    """Nothing comes back by garbage collection: they are freed, never handed out again."""
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(op, 3)]
    before = _fresh_stats()
    out = tensor_from_op(op, *ts)
    held = len(out._ctx.ws.held)
    del out
    after = _fresh_stats()
    assert after.dropped - before.dropped == held
    assert after.given_back - before.given_back == after.taken - before.taken - held
    assert after.releases == before.releases and after.outstanding == before.outstanding


def test_a_forward_that_fails_leaves_nothing_borrowed():
    x, w, u = np.zeros((2, 3, 5)), np.zeros((4, 8)), np.zeros((2, 8))  # W has the wrong shape
    before = _fresh_stats()
    with pytest.raises(ValueError):
        tensor_from_op(ops.LSTMSequence, Tensor(x), Tensor(w, requires_grad=True), Tensor(u))
    assert _fresh_stats().outstanding == before.outstanding


# ---------------------------------------------------------------- threads
def _lstm_model(seed):
    model = stack_model([("LSTM", 32, False), ("LSTM", 32, True)], (12, 3), True, np.float32)
    model.set_weights([w.astype(np.float32) for w in random_weights(model, seed)])
    return Sequential([*model.layers, Dense(4)])


def _training_grads(model, x, rounds):
    """The gradients of ``rounds`` forward + backward passes (weights unchanged)."""
    results = []
    for _ in range(rounds):
        out = model(Tensor(x))
        (out * out).mean().backward()
        results.append([w.grad.copy() for w in model.weights])
        for w in model.weights:
            w.grad = None
    return results


def test_two_threads_training_different_lstms_get_the_sequential_gradients():
    """Same shapes in both models: both threads borrow the very same buffers from the pool."""
    xs = [np.random.default_rng(k).normal(size=(16, 12, 3)).astype(np.float32) for k in (0, 1)]
    models = [_lstm_model(seed) for seed in (10, 11)]
    sequential = [_training_grads(m, x, 6) for m, x in zip(models, xs)]
    threaded, start = [None, None], threading.Barrier(2)

    def run(k):
        start.wait()
        threaded[k] = _training_grads(models[k], xs[k], 6)

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for want, got in zip(sequential, threaded):
        assert got is not None
        for want_round, got_round in zip(want, got):
            for a, b in zip(want_round, got_round):
                np.testing.assert_array_equal(b, a)
