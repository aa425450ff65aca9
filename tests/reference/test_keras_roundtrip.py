"""Real Keras 3 (torch backend) reads what we write and we read what it writes: ``.keras``
archives and ``.weights.h5`` files, compared by predictions (atol 1e-6, rtol 1e-5: float32 on
both sides, only the order of sums differs; see tests/saving/test_keras_files.py).

Keras comes from the ``require_keras`` fixture of this directory's conftest (imported once per
session; skipped locally without keras, a failure under CI).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import layers as L
from tinygrad_edu import load_model
from tinygrad_edu.errors import CheckpointError
from tinygrad_edu.models import Model, Sequential

TOL = {"atol": 1e-6, "rtol": 1e-5}


def randomized(model, seed=0):
    """Every weight random (moving variances positive), so each one shows in the predictions."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [
            rng.uniform(0.5, 2.0, w.shape) if "variance" in name else rng.normal(0, 0.5, w.shape)
            for name, w in zip(model.named_weights(), model.get_weights())
        ]
    )
    return model


def mlp():
    model = Sequential(
        [
            L.Dense(5, activation="relu", input_shape=(4,)),
            L.BatchNormalization(),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model, np.random.default_rng(1).normal(size=(3, 4))


def cnn():
    model = Sequential(
        [
            L.Conv2D(3, 3, padding="same", activation="relu", input_shape=(6, 6, 2)),
            L.MaxPooling2D(2),
            L.ZeroPadding2D(1),
            L.AveragePooling2D(2),
            L.UpSampling2D(2),
            L.GlobalAveragePooling2D(),
            L.Dense(2),
        ]
    )
    return model, np.random.default_rng(2).normal(size=(2, 6, 6, 2))


def recurrent():
    model = Sequential(
        [
            L.Embedding(20, 4, input_shape=(6,)),
            L.Bidirectional(L.LSTM(3, return_sequences=True)),
            L.GRU(3, return_sequences=True),
            L.TimeDistributed(L.Dense(2)),
            L.SimpleRNN(2),
            L.LayerNormalization(),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    return model, np.random.default_rng(3).integers(0, 20, size=(3, 6))


def residual():
    """Two inputs, Dense layers at several depths (Keras orders them by depth) and merges."""
    a, b = L.Input((4,), name="a"), L.Input((3,), name="b")
    h = L.Dense(4, activation="tanh")(a)
    deep = L.Dense(4)(L.Dense(4, activation="relu")(h))
    side = L.Dense(4)(b)
    merged = L.Concatenate()([L.Add()([h, deep]), L.Subtract()([deep, side]), b])
    model = Model([a, b], L.Dense(2)(merged))
    rng = np.random.default_rng(4)
    return model, [rng.normal(size=(3, 4)), rng.normal(size=(3, 3))]


MAKERS = [mlp, cnn, recurrent, residual]


@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_keras_loads_our_keras_file_and_predicts_the_same(require_keras, tmp_path, make):
    keras = require_keras
    model, x = make()
    randomized(model)
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x), **TOL)
    assert theirs.count_params() == model.count_params()
    if model.loss_fn is not None:
        assert (
            type(theirs.optimizer).__name__ == "Adam" and theirs.loss == "categorical_crossentropy"
        )


@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_weights_h5_both_ways(require_keras, tmp_path, make):
    keras = require_keras
    model, x = make()
    model.save(tmp_path / "shape.keras")
    theirs = keras.saving.load_model(tmp_path / "shape.keras")
    randomized(model, seed=5).save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x), **TOL)
    for w in theirs.weights:  # new values in Keras, back here
        w.assign(np.random.default_rng(6).normal(0, 0.5, w.shape).astype("float32"))
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    model.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(model.predict(x), theirs.predict(x, verbose=0), **TOL)


def test_we_load_a_keras_functional_model_with_shared_layers(require_keras, tmp_path):
    keras = require_keras
    inputs = keras.Input((5,))
    shared = keras.layers.Dense(5, activation="relu")
    h = shared(shared(inputs))
    out = keras.layers.Dense(2)(keras.layers.Average()([h, keras.layers.Dense(5)(inputs)]))
    theirs = keras.Model(inputs, out)
    theirs.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="mse", metrics=["mae"])
    x = np.random.default_rng(7).normal(size=(4, 5)).astype("float32")
    theirs.save(tmp_path / "theirs.keras")
    model = load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(model.predict(x), theirs.predict(x, verbose=0), **TOL)
    assert (
        type(model.optimizer).__name__ == "RMSprop" and model.loss_fn.name == "mean_squared_error"
    )


