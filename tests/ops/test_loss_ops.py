"""The fused softmax-CE ops equal their composition from primitive Tensor ops (values and
gradients), and stay finite where probabilities round to exactly 0 or 1."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, ops, tensor_from_op
from tinygrad_edu.testing import arrays


def _grads(fn, z):
    t = Tensor(z, requires_grad=True)
    out = fn(t)
    out.backward(np.arange(1, out.size + 1, dtype=np.float64).reshape(out.shape))
    return out.data, t.grad


@given(st.integers(1, 4), st.integers(2, 6), st.data())
def test_fused_equals_composed_one_hot(b, k, data):
    z = data.draw(arrays((b, k)))
    target = np.eye(k)[data.draw(st.lists(st.integers(0, k - 1), min_size=b, max_size=b))]
    fused = _grads(lambda t: tensor_from_op(ops.SoftmaxCrossEntropy, t, target=target), z)
    composed = _grads(lambda t: -(t.log_softmax() * target).sum(axis=-1), z)
    for a, c in zip(fused, composed):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


@given(st.integers(1, 4), st.integers(2, 6), st.data())
def test_fused_equals_composed_sparse(b, k, data):
    z = data.draw(arrays((b, k)))
    labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=b, max_size=b)))
    fused = _grads(lambda t: tensor_from_op(ops.SparseSoftmaxCrossEntropy, t, labels=labels), z)
    composed = _grads(lambda t: -t.log_softmax()[np.arange(b), labels], z)
    for a, c in zip(fused, composed):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_extreme_logits_stay_finite():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=np.float32)
    value, grad = _grads(
        lambda t: tensor_from_op(ops.SparseSoftmaxCrossEntropy, t, labels=np.array([1, 0])), z
    )
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    assert value.dtype == np.float32


@given(st.integers(1, 4), st.integers(2, 6), st.sampled_from(["mean", "sum", "none"]), st.data())
def test_reduction_and_reused_log_softmax_equal_the_composition(b, k, reduction, data):
    """What losses.py does for a softmax output: the op reuses Softmax's log-probabilities and
    folds the batch mean in - still equal to log_softmax, pick, mean."""
    z = data.draw(arrays((b, k)))
    labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=b, max_size=b)))
    reduce = {"mean": lambda t: t.mean(), "sum": lambda t: t.sum(), "none": lambda t: t}[reduction]

    def fused(t):
        probs = t.softmax()
        return tensor_from_op(
            ops.SparseSoftmaxCrossEntropy,
            probs.logits,
            labels=labels,
            reduction=reduction,
            log_p=probs.op.log_softmax(),
        )

    got = _grads(fused, z)
    want = _grads(lambda t: reduce(-t.log_softmax()[np.arange(b), labels]), z)
    for a, c in zip(got, want):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
