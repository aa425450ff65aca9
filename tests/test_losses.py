"""Losses against Keras' definitions written out in numpy, over hypothesis shapes and values.

Keras: each loss is a mean over the last axis (a sum over classes for cross-entropies), then the
batch mean (``reduction="mean"``; ``"sum"`` adds, ``"none"`` keeps one value per sample).
Probabilities without logits are clipped to [1e-7, 1 - 1e-7]. Cross-entropies have three paths:
a softmax/sigmoid output tensor (the loss reads ``.logits``), ``from_logits=True``, and plain
probabilities; they agree wherever the clip does not bite. The +-1e4 edge cases live in
``tests/reliability/test_numerics.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import ConfigError, DataError, ShapeError, Tensor, gradcheck, losses
from tinygrad_edu.testing import arrays, away_from_kinks, shapes

EPS = 1e-7
REDUCTIONS = ("mean", "sum", "none")
reductions = st.sampled_from(REDUCTIONS)
smoothings = st.sampled_from([0.0, 0.1, 0.35])


# ------------------------------------------------------------------------ numpy references
def _reduce(per: np.ndarray, reduction: str):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](per)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def ref_mse(t, p):
    return ((p - t) ** 2).mean(axis=-1)


def ref_mae(t, p):
    return np.abs(p - t).mean(axis=-1)


def ref_huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2).mean(axis=-1)


def ref_bce(t, p, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=-1)


def ref_bce_logits(t, z, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    # -log sigmoid(z) = log(1 + e^-z), -log(1 - sigmoid(z)) = log(1 + e^z)
    return (t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)).mean(axis=-1)


def ref_cce(t, p, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + label_smoothing / p.shape[-1]
    p = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(axis=-1)


def ref_cce_logits(t, z, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + label_smoothing / z.shape[-1]
    return -(t * _log_softmax(z)).sum(axis=-1)


def ref_scce(labels, p):
    p = p / p.sum(axis=-1, keepdims=True)  # Keras normalizes plain probabilities first
    picked = np.take_along_axis(p, labels[..., None], axis=-1)[..., 0]
    return -np.log(np.clip(picked, EPS, 1 - EPS))


def ref_scce_logits(labels, z):
    return -np.take_along_axis(_log_softmax(z), labels[..., None], axis=-1)[..., 0]


def close(got, want, rtol=1e-9, atol=1e-12):
    """float64 results to ~1e-9; a float32 one (a Tensor built from Python floats) to ~1e-6."""
    got = np.asarray(got.data if isinstance(got, Tensor) else got)
    if got.dtype == np.float32:
        rtol, atol = max(rtol, 2e-6), max(atol, 1e-6)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ------------------------------------------------------------------------ strategies
# (batch..., classes): one or two batch axes, at least two classes
class_shapes = st.tuples(
    st.lists(st.integers(1, 4), min_size=1, max_size=2), st.integers(2, 5)
).map(lambda bk: (*bk[0], bk[1]))


@st.composite
def same_shape(draw, shape=None, t_range=(-3.0, 3.0), p_range=(-3.0, 3.0)):
    s = draw(shape if shape is not None else shapes(min_dims=1, max_dims=3))
    return draw(arrays(s, *t_range)), draw(arrays(s, *p_range))


@st.composite
def labels_and_logits(draw, shape=class_shapes):
    s = draw(shape)
    z = draw(arrays(s, -3.0, 3.0))
    labels = draw(hnp.arrays(np.int64, s[:-1], elements=st.integers(0, s[-1] - 1)))
    return labels, z


@st.composite
def targets_and_logits(draw, shape=class_shapes):
    """Targets one-hot, or any non-negative soft distribution (Keras accepts both)."""
    labels, z = draw(labels_and_logits(shape))
    if draw(st.booleans()):
        return np.eye(z.shape[-1])[labels], z
    soft = draw(arrays(z.shape, 0.0, 1.0)) + 1e-3
    return soft / soft.sum(axis=-1, keepdims=True), z


def softmax(z):
    return np.exp(_log_softmax(z))


REGRESSION = {
    "mean_squared_error": (losses.mean_squared_error, ref_mse),
    "mean_absolute_error": (losses.mean_absolute_error, ref_mae),
    "huber": (losses.huber, ref_huber),
}


# ------------------------------------------------------------------------ regression losses
def test_short_names_are_the_same_functions():
    assert losses.mse is losses.mean_squared_error
    assert losses.mae is losses.mean_absolute_error


@pytest.mark.parametrize("name", list(REGRESSION))
@given(tp=same_shape(), reduction=reductions)
def test_regression_loss_matches_keras_formula(name, tp, reduction):
    fn, ref = REGRESSION[name]
    t, p = tp
    close(fn(t, Tensor(p), reduction=reduction), _reduce(ref(t, p), reduction))


@given(tp=same_shape(), delta=st.floats(0.1, 3.0), reduction=reductions)
def test_huber_delta(tp, delta, reduction):
    t, p = tp
    out = losses.huber(t, Tensor(p), delta=delta, reduction=reduction)
    close(out, _reduce(ref_huber(t, p, delta), reduction))


def test_huber_is_quadratic_inside_delta_and_linear_outside():
    t = np.zeros((1, 2))
    close(losses.huber(t, Tensor([[0.5, -0.5]])), 0.125)
    close(losses.huber(t, Tensor([[3.0, -3.0]]), delta=2.0), 2.0 * 3.0 - 0.5 * 4.0)


@pytest.mark.parametrize("name", list(REGRESSION))
@given(data=st.data(), reduction=reductions)
def test_gradcheck_regression_loss_wrt_y_pred(name, data, reduction):
    fn, _ = REGRESSION[name]
    s = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    t = data.draw(arrays(s), label="t")
    # errors kept away from the kinks of |e| (0) and of huber (+-delta = +-1)
    e = data.draw(away_from_kinks(s, kinks=(-1.0, 0.0, 1.0), margin=0.1), label="e")
    assert gradcheck(lambda p: fn(t, p, reduction=reduction), t + e)


@pytest.mark.parametrize(
    "name", ["mean_squared_error", "mean_absolute_error", "huber", "binary_crossentropy"]
)
def test_targets_of_shape_b_for_an_output_of_shape_b1(name):
    fn = getattr(losses, name)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    p = Tensor(np.array([[0.2], [0.9], [0.4], [0.7]]))
    close(fn(t, p), fn(t[:, None], p).data)
    close(fn(t, p, reduction="none"), fn(t[:, None], p, reduction="none").data)
    assert fn(t, p, reduction="none").shape == (4,)


def test_y_true_may_be_a_tensor_or_a_list():
    p = Tensor(np.array([[0.5, 1.5]]))
    close(losses.mse(Tensor(np.array([[1.0, 1.0]])), p), 0.25)
    close(losses.mse([[1.0, 1.0]], p), 0.25)
    close(losses.mse([[1.0, 1.0]], [[0.5, 1.5]]), 0.25)  # y_pred as a plain list too


def test_regression_target_shape_mismatch_is_a_shape_error():
    with pytest.raises(ShapeError):
        losses.mse(np.zeros((4, 3)), Tensor(np.zeros((4, 2))))


# ------------------------------------------------------------------------ binary cross-entropy
@given(tz=same_shape(t_range=(0.0, 1.0)), ls=smoothings, reduction=reductions)
def test_binary_crossentropy_three_paths_match_keras(tz, ls, reduction):
    t, z = tz
    want = _reduce(ref_bce_logits(t, z, ls), reduction)
    # sigmoid(z) for |z| <= 3 is far inside the clip range: the probability formula is exact too
    close(_reduce(ref_bce(t, _sigmoid(z), ls), reduction), want, rtol=1e-8)
    kw = {"label_smoothing": ls, "reduction": reduction}
    close(losses.binary_crossentropy(t, Tensor(z).sigmoid(), **kw), want)
    close(losses.binary_crossentropy(t, Tensor(z), from_logits=True, **kw), want)
    close(losses.binary_crossentropy(t, Tensor(_sigmoid(z)), **kw), want, rtol=1e-8)


@given(tp=same_shape(t_range=(0.0, 1.0), p_range=(0.0, 1.0)), ls=smoothings)
def test_binary_crossentropy_of_probabilities_clips_like_keras(tp, ls):
    t, p = tp
    close(
        losses.binary_crossentropy(t, Tensor(p), label_smoothing=ls, reduction="none"),
        ref_bce(t, p, ls),
        rtol=1e-8,
    )


def test_binary_crossentropy_label_smoothing_formula():
    # t = 1 smoothed by 0.2 -> 0.9; p = 0.5 gives log 2 whatever the target
    close(
        losses.binary_crossentropy([[1.0]], Tensor([[0.0]]), from_logits=True, label_smoothing=0.2),
        np.log(2),
    )
    want = -(0.9 * np.log(0.8) + 0.1 * np.log(0.2))
    close(
        losses.binary_crossentropy([[1.0]], Tensor([[0.8]], dtype=np.float64), label_smoothing=0.2),
        want,
        rtol=1e-8,
    )


@given(data=st.data(), ls=smoothings, reduction=reductions)
def test_gradcheck_binary_crossentropy(data, ls, reduction):
    s = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    t = data.draw(arrays(s, 0.0, 1.0), label="t")
    # a logit of exactly 0 has its own test below (the gradient there is one-sided for relu)
    z = data.draw(away_from_kinks(s, kinks=(0.0,), margin=0.05), label="z")
    kw = {"label_smoothing": ls, "reduction": reduction}
    assert gradcheck(lambda q: losses.binary_crossentropy(t, q.sigmoid(), **kw), z)
    assert gradcheck(lambda q: losses.binary_crossentropy(t, q, from_logits=True, **kw), z)
    p = np.clip(_sigmoid(z), 0.05, 0.95)
    assert gradcheck(lambda q: losses.binary_crossentropy(t, q, **kw), p)


@pytest.mark.parametrize("bad", [-0.5, 1.5, 2.0])
@pytest.mark.parametrize("path", ["output", "from_logits", "probabilities"])
def test_binary_crossentropy_targets_outside_0_1_are_a_data_error(bad, path):
    t = np.array([[0.0], [bad]])
    z = Tensor(np.array([[0.3], [-0.2]]))
    pred = {"output": z.sigmoid(), "from_logits": z, "probabilities": Tensor([[0.4], [0.6]])}
    with pytest.raises(DataError) as info:
        losses.binary_crossentropy(t, pred[path], from_logits=path == "from_logits")
    assert f"{bad:g}" in info.value.got


# ------------------------------------------------------------------------ categorical
@given(tz=targets_and_logits(), ls=smoothings, reduction=reductions)
def test_categorical_crossentropy_three_paths_match_keras(tz, ls, reduction):
    t, z = tz
    want = _reduce(ref_cce_logits(t, z, ls), reduction)
    close(_reduce(ref_cce(t, softmax(z), ls), reduction), want, rtol=1e-8)
    kw = {"label_smoothing": ls, "reduction": reduction}
    close(losses.categorical_crossentropy(t, Tensor(z).softmax(), **kw), want)
    close(losses.categorical_crossentropy(t, Tensor(z), from_logits=True, **kw), want)
    close(losses.categorical_crossentropy(t, Tensor(softmax(z)), **kw), want, rtol=1e-8)


@given(data=st.data(), reduction=reductions)
def test_categorical_crossentropy_normalizes_plain_probabilities_like_keras(data, reduction):
    t, _ = data.draw(targets_and_logits(), label="targets")
    p = data.draw(arrays(t.shape, 0.0, 3.0), label="unnormalized p") + 1e-3
    close(
        losses.categorical_crossentropy(t, Tensor(p), reduction=reduction),
        _reduce(ref_cce(t, p), reduction),
        rtol=1e-8,
    )


def test_categorical_crossentropy_label_smoothing_formula():
    # 4 classes, smoothing 0.4: target [0.7, 0.1, 0.1, 0.1]; uniform prediction -> log 4
    close(
        losses.categorical_crossentropy(
            [[1.0, 0, 0, 0]], Tensor(np.zeros((1, 4))), from_logits=True, label_smoothing=0.4
        ),
        np.log(4),
    )
    p = np.array([[0.4, 0.3, 0.2, 0.1]])
    want = -(np.array([0.7, 0.1, 0.1, 0.1]) * np.log(p)).sum()
    close(losses.categorical_crossentropy([[1.0, 0, 0, 0]], Tensor(p), label_smoothing=0.4), want)


@given(tz=targets_and_logits(), ls=smoothings, reduction=reductions)
def test_gradcheck_categorical_crossentropy(tz, ls, reduction):
    t, z = tz
    kw = {"label_smoothing": ls, "reduction": reduction}
    assert gradcheck(lambda q: losses.categorical_crossentropy(t, q.softmax(), **kw), z)
    assert gradcheck(lambda q: losses.categorical_crossentropy(t, q, from_logits=True, **kw), z)
    p = np.exp(z / 3)  # positive, unnormalized: the normalization is part of the graph
    assert gradcheck(lambda q: losses.categorical_crossentropy(t, q, **kw), p)


# ------------------------------------------------------------------------ sparse categorical
@given(lz=labels_and_logits(), reduction=reductions)
def test_sparse_categorical_crossentropy_three_paths_match_keras(lz, reduction):
    labels, z = lz
    want = _reduce(ref_scce_logits(labels, z), reduction)
    close(_reduce(ref_scce(labels, softmax(z)), reduction), want, rtol=1e-8)
    close(
        losses.sparse_categorical_crossentropy(labels, Tensor(z).softmax(), reduction=reduction),
        want,
    )
    close(
        losses.sparse_categorical_crossentropy(
            labels, Tensor(z), from_logits=True, reduction=reduction
        ),
        want,
    )
    close(
        losses.sparse_categorical_crossentropy(labels, Tensor(softmax(z)), reduction=reduction),
        want,
        rtol=1e-8,
    )


@given(lz=labels_and_logits(), reduction=reductions)
def test_sparse_categorical_crossentropy_equals_categorical_on_one_hot(lz, reduction):
    labels, z = lz
    one_hot = np.eye(z.shape[-1])[labels]
    for kw in ({"from_logits": True}, {}):
        pred = Tensor(z) if kw else Tensor(z).softmax()
        close(
            losses.sparse_categorical_crossentropy(labels, pred, reduction=reduction, **kw),
            losses.categorical_crossentropy(one_hot, pred, reduction=reduction, **kw).data,
        )


@given(lz=labels_and_logits(st.tuples(st.integers(1, 4), st.integers(2, 5))))
def test_sparse_labels_of_shape_b_and_b1_agree(lz):
    labels, z = lz
    p = softmax(z)
    for pred, kw in (
        (Tensor(z), {"from_logits": True}),
        (Tensor(z).softmax(), {}),
        (Tensor(p), {}),
    ):
        for reduction in REDUCTIONS:
            a = losses.sparse_categorical_crossentropy(labels, pred, reduction=reduction, **kw)
            b = losses.sparse_categorical_crossentropy(
                labels[:, None], pred, reduction=reduction, **kw
            )
            assert a.shape == b.shape
            close(a, b.data)


@pytest.mark.parametrize("path", ["output", "from_logits", "probabilities"])
def test_sparse_labels_b_t_with_b_t_k_predictions(path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 3, 4))
    labels = rng.integers(0, 4, size=(2, 3))
    pred = {
        "output": Tensor(z).softmax(),
        "from_logits": Tensor(z),
        "probabilities": Tensor(softmax(z)),
    }[path]
    kw = {"from_logits": path == "from_logits"}
    per = losses.sparse_categorical_crossentropy(labels, pred, reduction="none", **kw)
    assert per.shape == (2, 3)
    close(per, ref_scce_logits(labels, z), rtol=1e-8)
    close(
        losses.sparse_categorical_crossentropy(labels, pred, **kw),
        ref_scce_logits(labels, z).mean(),
        rtol=1e-8,
    )


def test_sparse_labels_may_be_integer_valued_floats():
    z = Tensor(np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 2.0]]))
    close(
        losses.sparse_categorical_crossentropy(np.array([1.0, 2.0]), z, from_logits=True),
        losses.sparse_categorical_crossentropy(np.array([1, 2]), z, from_logits=True).data,
    )


@given(data=st.data(), reduction=reductions)
def test_sparse_categorical_crossentropy_normalizes_plain_probabilities_like_keras(data, reduction):
    """As categorical_crossentropy and Keras 3 (every backend): p / sum(p) before the log. Before,
    the picked p was used as it was: sigmoid outputs [0.88, 0.27] for label 0 gave
    -log(0.88) = 0.13 instead of Keras' -log(0.88 / 1.15) = 0.27."""
    labels, _ = data.draw(labels_and_logits(), label="labels")
    p = data.draw(arrays((*labels.shape, 3 + int(labels.max())), 0.0, 3.0), label="p") + 1e-3
    close(
        losses.sparse_categorical_crossentropy(labels, Tensor(p), reduction=reduction),
        _reduce(ref_scce(labels, p), reduction),
        rtol=1e-8,
    )
    assert gradcheck(lambda q: losses.sparse_categorical_crossentropy(labels, q), p)


