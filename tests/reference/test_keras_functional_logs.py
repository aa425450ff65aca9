"""A two-input, two-output functional model against real Keras 3 (torch backend), same weights:
the logs' names, their order and their values for ``evaluate``, ``train_on_batch``,
``test_on_batch`` and ``fit`` (with per-output ``sample_weight`` and dict ``validation_data``),
and ``predict``'s structure.

What Keras 3.15.1 does, checked here (and in ``tests/models/test_functional_training_more.py``):

- logs: ``loss`` (the total: ``sum_k loss_weights[k] * loss_k``), ``<output>_loss`` per output
  (sample-weighted, before its loss weight), ``<output>_<metric>`` per compiled metric (never
  sample-weighted); ``fit`` adds ``val_<name>`` for each;
- ``evaluate``'s list: ``[loss, *per-output losses in output order, *metrics sorted by name]``;
  our ``metrics_names`` is that list's names (Keras 3 lists ``['loss', 'compile_metrics',
  'out_a_loss', 'out_b_loss']`` there, a placeholder that names no value: we keep the names of
  the values, as Keras 2 did);
- ``sample_weight`` as a list (or a dict by output name) weights each output's loss:
  ``sum_i(w_ik * l_ik) / B``;
- ``predict`` returns a dict by output name for ``outputs={...}``, a list for a list.

Tolerances: float32 on both sides, ``RTOL = 1e-5`` (a few float32 ulps through one SGD step).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu.layers import Concatenate, Dense, Input
from tinygrad_edu.models import Model
from tinygrad_edu.optimizers import SGD

RTOL, ATOL = 1e-5, 1e-6
N = 8
rng = np.random.default_rng(0)
X1 = rng.normal(size=(N, 3)).astype(np.float32)
X2 = rng.normal(size=(N, 2)).astype(np.float32)
Y_A = rng.normal(size=(N, 1)).astype(np.float32)
Y_B = np.arange(N) % 3
W_A = np.linspace(0.5, 2.0, N).astype(np.float32)
W_B = np.linspace(1.0, 0.0, N).astype(np.float32)
COMPILE = dict(
    loss={"out_a": "mse", "out_b": "sparse_categorical_crossentropy"},
    loss_weights={"out_a": 1.0, "out_b": 0.5},
    metrics={"out_a": ["mae"], "out_b": ["accuracy"]},
)


def build(lib, layers, outputs_as_dict):
    """The same graph in Keras (``lib=keras``) or ours: two inputs, one hidden layer, a
    regression head and a 3-class head."""
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    h = layers.Dense(4, activation="relu", name="h")(layers.Concatenate(name="both")([a, b]))
    out_a = layers.Dense(1, name="out_a")(h)
    out_b = layers.Dense(3, activation="softmax", name="out_b")(h)
    outputs = {"out_a": out_a, "out_b": out_b} if outputs_as_dict else [out_a, out_b]
    return lib.Model([a, b], outputs)


class _Ours:  # our names under Keras' spelling: lib.Input, layers.Dense, lib.Model
    Input, Dense, Concatenate, Model = staticmethod(Input), Dense, Concatenate, Model


def twins(keras, outputs_as_dict=True, learning_rate=0.1):
    keras.utils.set_random_seed(0)
    theirs = build(keras, keras.layers, outputs_as_dict)
    ours = build(_Ours, _Ours, outputs_as_dict)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(learning_rate), **COMPILE)
    ours.compile(SGD(learning_rate=learning_rate), **COMPILE)
    return theirs, ours


def assert_same_logs(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("outputs_as_dict", [True, False])
def test_evaluate_logs_names_order_and_values_equal_keras(require_keras, outputs_as_dict):
    """Keras 3.15.1 takes per-output targets and sample weights in the structure of the outputs
    (dicts for ``outputs={...}``, lists for a list; mixed, it raises): we take both."""
    theirs, ours = twins(require_keras, outputs_as_dict)
    x = {"a": X1, "b": X2}
    y, weights = ({"out_a": Y_A, "out_b": Y_B}, {"out_a": W_A, "out_b": W_B})
    if not outputs_as_dict:
        y, weights = list(y.values()), list(weights.values())
    for kwargs in ({}, {"sample_weight": weights}):
        expected = theirs.evaluate(x, y, verbose=0, return_dict=True, **kwargs)
        assert_same_logs(ours.evaluate(x, y, return_dict=True, **kwargs), expected)
        listed = theirs.evaluate(x, y, verbose=0, **kwargs)
        np.testing.assert_allclose(ours.evaluate(x, y, **kwargs), listed, rtol=RTOL, atol=ATOL)
    assert ours.metrics_names == ["loss", "out_a_loss", "out_b_loss", "out_a_mae", "out_b_accuracy"]
    assert [expected[k] for k in ours.metrics_names] == listed  # Keras' list is in that order


def test_one_sgd_step_and_fit_history_equal_keras(require_keras):
    theirs, ours = twins(require_keras, outputs_as_dict=False)
    x, y, w = [X1, X2], [Y_A, Y_B], [W_A, W_B]
    assert_same_logs(
        ours.train_on_batch(x, y, sample_weight=w),
        theirs.train_on_batch(x, y, sample_weight=w, return_dict=True),
    )
    np.testing.assert_allclose(
        ours.test_on_batch(x, y), theirs.test_on_batch(x, y), rtol=RTOL, atol=ATOL
    )
    val = ({"a": X1[:4], "b": X2[:4]}, {"out_a": Y_A[:4], "out_b": Y_B[:4]})
    fit = dict(epochs=2, batch_size=N, shuffle=False, validation_data=val, sample_weight=w)
    expected = theirs.fit(x, y, verbose=0, **fit).history
    found = ours.fit(x, y, verbose=0, **fit).history
    assert sorted(found) == sorted(expected)
    assert {"val_out_a_mae", "val_out_b_loss", "out_b_accuracy"} <= set(found)
    for name in expected:
        np.testing.assert_allclose(found[name], expected[name], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("outputs_as_dict", [True, False])
def test_predict_returns_the_outputs_structure_as_keras(require_keras, outputs_as_dict):
    theirs, ours = twins(require_keras, outputs_as_dict)
    expected = theirs.predict([X1, X2], verbose=0)
    found = ours.predict([X1, X2])
    assert type(found) is type(expected)
    pairs = (
        [(found[k], expected[k]) for k in expected]
        if outputs_as_dict
        else list(zip(found, expected))
    )
    assert len(pairs) == 2
    for mine, keras_out in pairs:
        np.testing.assert_allclose(mine, keras_out, rtol=RTOL, atol=ATOL)


# outputs without a loss: Keras 3.15.1 takes None in a list of losses, or a dict that leaves
# outputs out when the outputs are a dict (for a list of outputs it raises "Expected keys");
# such an output adds no loss and needs no targets (None or left out) unless it has metrics;
# the <output>_loss logs appear only when two outputs or more have a loss
PARTIAL = [
    (True, dict(loss={"out_a": "mse"}, loss_weights={"out_a": 2.0}), {"out_a": Y_A}),
    (
        True,
        dict(loss={"out_b": "sparse_categorical_crossentropy"}, metrics={"out_a": ["mae"]}),
        {"out_a": Y_A, "out_b": Y_B},
    ),
    (False, dict(loss=["mse", None], metrics=[None, ["accuracy"]]), [Y_A, Y_B]),
    (
        False,
        dict(loss=[None, "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5]),
        [None, Y_B],
    ),
]


@pytest.mark.parametrize("outputs_as_dict, settings, y", PARTIAL)
def test_outputs_without_a_loss_train_and_log_as_keras(require_keras, outputs_as_dict, settings, y):
    keras = require_keras
    keras.utils.set_random_seed(0)
    theirs = build(keras, keras.layers, outputs_as_dict)
    ours = build(_Ours, _Ours, outputs_as_dict)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.1), **settings)
    ours.compile(SGD(learning_rate=0.1), **settings)
    x = [X1, X2]
    assert_same_logs(
        ours.evaluate(x, y, return_dict=True), theirs.evaluate(x, y, verbose=0, return_dict=True)
    )
    fit = dict(epochs=2, batch_size=N, shuffle=False)
    expected = theirs.fit(x, y, verbose=0, **fit).history
    found = ours.fit(x, y, verbose=0, **fit).history
    assert sorted(found) == sorted(expected) and not any(k.endswith("_loss") for k in found)
    for name in expected:
        np.testing.assert_allclose(found[name], expected[name], rtol=RTOL, atol=ATOL)


def test_per_output_loss_logs_only_for_the_outputs_with_a_loss(require_keras):
    keras = require_keras
    keras.utils.set_random_seed(0)

    def three(lib, layers):
        inp = lib.Input((3,), name="a")
        outs = [layers.Dense(1, name=f"out_{k}")(inp) for k in "abc"]
        return lib.Model(inp, outs)

    theirs, ours = three(keras, keras.layers), three(_Ours, _Ours)
    ours.set_weights(theirs.get_weights())
    settings = dict(loss=["mse", None, "mae"], loss_weights=[1.0, 3.0, 0.5])
    theirs.compile(keras.optimizers.SGD(0.1), **settings)
    ours.compile(SGD(learning_rate=0.1), **settings)
    y = [Y_A, None, 2 * Y_A]
    expected = theirs.evaluate(X1, y, verbose=0, return_dict=True)
    assert sorted(expected) == ["loss", "out_a_loss", "out_c_loss"]
    assert_same_logs(ours.evaluate(X1, y, return_dict=True), expected)