def test_a_loss_with_options_crosses_both_ways(require_keras, tmp_path):
    keras = require_keras
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    theirs.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    theirs.save(tmp_path / "theirs.keras")
    model = load_model(tmp_path / "theirs.keras")
    assert model.loss_fn.name == "binary_crossentropy" and model.loss_fn.config["from_logits"]
    model.save(tmp_path / "ours.keras")
    assert keras.saving.load_model(tmp_path / "ours.keras").loss.from_logits


def test_a_learning_rate_schedule_crosses_both_ways(require_keras, tmp_path):
    from tinygrad_edu.optimizers import Adam, ExponentialDecay

    keras = require_keras
    model = Sequential([L.Dense(2, input_shape=(3,))])
    model.compile(optimizer=Adam(learning_rate=ExponentialDecay(0.1, 10, 0.9)), loss="mse")
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert type(theirs.optimizer._learning_rate).__name__ == "ExponentialDecay"
    theirs.save(tmp_path / "theirs.keras")
    schedule = load_model(tmp_path / "theirs.keras").optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "ExponentialDecay"
    assert schedule["config"]["decay_rate"] == 0.9


HEADS_COMPILE = [
    (
        False,
        {
            "loss": ["mse", "sparse_categorical_crossentropy"],
            "loss_weights": [1.0, 0.5],
            "metrics": {"out_a": ["mae"], "out_b": ["accuracy"]},
        },
    ),
    (
        True,
        {
            "loss": {"out_b": "sparse_categorical_crossentropy"},
            "loss_weights": {"out_b": 2.0},
            "metrics": {"out_a": ["mae"]},
        },
    ),
    (False, {"loss": ["mse", None], "metrics": [None, ["accuracy"]]}),
]


@pytest.mark.parametrize("as_dict, settings", HEADS_COMPILE)
def test_per_output_losses_weights_and_metrics_cross_both_ways(
    require_keras, tmp_path, as_dict, settings
):
    """Keras 3 writes per-output ``loss``/``loss_weights`` as lists or dicts by output name
    (None for an output without a loss) and ``metrics`` by output, and ``outputs={...}`` as
    ``output_layers`` by name: both ways the model evaluates to the same logs under the same
    names, and predicts in the same structure."""
    keras = require_keras
    inp = L.Input(shape=(4,), name="x")
    h = L.Dense(8, activation="relu", name="h")(inp)
    a, b = L.Dense(1, name="out_a")(h), L.Dense(3, activation="softmax", name="out_b")(h)
    model = randomized(Model(inp, {"out_a": a, "out_b": b} if as_dict else [a, b]))
    model.compile(optimizer="sgd", **settings)
    rng = np.random.default_rng(3)
    x, y_a, y_b = (
        rng.normal(size=(6, 4)).astype("float32"),
        rng.normal(size=(6, 1)),
        np.arange(6) % 3,
    )
    y = {"out_a": y_a, "out_b": y_b} if as_dict else [y_a, y_b]
    ours = model.evaluate(x, y, return_dict=True)
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(ours) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(ours[name], expected[name], **TOL, err_msg=name)
    theirs.save(tmp_path / "theirs.keras")
    back = load_model(tmp_path / "theirs.keras")
    assert back.metrics_names == model.metrics_names
    np.testing.assert_allclose(back.evaluate(x, y), model.evaluate(x, y), **TOL)
    assert type(back.predict(x)) is type(theirs.predict(x, verbose=0))  # a dict for a dict


def keras2_dialect(config):
    """Keras 2's spelling of a model config: the input shape in the first layer
    (``batch_input_shape``, no InputLayer) and calls as ``[["layer", call, output, {}]]``."""
    layers = config["config"]["layers"]
    if config["class_name"] == "Sequential":
        first = layers.pop(0)
        layers[0]["config"]["batch_input_shape"] = first["config"]["batch_shape"]
    for spec in layers:
        spec["inbound_nodes"] = [
            [[*t["config"]["keras_history"], {}] for t in _tensors(node["args"][0])]
            for node in spec.get("inbound_nodes", [])
        ]
        if spec["class_name"] == "LSTM":
            spec["config"].update(implementation=2, time_major=False)
    return config


def _tensors(arg):
    return arg if isinstance(arg, list) else [arg]


@pytest.mark.parametrize("make", [mlp, residual, recurrent], ids=lambda f: f.__name__)
def test_we_load_legacy_h5_models_in_both_dialects(require_keras, tmp_path, make):
    import json

    import h5py

    keras = require_keras
    model, x = make()
    randomized(model).save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    theirs.save(tmp_path / "legacy.h5")  # Keras' legacy writer (what Keras 2 tutorials make)
    np.testing.assert_allclose(
        load_model(tmp_path / "legacy.h5").predict(x), model.predict(x), **TOL
    )
    with h5py.File(tmp_path / "legacy.h5", "r+") as h5file:
        config = keras2_dialect(json.loads(h5file.attrs["model_config"]))
        h5file.attrs["model_config"] = json.dumps(config)
    np.testing.assert_allclose(
        load_model(tmp_path / "legacy.h5").predict(x), model.predict(x), **TOL
    )