@given(lz=labels_and_logits(), reduction=reductions)
def test_gradcheck_sparse_categorical_crossentropy(lz, reduction):
    labels, z = lz
    fn = losses.sparse_categorical_crossentropy
    assert gradcheck(lambda q: fn(labels, q.softmax(), reduction=reduction), z)
    assert gradcheck(lambda q: fn(labels, q, from_logits=True, reduction=reduction), z)
    p = np.clip(softmax(z), 0.02, 0.98)  # picked entries stay inside the clip range
    assert gradcheck(lambda q: fn(labels, q, reduction=reduction), p)


# ------------------------------------------------------------------------ reductions
ALL_CALLS = {
    "mse": lambda r: losses.mse([[1.0, 2.0]], Tensor([[0.0, 0.0]]), reduction=r),
    "mae": lambda r: losses.mae([[1.0, 2.0]], Tensor([[0.0, 0.0]]), reduction=r),
    "huber": lambda r: losses.huber([[1.0, 2.0]], Tensor([[0.0, 0.0]]), reduction=r),
    "bce_output": lambda r: losses.binary_crossentropy(
        [[1.0]], Tensor([[0.3]]).sigmoid(), reduction=r
    ),
    "bce_probs": lambda r: losses.binary_crossentropy([[1.0]], Tensor([[0.3]]), reduction=r),
    "cce_output": lambda r: losses.categorical_crossentropy(
        [[1.0, 0.0]], Tensor([[0.3, 0.1]]).softmax(), reduction=r
    ),
    "cce_logits": lambda r: losses.categorical_crossentropy(
        [[1.0, 0.0]], Tensor([[0.3, 0.1]]), from_logits=True, reduction=r
    ),
    "cce_probs": lambda r: losses.categorical_crossentropy(
        [[1.0, 0.0]], Tensor([[0.3, 0.7]]), reduction=r
    ),
    "scce_output": lambda r: losses.sparse_categorical_crossentropy(
        [0], Tensor([[0.3, 0.1]]).softmax(), reduction=r
    ),
    "scce_logits": lambda r: losses.sparse_categorical_crossentropy(
        [0], Tensor([[0.3, 0.1]]), from_logits=True, reduction=r
    ),
    "scce_probs": lambda r: losses.sparse_categorical_crossentropy(
        [0], Tensor([[0.3, 0.7]]), reduction=r
    ),
    "scce_sequence": lambda r: losses.sparse_categorical_crossentropy(
        [[0, 1]], Tensor([[[0.3, 0.1], [0.2, 0.4]]]), from_logits=True, reduction=r
    ),
}


