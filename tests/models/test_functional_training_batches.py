"""Iterables of batches and ``validation_data`` for functional models with several inputs and
outputs, as Keras 3.15.1 takes them (checked with real Keras, torch backend):

- ``fit``/``evaluate`` over a generator with ``steps_per_epoch``/``steps``: each batch is
  ``(x, y)`` or ``(x, y, sample_weight)`` where x is a tuple/list of inputs or a dict by Input
  name, y a tuple/list of targets or a dict by output name, sample_weight a list (or one array
  for every output). The logs equal those of the same arrays given whole.
- ``predict`` over batches: each item is a tuple whose first item holds the inputs
  (``((x1, x2),)`` or ``((x1, x2), y)``). Keras reads a bare ``(x1, x2)`` as ``(x, y)`` and fails
  ("expects 2 input(s), but it received 1"); we raise a ``DataError`` naming the form to use.
  We also take a dict by Input name as the whole item (Keras wants it in a tuple).
- ``validation_data=(x, y)`` or ``(x, y, sample_weight)`` with lists or dicts: the ``val_`` logs
  equal ``evaluate`` on that data.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu.errors import DataError
from tinygrad_edu.layers import Concatenate, Dense, Input
from tinygrad_edu.models import Model

rng = np.random.default_rng(1)
N, B = 12, 4
X1 = rng.normal(size=(N, 3)).astype(np.float32)
X2 = rng.normal(size=(N, 2)).astype(np.float32)
Y_A = rng.normal(size=(N, 1)).astype(np.float32)
Y_B = np.arange(N) % 3
W = np.linspace(0.0, 2.0, N)
LOSSES = {"out_a": "mse", "out_b": "sparse_categorical_crossentropy"}


def two_by_two(compiled=True):
    """Inputs 'a' (3 numbers) and 'b' (2), outputs 'out_a' (a value) and 'out_b' (3 classes)."""
    tinygrad_edu.set_seed(0)
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    h = Dense(6, activation="tanh", name="h")(Concatenate()([a, b]))
    out_a, out_b = Dense(1, name="out_a")(h), Dense(3, activation="softmax", name="out_b")(h)
    model = Model([a, b], [out_a, out_b])
    if compiled:
        model.compile("sgd", loss=LOSSES, metrics={"out_b": "accuracy"})
    return model


def batches(form, repeat=True):
    """The data in batches of B, in one of Keras' forms; forever when ``repeat``."""
    while True:
        for s in range(0, N, B):
            part = slice(s, s + B)
            x1, x2, ya, yb, w = X1[part], X2[part], Y_A[part], Y_B[part], W[part]
            yield {
                "tuples": ((x1, x2), (ya, yb)),
                "lists": ([x1, x2], [ya, yb]),
                "dicts": ({"a": x1, "b": x2}, {"out_a": ya, "out_b": yb}),
                "weighted": ((x1, x2), (ya, yb), [w, w]),
                "one_weight": ((x1, x2), (ya, yb), w),
            }[form]
        if not repeat:
            return


@pytest.mark.parametrize("form", ["tuples", "lists", "dicts", "weighted", "one_weight"])
def test_evaluate_and_fit_over_batches_equal_the_whole_arrays(form):
    model = two_by_two()
    weights = None if form in ("tuples", "lists", "dicts") else [W, W]
    expected = model.evaluate([X1, X2], [Y_A, Y_B], sample_weight=weights, return_dict=True)
    found = model.evaluate(batches(form), steps=N // B, return_dict=True)
    assert list(found) == ["loss", "out_a_loss", "out_b_loss", "out_b_accuracy"]
    for name in expected:
        np.testing.assert_allclose(found[name], expected[name], rtol=1e-5, err_msg=name)
    twin = two_by_two()
    one_pass = dict(epochs=2, batch_size=B, shuffle=False, verbose=0)
    by_arrays = twin.fit([X1, X2], [Y_A, Y_B], sample_weight=weights, **one_pass).history
    history = model.fit(batches(form), steps_per_epoch=N // B, epochs=2, verbose=0).history
    for name in by_arrays:
        np.testing.assert_allclose(history[name], by_arrays[name], rtol=1e-5, err_msg=name)


def test_a_list_of_batches_restarts_every_epoch_and_counts_its_steps():
    model = two_by_two()
    listed = list(batches("dicts", repeat=False))
    history = model.fit(listed, epochs=3, verbose=0).history
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    assert model.evaluate(listed, return_dict=True)["out_b_accuracy"] >= 0.0


def test_predict_over_batches_of_inputs():
    model = two_by_two()
    expected = model.predict([X1, X2])
    for items in (
        [((X1[:6], X2[:6]),), ((X1[6:], X2[6:]),)],  # Keras' (inputs,) tuples
        [({"a": X1[:6], "b": X2[:6]}, Y_A[:6]), ({"a": X1[6:], "b": X2[6:]}, Y_A[6:])],
        [{"a": X1[:6], "b": X2[:6]}, {"a": X1[6:], "b": X2[6:]}],  # a dict: the inputs
    ):
        found = model.predict(iter(items))
        assert len(found) == 2
        for mine, whole in zip(found, expected):
            np.testing.assert_allclose(mine, whole, rtol=1e-6, atol=1e-7)
    one = model.predict(iter([((X1, X2),)] * 3), steps=2)
    assert one[1].shape == (2 * N, 3)
    with pytest.raises(DataError, match="first item") as err:
        model.predict(iter([(X1, X2)]))  # Keras reads this as (x, y) and fails too
    assert "yield ((x1, x2),)" in err.value.fix


def test_validation_data_as_lists_and_dicts_equals_evaluate():
    model = two_by_two()
    x_val, y_val = {"a": X1[:6], "b": X2[:6]}, {"out_a": Y_A[:6], "out_b": Y_B[:6]}
    w_val = {"out_a": W[:6], "out_b": W[:6][::-1]}
    history = model.fit(
        [X1, X2], [Y_A, Y_B], epochs=1, verbose=0, validation_data=(x_val, y_val, w_val)
    ).history
    after = model.evaluate(x_val, y_val, sample_weight=w_val, return_dict=True)
    assert [k for k in history if k.startswith("val_")] == [f"val_{k}" for k in after]
    for name, value in after.items():
        np.testing.assert_allclose(history[f"val_{name}"][0], value, rtol=1e-6)
    generator_history = model.fit(
        batches("lists"), steps_per_epoch=2, epochs=1, verbose=0,
        validation_data=([X1[:6], X2[:6]], [Y_A[:6], Y_B[:6]]),
    ).history
    assert "val_out_b_accuracy" in generator_history


def test_batches_for_one_output_and_several_inputs_keep_their_own_targets():
    tinygrad_edu.set_seed(0)
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    model = Model([a, b], Dense(1, name="y")(Concatenate()([a, b])))
    model.compile("sgd", "mse", metrics=["mae"])
    expected = model.evaluate([X1, X2], Y_A, sample_weight=W, return_dict=True)
    found = model.evaluate(iter([((X1, X2), Y_A, W)]), return_dict=True)
    assert list(found) == ["loss", "mae"]
    np.testing.assert_allclose(found["loss"], expected["loss"], rtol=1e-6)
    history = model.fit(
        iter([({"a": X1, "b": X2}, Y_A)] * 2), steps_per_epoch=1, epochs=2, verbose=0,
        validation_data=({"a": X1, "b": X2}, Y_A, W),
    ).history
    np.testing.assert_allclose(
        history["val_loss"][-1], model.evaluate([X1, X2], Y_A, sample_weight=W)[0], rtol=1e-6
    )
