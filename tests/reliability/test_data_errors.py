"""Data errors: unusable training/inference data is refused with a ``DataError`` that teaches.

NaN/inf (counted, first rows named, ``check_finite=False`` to opt out), targets of the wrong length,
labels out of range (the label and the number of classes named), one-hot vs integer labels given to
the other loss (the right loss named), non-numeric dtypes; and float64/int data cast to float32
silently.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reliability_helpers import assert_teaches, ints_in

from tinygrad_edu import Tensor, activations, losses, metrics, regularizers
from tinygrad_edu.errors import DataError, ShapeError, TinygradEduError
from tinygrad_edu.layers import Conv2D, Dense, Flatten
from tinygrad_edu.models import Sequential


# ---------------------------------------------------------------------------------- NaN / inf
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("call", ["fit", "evaluate"])
def test_non_finite_x_names_count_and_first_rows(classifier, xy, bad, call):
    x, y = xy
    x = x.copy()
    x[2, 0] = x[5, 1] = x[5, 3] = bad  # 3 values in rows 2 and 5
    with pytest.raises(DataError) as err:
        getattr(classifier, call)(x, y, verbose=0)
    e = err.value
    assert_teaches(e, where=[call])
    assert "x" in e.expected
    numbers = ints_in(e.got)
    assert 3 in numbers and 2 in numbers and 5 in numbers, e.got
    assert "check_finite=False" in e.fix


def test_non_finite_rows_listed_are_the_first_ones(classifier, xy):
    x, y = xy
    x = x.copy()
    rows = [1, 3, 4, 8, 9, 10, 11]  # 7 rows (7 is not a row index: counts stay apart)
    x[rows, 2] = np.nan
    with pytest.raises(DataError) as err:
        classifier.fit(x, y, verbose=0)
    numbers = ints_in(err.value.got)
    assert len(rows) in numbers
    assert [1, 3, 4] == [n for n in numbers if n in rows][:3]  # in order, first ones first
    assert 11 not in numbers  # not every row: the first few


def test_non_finite_images_count_rows_not_pixels():
    model = Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)), Flatten(), Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((4, 5, 5, 1), np.float32)
    x[3, 1:3, 1:3, 0] = np.inf  # 4 pixels, all in sample 3
    with pytest.raises(DataError) as err:
        model.fit(x, np.zeros((4, 1)), verbose=0)
    numbers = ints_in(err.value.got)
    assert 4 in numbers and 3 in numbers
    assert 1 in numbers  # one row


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_is_refused(regressor, bad):
    x = np.ones((6, 3), np.float32)
    y = np.zeros(6, np.float32)
    y[4] = bad
    with pytest.raises(DataError) as err:
        regressor.fit(x, y, verbose=0)
    assert_teaches(err.value, where=["fit"])
    assert "y" in err.value.expected
    assert 4 in ints_in(err.value.got)


def test_non_finite_validation_data_is_refused(classifier, xy):
    x, y = xy
    x_val = x[:3].copy()
    x_val[1, 1] = np.nan
    with pytest.raises(DataError) as err:
        classifier.fit(x, y, validation_data=(x_val, y[:3]), verbose=0)
    assert "validation" in err.value.where


def test_check_finite_false_opts_out(regressor, capsys):
    x = np.ones((6, 3), np.float32)
    x[0, 0] = np.nan
    history = regressor.fit(x, np.zeros(6), batch_size=6, verbose=0, check_finite=False)
    assert history is not None
    # the NaN reaches the loss, and the divergence guard stops training instead
    assert "learning rate" in capsys.readouterr().out
    assert all(np.isfinite(w).all() for w in regressor.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(regressor.evaluate(x, np.zeros(6), check_finite=False))


def test_check_finite_false_skips_the_scan_for_evaluate(regressor):
    x = np.ones((4, 3), np.float32)
    x[1] = np.inf
    with pytest.raises(DataError):
        regressor.evaluate(x, np.zeros(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        regressor.evaluate(x, np.zeros(4), check_finite=False)  # no DataError


def test_train_on_batch_refuses_non_finite_data(classifier, xy):
    x, y = xy
    x = x.copy()
    x[0, 0] = np.nan
    with pytest.raises(DataError) as err:
        classifier.train_on_batch(x, y)
    assert_teaches(err.value)


# ---------------------------------------------------------------------------------- lengths, dtypes
@pytest.mark.parametrize("n_y", [11, 13, 1])
@pytest.mark.parametrize("call", ["fit", "evaluate"])
def test_y_of_the_wrong_length(classifier, xy, n_y, call):
    x, _ = xy
    y = np.zeros(n_y, int)
    with pytest.raises(DataError) as err:
        getattr(classifier, call)(x, y, verbose=0)
    assert_teaches(err.value, where=[call])
    assert len(x) in ints_in(err.value.expected)
    assert n_y in ints_in(err.value.got)


def test_scalar_y_is_a_data_error(classifier, xy):
    with pytest.raises(DataError):
        classifier.fit(xy[0], 3, verbose=0)


@pytest.mark.parametrize("bad", [np.array(["a"] * 12), np.array([None] * 12, dtype=object)])
def test_non_numeric_y(classifier, xy, bad):
    with pytest.raises(DataError) as err:
        classifier.fit(xy[0], bad, verbose=0)
    assert_teaches(err.value)
    assert str(bad.dtype) in err.value.got


@pytest.mark.parametrize(
    "bad",
    [
        np.array([["a"] * 5] * 3),
        np.array([[1, 2, 3, 4, None]] * 3, dtype=object),
        np.ones((3, 5), np.complex64),
        None,
        {"x": 1},
    ],
)
@pytest.mark.parametrize("call", ["predict", "fit", "evaluate", "layer"])
def test_non_numeric_x(classifier, bad, call):
    y = np.zeros(3, int)
    fn = {
        "predict": lambda: classifier.predict(bad),
        "fit": lambda: classifier.fit(bad, y, verbose=0),
        "evaluate": lambda: classifier.evaluate(bad, y),
        "layer": lambda: classifier.layers[0](bad),
    }[call]
    with pytest.raises(DataError) as err:
        fn()
    assert_teaches(err.value)
    assert "dtype" in err.value.got


@pytest.mark.parametrize("empty", [np.zeros((0, 5), np.float32), np.zeros(0), np.float32(1.0)])
def test_no_samples(classifier, empty):
    with pytest.raises(DataError) as err:
        classifier.predict(empty)
    assert_teaches(err.value)
    with pytest.raises(DataError):
        classifier.fit(empty, np.zeros(0, int), verbose=0)


# ---------------------------------------------------------------------------------- labels
@pytest.mark.parametrize("label", [3, 7, -1])
@pytest.mark.parametrize("call", ["fit", "evaluate", "validation"])
def test_sparse_label_out_of_range_names_label_and_classes(classifier, xy, label, call):
    x, y = xy
    y = y.copy()
    y[[4, 9]] = label
    fn = {
        "fit": lambda: classifier.fit(x, y, verbose=0),
        "evaluate": lambda: classifier.evaluate(x, y),
        "validation": lambda: classifier.fit(x, xy[1], validation_data=(x, y), verbose=0),
    }
    with pytest.raises(DataError) as err:
        fn[call]()
    e = err.value
    assert_teaches(e)
    assert label in ints_in(e.got), e.got
    assert 3 in ints_in(e.expected), e.expected  # the number of classes
    assert "sparse_categorical_crossentropy" in e.where


def test_non_integer_float_labels(classifier, xy):
    x, y = xy
    with pytest.raises(DataError) as err:
        classifier.fit(x, y + 0.5, verbose=0)
    assert_teaches(err.value)
    classifier.fit(x, y.astype(np.float64), verbose=0)  # whole floats are fine labels


def test_integer_labels_given_to_categorical_crossentropy_names_sparse(xy):
    x, y = xy
    model = Sequential([Dense(3, activation="softmax", input_shape=(5,))])
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(DataError) as err:
        model.fit(x, y, verbose=0)
    assert_teaches(err.value)
    assert "sparse_categorical_crossentropy" in err.value.fix
    model.fit(x, np.eye(3)[y], verbose=0)  # the one-hot form works


def test_one_hot_labels_given_to_sparse_crossentropy_names_categorical(classifier, xy):
    x, y = xy
    with pytest.raises(DataError) as err:
        classifier.fit(x, np.eye(3)[y], verbose=0)
    e = err.value
    assert_teaches(e)
    assert "categorical_crossentropy" in e.fix.replace("sparse_categorical_crossentropy", "")
    assert "argmax" in e.fix  # or convert the targets back


def test_labels_of_another_shape_are_a_shape_error(classifier, xy):
    x, _ = xy
    with pytest.raises(ShapeError) as err:
        classifier.fit(x, np.zeros((12, 2), int), verbose=0)
    assert_teaches(err.value)


def test_binary_targets_outside_zero_one(xy):
    x, y = xy
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(5,))])
    model.compile("sgd", "binary_crossentropy")
    with pytest.raises(DataError) as err:
        model.fit(x, (y > 0) * 2, verbose=0)
    assert 2 in ints_in(err.value.got)


# ---------------------------------------------------------------------------------- casting
def _no_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    assert not caught, [str(w.message) for w in caught]
    return result


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32, np.uint8, bool, np.float16])
def test_inputs_are_cast_to_float32_silently(dtype):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(8, 3)) * 3).astype(dtype)
    y = rng.normal(size=(8, 2)).astype(np.float64)
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(2)])
    model.compile("adam", "mse")
    _no_warnings(lambda: model.fit(x, y, batch_size=4, epochs=2, verbose=0))
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert all(w.dtype == np.float32 for w in model.weights)
    pred = _no_warnings(lambda: model.predict(x))
    assert pred.dtype == np.float32
    assert _no_warnings(lambda: model.layers[0](x)).dtype == np.float32
    assert isinstance(_no_warnings(lambda: model.evaluate(x, y)), float)


def test_python_lists_and_tensors_are_accepted(classifier):
    x = np.arange(10, dtype=np.float64).reshape(2, 5) / 10
    expected = classifier.predict(x.astype(np.float32))
    np.testing.assert_array_equal(classifier.predict(x.tolist()), expected)
    np.testing.assert_array_equal(classifier.predict(Tensor(x)), expected)
    assert classifier.predict(Tensor(x, dtype=np.float64)).dtype == np.float32


def test_integer_targets_for_regression_are_cast(regressor):
    x = np.ones((4, 3), np.int64)
    regressor.fit(x, np.arange(4), verbose=0)
    assert all(w.dtype == np.float32 for w in regressor.get_weights())


def test_every_data_error_is_a_value_error(classifier):
    """Users catching ValueError (numpy's habit) keep working."""
    with pytest.raises(ValueError):
        classifier.predict(np.array([["a"] * 5]))
    assert issubclass(DataError, TinygradEduError)


@pytest.mark.parametrize(
    "weights",
    [
        [np.array([["a", "b"]] * 3), np.zeros(2)],
        [[[1.0, 2.0], [1.0]], [0.0, 0.0]],
        3,
    ],
    ids=["strings", "ragged", "not-a-list"],
)
def test_set_weights_with_unusable_arrays(weights):
    model = Sequential([Dense(2, input_shape=(3,))])
    before = model.get_weights()
    with pytest.raises(TinygradEduError) as err:
        model.set_weights(weights)
    assert isinstance(err.value, (DataError, ShapeError))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------- issue 11: dtypes that are not numbers
NON_NUMERIC = {
    "complex": np.full((3, 2), 1 + 2j, np.complex64),
    "object": np.array([[1, 2]] * 3, dtype=object),
    "str": np.array([["1.5", "2"]] * 3),
    "bytes": np.array([[b"1", b"2"]] * 3),
    "datetime": np.array([["2024-01-01", "2024-01-03"]] * 3, dtype="datetime64[D]"),
    "timedelta": np.ones((3, 2), "timedelta64[s]"),
}
#: every entry that takes data: Tensor(), a layer, a loss (both sides), a metric, an activation,
#: a regularizer
ENTRIES = {
    "Tensor": lambda x: Tensor(x),
    "layer": lambda x: Dense(2)(x),
    "loss y_pred": lambda x: losses.mean_squared_error(np.zeros((3, 2)), x),
    "loss y_true": lambda x: losses.mean_squared_error(x, np.zeros((3, 2))),
    "metric y_true": lambda x: metrics.mean_absolute_error(x, np.zeros((3, 2))),
    "metric y_pred": lambda x: metrics.categorical_accuracy(np.eye(2)[[0, 1, 0]], x),
    "activation": lambda x: activations.relu(x),
    "regularizer": lambda x: regularizers.L2(0.1)(x),
}


@pytest.mark.parametrize("kind", NON_NUMERIC)
@pytest.mark.parametrize("entry", ENTRIES)
def test_non_numeric_dtypes_are_refused_everywhere(kind, entry):
    x = NON_NUMERIC[kind]
    with pytest.raises(DataError) as err:
        ENTRIES[entry](x)
    assert_teaches(err.value)
    assert str(x.dtype) in err.value.got


@pytest.mark.parametrize("kind", NON_NUMERIC)
def test_the_conversion_each_fix_shows_runs_on_that_data(kind):
    """The fix ends with an expression on ``x`` that makes numbers a layer takes."""
    x = NON_NUMERIC[kind]
    with pytest.raises(DataError) as err:
        Dense(2)(x)
    conversion = err.value.fix.rsplit("e.g. ", 1)[1]
    numbers = eval(conversion, {"np": np, "x": x})  # noqa: S307 - our own fix text
    assert Dense(2)(numbers).shape == (3, 2)


def test_none_data_says_none():
    with pytest.raises(DataError) as err:
        Dense(2)(None)
    assert "None" in err.value.got


def test_bool_data_are_numbers_where_zero_and_one_mean_something():
    """Bools are 0/1: a binary feature or mask as input, a 0/1 target or label, a thresholded
    prediction. They are refused as weights (see the next test)."""
    out = Dense(2)(np.array([[True, False, True]]))
    assert out.dtype == np.float32
    bce = losses.binary_crossentropy(np.array([[True], [False]]), [[0.9], [0.1]])
    assert bce.item() == pytest.approx(
        losses.binary_crossentropy([[1.0], [0.0]], [[0.9], [0.1]]).item()
    )
    probs = [[0.3, 0.7], [0.6, 0.4]]
    sparse = losses.sparse_categorical_crossentropy([True, False], probs)
    assert sparse.item() == pytest.approx(
        losses.sparse_categorical_crossentropy([1, 0], probs).item()
    )
    assert metrics.binary_accuracy([True, False], [0.9, 0.2]) == 1.0
    assert metrics.binary_accuracy([1, 0], np.array([True, False])) == 1.0


def test_bool_weights_are_refused():
    layer = Dense(2, input_shape=(3,))
    layer.build((None, 3))
    before = layer.get_weights()
    with pytest.raises(DataError) as err:
        layer.set_weights([np.ones((3, 2), bool), np.zeros(2)])
    assert "bool" in err.value.got and "astype" in err.value.fix
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