@pytest.mark.parametrize("call", list(ALL_CALLS))
def test_unknown_reduction_is_a_config_error(call):
    with pytest.raises(ConfigError) as info:
        ALL_CALLS[call]("avg")
    assert "avg" in info.value.got


@pytest.mark.parametrize("call", list(ALL_CALLS))
def test_mean_is_the_default_and_sum_none_are_consistent(call):
    per = ALL_CALLS[call]("none").data
    close(ALL_CALLS[call]("mean"), per.mean())
    close(ALL_CALLS[call]("sum"), per.sum())
    default = {"mse": lambda: losses.mse([[1.0, 2.0]], Tensor([[0.0, 0.0]]))}.get(call)
    if default is not None:
        close(default(), per.mean())


def test_a_scalar_loss_backpropagates_directly():
    z = Tensor(np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]]), requires_grad=True)
    losses.sparse_categorical_crossentropy([0, 2], z.softmax()).backward()
    want = (softmax(z.data) - np.eye(3)[[0, 2]]) / 2
    close(z.grad, want)


# ------------------------------------------------------------------------ classes and get
CLASSES = [
    (losses.MeanSquaredError, {}, losses.mean_squared_error),
    (losses.MeanAbsoluteError, {}, losses.mean_absolute_error),
    (losses.Huber, {"delta": 0.5}, losses.huber),
    (
        losses.BinaryCrossentropy,
        {"from_logits": True, "label_smoothing": 0.1},
        losses.binary_crossentropy,
    ),
    (
        losses.CategoricalCrossentropy,
        {"from_logits": True, "label_smoothing": 0.2},
        losses.categorical_crossentropy,
    ),
    (
        losses.SparseCategoricalCrossentropy,
        {"from_logits": True},
        losses.sparse_categorical_crossentropy,
    ),
    (losses.MeanSquaredError, {"reduction": "sum"}, losses.mean_squared_error),
    (
        losses.SparseCategoricalCrossentropy,
        {"reduction": "none"},
        losses.sparse_categorical_crossentropy,
    ),
]


