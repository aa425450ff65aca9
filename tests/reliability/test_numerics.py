"""Numerical edge cases: softmax, log_softmax, sigmoid, logsumexp and every cross-entropy give
finite values *and* gradients for inputs of +-1e4; log(0) in the losses is avoided (computed from
logits, or probabilities clipped to [1e-7, 1 - 1e-7]); gradcheck covers inputs near the clip bounds
(with a finite-difference step smaller than the distance to the kink).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor, activations, gradcheck, losses
from tinygrad_edu.layers import Activation, Dense
from tinygrad_edu.losses import EPSILON
from tinygrad_edu.models import Sequential

HUGE = 1e4
LOGITS = np.array([[HUGE, -HUGE, 0.0], [-HUGE, HUGE, 5.0], [HUGE, HUGE, -HUGE]])
LABELS = np.array([1, 0, 2])  # every row's label is a class the logits rule out
ONE_HOT = np.eye(3)[LABELS]
BINARY = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture(autouse=True)
def numpy_must_not_complain():
    """Overflow/invalid/divide-by-zero inside numpy would mean an unstable formula."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        yield


def value_and_grad(fn, data, dtype=np.float32):
    """(fn's value, dL/d(input)) with L = sum(fn(x) * r) for a fixed random r."""
    x = Tensor(np.asarray(data, dtype=dtype), requires_grad=True)
    out = fn(x)
    r = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    out.backward(r) if out.size > 1 else out.backward()
    return out.numpy(), x.grad


def assert_finite(value, grad):
    assert np.isfinite(value).all(), value
    assert grad is not None and np.isfinite(grad).all(), grad


