"""The functional API: Model(inputs, outputs) over a graph of layer calls - Keras' parameter
counts, the same numbers as the layers applied by hand, shared layers (one set of weights, the
gradient summed over both uses), several inputs, training, summary, save/load."""

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor
from tinygrad_edu.errors import ConfigError, DataError, ShapeError
from tinygrad_edu.gradcheck import gradcheck_tensors
from tinygrad_edu.layers import Add, Concatenate, Dense, Input
from tinygrad_edu.models import Functional, Model, Sequential, load_model
from tinygrad_edu.optimizers import Adam

rng = np.random.default_rng(0)


def residual_mlp(d_in=6, width=16):
    inp = Input(shape=(d_in,), name="x")
    x = Dense(width, activation="relu", name="proj")(inp)
    y = Add(name="residual")([x, Dense(width, activation="relu", name="block")(x)])
    out = Dense(1, name="head")(y)
    return Model(inputs=inp, outputs=out)


def two_input(d_a=3, d_b=2):
    a, b = Input(shape=(d_a,), name="a"), Input(shape=(d_b,), name="b")
    joined = Concatenate(name="joined")([Dense(4, name="da")(a), b])
    return Model(inputs=[a, b], outputs=Dense(1, name="head")(joined))


def test_model_with_inputs_and_outputs_is_functional_and_counts_as_keras():
    model = residual_mlp(6, 16)
    assert type(model) is Functional and isinstance(model, Model)
    assert model.count_params() == (6 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert [layer.name for layer in model.layers] == ["x", "proj", "block", "residual", "head"]
    assert two_input(3, 2).count_params() == (3 * 4 + 4) + ((4 + 2) * 1 + 1)
    assert model.output_shape == (None, 1) and model.input_shape == (None, 6)


def test_output_equals_the_layers_applied_by_hand():
    model = residual_mlp()
    x = rng.normal(size=(5, 6)).astype(np.float32)
    proj, block, head = (model.get_layer(n) for n in ("proj", "block", "head"))
    h = proj(x)
    by_hand = head(h + block(h)).data
    np.testing.assert_allclose(model.predict(x), by_hand, rtol=1e-6)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    two = two_input()
    joined = np.concatenate([two.get_layer("da")(a).data, b], axis=1)
    expect = two.get_layer("head")(joined).data
    np.testing.assert_allclose(two.predict([a, b]), expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two([a, b]).data, expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two.predict({"a": a, "b": b}), expect, rtol=1e-5, atol=1e-6)


def test_a_shared_layer_has_one_set_of_weights_and_sums_its_gradient():
    inp = Input(shape=(3,))
    shared = Dense(3, activation="tanh", name="shared")
    model = Model(inp, shared(shared(inp)))
    assert model.layers[1:] == [shared] and len(model.weights) == 2
    assert model.count_params() == 3 * 3 + 3
    assert model.connected_to(shared) == "input_layer[0][0], shared[0][0]"
    shared.cast("float64")
    x = Tensor(rng.normal(size=(4, 3)))
    assert gradcheck_tensors(lambda: model(x), shared.weights)  # float64 central differences
    kernel, bias = shared.weights
    model(x).sum().backward()
    k, b = kernel.data, bias.data
    h = np.tanh(x.data @ k + b)
    g2 = 1 - np.tanh(h @ k + b) ** 2
    g1 = (g2 @ k.T) * (1 - h**2)
    np.testing.assert_allclose(kernel.grad, h.T @ g2 + x.data.T @ g1, rtol=1e-10)  # both uses
    np.testing.assert_allclose(bias.grad, g2.sum(0) + g1.sum(0), rtol=1e-10)


def test_fit_makes_the_loss_fall_with_one_and_two_inputs():
    tinygrad_edu.set_seed(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = x[:, :1] * 2 - x[:, 1:2]
    model = residual_mlp()
    model.compile(Adam(learning_rate=0.01), "mse")
    losses = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    a, b = x[:, :3], x[:, 3:5]
    two = two_input()
    two.compile(Adam(learning_rate=0.01), "mse")
    hist = two.fit([a, b], y, epochs=8, batch_size=16, verbose=0, validation_data=([a, b], y))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert np.isfinite(two.evaluate([a, b], y))


def test_save_and_load_round_trip_predicts_identically(tmp_path):
    for model, x in (
        (residual_mlp(), rng.normal(size=(4, 6))),
        (two_input(), [rng.normal(size=(4, 3)), rng.normal(size=(4, 2))]),
    ):
        model.compile("sgd", "mse")
        model.save(tmp_path / "m.npz")
        again = load_model(tmp_path / "m.npz")
        assert type(again) is Functional
        assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
        np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_summary_has_keras_connected_to_column():
    lines = []
    residual_mlp().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    row = next(line for line in lines if line.lstrip().startswith("residual"))
    assert "proj[0][0], block[0][0]" in row and "[B,16] + [B,16] -> [B,16]" in row


def test_explain_traces_the_graph_in_execution_order():
    rows = two_input().explain([np.ones((2, 3)), np.ones((2, 2))], print_fn=None)
    assert [r["layer"] for r in rows] == ["a", "b", "da", "joined", "head"]
    assert all(r["shape_ok"] for r in rows)


def test_construction_errors_teach():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    with pytest.raises(ConfigError, match="missing from inputs"):
        Model(inputs=a, outputs=Concatenate()([a, b]))
    with pytest.raises(ConfigError, match="symbolic"):
        Model(inputs=a, outputs=np.ones(3))
    with pytest.raises(ShapeError) as err:
        Dense(4)(Dense(2)(a)) and Add()([Dense(2)(a), Dense(3)(a)])
    assert "(batch, 2) and (batch, 3)" in err.value.got
    with pytest.raises(ConfigError, match="two layers named"):
        Model(a, Dense(1, name="d")(Dense(1, name="d")(a)))
    with pytest.raises(ConfigError, match="one of"):
        residual_mlp().get_layer("nope")
    with pytest.raises(DataError, match="2 inputs"):
        two_input().predict([np.ones((2, 3))])


def test_subclassing_and_sequential_still_make_their_own_kinds():
    assert type(Sequential([Dense(1, input_shape=(2,))])) is Sequential
    assert type(Model(name="plain")) is Model and Model("plain").name == "plain"
    assert residual_mlp().get_layer(index=-1).name == "head"


def two_heads():
    inp = Input(shape=(4,), name="x")
    h = Dense(8, activation="relu", name="h")(inp)
    return Model(inp, [Dense(1, name="value")(h), Dense(3, activation="softmax", name="cls")(h)])


def test_several_outputs_train_with_per_output_losses_and_weights():
    tinygrad_edu.set_seed(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y_value, y_cls = x[:, :1] * 2, (x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    model = two_heads()
    model.compile(
        Adam(learning_rate=0.02),
        loss={"value": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"value": 1.0, "cls": 0.5},
    )
    value, probs = model.predict(x)
    mse = np.mean((value - y_value) ** 2)
    ce = -np.mean(np.log(probs[np.arange(48), y_cls]))
    total, value_loss, cls_loss = model.evaluate(x, [y_value, y_cls])  # Keras 3's list
    np.testing.assert_allclose([total, value_loss, cls_loss], [mse + 0.5 * ce, mse, ce], rtol=1e-4)
    hist = model.fit(x, {"value": y_value, "cls": y_cls}, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]
    with pytest.raises(ConfigError, match="one entry per output"):
        model.compile("sgd", loss=["mse"])
    with pytest.raises(ConfigError, match="output names"):
        model.compile("sgd", loss={"nope": "mse"})


def test_batch_methods_take_lists_of_inputs_and_outputs():
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    two = two_input()
    two.compile("sgd", "mse")
    np.testing.assert_allclose(two.predict_on_batch([a, b]), two.predict([a, b]), rtol=1e-6)
    assert np.isfinite(two.test_on_batch([a, b], np.ones((5, 1))))
    heads = two_heads()
    value, probs = heads.predict_on_batch(a[:, :1].repeat(4, axis=1))
    assert value.shape == (5, 1) and probs.shape == (5, 3)


def test_inputs_as_a_dict_by_name():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    model = Model({"a": a, "b": b}, Dense(1)(Concatenate()([a, b])))
    x = {"b": np.ones((2, 2)), "a": np.zeros((2, 3))}
    np.testing.assert_allclose(model.predict(x), model.predict([x["a"], x["b"]]), rtol=1e-6)