def _example_args(fn):
    z = np.array([[0.4, -1.2, 0.3], [2.0, 0.1, -0.5]])
    if fn is losses.sparse_categorical_crossentropy:
        return np.array([2, 0]), z
    if fn is losses.categorical_crossentropy:
        return np.eye(3)[[2, 0]], z
    if fn is losses.binary_crossentropy:
        return np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), z
    return np.ones_like(z), z


@pytest.mark.parametrize("cls, config, fn", CLASSES)
def test_loss_class_equals_its_function(cls, config, fn):
    loss = cls(**config)
    assert isinstance(loss, losses.Loss)
    assert loss.get_config() == {"name": fn.__name__, **config}
    t, z = _example_args(fn)
    pred = Tensor(z) if config.get("from_logits") else Tensor(_sigmoid(z))
    close(loss(t, pred), fn(t, pred, **config).data)
    assert losses.get(loss) is loss


KERAS_NAMES = {
    "mean_squared_error": losses.mean_squared_error,
    "mse": losses.mean_squared_error,
    "MSE": losses.mean_squared_error,
    "mean_absolute_error": losses.mean_absolute_error,
    "mae": losses.mean_absolute_error,
    "MAE": losses.mean_absolute_error,
    "huber": losses.huber,
    "binary_crossentropy": losses.binary_crossentropy,
    "categorical_crossentropy": losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": losses.sparse_categorical_crossentropy,
}


