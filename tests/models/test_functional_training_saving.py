"""A compiled functional model with several outputs saved whole (``model.save("m.npz")``, our
format) comes back compiled: its per-output losses (None for an output without one), loss
weights, metrics by output and optimizer state - evaluate gives the same numbers under the same
log names, and training continues exactly as the original's would."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.models.test_functional_training_more import LOSSES, Y_A, Y_B, X, heads
from tinygrad_edu.losses import SparseCategoricalCrossentropy
from tinygrad_edu.saving import load_model

SETTINGS = [
    (
        False,
        {
            "loss": LOSSES,
            "loss_weights": [1.0, 0.5],
            "metrics": {"out_a": "mae", "out_b": ["accuracy"]},
        },
        [Y_A, Y_B],
    ),
    (
        True,
        {
            "loss": {"out_a": "mae", "out_b": SparseCategoricalCrossentropy(from_logits=False)},
            "loss_weights": {"out_b": 2.0},
        },
        {"out_a": Y_A, "out_b": Y_B},
    ),
    (
        True,
        {"loss": {"out_b": "sparse_categorical_crossentropy"}, "metrics": {"out_a": "mse"}},
        {"out_a": Y_A, "out_b": Y_B},
    ),
    (False, {"loss": ["mse", None], "loss_weights": [3.0, 1.0]}, [Y_A, None]),
]


@pytest.mark.parametrize("as_dict, settings, y", SETTINGS)
def test_per_output_compile_settings_round_trip(tmp_path, as_dict, settings, y):
    model = heads(as_dict)
    model.compile("adam", **settings)
    model.fit(X, y, epochs=2, batch_size=6, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is left out, so nothing is warned of
        model.save(tmp_path / "m.npz")
        loaded = load_model(tmp_path / "m.npz")
    before = model.evaluate(X, y, return_dict=True)
    after = loaded.evaluate(X, y, return_dict=True)
    assert list(after) == list(before) and loaded.metrics_names == model.metrics_names
    np.testing.assert_allclose(list(after.values()), list(before.values()), rtol=1e-6)
    model.fit(X, y, epochs=1, batch_size=6, shuffle=False, verbose=0)  # Adam's state too
    loaded.fit(X, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(loaded.evaluate(X, y), model.evaluate(X, y), rtol=1e-6)


def test_a_custom_metric_on_one_output_is_left_out_with_a_warning(tmp_path):
    def doubled_error(y_true, y_pred):
        return float(2 * np.mean(np.abs(y_true - y_pred)))

    model = heads()
    model.compile("sgd", loss=LOSSES, metrics={"out_a": ["mae", doubled_error]})
    with pytest.warns(UserWarning, match="doubled_error"):
        model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.metrics_names == ["loss", "out_a_loss", "out_b_loss", "out_a_mae"]


def test_a_custom_loss_on_one_output_leaves_the_file_uncompiled_with_a_warning(tmp_path):
    def halved_mse(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean() * 0.5

    model = heads()
    model.compile("sgd", loss=[halved_mse, "sparse_categorical_crossentropy"])
    with pytest.warns(UserWarning, match="cannot be stored"):
        model.save(tmp_path / "m.npz")
    with pytest.warns(UserWarning, match="uncompiled"):
        assert load_model(tmp_path / "m.npz").loss_fn is None
