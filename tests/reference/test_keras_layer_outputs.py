"""Every layer both libraries have, against real Keras 3 (torch backend) with the same weights.

Each case is one line of Keras code, run twice: with ``keras.layers`` and with
``tinygrad_edu.layers`` as the namespace (the same call must be valid in both: Keras' argument
names). Keras' layer gets random weights, ours receives them through ``get_weights`` /
``set_weights`` (so the weight layouts must be equal), then the parameter counts and the outputs
on batches of 1 and 5 must be equal: float32, ``ATOL = 2e-6``, ``RTOL = 1e-5`` (why:
``keras_twins.py``). ``u`` is the unit count, 1 and 64.

Found and fixed while writing these: see the commit log of this file.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras_twins import ATOL, assert_close, assert_twin_outputs, keras_numpy, normal

import tinygrad_edu.layers as ours_layers
from tinygrad_edu import Tensor, activations
from tinygrad_edu.errors import ConfigError

UNITS = (1, 64)

#: (Keras code with ``u``, input shape without the batch axis)
UNIT_CASES = [
    ("Dense(u)", (5,)),
    ("Dense(u, activation='tanh', use_bias=False)", (4, 5)),
    ("Conv2D(u, 3)", (7, 6, 3)),
    ("Conv2D(u, (3, 2), strides=2, padding='same', activation='relu')", (8, 7, 2)),
    ("Conv2D(u, 3, dilation_rate=2, padding='same')", (9, 9, 2)),
    ("Conv1D(u, 3)", (10, 4)),
    ("Conv1D(u, 2, strides=3, padding='same')", (10, 4)),
    ("Conv1D(u, 3, padding='causal', dilation_rate=2)", (10, 4)),
    ("SimpleRNN(u)", (6, 4)),
    ("SimpleRNN(u, return_sequences=True, go_backwards=True)", (6, 4)),
    ("LSTM(u)", (6, 4)),
    ("LSTM(u, return_sequences=True, return_state=True)", (6, 4)),
    ("LSTM(u, go_backwards=True, unit_forget_bias=False)", (6, 4)),
    ("GRU(u, return_sequences=True)", (6, 4)),
    ("GRU(u, go_backwards=True, return_state=True)", (6, 4)),
    ("GRU(u, reset_after=False, return_sequences=True)", (6, 4)),
    ("Bidirectional(LSTM(u, return_sequences=True))", (6, 4)),
    ("Bidirectional(LSTM(u), merge_mode='sum')", (6, 4)),
    ("Bidirectional(GRU(u, return_sequences=True), merge_mode='mul')", (6, 4)),
    ("Bidirectional(SimpleRNN(u), merge_mode='ave')", (6, 4)),
    ("Bidirectional(LSTM(u, return_sequences=True), merge_mode=None)", (6, 4)),
    ("Bidirectional(GRU(u, return_state=True))", (6, 4)),
    (
        (
            "Bidirectional(LSTM(u, go_backwards=True, return_sequences=True), "
            "backward_layer=LSTM(u, return_sequences=True))"
        ),
        (6, 4),
    ),
    ("TimeDistributed(Dense(u, activation='relu'))", (6, 4)),
    ("TimeDistributed(Conv2D(u, 2))", (3, 5, 5, 2)),
]

#: layers without a unit count
SHAPE_CASES = [
    ("Conv1D(8, 3, groups=4, padding='causal')", (10, 12)),
    ("Conv1D(6, 2, strides=2, padding='same', groups=3)", (9, 6)),
    ("MaxPooling2D()", (6, 7, 3)),
    ("MaxPooling2D(3, strides=2, padding='same')", (7, 8, 2)),
    ("AveragePooling2D((2, 3))", (6, 7, 3)),
    ("AveragePooling2D(3, strides=2, padding='same')", (7, 9, 2)),  # symmetric padding
    ("MaxPooling1D()", (9, 3)),
    ("MaxPooling1D(3, strides=2, padding='same')", (9, 3)),
    ("AveragePooling1D(2)", (9, 3)),
    ("AveragePooling1D(3, strides=2, padding='same')", (9, 3)),
    ("GlobalAveragePooling2D()", (5, 4, 3)),
    ("GlobalMaxPooling2D(keepdims=True)", (5, 4, 3)),
    ("GlobalAveragePooling1D()", (7, 3)),
    ("GlobalMaxPooling1D()", (7, 3)),
    ("Flatten()", (3, 4, 2)),
    ("Reshape((4, -1))", (3, 4, 2)),
    ("LayerNormalization()", (6, 5)),
    ("LayerNormalization(axis=(2, 3), epsilon=1e-3)", (3, 4, 5)),
    ("LayerNormalization(axis=[-2, -1], scale=False)", (4, 5)),
    ("LayerNormalization(center=False, scale=False)", (6,)),
    ("ZeroPadding2D(((1, 2), (0, 3)))", (4, 5, 2)),
    ("ZeroPadding2D(2)", (3, 3, 1)),
    ("UpSampling2D((2, 3))", (3, 4, 2)),
    ("UpSampling2D(2, interpolation='bilinear')", (3, 4, 2)),
    ("UpSampling2D((3, 2), interpolation='bilinear')", (5, 1, 2)),
    ("Dropout(0.5)", (6,)),
    ("BatchNormalization()", (5,)),
    ("BatchNormalization(axis=1, momentum=0.9, epsilon=1e-2)", (3, 4)),
    ("BatchNormalization(scale=False)", (4, 4, 3)),
]

MERGE_CASES = [
    ("Add()", ((3, 4), (3, 4))),
    ("Subtract()", ((5,), (5,))),
    ("Multiply()", ((3, 4), (3, 4), (3, 4))),
    ("Average()", ((5,), (5,))),
    ("Maximum()", ((3, 4), (3, 4))),
    ("Minimum()", ((3, 4), (3, 4))),
    ("Concatenate()", ((3, 4), (3, 2))),
    ("Concatenate(axis=1)", ((3, 4), (2, 4))),
    ("Dot(axes=1)", ((5,), (5,))),
    ("Dot(axes=(2, 2))", ((3, 4), (6, 4))),
    ("Dot(axes=1, normalize=True)", ((5,), (5,))),
]


def both(keras, code: str, **names):
    """The layer ``code`` builds with Keras' layers, and with ours."""
    k_space = {**vars(keras.layers), **names}
    o_space = {**{n: getattr(ours_layers, n) for n in ours_layers.__all__}, **names}
    return eval(code, k_space), eval(code, o_space)


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("code,shape", UNIT_CASES, ids=[c for c, _ in UNIT_CASES])
def test_layer_with_units_equals_keras(require_keras, code, shape, units):
    k_layer, layer = both(require_keras, code, u=units)
    assert assert_twin_outputs(require_keras, k_layer, layer, normal(shape, units)) <= 1e-3