@pytest.mark.parametrize("name", list(KERAS_NAMES))
def test_get_every_keras_string(name):
    loss = losses.get(name)
    fn = KERAS_NAMES[name]
    assert isinstance(loss, losses.Loss) and loss.fn is fn and loss.name == fn.__name__
    t, z = _example_args(fn)
    pred = Tensor(_sigmoid(z))
    close(loss(t, pred), fn(t, pred).data)


@pytest.mark.parametrize(
    "typo, meant",
    [
        ("mean_squared_eror", "mean_squared_error"),
        ("binary_crossentropyy", "binary_crossentropy"),
        ("sparse_categorical_cross_entropy", "sparse_categorical_crossentropy"),
    ],
)
def test_get_unknown_string_suggests_the_closest_name(typo, meant):
    with pytest.raises(ConfigError) as info:
        losses.get(typo)
    assert typo in info.value.got and meant in info.value.fix


def test_get_callable_wraps_it():
    def my_loss(y_true, y_pred):
        return ((y_pred - np.asarray(y_true)) ** 2).sum()

    loss = losses.get(my_loss)
    assert isinstance(loss, losses.Loss) and loss.name == "my_loss"
    close(loss([[1.0, 1.0]], Tensor([[0.0, 3.0]])), 5.0)


def test_a_users_per_sample_loss_is_averaged_as_keras_sum_over_batch_size():
    def cubed(y_true, y_pred):  # Keras' form: one value per sample
        return ((y_pred - np.asarray(y_true)).abs() ** 3).mean(axis=-1)

    t, p = np.array([[1.0, 1.0], [0.0, 2.0]]), np.array([[0.0, 3.0], [0.0, 0.0]])
    value = losses.get(cubed)(t, Tensor(p, requires_grad=True))
    assert value.ndim == 0
    close(value, np.mean([(1 + 8) / 2, (0 + 8) / 2]))
    assert gradcheck(lambda q: losses.get(cubed)(t, q), p + 0.1)
    kept = losses.Loss(losses.mse, name="per_sample", reduction="none")  # a built-in, as told
    assert kept(t, Tensor(p)).shape == (2,)


