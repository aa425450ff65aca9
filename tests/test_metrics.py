"""Metrics (plain floats, no graph) against numpy, and how ``"accuracy"`` picks its kind.

Keras: ``"accuracy"`` is binary for an output whose last axis is 1, categorical when the targets
have the outputs' shape, sparse otherwise; compiled with a cross-entropy loss, the loss decides.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import ConfigError, DataError, ShapeError, Tensor, metrics
from tinygrad_edu.testing import arrays, distinct_values, shapes

# (batch..., classes) with distinct scores per row, so argmax has no ties
class_shapes = st.tuples(
    st.lists(st.integers(1, 5), min_size=1, max_size=2), st.integers(2, 5)
).map(lambda bk: (*bk[0], bk[1]))


@st.composite
def labels_and_scores(draw, shape=class_shapes):
    s = draw(shape)
    scores = draw(distinct_values(s, 0.0, 1.0))
    labels = draw(hnp.arrays(np.int64, s[:-1], elements=st.integers(0, s[-1] - 1)))
    return labels, scores


@st.composite
def binary_pairs(draw):
    s = draw(shapes(min_dims=1, max_dims=2))
    t = draw(hnp.arrays(np.int64, s, elements=st.integers(0, 1))).astype(np.float64)
    return t, draw(arrays(s, 0.0, 1.0))


# ------------------------------------------------------------------------ each metric vs numpy
@given(tp=binary_pairs(), threshold=st.sampled_from([0.5, 0.2, 0.8]))
def test_binary_accuracy(tp, threshold):
    t, p = tp
    want = np.mean((p > threshold) == (t == 1))
    assert metrics.binary_accuracy(t, p, threshold=threshold) == pytest.approx(want)
    if threshold == 0.5:
        assert metrics.binary_accuracy(t, p) == pytest.approx(want)


def test_binary_accuracy_threshold():
    t, p = [[1], [0], [1]], [[0.3], [0.1], [0.6]]
    assert metrics.binary_accuracy(t, p) == pytest.approx(2 / 3)  # 0.3 -> 0: wrong
    assert metrics.binary_accuracy(t, p, threshold=0.25) == pytest.approx(1.0)
    assert metrics.binary_accuracy(t, p, threshold=0.7) == pytest.approx(1 / 3)


def test_binary_accuracy_targets_b_for_outputs_b1():
    p = np.array([[0.9], [0.2], [0.7], [0.4]])
    t = np.array([1, 0, 0, 0])
    assert metrics.binary_accuracy(t, p) == pytest.approx(0.75)
    assert metrics.binary_accuracy(t[:, None], p) == pytest.approx(0.75)


@given(lp=labels_and_scores())
def test_categorical_accuracy(lp):
    labels, p = lp
    one_hot = np.eye(p.shape[-1])[labels]
    want = np.mean(p.argmax(-1) == labels)
    assert metrics.categorical_accuracy(one_hot, p) == pytest.approx(want)


@given(lp=labels_and_scores())
def test_sparse_categorical_accuracy(lp):
    labels, p = lp
    want = np.mean(p.argmax(-1) == labels)
    assert metrics.sparse_categorical_accuracy(labels, p) == pytest.approx(want)
    if labels.ndim == 1:  # (B, 1) labels too, as Keras accepts
        assert metrics.sparse_categorical_accuracy(labels[:, None], p) == pytest.approx(want)
        assert metrics.sparse_categorical_accuracy(labels.astype(float), p) == pytest.approx(want)


def test_sparse_categorical_accuracy_wrong_label_count_is_a_shape_error():
    with pytest.raises(ShapeError):
        metrics.sparse_categorical_accuracy([0, 1, 2], np.eye(3)[:2])


@given(tp=st.data())
def test_mse_and_mae(tp):
    s = tp.draw(shapes(min_dims=1, max_dims=3))
    t, p = tp.draw(arrays(s)), tp.draw(arrays(s))
    assert metrics.mean_squared_error(t, p) == pytest.approx(np.mean((p - t) ** 2))
    assert metrics.mean_absolute_error(t, p) == pytest.approx(np.mean(np.abs(p - t)))
    assert metrics.mse is metrics.mean_squared_error and metrics.mae is metrics.mean_absolute_error


def test_mse_targets_b_for_outputs_b1_and_wrong_sizes():
    p = np.array([[1.0], [2.0]])
    assert metrics.mse([0.0, 0.0], p) == pytest.approx(2.5)
    assert metrics.mae([0.0, 0.0], p) == pytest.approx(1.5)
    with pytest.raises(ShapeError):
        metrics.mse([0, 1, 2], np.zeros((2, 2)))  # 3 values for 4 outputs


def test_metrics_accept_tensors_and_return_python_floats():
    p = Tensor(np.array([[0.1, 0.9], [0.8, 0.2]]))
    for value in (
        metrics.sparse_categorical_accuracy(Tensor(np.array([1, 1])), p),
        metrics.categorical_accuracy(np.eye(2)[[1, 1]], p),
        metrics.binary_accuracy([1.0], Tensor([0.7])),
        metrics.mse([[0.0, 1.0]], p.data[:1]),
        metrics.accuracy([1, 1], p),
    ):
        assert type(value) is float
    assert metrics.accuracy([1, 1], p) == 0.5


# ------------------------------------------------------------------------ accuracy's kind
ACC_CASES = {  # y_true, y_pred, the accuracy Keras picks from the shapes
    "binary (B, 1)": ([[1], [0], [1]], [[0.8], [0.6], [0.4]], metrics.binary_accuracy),
    "binary (B,) targets": ([1, 0, 1], [[0.8], [0.6], [0.4]], metrics.binary_accuracy),
    "binary 1-d": ([1, 0, 1], [0.8, 0.6, 0.4], metrics.binary_accuracy),
    "categorical": (
        [[0, 1, 0], [1, 0, 0], [0, 0, 1]],
        [[0.2, 0.7, 0.1], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8]],
        metrics.categorical_accuracy,
    ),
    "sparse (B,)": (
        [1, 0, 2],
        [[0.2, 0.7, 0.1], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8]],
        metrics.sparse_categorical_accuracy,
    ),
    "sparse (B, 1)": (
        [[1], [0], [2]],
        [[0.2, 0.7, 0.1], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8]],
        metrics.sparse_categorical_accuracy,
    ),
    "sparse (B, T)": (
        [[1, 0], [2, 2]],
        [[[0.2, 0.7, 0.1], [0.3, 0.6, 0.1]], [[0.1, 0.1, 0.8], [0.5, 0.2, 0.3]]],
        metrics.sparse_categorical_accuracy,
    ),
}


@pytest.mark.parametrize("case", list(ACC_CASES))
def test_accuracy_picks_its_kind_from_the_shapes(case):
    t, p, kind = ACC_CASES[case]
    assert metrics.accuracy(t, p) == pytest.approx(kind(t, p))
    assert metrics.get("accuracy") is metrics.accuracy
    assert metrics.get("acc")(t, p) == pytest.approx(kind(t, p))


def test_accuracy_kinds_really_differ_on_the_cases():
    # guard: the cases above would not notice a wrong pick if every kind gave the same number
    t, p, _ = ACC_CASES["binary (B, 1)"]
    assert metrics.binary_accuracy(t, p) != metrics.sparse_categorical_accuracy([0, 0, 0], p)
    t, p, _ = ACC_CASES["categorical"]
    assert metrics.categorical_accuracy(t, p) == pytest.approx(2 / 3)
    t, p, _ = ACC_CASES["sparse (B,)"]
    assert metrics.sparse_categorical_accuracy(t, p) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "loss_name, kind",
    [
        ("binary_crossentropy", metrics.binary_accuracy),
        ("categorical_crossentropy", metrics.categorical_accuracy),
        ("sparse_categorical_crossentropy", metrics.sparse_categorical_accuracy),
    ],
)
@pytest.mark.parametrize("name", ["accuracy", "acc", "Accuracy"])
def test_get_accuracy_picks_by_cross_entropy_loss(loss_name, kind, name):
    assert metrics.get(name, loss_name=loss_name) is kind


def test_binary_crossentropy_on_several_outputs_means_binary_accuracy():
    # multi-label: (B, 3) sigmoid outputs with 0/1 targets, compiled with binary_crossentropy
    t = np.array([[1, 0, 1], [0, 0, 1]])
    p = np.array([[0.9, 0.2, 0.4], [0.1, 0.3, 0.8]])
    acc = metrics.get("accuracy", loss_name="binary_crossentropy")
    assert acc(t, p) == pytest.approx(5 / 6)  # per output, not per row


@pytest.mark.parametrize("loss_name", ["mse", "mean_absolute_error", "huber", None])
def test_get_accuracy_with_a_non_crossentropy_loss_infers_from_shapes(loss_name):
    assert metrics.get("accuracy", loss_name=loss_name) is metrics.accuracy


NAMES = {
    "binary_accuracy": metrics.binary_accuracy,
    "categorical_accuracy": metrics.categorical_accuracy,
    "sparse_categorical_accuracy": metrics.sparse_categorical_accuracy,
    "mse": metrics.mean_squared_error,
    "mean_squared_error": metrics.mean_squared_error,
    "mae": metrics.mean_absolute_error,
    "mean_absolute_error": metrics.mean_absolute_error,
    "MSE": metrics.mean_squared_error,
}


@pytest.mark.parametrize("name", list(NAMES))
def test_get_by_name(name):
    assert metrics.get(name) is NAMES[name]


def test_get_keeps_our_functions_and_averages_a_users_as_keras():
    """Keras' contract for a metric function: it may return one value per sample (Keras
    averages them, MeanMetricWrapper), one number or a tensor. Before, get returned it as it
    was: evaluate logged an array of the last batch's values, or a Tensor, as the metric."""
    assert metrics.get(metrics.mae) is metrics.mae
    assert metrics.get(metrics.accuracy) is metrics.accuracy

    def worst_error(y_true, y_pred):  # per sample, as Keras metric functions are written
        return np.abs(np.asarray(y_true) - y_pred).max(axis=-1)

    fn = metrics.get(worst_error)
    t = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    p = np.array([[0.5, 0.0], [0.0, 0.0], [1.0, 1.0]])
    assert fn.__name__ == "worst_error" and fn(t, p) == pytest.approx((1.0 + 2.0 + 0.0) / 3)
    assert metrics.get(lambda y, q: Tensor(np.array(2.5)))(t, p) == 2.5
    with pytest.raises(DataError, match="its result"):
        metrics.get(lambda y, q: "high")(t, p)