@pytest.mark.parametrize(
    "code,shape", SHAPE_CASES + MERGE_CASES, ids=[c for c, _ in SHAPE_CASES + MERGE_CASES]
)
def test_layer_equals_keras(require_keras, code, shape):
    k_layer, layer = both(require_keras, code)
    assert assert_twin_outputs(require_keras, k_layer, layer, normal(shape)) <= 1e-3


@pytest.mark.parametrize(
    "code", ["BatchNormalization()", "BatchNormalization(momentum=0.5, center=False)"]
)
def test_batch_normalization_training_equals_keras(require_keras, code):
    """training=True: normalized by the batch's statistics, and the moving statistics updated
    the same way (compared after two training calls)."""
    k_layer, layer = both(require_keras, code)
    assert_twin_outputs(require_keras, k_layer, layer, normal((4, 3)), training=True)
    for ours, theirs in zip(layer.get_weights(), k_layer.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=ATOL)


@pytest.mark.parametrize("units", UNITS)
def test_embedding_equals_keras(require_keras, units):
    k_layer, layer = both(require_keras, "Embedding(50, u)", u=units)

    def ids(batch):
        return np.random.default_rng(batch).integers(0, 50, size=(batch, 7))

    assert assert_twin_outputs(require_keras, k_layer, layer, ids) == 0.0  # a lookup: exact