@pytest.mark.parametrize("bad", [42, None, 1.5])
def test_get_non_callable_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        losses.get(bad)


# ------------------------------------------------------------------------ teaching errors
LOGIT_PATHS = ["output", "from_logits", "probabilities"]


def _pred(path, z):
    return {
        "output": Tensor(z).softmax(),
        "from_logits": Tensor(z),
        "probabilities": Tensor(softmax(z)),
    }[path]


@pytest.mark.parametrize("path", LOGIT_PATHS)
def test_one_hot_targets_to_sparse_loss_name_categorical(path):
    z = np.array([[0.2, 1.0, -0.4], [0.0, 0.3, 0.1]])
    with pytest.raises(DataError) as info:
        losses.sparse_categorical_crossentropy(
            np.eye(3)[[1, 2]], _pred(path, z), from_logits=path == "from_logits"
        )
    # names the non-sparse loss (not just as a part of 'sparse_categorical_crossentropy')
    assert "categorical_crossentropy" in info.value.fix.replace(
        "sparse_categorical_crossentropy", ""
    )


@pytest.mark.parametrize("path", LOGIT_PATHS)
def test_integer_labels_to_categorical_loss_name_sparse(path):
    z = np.array([[0.2, 1.0, -0.4], [0.0, 0.3, 0.1]])
    with pytest.raises(DataError) as info:
        losses.categorical_crossentropy(
            np.array([1, 2]), _pred(path, z), from_logits=path == "from_logits"
        )
    assert "sparse_categorical_crossentropy" in info.value.fix


