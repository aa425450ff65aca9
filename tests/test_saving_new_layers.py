"""Save/load round trips of the layers issue 14 added: the file names each layer's class, its
config rebuilds it, and the loaded model predicts the same numbers."""

import numpy as np
import pytest

from tinygrad_edu import layers as L
from tinygrad_edu.models import Sequential, load_model

CASES = {
    "embedding": ([L.Embedding(20, 4, input_shape=(5,)), L.Flatten(), L.Dense(2)], (3, 5), 20),
    "conv1d_pooling1d": (
        [
            L.Conv1D(4, 3, padding="causal", activation="relu", input_shape=(8, 2)),
            L.MaxPooling1D(2),
            L.AveragePooling1D(2, strides=1, padding="same"),
            L.GlobalAveragePooling1D(),
            L.Dense(1),
        ],
        (3, 8, 2),
        0,
    ),
    "resizing": (
        [
            L.ZeroPadding2D(((0, 1), (2, 0)), input_shape=(3, 3, 2)),
            L.UpSampling2D((2, 1)),
            L.Flatten(),
            L.Dense(1),
        ],
        (2, 3, 3, 2),
        0,
    ),
    "layer_norm": ([L.Dense(4, input_shape=(3,)), L.LayerNormalization(), L.Dense(1)], (5, 3), 0),
    "layer_norm_axes": (
        [L.Reshape((2, 3), input_shape=(6,)), L.LayerNormalization(axis=[1, 2]), L.Flatten()],
        (5, 6),
        0,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_with_the_layer_round_trips(tmp_path, name):
    stack, shape, high = CASES[name]
    model = Sequential(stack)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.integers(0, high, size=shape) if high else rng.standard_normal(shape)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    assert [a.get_config() for a in loaded.layers] == [b.get_config() for b in model.layers]
