"""The fused Conv2D op's work buffers (``tinygrad_edu.workspace``) never leak into results.

The op borrows its patch matrix (kept for backward) and backward's temporaries (relu mask, masked
gradient, patch gradients). The session runs in checked mode (``tests/conftest.py``): buffers
given back are filled with NaN, so an output or gradient that still viewed one would turn NaN,
and the pool keeps counts. Checked here: stacked layers of one shape (each layer's buffers are
the next one's) equal the reference form; nothing the op returns shares memory with a pool
buffer; buffers live exactly as long as the engine says.
"""

import gc

import numpy as np
import pytest

from tinygrad_edu import Tensor, no_grad, ops, tensor_from_op, workspace
from tinygrad_edu.layers import Conv2D

CASES = [  # (bias, activation, strides, padding)
    (True, "relu", (1, 1), ((0, 0), (0, 0))),
    (False, None, (2, 1), ((1, 1), (0, 1))),
    (True, None, (1, 2), ((1, 0), (1, 1))),
    (False, "relu", (1, 1), ((0, 0), (0, 0))),
]


def op_inputs(bias, seed=0, batch=3, hw=(7, 6), channels=2, filters=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, *hw, channels))
    w = rng.normal(0, 0.5, (3, 2, channels, filters))
    return [x, w, rng.normal(0, 0.3, filters)] if bias else [x, w]


def assert_no_pool_memory(arrays):
    """None of ``arrays`` shares memory with any buffer the pool has made (free or held)."""
    buffers = workspace.POOL.known_buffers()
    for k, a in enumerate(arrays):
        hits = [b.shape for b in buffers if np.shares_memory(a, b)]
        assert not hits, f"array {k} {a.shape} views workspace buffers {hits}"


def _fresh_stats():
    gc.collect()  # garbage of earlier tests is counted now, not during the test
    return workspace.POOL.stats()


# ---------------------------------------------------------------- what the op returns
@pytest.mark.parametrize("bias, activation, strides, padding", CASES)
def test_nothing_the_op_returns_shares_memory_with_its_workspace(
    bias, activation, strides, padding
):
    fn = ops.Conv2D()
    fn.needs_input_grad = (True,) * (3 if bias else 2)
    params = {"strides": strides, "padding": padding, "activation": activation}
    out = fn.forward(*op_inputs(bias), **params)
    grads = fn.backward(np.random.default_rng(1).normal(size=out.shape))
    held = fn.ws.held
    assert len(held) == 1  # the patches, kept for backward; its temporaries went back
    for k, a in enumerate([out, *grads]):
        assert not any(np.shares_memory(a, b) for b in held), f"result {k} views the workspace"
    assert_no_pool_memory([out, *grads])
    fn.release()


@pytest.mark.parametrize("activation", [None, "relu"])
def test_stacked_layers_of_one_shape_equal_the_reference_form(activation):
    """Two steps through three same-shape layers: each layer borrows what the one before gave
    back (poisoned with NaN in between), and every output and gradient stays the reference's."""
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3))
    results = {}
    for fused in (True, False):
        layers = [Conv2D(3, 3, padding="same", activation=activation, fused=fused) for _ in "abc"]
        rng = np.random.default_rng(5)
        for layer in layers:
            layer.build((None, 9, 8, 3))
            layer.set_weights([rng.normal(0, 0.4, w.shape) for w in layer.get_weights()])
        got = []
        for _ in range(2):
            xt = Tensor(x, requires_grad=True)
            out = xt
            for layer in layers:
                out = layer(out)
            (out * out).sum().backward()
            got += [out.data, xt.grad] + [p.grad for layer in layers for p in layer.weights]
            for layer in layers:
                for p in layer.weights:
                    p.grad = None
        results[fused] = got
    for k, (a, b) in enumerate(zip(results[True], results[False])):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=f"array {k}")
    assert_no_pool_memory(results[True])


# ---------------------------------------------------------------- lifetimes
def test_an_op_not_recorded_releases_during_apply():
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(True)]
    before = _fresh_stats()
    with no_grad():
        out = tensor_from_op(ops.Conv2D, *ts, activation="relu")
    after = workspace.POOL.stats()
    assert out._ctx is None and after.releases == before.releases + 1
    assert after.outstanding == before.outstanding and np.isfinite(out.data).all()


def test_retain_graph_keeps_the_patches_until_the_graph_is_freed():
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(True)]
    out = tensor_from_op(ops.Conv2D, *ts, activation="relu")
    fn = out._ctx
    (patches,) = fn.ws.held
    out.backward(np.ones(out.shape), retain_graph=True)
    first = [t.grad.copy() for t in ts]
    assert not fn.ws.released and fn.ws.held == (patches,) and np.isfinite(patches).all()
    out.backward(np.ones(out.shape))  # frees the graph: the patches go back, poisoned
    assert fn.ws.released and fn.ws.held == () and np.isnan(patches).all()
    for t, g in zip(ts, first):
        np.testing.assert_allclose(t.grad, 2 * g, rtol=1e-12)


def test_a_training_step_leaves_nothing_borrowed():
    ts = [Tensor(a, requires_grad=True) for a in op_inputs(True)]
    before = _fresh_stats()
    out = tensor_from_op(ops.Conv2D, *ts, activation="relu")
    out.sum().backward()
    after = _fresh_stats()
    assert after.releases == before.releases + 1
    assert after.outstanding == before.outstanding and after.dropped == before.dropped
    assert all(np.isfinite(t.grad).all() for t in ts)