@pytest.mark.parametrize("path", LOGIT_PATHS)
def test_integer_labels_b1_to_categorical_loss_name_sparse(path):
    z = np.array([[0.2, 1.0, -0.4], [0.0, 0.3, 0.1]])
    with pytest.raises(DataError) as info:
        losses.categorical_crossentropy(
            np.array([[1], [2]]), _pred(path, z), from_logits=path == "from_logits"
        )
    assert "sparse_categorical_crossentropy" in info.value.fix


@pytest.mark.parametrize("path", LOGIT_PATHS)
@pytest.mark.parametrize("bad", [5, 3, -1])
def test_out_of_range_label_names_the_label_and_the_class_count(path, bad):
    z = np.array([[0.2, 1.0, -0.4], [0.0, 0.3, 0.1]])
    with pytest.raises(DataError) as info:
        losses.sparse_categorical_crossentropy(
            np.array([0, bad]), _pred(path, z), from_logits=path == "from_logits"
        )
    assert str(bad) in info.value.got
    assert "3" in info.value.expected


def test_out_of_range_label_in_a_sequence():
    z = np.zeros((2, 3, 4))
    with pytest.raises(DataError) as info:
        losses.sparse_categorical_crossentropy(
            np.array([[0, 1, 2], [3, 7, 0]]), Tensor(z), from_logits=True
        )
    assert "7" in info.value.got and "4" in info.value.expected


def test_non_integer_sparse_labels_are_a_data_error():
    with pytest.raises(DataError):
        losses.sparse_categorical_crossentropy(
            np.array([0.5, 1.0]), Tensor(np.zeros((2, 3))), from_logits=True
        )


def test_sparse_label_shape_mismatch_is_a_shape_error():
    with pytest.raises(ShapeError):
        losses.sparse_categorical_crossentropy(
            np.array([0, 1, 2]), Tensor(np.zeros((2, 3))), from_logits=True
        )


# ------------------------------------------------------------------------ known bugs
# A softmax output and a sigmoid output both carry ``.logits``; the cross-entropies use them
# without checking which activation made them, so the "wrong" activation's logits are fed to the
# other formula. Dense(2, activation="softmax") + loss="binary_crossentropy" is a common learner
# setup. (Keras' TF backend shares this quirk through ``_keras_logits``; its JAX/torch/numpy
# backends compute the probability formula, which is what these tests expect.)
Z2 = np.array([[2.0, -1.0], [0.5, 0.3]])
T2 = np.array([[1.0, 0.0], [0.0, 1.0]])


def test_binary_crossentropy_of_a_softmax_output_uses_its_probabilities():
    close(
        losses.binary_crossentropy(T2, Tensor(Z2).softmax()),
        ref_bce(T2, softmax(Z2)).mean(),
        rtol=1e-8,
    )


def test_categorical_crossentropy_of_a_sigmoid_output_uses_its_probabilities():
    close(
        losses.categorical_crossentropy(T2, Tensor(Z2).sigmoid()),
        ref_cce(T2, _sigmoid(Z2)).mean(),
        rtol=1e-8,
    )


def test_sparse_crossentropy_of_a_sigmoid_output_uses_its_probabilities():
    close(
        losses.sparse_categorical_crossentropy([0, 1], Tensor(Z2).sigmoid()),
        ref_scce(np.array([0, 1]), _sigmoid(Z2)).mean(),
        rtol=1e-8,
    )


# softplus(z) = relu(z) + log(1 + e^-|z|) is smooth, but its composition differentiates to
# relu'(0) + 0 * abs'(0) = 0 at z = 0 instead of sigmoid(0) = 1/2: the BCE gradient at a logit of
# exactly 0 (a zero-initialized sigmoid layer: logistic regression from zeros) is -t, not 1/2 - t.
@pytest.mark.parametrize("path", ["output", "from_logits"])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_binary_crossentropy_gradient_at_a_zero_logit(path, target):
    z = Tensor(np.zeros((1, 1)), requires_grad=True)
    pred = z.sigmoid() if path == "output" else z
    loss = losses.binary_crossentropy([[target]], pred, from_logits=path == "from_logits")
    close(loss, np.log(2))  # the value is right; the gradient is not
    loss.backward()
    close(z.grad, [[0.5 - target]])