def test_a_users_per_sample_metric_is_the_mean_over_every_sample_in_evaluate():
    from tinygrad_edu.layers import Dense
    from tinygrad_edu.models import Sequential

    def worst_error(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=[worst_error])
    logs = model.evaluate(x, y, batch_size=3, return_dict=True)  # batches of 3, 3, 1
    assert logs["worst_error"] == pytest.approx(worst_error(y, model.predict(x)).mean(), rel=1e-6)


@pytest.mark.parametrize(
    "typo, meant",
    [("acuracy", "accuracy"), ("sparse_categorical_acuracy", "sparse_categorical_accuracy")],
)
def test_get_unknown_name_is_a_config_error_with_a_suggestion(typo, meant):
    with pytest.raises(ConfigError) as info:
        metrics.get(typo)
    assert typo in info.value.got and meant in info.value.fix


@pytest.mark.parametrize("bad", [None, 3])
def test_get_non_callable_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        metrics.get(bad)


# ----------------------------------------------------------------- issue 11: inputs are checked
STRING_LABELS = [np.array(["cat", "dog"]), ["cat", "dog"], np.array([b"a", b"b"])]
PROBS = [[0.9, 0.1], [0.2, 0.8]]


@pytest.mark.parametrize("labels", STRING_LABELS, ids=["str array", "list", "bytes"])
@pytest.mark.parametrize(
    "name",
    ["accuracy", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"],
)
def test_string_labels_are_a_data_error(name, labels):
    """They used to pass silently (0.0 or 1.0) or leak numpy's UFuncTypeError."""
    with pytest.raises(DataError) as err:
        getattr(metrics, name)(labels, PROBS)
    assert name in err.value.where and "y_true" in err.value.where
    assert "np.unique" in err.value.fix or "decode" in err.value.fix


@pytest.mark.parametrize("bad", [None, [None, 1], [[1, 2], [3]], [1 + 2j, 0j]])
def test_unusable_targets_or_predictions_are_data_errors(bad):
    with pytest.raises(DataError):
        metrics.sparse_categorical_accuracy(bad, PROBS)
    with pytest.raises(DataError):
        metrics.mean_squared_error([0.0, 1.0], bad)


def test_metrics_check_shapes_before_numpy_broadcasts():
    with pytest.raises(ShapeError) as err:
        metrics.categorical_accuracy([0, 1], PROBS)  # integer labels given to the one-hot form
    assert "sparse_categorical_accuracy" in err.value.fix
    with pytest.raises(ShapeError):
        metrics.binary_accuracy([1, 0, 1], [0.9, 0.2])
    with pytest.raises(ShapeError):
        metrics.sparse_categorical_accuracy([0], 0.5)  # a scalar prediction


@pytest.mark.parametrize("threshold", ["0.5", None, float("nan"), True, [0.5]])
def test_binary_accuracy_threshold_is_a_number(threshold):
    with pytest.raises(ConfigError) as err:
        metrics.binary_accuracy([1, 0], [0.7, 0.2], threshold=threshold)
    assert "threshold" in err.value.expected


def test_get_checks_the_loss_name():
    with pytest.raises(ConfigError):
        metrics.get("accuracy", loss_name=3)
    assert metrics.get("accuracy", loss_name="binary_crossentropy") is metrics.binary_accuracy