# ---------------------------------------------------------------------------------- functions
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_at_plus_minus_1e4(dtype):
    value, grad = value_and_grad(lambda z: z.softmax(), LOGITS, dtype)
    assert_finite(value, grad)
    np.testing.assert_allclose(value[0], [1, 0, 0])
    np.testing.assert_allclose(value[2], [0.5, 0.5, 0])
    np.testing.assert_allclose(value.sum(axis=-1), 1, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_on_another_axis_at_plus_minus_1e4(dtype):
    assert_finite(*value_and_grad(lambda z: z.softmax(axis=0), LOGITS, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_at_plus_minus_1e4(dtype):
    value, grad = value_and_grad(lambda z: z.log_softmax(), LOGITS, dtype)
    assert_finite(value, grad)
    np.testing.assert_allclose(value[0], [0, -2 * HUGE, -HUGE])  # exact, no log(0) = -inf
    np.testing.assert_allclose(value[2, :2], [-np.log(2)] * 2, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_at_plus_minus_1e4(dtype):
    value, grad = value_and_grad(lambda z: z.sigmoid(), LOGITS, dtype)
    assert_finite(value, grad)
    np.testing.assert_allclose(value[0], [1, 0, 0.5])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, -1, 0])
def test_logsumexp_at_plus_minus_1e4(dtype, axis):
    value, grad = value_and_grad(lambda z: z.logsumexp(axis=axis), LOGITS, dtype)
    assert_finite(value, grad)
    if axis == -1:
        np.testing.assert_allclose(value, [HUGE, HUGE, HUGE + np.log(2)], rtol=1e-6)


#: as Keras: exponential overflows at 1e4, glu needs an even axis, threshold its two values
#: (tests/test_activations_keras.py checks those three at +-1e4)
@pytest.mark.parametrize(
    "name", [n for n in activations.names() if n not in ("exponential", "glu", "threshold")]
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_activation_at_plus_minus_1e4(name, dtype):
    fn = activations.get(name)
    assert_finite(*value_and_grad(fn, LOGITS, dtype))


# ---------------------------------------------------------------------------------- losses
def _bce(z, via):
    if via == "from_logits":
        return losses.binary_crossentropy(BINARY, z, from_logits=True)
    if via == "output":
        return losses.binary_crossentropy(BINARY, z.sigmoid())
    if via == "layer":
        return losses.binary_crossentropy(BINARY, Activation("sigmoid")(z))
    return losses.binary_crossentropy(BINARY, _dense_head(z, "sigmoid"))


def _cce(z, via):
    if via == "from_logits":
        return losses.categorical_crossentropy(ONE_HOT, z, from_logits=True)
    if via == "output":
        return losses.categorical_crossentropy(ONE_HOT, z.softmax())
    if via == "layer":
        return losses.categorical_crossentropy(ONE_HOT, Activation("softmax")(z))
    return losses.categorical_crossentropy(ONE_HOT, _dense_head(z, "softmax"))


def _scce(z, via):
    if via == "from_logits":
        return losses.sparse_categorical_crossentropy(LABELS, z, from_logits=True)
    if via == "output":
        return losses.sparse_categorical_crossentropy(LABELS, z.softmax())
    if via == "layer":
        return losses.sparse_categorical_crossentropy(LABELS, Activation("softmax")(z))
    return losses.sparse_categorical_crossentropy(LABELS, _dense_head(z, "softmax"))


def _dense_head(z, activation):
    """A Dense output layer with identity weights: its pre-activations are exactly z."""
    head = Dense(3, activation=activation)
    head.build_for((None, 3))
    head.cast(z.dtype)
    head.set_weights([np.eye(3), np.zeros(3)])
    return head(z)


LOSSES = {"binary": _bce, "categorical": _cce, "sparse": _scce}
VIA = ["from_logits", "output", "layer", "dense_head"]


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_at_plus_minus_1e4(loss, via, dtype):
    value, grad = value_and_grad(lambda z: LOSSES[loss](z, via), LOGITS, dtype)
    assert_finite(value, grad)
    # the labels contradict the logits: the loss is huge (~1e4), not clipped to -log(1e-7) ~ 16
    assert value > 1000
    assert np.abs(grad).max() <= 1.0 + 1e-6  # d/dz of a cross-entropy is bounded by 1 per logit


@pytest.mark.parametrize("loss", list(LOSSES))
def test_logits_and_probabilities_paths_agree_where_both_are_exact(loss):
    z = np.random.default_rng(0).normal(size=(3, 3))
    from_logits, g1 = value_and_grad(lambda t: LOSSES[loss](t, "from_logits"), z, np.float64)
    from_probs, g2 = value_and_grad(lambda t: LOSSES[loss](t, "output"), z, np.float64)
    np.testing.assert_allclose(from_logits, from_probs, rtol=1e-10)
    np.testing.assert_allclose(g1, g2, rtol=1e-8, atol=1e-12)


def test_softmax_output_layer_trains_on_huge_logits():
    model = Sequential([Dense(3, activation="softmax", input_shape=(3,))])
    model.set_weights([np.eye(3, dtype=np.float32) * 1e3, np.zeros(3, np.float32)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.array([[10.0, -10.0, 0.0], [-10.0, 10.0, 5.0]], np.float32)  # logits +-1e4
    history = model.fit(x, [1, 0], batch_size=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][0] > 1000
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_sigmoid_output_layer_trains_on_huge_logits():
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    model.set_weights([np.array([[1e3], [-1e3]], np.float32), np.zeros(1, np.float32)])
    model.compile("sgd", "binary_crossentropy")
    x = np.array([[10.0, 0.0], [0.0, 10.0]], np.float32)  # logits +1e4 and -1e4
    history = model.fit(x, [0, 1], batch_size=2, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][0] > 1000
    assert all(np.isfinite(w).all() for w in model.get_weights())


# ---------------------------------------------------------------------------------- log(0) paths
PROBS = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_crossentropy_of_exact_zero_and_one_probabilities(dtype):
    value, grad = value_and_grad(lambda p: losses.binary_crossentropy(BINARY, p), PROBS, dtype)
    assert_finite(value, grad)
    assert value <= -np.log(EPSILON) + 1e-3  # clipped: at most -log(1e-7) per element


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_crossentropy_of_exact_zero_probabilities(dtype):
    value, grad = value_and_grad(
        lambda p: losses.categorical_crossentropy(ONE_HOT, p), PROBS, dtype
    )
    assert_finite(value, grad)
    assert value <= -np.log(EPSILON) + 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_crossentropy_of_exact_zero_probabilities(dtype):
    value, grad = value_and_grad(
        lambda p: losses.sparse_categorical_crossentropy(LABELS, p), PROBS, dtype
    )
    assert_finite(value, grad)
    picked = np.clip(PROBS[np.arange(3), LABELS], EPSILON, 1 - EPSILON)  # 1, 1 and 0 -> clipped
    np.testing.assert_allclose(value, np.mean(-np.log(picked)), rtol=1e-3)


def test_crossentropy_of_probabilities_given_as_plain_arrays():
    """No Tensor, no logits: the clip path on a numpy array still gives a finite number."""
    for fn, target in (
        (losses.binary_crossentropy, BINARY),
        (losses.categorical_crossentropy, ONE_HOT),
        (losses.sparse_categorical_crossentropy, LABELS),
    ):
        assert np.isfinite(fn(target, PROBS.astype(np.float32)).item())


# ---------------------------------------------------------------------------------- gradcheck
# Finite differences need a step smaller than the distance to the clip kink: with p 2e-7 away from
# 1e-7 (or 5e-8 inside the clipped zone), eps = 1e-9 never crosses it. A step that small costs
# digits: each loss value (up to -log(1e-7) ~ 16) carries ~1e-15 of rounding, divided by 1e-9 in
# the difference quotient, so ~1e-6 of noise - hence atol=1e-5 here instead of gradcheck's 1e-8
# (the gradients checked reach 1e7, where rtol=1e-6 governs).
NEAR_LOW, NEAR_HIGH = 3e-7, 1 - 3e-7
CLIPPED_LOW, CLIPPED_HIGH = 5e-8, 1 - 5e-8
STEP = 1e-9
NEAR_KINK = {"eps": STEP, "atol": 1e-5}


def test_gradcheck_binary_crossentropy_near_the_clip_bounds():
    p = np.array([[NEAR_LOW, NEAR_HIGH, CLIPPED_LOW, CLIPPED_HIGH, 0.5, 1e-3]] * 2)
    t = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]])
    assert gradcheck(lambda q: losses.binary_crossentropy(t, q, reduction="none"), p, **NEAR_KINK)


def test_gradcheck_sparse_crossentropy_near_the_clip_bounds():
    p = np.array([[NEAR_LOW, NEAR_HIGH, CLIPPED_LOW], [CLIPPED_HIGH, 0.5, 0.2]])
    # each column in turn is the picked probability: both bounds, from inside and from the clip
    for labels in ([0, 0], [1, 1], [2, 2]):
        assert gradcheck(
            lambda q: losses.sparse_categorical_crossentropy(np.array(labels), q, reduction="none"),
            p,
            **NEAR_KINK,
        )


def test_gradcheck_categorical_crossentropy_near_the_clip_bounds():
    p = np.array(
        [
            [NEAR_LOW, 1 - 2 * NEAR_LOW, NEAR_LOW],
            [CLIPPED_LOW, 0.5, 0.5 - CLIPPED_LOW],
            [0.2, 0.3, 0.5],
        ]
    )
    t = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert gradcheck(
        lambda q: losses.categorical_crossentropy(t, q, reduction="none"), p, eps=STEP, atol=1e-4
    )
    t_high = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])  # soft targets too
    assert gradcheck(
        lambda q: losses.categorical_crossentropy(t_high, q, reduction="none"),
        p,
        eps=STEP,
        atol=1e-4,
    )


def test_gradcheck_clip_itself_on_both_sides_of_the_bounds():
    x = np.array([NEAR_LOW, CLIPPED_LOW, NEAR_HIGH, CLIPPED_HIGH, 0.5])
    assert gradcheck(lambda q: q.clip(EPSILON, 1 - EPSILON).log(), x, **NEAR_KINK)


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("scale", [1.0, 30.0, HUGE])
def test_gradcheck_crossentropy_from_logits_at_large_logits(loss, scale):
    z = np.random.default_rng(1).normal(size=(3, 3)) * scale
    assert gradcheck(lambda t: LOSSES[loss](t, "from_logits"), z)
    assert gradcheck(lambda t: LOSSES[loss](t, "output"), z)


@pytest.mark.parametrize("scale", [30.0, HUGE])
def test_gradcheck_softmax_family_at_large_inputs(scale):
    z = np.random.default_rng(2).normal(size=(2, 4)) * scale
    assert gradcheck(lambda t: t.log_softmax(), z)
    assert gradcheck(lambda t: t.logsumexp(axis=-1), z)
    assert gradcheck(lambda t: t.softmax(), z)
    assert gradcheck(lambda t: t.sigmoid(), z)