# ----------------------------------------------------------------- issue 11: options are checked
@pytest.mark.parametrize("delta", [-1, 0, 0.0, float("nan"), float("inf"), "1", None, True, [1.0]])
def test_huber_delta_must_be_a_positive_number(delta):
    with pytest.raises(ConfigError) as err:
        losses.huber([[1.0]], [[2.0]], delta=delta)
    assert "delta" in err.value.expected and repr(delta) in err.value.got
    with pytest.raises(ConfigError):
        losses.Huber(delta=delta)  # refused at construction, not at the first batch


@pytest.mark.parametrize("smoothing", [-0.1, 1.5, 2, float("nan"), "0.1", None, True])
@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy"])
def test_label_smoothing_must_be_in_zero_one(name, smoothing):
    y, p = ([[1.0], [0.0]], [[0.8], [0.3]]) if "binary" in name else ([[0, 1]], [[0.2, 0.8]])
    with pytest.raises(ConfigError) as err:
        getattr(losses, name)(y, p, label_smoothing=smoothing)
    assert "[0, 1]" in err.value.expected
    cls = {"binary_crossentropy": losses.BinaryCrossentropy}.get(
        name, losses.CategoricalCrossentropy
    )
    with pytest.raises(ConfigError):
        cls(label_smoothing=smoothing)


@pytest.mark.parametrize("smoothing", [0, 0.0, 0.1, 1, np.float32(0.5)])
def test_label_smoothing_inside_zero_one_is_accepted(smoothing):
    loss = losses.BinaryCrossentropy(label_smoothing=smoothing)
    assert np.isfinite(loss([[1.0]], [[0.7]]).item())


@pytest.mark.parametrize("value", ["True", 1, 0, None, "yes"])
def test_from_logits_is_a_bool(value):
    with pytest.raises(ConfigError) as err:
        losses.sparse_categorical_crossentropy([0], [[0.2, 0.8]], from_logits=value)
    assert "from_logits" in err.value.expected and "True or False" in err.value.expected


@pytest.mark.parametrize("reduction", ["avg", "sum_over_batch_size", None, 3, ""])
def test_reduction_is_one_of_the_names(reduction):
    with pytest.raises(ConfigError) as err:
        losses.MeanSquaredError(reduction=reduction)
    assert "'mean'" in err.value.expected
    assert "sum_over_batch_size" in err.value.fix  # Keras' name for 'mean' is explained


def test_unknown_and_positional_loss_options():
    with pytest.raises(ConfigError) as err:
        losses.Huber(deltaa=2.0)
    assert "deltaa" in err.value.got and "delta" in err.value.expected
    assert losses.Huber(2.0).config == {"delta": 2.0}  # Keras' positional form
    with pytest.raises(ConfigError):
        losses.Huber(2.0, delta=3.0)  # the same option twice
    with pytest.raises(ConfigError):
        losses.Huber(1.0, "mean", "extra")
    with pytest.raises(ConfigError):
        losses.Loss(3)


def test_loss_inputs_that_are_not_numbers_or_have_no_batch_axis():
    with pytest.raises(DataError) as err:
        losses.sparse_categorical_crossentropy(["cat", "dog"], [[0.2, 0.8], [0.6, 0.4]])
    assert "sparse_categorical_crossentropy" in err.value.where
    assert "np.unique" in err.value.fix
    with pytest.raises(ShapeError):
        losses.mean_squared_error([1.0], 0.5)
    with pytest.raises(DataError):
        losses.mean_squared_error([[1.0]], [["a"]])


def test_option_values_that_skip_the_check_are_exactly_what_the_check_returns():
    """The loss options' fast path (known-good values) must agree with the checks, and must
    not let through a value the check refuses because it compares equal (1 == True)."""
    from tinygrad_edu.losses import inputs

    for name, _, value in inputs._KNOWN_GOOD:
        rule, good = inputs.OPTION_CHECKS[name]
        checked = rule(name, value, "loss 'x'", "example")
        assert checked == value and type(checked) is type(value)
        assert inputs.options("huber", **{name: value}) == {name: value}
    with pytest.raises(ConfigError):
        inputs.options("binary_crossentropy", from_logits=1)
