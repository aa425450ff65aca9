"""fit's training options with Keras' semantics (issue 14 item 7): sample and class weights
(Keras 3's rule: sum(w * l) / batch size), validation sample weights, generator input with
steps_per_epoch, predict on batches, test_on_batch / predict_on_batch, Sequential.pop and
metrics_names - and the typed errors of their misuse."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, DataError
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.models.weighting import class_sample_weights
from tinygrad_edu.optimizers import SGD

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3)).astype(np.float32)
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


def classifier(seed=0, lr=0.1, metrics=("accuracy",)):
    np.random.seed(seed)
    from tinygrad_edu import set_seed

    set_seed(seed)
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(2, "softmax")])
    model.compile(SGD(lr), "sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def per_sample_ce(model, x, y):
    p = model.predict(x)
    return -np.log(p[np.arange(len(y)), y])


# ---------------------------------------------------------------- the weighting rule
@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0, 5), min_size=40, max_size=40), st.sampled_from([7, 16, 40]))
def test_weighted_loss_is_keras_sum_over_batch_size(weights, batch_size):
    model, w = classifier(), np.array(weights)
    got = model.evaluate(X, Y, sample_weight=w, batch_size=batch_size, verbose=0)[0]
    per = per_sample_ce(model, X, Y)
    np.testing.assert_allclose(got, np.mean(w * per), rtol=1e-5, atol=1e-7)  # / N, not / sum(w)


def test_weights_of_two_double_the_sgd_step():
    plain, weighted = classifier(), classifier()
    before = plain.get_weights()
    plain.train_on_batch(X, Y)
    weighted.train_on_batch(X, Y, sample_weight=np.full(40, 2.0))
    for b, p, w in zip(before, plain.get_weights(), weighted.get_weights()):
        np.testing.assert_allclose(w - b, 2 * (p - b), rtol=1e-4, atol=1e-7)


def test_class_weight_is_sample_weight_from_the_labels():
    table = {0: 1.0, 1: 5.0}
    by_class, by_sample = classifier(), classifier()
    by_class.fit(X, Y, epochs=2, batch_size=8, class_weight=table, seed=1, verbose=0)
    w = np.array([table[c] for c in Y])
    by_sample.fit(X, Y, epochs=2, batch_size=8, sample_weight=w, seed=1, verbose=0)
    for a, b in zip(by_class.get_weights(), by_sample.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    one_hot = Sequential([Dense(2, "softmax", input_shape=(3,))])
    one_hot.compile("sgd", "categorical_crossentropy")
    logs = one_hot.train_on_batch(X, np.eye(2)[Y], class_weight={0: 0.0, 1: 0.0})
    assert logs["loss"] == 0.0  # every sample weighted 0 by its one-hot class


def test_class_weight_weights_training_only_and_the_held_out_rows_are_scored_plainly():
    """Keras applies class_weight to the training data only: val_loss of validation_split is
    the plain loss (sample_weight, by contrast, is split with its rows). Before, the held-out
    rows kept their class weights (val_loss 4.42 where Keras gives 1.51)."""
    table = {0: 1.0, 1: 9.0}
    model = classifier(metrics=())  # val_loss: the loss of the weights at the end
    history = model.fit(X, Y, epochs=1, class_weight=table, validation_split=0.25, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(X[30:], Y[30:]))
    weighted = classifier(metrics=())
    w = np.array([table[c] for c in Y])
    history = weighted.fit(X, Y, epochs=1, sample_weight=w, validation_split=0.25, verbose=0)
    expected = weighted.evaluate(X[30:], Y[30:], sample_weight=w[30:])
    assert history.history["val_loss"][0] == pytest.approx(expected)


def test_class_weight_refuses_targets_without_one_label_per_sample():
    """Per-timestep labels (B, T) and one-hot sequences (B, T, classes) have no class per
    sample. Before: the argmax over the time axis was read as the class (labels [[2, 0], [0, 2]]
    weighted as classes 0 and 1 - silently), and one-hot sequences were a raw TypeError. Soft
    one-hot rows (label smoothing) still give their argmax, as Keras does."""
    table = {0: 1.0, 1: 2.0, 2: 3.0}
    for y in (np.array([[2, 0], [0, 2]]), np.eye(3)[[[0, 1], [2, 2]]]):
        with pytest.raises(DataError, match="one label per sample") as err:
            class_sample_weights(y, table, "fit")
        assert str(y.shape) in err.value.got
        scope = {"np": np, "y": y}
        exec(err.value.fix.split("e.g. ")[1], scope)  # noqa: S102 - our own fix, as written
        assert scope["sample_weight"].shape == (len(y),)
    smooth = np.array([[0.05, 0.9, 0.05], [0.9, 0.05, 0.05]])
    assert class_sample_weights(smooth, table, "fit").tolist() == [2.0, 1.0]
    assert class_sample_weights(np.array([[2], [0]]), table, "fit").tolist() == [3.0, 1.0]


def test_metrics_are_not_weighted_as_keras_metrics():
    model = classifier()
    w = np.where(Y == 1, 100.0, 0.0)
    assert model.evaluate(X, Y, sample_weight=w)[1] == model.evaluate(X, Y)[1]


def test_validation_sample_weights_weight_val_loss():
    model, w = classifier(), RNG.random(40)
    history = model.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y, w))
    val = model.evaluate(X, Y, sample_weight=w, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(val["loss"], rel=1e-6)
    assert history.history["val_loss"][0] != pytest.approx(model.evaluate(X, Y)[0], rel=1e-3)


def test_validation_split_splits_the_weights_too():
    model, w = classifier(), np.r_[np.ones(30), np.zeros(10)]
    history = model.fit(X, Y, epochs=1, verbose=0, sample_weight=w, validation_split=0.25)
    assert history.history["val_loss"] == [0.0]  # the held-out rows all weigh 0


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"sample_weight": np.ones(39)}, DataError, "(40,)"),
        ({"sample_weight": -np.ones(40)}, DataError, ">= 0"),
        ({"sample_weight": np.full(40, np.nan)}, DataError, "finite"),
        ({"class_weight": {0: 1.0}}, DataError, "every class"),
        ({"class_weight": [1.0, 2.0]}, ConfigError, "dict"),
        ({"class_weight": {0: 1.0, 1: 1.0}, "sample_weight": np.ones(40)}, ConfigError, "both"),
        ({"steps_per_epoch": 0}, ConfigError, "steps_per_epoch"),
        ({"validation_data": (X, Y, np.ones(3))}, DataError, "(40,)"),
    ],
)
def test_bad_weights_are_refused_before_any_step(kwargs, error, text):
    model = classifier()
    before = model.get_weights()
    with pytest.raises(error) as err:
        model.fit(X, Y, verbose=0, **kwargs)
    assert text in err.value.expected + err.value.got
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_custom_loss_is_per_sample_as_keras_and_weighted_only_then():
    """Keras loss functions return one value per sample, which Keras averages (and weights by
    sample_weight: sum(w * l) / B). Before, such a loss was a raw TypeError ('only 0-dimensional
    arrays can be converted'), and any custom loss refused sample_weight; a loss returning one
    number still cannot be weighted (ConfigError)."""
    x, y = X[:7], X[:7, :2].astype(np.float64) ** 2
    w = np.linspace(0.0, 1.0, 7)
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", lambda y_true, out: ((out - y_true).abs() ** 3).mean(axis=-1))
    per_sample = (np.abs(model.predict(x) - y) ** 3).mean(axis=-1)
    assert model.evaluate(x, y, batch_size=7) == pytest.approx(per_sample.mean(), rel=1e-5)
    weighted = model.evaluate(x, y, batch_size=7, sample_weight=w)
    assert weighted == pytest.approx(np.sum(w * per_sample) / 7, rel=1e-5)
    model.compile("sgd", lambda y_true, out: ((out - y_true) ** 2).mean())  # one number
    with pytest.raises(ConfigError, match="one value per sample") as err:
        model.fit(x, y, sample_weight=w, verbose=0)
    assert "shape ()" in err.value.got


# ---------------------------------------------------------------- batches, one at a time
def endless(batch=10):
    while True:
        for i in range(0, len(X), batch):
            yield X[i : i + batch], Y[i : i + batch]


def test_generator_with_steps_per_epoch_equals_the_same_batches_from_arrays():
    from_gen, from_arrays = classifier(), classifier()
    h = from_gen.fit(endless(), epochs=3, steps_per_epoch=4, verbose=0)
    from_arrays.fit(X, Y, epochs=3, batch_size=10, shuffle=False, verbose=0)
    assert len(h.history["loss"]) == 3
    for a, b in zip(from_gen.get_weights(), from_arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_list_of_batches_restarts_every_epoch_and_carries_weights():
    model = classifier()
    data = [(X[:20], Y[:20]), (X[20:], Y[20:], np.zeros(20))]
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_generator_that_runs_out_stops_with_keras_warning():
    model = classifier()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit((b for b in [(X, Y)]), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1
    assert any("ran out of data" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    "call, error, text",
    [
        (lambda m: m.fit(endless(), Y, steps_per_epoch=2, verbose=0), ConfigError, "y=None"),
        (lambda m: m.fit(endless(), validation_split=0.2, verbose=0), ConfigError, "validation"),
        (lambda m: m.fit((x for x in [X]), verbose=0), DataError, "(x, y)"),
        (lambda m: m.fit((x for x in []), verbose=0), DataError, "batch"),
        (lambda m: m.predict((x for x in [])), DataError, "batch"),
    ],
)
def test_misused_batch_input_teaches(call, error, text):
    with pytest.raises(error) as err:
        call(classifier())
    assert text in err.value.expected + err.value.got


def test_predict_on_generators_and_single_batches():
    model = classifier()
    whole = model.predict(X)
    batched = model.predict(((X[i : i + 7], None) for i in range(0, 40, 7)))
    np.testing.assert_allclose(batched, whole, rtol=1e-6)
    np.testing.assert_allclose(model.predict(endless(), steps=2), whole[:20], rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(X[:5]), whole[:5], rtol=1e-6)


def test_steps_limits_evaluate_and_predict_on_arrays_too_as_keras():
    """Keras reads only the first ``steps`` batches of arrays as well. Before, steps was
    silently ignored for arrays: evaluate(X, Y, steps=1, batch_size=8) scored all 40 rows."""
    model = classifier()
    w = np.linspace(0.0, 2.0, 40)
    first = model.evaluate(X[:16], Y[:16], sample_weight=w[:16], return_dict=True)
    found = model.evaluate(X, Y, batch_size=8, steps=2, sample_weight=w, return_dict=True)
    assert found == pytest.approx(first)
    assert found != pytest.approx(model.evaluate(X, Y, sample_weight=w, return_dict=True))
    np.testing.assert_array_equal(model.predict(X, batch_size=8, steps=2), model.predict(X[:16]))
    assert model.predict(X, batch_size=8, steps=9).shape == (40, 2)  # more steps than batches


def test_evaluate_and_predict_take_keras_callbacks_argument_and_refuse_hooks_they_cannot_run():
    """Keras' evaluate/predict take callbacks=; before, a raw TypeError (unexpected keyword)."""
    from tinygrad_edu.callbacks import History
    from tinygrad_edu.layers import Input
    from tinygrad_edu.models import Model

    model = classifier()
    assert model.evaluate(X, Y, callbacks=[]) == model.evaluate(X, Y)
    np.testing.assert_array_equal(model.predict(X, callbacks=None), model.predict(X))
    inp = Input((3,))
    functional = Model(inp, Dense(2)(inp))
    assert functional.predict(X, callbacks=[]).shape == (40, 2)
    for call in (
        lambda m: m.evaluate(X, Y, callbacks=[History()]),
        lambda m: m.predict(X, callbacks=[History()]),
    ):
        with pytest.raises(ConfigError, match="run no callbacks") as err:
            call(model)
        exec(err.value.fix.split("  #")[0], {"model": model, "x": X, "y": Y})  # noqa: S102


def test_test_on_batch_returns_what_evaluate_returns():
    model = classifier()
    assert model.test_on_batch(X[:8], Y[:8]) == pytest.approx(model.evaluate(X[:8], Y[:8]))
    logs = model.test_on_batch(X[:8], Y[:8], sample_weight=np.ones(8), return_dict=True)
    assert list(logs) == model.metrics_names == ["loss", "accuracy"]
    assert classifier(metrics=()).test_on_batch(X, Y) == pytest.approx(model.evaluate(X, Y)[0])


# ---------------------------------------------------------------- the model's structure
def test_pop_removes_the_head_for_a_new_one():
    model = classifier()
    head = model.pop()
    assert head.name == "dense_1" and model.output_shape == (None, 4) and len(model.layers) == 1
    model.add(Dense(3, activation="softmax"))
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(X, Y % 3, epochs=1, verbose=0)
    assert model.predict(X[:2]).shape == (2, 3) and model.layers[-1].name == "dense_1"
    model.pop()
    model.pop()
    with pytest.raises(ConfigError, match="at least one layer"):
        model.pop()


def test_metrics_names_follow_compile():
    model = Sequential([Dense(2, input_shape=(3,))])
    assert model.metrics_names == []
    model.compile("sgd", "mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "mae"]


def test_steps_per_epoch_limits_the_batches_of_arrays_and_class_weight_reaches_generators():
    from tinygrad_edu.callbacks import Callback

    class Count(Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1

    counted = Count()
    classifier().fit(X, Y, batch_size=10, epochs=2, steps_per_epoch=3, callbacks=[counted])
    assert counted.steps == 6
    zero = classifier()
    before = zero.get_weights()
    zero.fit(endless(), epochs=1, steps_per_epoch=2, class_weight={0: 0.0, 1: 0.0}, verbose=0)
    for a, b in zip(before, zero.get_weights()):  # every sample weighs 0: no gradient
        np.testing.assert_array_equal(a, b)


def test_array_likes_are_data_not_batches():
    class ArrayLike:  # as a DataFrame or a torch tensor: iterable, yet one array of samples
        def __array__(self, dtype=None, copy=None):
            return X

        def __iter__(self):
            return iter(X)

    model = classifier()
    np.testing.assert_allclose(model.predict(ArrayLike()), model.predict(X))


def test_evaluate_on_batches_equals_evaluate_on_arrays():
    model, w = classifier(), RNG.random(40)
    want = model.evaluate(X, Y, batch_size=10, sample_weight=w)
    batches = [(X[i : i + 10], Y[i : i + 10], w[i : i + 10]) for i in range(0, 40, 10)]
    np.testing.assert_allclose(model.evaluate(batches), want, rtol=1e-6)
    np.testing.assert_allclose(
        model.evaluate(endless(), steps=4), model.evaluate(X, Y, batch_size=10), rtol=1e-6
    )
    with pytest.raises(ConfigError, match="y=None"):
        model.evaluate(endless(), Y, steps=2)