#: Keras options, each a Sequential stack on an input shape: Keras builds it, we load it and
#: write it back, and all three predict the same
OPTION_CASES = {
    "gru_reset_before_no_bias": (
        (5, 3),
        lambda L: [L.GRU(4, reset_after=False, return_sequences=True), L.GRU(2, use_bias=False)],
    ),
    "lstm_relu_hard_sigmoid_backwards": (
        (5, 3),
        lambda L: [
            L.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid", go_backwards=True)
        ],
    ),
    "conv_dilation_strides_elu": (
        (9, 9, 2),
        lambda L: [
            L.Conv2D(3, 3, dilation_rate=2, use_bias=False),
            L.Conv2D(2, (2, 3), strides=(1, 2), padding="same", activation="elu"),
            L.GlobalMaxPooling2D(),
        ],
    ),
    "channels_first": (
        (2, 8, 8),
        lambda L: [
            L.Conv2D(3, 3, data_format="channels_first"),
            L.MaxPooling2D(2, data_format="channels_first"),
            L.BatchNormalization(axis=1),
            L.Flatten(),
        ],
    ),
    "conv1d_causal_dilated": (
        (7, 3),
        lambda L: [
            L.Conv1D(2, 3, padding="causal", dilation_rate=2),
            L.Conv1D(2, 2, strides=2, padding="same"),
            L.GlobalAveragePooling1D(),
        ],
    ),
    "conv1d_groups": (
        (7, 4),
        lambda L: [
            L.Conv1D(6, 3, groups=2, activation="relu"),
            L.Conv1D(6, 2, groups=6, padding="causal", dilation_rate=2),  # depthwise
            L.Conv1D(2, 1, groups=2, use_bias=False),
            L.GlobalMaxPooling1D(),
        ],
    ),
    "pooling_padding_bilinear": (
        (8, 8, 1),
        lambda L: [
            L.MaxPooling2D(3, strides=2, padding="same"),
            L.ZeroPadding2D(((1, 0), (2, 1))),
            L.UpSampling2D(2, interpolation="bilinear"),
            L.Flatten(),
        ],
    ),
    "normalization_options": (
        (3, 4),
        lambda L: [
            L.LayerNormalization(center=False, epsilon=0.01),
            L.BatchNormalization(scale=False, epsilon=0.1),
            L.Flatten(),
        ],
    ),
    "activations": (
        (4,),
        lambda L: [
            L.Dense(3, activation="gelu"),
            L.Dense(3, activation="swish"),
            L.Activation("softplus"),
            L.Dense(2, activation="selu"),
            L.Activation("leaky_relu"),
        ],
    ),
    "time_distributed_conv": (
        (3, 5, 5, 1),
        lambda L: [L.TimeDistributed(L.Conv2D(2, 3)), L.TimeDistributed(L.Flatten()), L.LSTM(2)],
    ),
    "bidirectional_given_backward_layer": (  # Keras' backward_layer argument, both ways
        (4, 3),
        lambda L: [
            L.Bidirectional(
                L.LSTM(3, return_sequences=True),
                backward_layer=L.LSTM(3, "relu", go_backwards=True, return_sequences=True),
            ),
            L.Bidirectional(L.GRU(2, go_backwards=True), backward_layer=L.GRU(2), merge_mode="sum"),
        ],
    ),
    "bidirectional_ave_mul": (
        (4, 3),
        lambda L: [
            L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode="ave"),
            L.Bidirectional(L.GRU(2), merge_mode="mul"),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(OPTION_CASES))
def test_keras_options_load_and_save_back(require_keras, tmp_path, case):
    keras = require_keras
    shape, layers = OPTION_CASES[case]
    theirs = keras.Sequential([keras.Input(shape), *layers(keras.layers)])
    rng = np.random.default_rng(8)
    for w in theirs.weights:
        values = (
            rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.5, w.shape)
        )
        w.assign(values.astype("float32"))
    x = rng.normal(size=(2, *shape)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    model = load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(model.predict(x), expected, **TOL)
    model.save(tmp_path / "ours.keras")
    back = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, **TOL)


def test_options_we_lack_are_refused_by_name_not_dropped(require_keras, tmp_path):
    """Conv1D has groups (mapped above); Conv2D does not: a Keras file asking for it is refused."""
    keras = require_keras
    theirs = keras.Sequential([keras.Input((5, 5, 4)), keras.layers.Conv2D(4, 3, groups=2)])
    theirs.save(tmp_path / "grouped.keras")
    with pytest.raises(CheckpointError, match="groups = 2") as err:
        load_model(tmp_path / "grouped.keras")
    assert "groups=1" in err.value.expected
