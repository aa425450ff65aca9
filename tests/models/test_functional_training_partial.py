"""A functional model whose ``loss`` leaves outputs out, and the checks of per-output targets
before fit's first step - each as Keras 3.15.1 does it (checked with real Keras, torch
backend; the values against Keras: tests/reference/test_keras_functional_logs.py).

What Keras does, and so what we do:

- ``loss=["mse", None]`` (any output form), or ``loss={"out_a": "mse"}`` when the outputs are a
  dict: ``out_b`` adds no loss and needs no targets (``[y_a, None]``, ``{"out_a": y_a}``, or
  ``y_a`` alone); targets given for it are ignored. A dict leaving outputs out of a *list* of
  outputs raises ``ValueError: Expected keys [...] in loss dict``: a ``ConfigError`` here.
- metrics on an output without a loss need its targets (Keras fails with ``KeyError``).
- ``<output>_loss`` logs only when two outputs or more have a loss.
- wrong targets (labels out of range, a wrong shape, an output's targets missing) fail Keras
  inside the first step; here at fit's data check, naming the output, before any step.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.test_functional_training_more import LOSSES, Y_A, Y_B, X, heads
from tinygrad_edu.errors import ConfigError, DataError, ShapeError


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize(
    "y", [[Y_A, None], [Y_A, Y_B], [Y_A, np.zeros((len(Y_A), 7))], {"out_a": Y_A}, Y_A, [Y_A]]
)
def test_an_output_without_a_loss_needs_no_targets_and_adds_nothing(y):
    model = heads()
    model.compile("sgd", loss=["mse", None])
    p_a, _ = model.predict(X)
    logs = model.evaluate(X, y, return_dict=True)
    assert list(logs) == ["loss"]  # one output with a loss: no out_a_loss, as Keras
    np.testing.assert_allclose(logs["loss"], np.mean((p_a - Y_A) ** 2), rtol=1e-5)
    before = weights_of(model)
    history = model.fit(X, y, epochs=2, verbose=0).history
    assert list(history) == ["loss"]
    after = weights_of(model)
    # out_b's kernel and bias (the last two) get no gradient; out_a's do
    np.testing.assert_array_equal(after[-1], before[-1])
    np.testing.assert_array_equal(after[-2], before[-2])
    assert not np.array_equal(after[-3], before[-3])


def test_a_dict_may_leave_outputs_out_only_when_the_outputs_are_a_dict():
    by_key = heads(as_dict=True)
    by_key.compile("sgd", loss={"out_a": "mse"}, loss_weights={"out_a": 2.0})
    p_a = by_key.predict(X)["out_a"]
    expected = 2.0 * np.mean((p_a - Y_A) ** 2)
    np.testing.assert_allclose(by_key.evaluate(X, {"out_a": Y_A}), expected, rtol=1e-5)
    listed = heads()
    with pytest.raises(ConfigError, match=r"nothing for \['out_b'\]") as err:
        listed.compile("sgd", loss={"out_a": "mse"})
    assert "None" in err.value.fix
    listed.compile("sgd", loss={"out_a": "mse", "out_b": None})  # naming it None is clear
    np.testing.assert_allclose(listed.evaluate(X, [Y_A, None]), expected / 2.0, rtol=1e-5)


def test_no_loss_at_all_is_refused():
    for loss in ([None, None], {"out_a": None, "out_b": None}):
        with pytest.raises(ConfigError, match="at least one output"):
            heads().compile("sgd", loss=loss)


def test_metrics_on_an_output_without_a_loss_need_its_targets():
    model = heads()
    model.compile("sgd", loss=["mse", None], metrics={"out_b": ["accuracy"]})
    logs = model.evaluate(X, [Y_A, Y_B], return_dict=True)
    assert list(logs) == ["loss", "out_b_accuracy"]
    _, p_b = model.predict(X)
    assert logs["out_b_accuracy"] == pytest.approx(np.mean(p_b.argmax(-1) == Y_B))
    with pytest.raises(DataError, match=r"none for \['out_b'\]"):
        model.fit(X, [Y_A, None], verbose=0)


def test_loss_logs_are_per_output_only_for_two_losses_or_more():
    model = heads()
    model.compile("sgd", loss=LOSSES, metrics={"out_a": "mae"})
    assert model.metrics_names == ["loss", "out_a_loss", "out_b_loss", "out_a_mae"]
    model.compile("sgd", loss=[None, "sparse_categorical_crossentropy"], metrics={"out_a": "mae"})
    assert model.metrics_names == ["loss", "out_a_mae"]


BAD_TARGETS = [
    ([Y_A, Y_B + 1], DataError, "output 'out_b'.*label 3"),  # labels out of range
    ([np.ones((len(Y_A), 3)), Y_B], ShapeError, "output 'out_a'.*shape"),  # 3 columns, not 1
    ([Y_A, np.eye(3)[Y_B]], DataError, "output 'out_b'.*one-hot"),  # one-hot for sparse labels
    ({"out_a": Y_A}, DataError, r"none for \['out_b'\]"),  # an output's targets missing
    ([Y_A, None], DataError, r"none for \['out_b'\]"),
]


@pytest.mark.parametrize("y, error, message", BAD_TARGETS)
def test_wrong_targets_are_named_by_output_before_the_first_step(y, error, message):
    model = heads()
    model.compile("sgd", loss=LOSSES)
    before = weights_of(model)
    with pytest.raises(error, match=message):
        model.fit(X, y, epochs=1, verbose=0)
    with pytest.raises(error, match=message):  # the validation data too, before any step
        model.fit(X, [Y_A, Y_B], validation_data=(X, y), epochs=1, verbose=0)
    with pytest.raises(error, match=message):
        model.evaluate(X, y)
    for old, new in zip(before, weights_of(model)):
        np.testing.assert_array_equal(old, new)


def test_a_wrong_batch_of_a_generator_is_named_by_output():
    model = heads()
    model.compile("sgd", loss=LOSSES)
    batches = [(X[:6], [Y_A[:6], Y_B[:6]]), (X[6:], [Y_A[6:], Y_B[6:] + 3])]
    with pytest.raises(DataError, match="output 'out_b'"):
        model.fit(batches, epochs=1, verbose=0)