#: Keras 3.15.1 cannot run these as ``Activation(name)``: threshold needs two arguments
#: (compared below with them), sparsemax on the torch backend is wrong (rows do not sum to 1)
KERAS_ODD = {"threshold", "sparsemax"}


@pytest.mark.parametrize("name", sorted(set(activations.names()) - KERAS_ODD))
def test_every_activation_name_equals_keras(require_keras, name):
    """``Activation(name)`` on values from -6 to 6 (every activation's kinks and tails)."""
    k_layer, layer = both(require_keras, f"Activation({name!r})")
    x = np.linspace(-6, 6, 48, dtype=np.float32).reshape(2, 3, 8)
    theirs = keras_numpy(require_keras, k_layer(x))
    assert assert_close(layer(x).numpy(), theirs) <= 1e-3 * np.abs(theirs).max()


def test_every_keras_activation_name_is_ours(require_keras):
    from keras.src.activations import ALL_OBJECTS_DICT

    assert set(ALL_OBJECTS_DICT) == set(activations.names())


def test_threshold_with_its_arguments_equals_keras(require_keras):
    x = np.linspace(-3, 3, 25, dtype=np.float32)
    theirs = keras_numpy(require_keras, require_keras.activations.threshold(x, 0.5, -2.0))
    assert assert_close(activations.threshold(Tensor(x), 0.5, -2.0).numpy(), theirs) == 0.0


def test_sparsemax_is_a_distribution_where_keras_torch_is_not(require_keras):
    """Keras 3.15.1's sparsemax on the torch backend gives rows that do not sum to 1 (its
    formula, ``max(x - tau, 0)`` with ``sum = 1``, does): ours follows the formula, checked
    against a numpy sort-based sparsemax. If this test fails on Keras' side, Keras was fixed:
    move sparsemax back into the comparison above."""
    x = np.linspace(-2, 2, 48, dtype=np.float32).reshape(6, 8)
    theirs = keras_numpy(require_keras, require_keras.layers.Activation("sparsemax")(x))
    assert not np.allclose(theirs.sum(-1), 1.0)
    z = np.sort(x, axis=-1)[:, ::-1]
    k = np.arange(1, 9)
    support = 1 + k * z > np.cumsum(z, axis=-1)
    n = support.sum(-1, keepdims=True)
    tau = (np.take_along_axis(np.cumsum(z, axis=-1), n - 1, axis=-1) - 1) / n
    np.testing.assert_allclose(
        activations.get("sparsemax")(x).numpy(), np.maximum(x - tau, 0), atol=ATOL
    )


def test_average_pooling_same_with_uneven_padding(require_keras):
    """``padding="same"`` with an odd total padding puts the extra zero row after the image and
    averages over the real pixels only (Keras' documented semantics, TensorFlow's and JAX's).
    Keras 3.15.1 on the torch backend differs there (it counts differently): ours is held to the
    formula, and the symmetric case to Keras above."""
    x = np.random.default_rng(0).standard_normal((1, 7, 8, 1)).astype(np.float32)
    ours = ours_layers.AveragePooling2D(3, strides=2, padding="same")(x).numpy()[0, :, :, 0]
    img = np.pad(x[0, :, :, 0], ((1, 1), (0, 1)), constant_values=np.nan)  # H: 1+1, W: 0+1
    want = [
        [np.nanmean(img[2 * i : 2 * i + 3, 2 * j : 2 * j + 3]) for j in range(4)] for i in range(4)
    ]
    np.testing.assert_allclose(ours, want, atol=ATOL)
    k_layer = require_keras.layers.AveragePooling2D(3, strides=2, padding="same")
    assert not np.allclose(keras_numpy(require_keras, k_layer(x))[0, :, :, 0], want, atol=1e-3)


def test_bidirectional_of_a_backwards_layer_is_refused_by_both(require_keras):
    """Keras' backward copy always reads backwards: with ``go_backwards=True`` on the layer both
    copies would read the same way, and both libraries refuse it."""
    with pytest.raises(ValueError, match="go_backwards"):
        require_keras.layers.Bidirectional(require_keras.layers.LSTM(3, go_backwards=True))
    with pytest.raises(ConfigError, match="go_backwards"):
        ours_layers.Bidirectional(ours_layers.LSTM(3, go_backwards=True))
