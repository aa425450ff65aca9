"""``Sequential``: structure, names, building before data, weights, predict, modes, the PyTorch
loop, and Keras' own parameter counts for the models learners copy from tutorials."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.layers as layers_module
from tinygrad_edu import losses, set_seed
from tinygrad_edu.errors import ConfigError, NotBuiltError, ShapeError
from tinygrad_edu.layers import (
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
)
from tinygrad_edu.models import Model, Sequential
from model_helpers import Probe, issue_cnn
from tinygrad_edu.optimizers import SGD, Adam


def mlp(n_in: int = 4, hidden: int = 8, n_out: int = 3, **first) -> Sequential:
    return Sequential(
        [
            Dense(hidden, activation="relu", input_shape=(n_in,), **first),
            Dense(n_out, activation="softmax"),
        ]
    )


def rows(n: int = 10, d: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


# ---------------------------------------------------------------------- construction and names
def test_list_and_add_build_the_same_model():
    set_seed(0)
    a = Sequential([Dense(5, input_shape=(3,)), Dense(2)])
    set_seed(0)
    b = Sequential()
    b.add(Dense(5, input_shape=(3,)))
    b.add(Dense(2))
    assert [layer.name for layer in a.layers] == [layer.name for layer in b.layers]
    assert a.count_params() == b.count_params() == 3 * 5 + 5 + 5 * 2 + 2
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_layers_keep_their_order_and_identity():
    first, second = Dense(4), Dense(2)
    model = Sequential([first, second])
    assert model.layers == [first, second]


def test_auto_names_are_unique_within_a_model():
    model = Sequential(
        [Dense(4, input_shape=(3,)), Dense(4), Dense(4), Dropout(0.1), Dropout(0.1), Flatten()]
    )
    assert [layer.name for layer in model.layers] == [
        "dense",
        "dense_1",
        "dense_2",
        "dropout",
        "dropout_1",
        "flatten",
    ]


def test_auto_names_restart_in_every_model():
    a = Sequential([Dense(2), Dense(2)])
    b = Sequential([Dense(2), Dense(2)])
    assert (
        [layer.name for layer in a.layers]
        == [layer.name for layer in b.layers]
        == ["dense", "dense_1"]
    )


def test_explicit_names_are_kept_and_auto_names_avoid_them():
    model = Sequential(
        [
            Dense(2, name="dense"),
            Dense(2),
            Dense(2, name="head"),
            Dense(2, name="dense_2"),
            Dense(2),
        ]
    )
    assert [layer.name for layer in model.layers] == [
        "dense",
        "dense_1",
        "head",
        "dense_2",
        "dense_3",
    ]


def test_two_layers_with_the_same_explicit_name_are_refused():
    model = Sequential([Dense(2, name="a", input_shape=(2,))])
    with pytest.raises(ConfigError):
        model.add(Dense(2, name="a"))
    assert [layer.name for layer in model.layers] == ["a"]


@pytest.mark.parametrize(
    "args, kwargs",
    [((Dense(2),), {}), (("dense",), {}), ((3,), {}), ((), {"name": 3}), ((), {"name": ["m"]})],
)
def test_constructor_arguments_are_checked(args, kwargs):
    with pytest.raises(ConfigError) as err:
        Sequential(*args, **kwargs)
    assert err.value.fix


def test_auto_names_after_many_layers_match_a_full_search():
    """The remembered next suffix gives what a search from 1 would: the first free name."""
    model = Sequential([Dense(2, name="dense_2"), Dense(2, name="dense_4")])
    for _ in range(5):
        model.add(Dense(2))
    assert [layer.name for layer in model.layers] == [
        "dense_2",
        "dense_4",
        "dense",
        "dense_1",
        "dense_3",
        "dense_5",
        "dense_6",
    ]


# ---------------------------------------------------------------------- building before data
FIRST_LAYER_SPELLINGS = {
    "input_shape": lambda: [Dense(32, input_shape=(784,))],
    "input_dim": lambda: [Dense(32, input_dim=784)],
    "batch_input_shape": lambda: [Dense(32, batch_input_shape=(None, 784))],
    "Input": lambda: [Input(shape=(784,)), Dense(32)],
}


@pytest.mark.parametrize("spelling", list(FIRST_LAYER_SPELLINGS))
def test_a_declared_input_shape_builds_every_layer_before_any_data(spelling):
    model = Sequential([*FIRST_LAYER_SPELLINGS[spelling](), Dense(10)])
    assert model.built and all(layer.built for layer in model.layers)
    assert model.input_shape == (None, 784)
    assert model.output_shape == (None, 10)
    assert model.count_params() == 784 * 32 + 32 + 32 * 10 + 10
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]  # no Input (Keras 3)


@pytest.mark.parametrize("spelling", list(FIRST_LAYER_SPELLINGS))
def test_add_builds_as_soon_as_the_shape_is_known(spelling):
    model = Sequential()
    for layer in FIRST_LAYER_SPELLINGS[spelling]():
        model.add(layer)
    assert model.built and model.count_params() == 784 * 32 + 32
    model.add(Dense(10))
    assert model.built and model.output_shape == (None, 10)


def test_input_is_not_a_layer_of_the_model():
    inp = Input(shape=(5,))
    model = Sequential([inp, Dense(3)])
    assert inp not in model.layers and len(model.layers) == 1
    assert model.layers[0].input_shape == (None, 5)


def test_an_unbuilt_model_has_no_counts_yet():
    model = Sequential([Dense(3), Dense(2)])
    assert not model.built and model.output_shape is None
    with pytest.raises(NotBuiltError):
        model.count_params()
    with pytest.raises(NotBuiltError):
        model.parameters()


def first_call(model, x):
    return model(x)


def first_predict(model, x):
    return model.predict(x)


def first_fit(model, x):
    model.compile("sgd", "mse")
    return model.fit(x, np.zeros((len(x), 2), np.float32), verbose=0)


@pytest.mark.parametrize("run", [first_call, first_predict, first_fit])
def test_an_unbuilt_model_builds_at_its_first_use(run):
    model = Sequential([Dense(3), Dense(2)])
    run(model, rows(6, 5))
    assert model.built
    assert model.input_shape == (None, 5) and model.output_shape == (None, 2)
    assert model.count_params() == 5 * 3 + 3 + 3 * 2 + 2


def test_build_with_a_batch_shape():
    model = Sequential([Dense(32), Dense(10)])
    model.build((None, 784))
    assert model.built and model.input_shape == (None, 784)
    assert model.output_shape == (None, 10)
    assert model.count_params() == 25_120 + 330
    model.build((None, 784))  # the same shape again is fine
    assert model.count_params() == 25_120 + 330


def test_build_refuses_another_shape_once_built():
    model = Sequential([Dense(3), Dense(2)])
    model.build((None, 4))
    with pytest.raises(ShapeError):
        model.build((None, 7))
    assert model.input_shape == (None, 4)


# ---------------------------------------------------------------------- weights
def test_weight_lists_in_keras_order_with_batchnorm_statistics_non_trainable():
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(2)])
    names = list(model.named_weights())
    assert names == [
        "dense/kernel",
        "dense/bias",
        "batch_normalization/gamma",
        "batch_normalization/beta",
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert [w.shape for w in model.get_weights()] == [
        (3, 4),
        (4,),
        (4,),
        (4,),
        (4,),
        (4,),
        (4, 2),
        (2,),
    ]
    assert [w.name for w in model.weights] == [n.split("/")[1] for n in names]
    bn = model.layers[1]
    assert model.non_trainable_weights == [bn.moving_mean, bn.moving_variance]
    trainable = [w for w in model.weights if all(w is not s for s in model.non_trainable_weights)]
    assert model.trainable_weights == trainable == model.parameters()


def test_get_set_weights_round_trip_gives_the_same_outputs():
    x = rows(5, 3)
    source = Sequential(
        [Dense(4, activation="tanh", input_shape=(3,)), BatchNormalization(), Dense(2)]
    )
    source.layers[1](np.random.default_rng(1).normal(size=(8, 4)), training=True)  # move stats
    target = Sequential(
        [Dense(4, activation="tanh", input_shape=(3,)), BatchNormalization(), Dense(2)]
    )
    assert not np.allclose(source.predict(x), target.predict(x))
    target.set_weights(source.get_weights())
    np.testing.assert_array_equal(source.predict(x), target.predict(x))
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_get_weights_returns_copies():
    model = mlp()
    weights = model.get_weights()
    weights[0][...] = 123.0
    assert not np.any(model.get_weights()[0] == 123.0)


def test_set_weights_writes_in_place_so_an_optimizer_keeps_its_references():
    model = mlp()
    kernel = model.layers[0].kernel
    opt = SGD(model.parameters(), learning_rate=0.1)
    model.set_weights([np.full_like(w, 0.5) for w in model.get_weights()])
    assert model.layers[0].kernel is kernel and opt.params[0] is kernel
    np.testing.assert_array_equal(kernel.data, 0.5)


@pytest.mark.parametrize("delta", [-1, 1])
def test_set_weights_with_the_wrong_count_is_a_shape_error(delta):
    model = mlp()
    weights = model.get_weights()
    wrong = weights[:-1] if delta < 0 else [*weights, weights[-1]]
    with pytest.raises(ShapeError) as info:
        model.set_weights(wrong)
    assert str(len(weights)) in info.value.expected and str(len(wrong)) in info.value.got


def test_set_weights_with_a_wrong_shape_changes_nothing():
    model = mlp()
    before = model.get_weights()
    wrong = [w + 1.0 for w in before]
    wrong[-1] = np.zeros(before[-1].size + 2, np.float32)
    with pytest.raises(ShapeError):
        model.set_weights(wrong)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_layer_is_left_out_of_parameters_and_not_updated_by_fit():
    set_seed(0)
    model = Sequential([Dense(6, activation="relu", input_shape=(4,)), Dense(5), Dense(3)])
    frozen = model.layers[1]
    frozen.trainable = False
    assert all(w is not f for w in model.parameters() for f in frozen.weights)
    assert len(model.parameters()) == 4
    assert model.non_trainable_weights == frozen.weights
    model.compile(Adam(learning_rate=0.05), "sparse_categorical_crossentropy")
    before = model.get_weights()
    x, y = rows(16), np.arange(16) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = model.get_weights()
    for i in (2, 3):  # the frozen layer's kernel and bias
        np.testing.assert_array_equal(before[i], after[i])
    for i in (0, 1, 4, 5):
        assert not np.array_equal(before[i], after[i])


def test_model_trainable_false_freezes_every_layer_as_keras_base_trainable_false():
    """Keras' transfer-learning idiom: ``base.trainable = False`` on a model used inside another
    one. Before, the attribute was stored and ignored: fit kept training the 'frozen' base."""
    set_seed(0)
    base = Sequential([Dense(6, activation="relu", input_shape=(4,)), Dense(5)])
    head = Dense(3)
    inputs = Input((4,))
    model = Model(inputs, head(base(inputs)))
    base.trainable = False
    assert base.trainable is False and model.trainable is True
    assert base.trainable_weights == [] and model.trainable_weights == head.weights
    model.compile(Adam(learning_rate=0.05), "sparse_categorical_crossentropy")
    before = base.get_weights()
    model.fit(rows(16), np.arange(16) % 3, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(before, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    base.trainable = True  # and back: fit hands the optimizer the weights trainable now
    model.fit(rows(16), np.arange(16) % 3, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before[0], base.get_weights()[0])
    with pytest.raises(ConfigError, match="True or False"):
        base.trainable = "False"


def test_a_frozen_batchnorm_keeps_its_statistics_during_fit():
    model = Sequential([BatchNormalization(input_shape=(3,), trainable=False), Dense(1)])
    model.compile("sgd", "mse")
    stats = [w.copy() for w in model.get_weights()[:4]]
    model.fit(rows(12, 3) * 5 + 2, np.ones((12, 1)), batch_size=4, epochs=1, verbose=0)
    for a, b in zip(stats, model.get_weights()[:4]):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------- predict
@pytest.mark.parametrize("batch_size", [3, 10, 64])
def test_predict_in_batches_equals_one_call(batch_size):
    model = mlp()
    x = rows(10)
    out = model.predict(x, batch_size=batch_size)
    assert isinstance(out, np.ndarray) and out.shape == (10, 3)
    np.testing.assert_allclose(out, model(x).data, rtol=1e-6, atol=1e-7)


@given(n=st.integers(1, 12), batch_size=st.integers(1, 15))
def test_predict_covers_every_row_once_in_order(n, batch_size):
    probe = Probe(input_shape=(2,))
    model = Sequential([probe, Dense(1)])
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    out = model.predict(x, batch_size=batch_size)
    assert out.shape == (n, 1)
    assert [len(seen) for seen, _, _ in probe.calls] == [
        min(batch_size, n - start) for start in range(0, n, batch_size)
    ]
    np.testing.assert_array_equal(np.concatenate([seen for seen, _, _ in probe.calls]), x)


def test_predict_runs_in_inference_mode_without_a_graph():
    probe = Probe(input_shape=(4,))
    model = Sequential([probe, Dense(8), Dropout(0.5, seed=0), Dense(2)])
    model.train()  # even in training mode, predict is inference
    x = rows(6)
    first, second = model.predict(x), model.predict(x)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, model(x, training=False).data, rtol=1e-6)
    assert all(not training and not grad for _, training, grad in probe.calls[:2])
    assert all(w.grad is None for w in model.weights)


def test_predict_uses_the_batchnorm_moving_statistics():
    model = Sequential([BatchNormalization(input_shape=(3,))])
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    mean, var = np.array([0.5, -2.0, 1.0]), np.array([4.0, 0.25, 1.0])
    model.set_weights([gamma, beta, mean, var])
    x = rows(5, 3)
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    batch_stats = model(x, training=True).data
    assert not np.allclose(batch_stats, expected)


def test_train_and_eval_switch_the_dropout_default():
    model = Sequential([Dense(16, input_shape=(4,)), Dropout(0.5, seed=0)])
    x = rows(8)
    assert model.train() is model
    a, b = model(x).data, model(x).data
    assert not np.array_equal(a, b) and np.any(a == 0)
    assert model.eval() is model
    np.testing.assert_array_equal(model(x).data, model(x).data)
    np.testing.assert_array_equal(model(x).data, model(x, training=False).data)
    assert not np.array_equal(model(x, training=True).data, model(x).data)  # explicit wins


# ---------------------------------------------------------------------- the PyTorch loop
def test_the_pytorch_loop_reduces_the_loss_on_a_separable_problem():
    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
    model = Sequential(
        [Dense(16, activation="relu", input_shape=(2,)), Dense(2, activation="softmax")]
    )
    opt = Adam(model.parameters(), learning_rate=1e-2)
    history = []
    for _ in range(40):
        loss = losses.sparse_categorical_crossentropy(y, model(x, training=True))
        loss.backward()
        opt.step()
        opt.zero_grad()
        history.append(float(loss.data))
    assert history[-1] < 0.5 * history[0]
    assert np.mean(model.predict(x).argmax(axis=1) == y) > 0.9
    assert all(p.grad is None or not np.any(p.grad) for p in model.parameters())


# ---------------------------------------------------------------------- shapes through layers
def test_dense_after_lstm_return_sequences_applies_to_every_time_step():
    set_seed(0)
    model = Sequential([LSTM(4, return_sequences=True, input_shape=(5, 2)), Dense(3)])
    assert model.output_shape == (None, 5, 3)
    assert model.layers[1].kernel.shape == (4, 3)
    x = np.random.default_rng(0).normal(size=(2, 5, 2)).astype(np.float32)
    acts = model.activations(x)
    h, out = acts["lstm"], acts["dense"]
    assert h.shape == (2, 5, 4) and out.shape == (2, 5, 3)
    kernel, bias = model.layers[1].get_weights()
    for t in range(5):
        np.testing.assert_allclose(out[:, t], h[:, t] @ kernel + bias, rtol=1e-5, atol=1e-6)


def test_activations_returns_every_layer_output_by_name():
    model = Sequential(
        [
            Dense(5, activation="relu", input_shape=(4,)),
            Dropout(0.5),
            Dense(3, activation="softmax"),
        ]
    )
    x = rows(6)
    acts = model.activations(x)
    assert list(acts) == ["dense", "dropout", "dense_1"]
    assert [a.shape for a in acts.values()] == [(6, 5), (6, 5), (6, 3)]
    np.testing.assert_array_equal(acts["dropout"], acts["dense"])  # inference: no dropout
    np.testing.assert_allclose(acts["dense_1"], model.predict(x), rtol=1e-6)
    assert np.all(acts["dense"] >= 0)


# ---------------------------------------------------------------------- config
def test_get_config_structure_and_rebuild():
    model = issue_cnn()
    config = model.get_config()
    assert set(config) == {"name", "input_shape", "layers"}
    assert config["name"] == "sequential" and list(config["input_shape"]) == [28, 28, 1]
    assert [entry["class_name"] for entry in config["layers"]] == [
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert all(set(entry) == {"class_name", "config"} for entry in config["layers"])
    first = config["layers"][0]["config"]
    assert first["filters"] == 32 and tuple(first["kernel_size"]) == (3, 3)
    assert first["activation"] == "relu" and tuple(first["input_shape"]) == (28, 28, 1)
    assert config["layers"][3]["config"]["units"] == 128
    assert config["layers"][4]["config"]["rate"] == 0.5
    rebuilt = Sequential(
        [
            getattr(layers_module, e["class_name"]).from_config(e["config"])
            for e in config["layers"]
        ],
        name=config["name"],
    )
    assert rebuilt.count_params() == model.count_params()
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert [layer.output_shape for layer in rebuilt.layers] == [
        layer.output_shape for layer in model.layers
    ]


def test_get_config_of_an_input_started_model_and_a_named_model():
    model = Sequential([Input(shape=(6,)), Dense(2)], name="tiny")
    config = model.get_config()
    assert config["name"] == "tiny" and list(config["input_shape"]) == [6]
    assert len(config["layers"]) == 1


# ---------------------------------------------------------------------- Keras' numbers
def test_keras_dense_32_on_784_inputs_has_25120_params():
    assert Sequential([Dense(32, input_shape=(784,))]).count_params() == 25_120


def test_keras_lstm_300_on_20_steps_of_1_feature_has_362400_params():
    model = Sequential([LSTM(300, input_shape=(20, 1))])
    assert model.count_params() == 362_400
    assert model.output_shape == (None, 300)


def test_keras_conv2d_32_3x3_on_64x64x3_has_896_params():
    model = Sequential([Conv2D(32, (3, 3), input_shape=(64, 64, 3))])
    assert model.count_params() == 896
    assert model.output_shape == (None, 62, 62, 32)


def test_keras_flatten_after_that_conv2d_gives_123008_features():
    model = Sequential([Conv2D(32, (3, 3), input_shape=(64, 64, 3)), Flatten()])
    assert model.output_shape == (None, 123_008)


def test_keras_batchnormalization_on_64_features_has_256_params_128_non_trainable():
    model = Sequential([BatchNormalization(input_shape=(64,))])
    assert model.count_params() == 256
    assert sum(w.data.size for w in model.non_trainable_weights) == 128
    assert sum(w.data.size for w in model.trainable_weights) == 128


def test_keras_issue_cnn_output_shapes_and_params():
    model = issue_cnn()
    assert [layer.output_shape for layer in model.layers] == [
        (None, 26, 26, 32),
        (None, 13, 13, 32),
        (None, 5408),
        (None, 128),
        (None, 128),
        (None, 10),
    ]
    assert [layer.count_params() for layer in model.layers] == [320, 0, 0, 692_352, 0, 1_290]
    assert model.count_params() == 693_962


def test_get_layer_on_a_sequential_model_by_name_and_index():
    from tinygrad_edu import ConfigError
    from tinygrad_edu.layers import Dense
    from tinygrad_edu.models import Sequential

    model = Sequential([Dense(4, input_shape=(3,), name="hidden"), Dense(2, name="out")])
    assert model.get_layer("out") is model.layers[1]
    assert model.get_layer(index=-2) is model.layers[0]
    for bad in ({"name": "nope"}, {"index": 5}, {"index": 1.0}):
        with pytest.raises(ConfigError) as err:
            model.get_layer(**bad)
        assert eval(err.value.fix, {"model": model}) is model.layers[-1]  # the fix runs
