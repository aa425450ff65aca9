"""Recurrent layers: SimpleRNN, LSTM, GRU.

Hypothesis configs (units sometimes above the feature count, 1..5 timesteps) through
``check_layer``: shape == compute_output_shape == a closed form, count_params == a closed form,
float64 gradcheck w.r.t. the input and every weight, config round-trip. Then: the fused path
equals the reference form (values and all gradients, every return_sequences / return_state /
go_backwards combination), Keras' known numbers, Keras semantics (go_backwards order, states,
unit_forget_bias), and the teaching errors.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor, config, ops
from tinygrad_edu.layers import GRU, LSTM, SimpleRNN
from tinygrad_edu.testing.layers import check_layer, ops_in_graph, rnn_configs

LAYERS = {SimpleRNN: ops.SimpleRNNSequence, LSTM: ops.LSTMSequence, GRU: ops.GRUSequence}


def n_params(cls, f, u, use_bias=True, reset_after=True):
    """Keras' closed forms."""
    if cls is SimpleRNN:
        return u * (f + u + use_bias)
    if cls is LSTM:
        return 4 * u * (f + u + use_bias)
    return 3 * u * (f + u + (2 if reset_after else 1) * use_bias)


@st.composite
def layer_configs(draw, return_state=False):
    """(class, kwargs, input shape) with every option the layers take."""
    cfg = draw(rnn_configs(max_timesteps=5))
    cls = draw(st.sampled_from(list(LAYERS)))
    kw = dict(
        cfg["kwargs"],
        use_bias=draw(st.booleans()),
        fused=draw(st.booleans()),
        activation=draw(st.sampled_from(["tanh", "sigmoid", "linear"])),
    )
    if return_state:
        kw["return_state"] = draw(st.booleans())
    if cls is GRU:
        kw["reset_after"] = draw(st.booleans())
    if cls is LSTM:
        kw["unit_forget_bias"] = draw(st.booleans())
    return cls, kw, cfg["input_shape"]


# ---------------------------------------------------------------- the contract
@given(layer_configs())
def test_contract(config):
    cls, kw, (b, t, f) = config
    u = kw["units"]
    shape = (None, t, u) if kw["return_sequences"] else (None, u)
    params = n_params(cls, f, u, kw["use_bias"], kw.get("reset_after", True))
    report = check_layer(cls(**kw), (b, t, f), expected_output_shape=shape, expected_params=params)
    assert report["gradchecked"] == ["input", "kernel", "recurrent_kernel"] + (
        ["bias"] if kw["use_bias"] else []
    )


def run(layer, x, seed=0):
    """Every output of the layer and the gradients of a random projection of all of them."""
    xt = Tensor(x, requires_grad=True)
    outs = layer(xt)
    outs = outs if isinstance(outs, list) else [outs]
    rng = np.random.default_rng(seed)
    loss = sum(
        ((o * Tensor(rng.standard_normal(o.shape))).sum() for o in outs[1:]),
        (outs[0] * Tensor(rng.standard_normal(outs[0].shape))).sum(),
    )
    loss.backward()
    grads = [xt.grad] + [w.grad for w in layer.weights]
    for w in layer.weights:
        w.grad = None
    return [o.data for o in outs], grads


@given(
    layer_configs(return_state=True),
    st.sampled_from(["tanh", "sigmoid", "relu", "linear"]),
    st.integers(0, 2**31 - 1),
)
def test_fused_equals_reference(config, activation, seed):
    cls, kw, shape = config
    kw = dict(kw, activation=activation)
    fused, plain = cls(**dict(kw, fused=True)), cls(**dict(kw, fused=False))
    for layer in (fused, plain):
        layer.build_for((None, *shape[1:]))
        layer.cast(np.float64)
    rng = np.random.default_rng(seed)
    fused.set_weights([rng.normal(0, 0.6, w.shape) for w in fused.get_weights()])
    plain.set_weights(fused.get_weights())
    x = rng.standard_normal(shape)
    outs_f, grads_f = run(fused, x)
    outs_p, grads_p = run(plain, x)
    again = fused(x)
    assert LAYERS[cls] in ops_in_graph(again[0] if isinstance(again, list) else again)
    assert (
        len(outs_f)
        == len(outs_p)
        == (1 + kw.get("return_state", False) * (2 if cls is LSTM else 1))
    )
    for a, b in zip(outs_f + grads_f, outs_p + grads_p):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_return_state_outputs_and_shapes():
    x = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    for cls, n_states in ((SimpleRNN, 1), (LSTM, 2), (GRU, 1)):
        for seq in (False, True):
            layer = cls(4, return_sequences=seq, return_state=True)
            outs = layer(x)
            assert isinstance(outs, list) and len(outs) == 1 + n_states
            expected = [(None, 5, 4) if seq else (None, 4)] + [(None, 4)] * n_states
            assert layer.compute_output_shape((None, 5, 2)) == expected
            assert [(None, *o.shape[1:]) for o in outs] == expected
            last = outs[0].data[:, -1] if seq else outs[0].data
            np.testing.assert_array_equal(outs[1].data, last)  # h_T is the last output


def test_lstm_cell_state_matches_the_reference_loop():
    x = np.random.default_rng(1).standard_normal((2, 4, 3))
    fused = LSTM(5, return_state=True)
    plain = LSTM(5, return_state=True, fused=False)
    plain.build_for((None, 4, 3))
    fused.build_for((None, 4, 3))
    plain.set_weights(fused.get_weights())
    np.testing.assert_allclose(fused(x)[2].data, plain(x)[2].data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", list(LAYERS), ids=lambda c: c.__name__)
def test_go_backwards_is_reading_the_reversed_sequence(cls):
    """Keras: go_backwards == running on x[:, ::-1]; the sequence stays in processing order."""
    x = np.random.default_rng(2).standard_normal((2, 5, 3)).astype(np.float32)
    back, ahead = cls(4, return_sequences=True, go_backwards=True), cls(4, return_sequences=True)
    back.build_for((None, 5, 3))
    ahead.build_for((None, 5, 3))
    ahead.set_weights(back.get_weights())
    np.testing.assert_allclose(back(x).data, ahead(x[:, ::-1]).data, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- Keras' numbers and layout
def test_known_keras_numbers():
    lstm = LSTM(300, input_shape=(20, 1))
    assert lstm.build_for((None, 20, 1)) == (None, 300)
    assert lstm.count_params() == 362_400
    assert lstm.algebra().text() == (
        "per step: [B,1] @ [1,1200] + [B,300] @ [300,1200] + [1200] -> 4 gates [B,300] "
        "(i,f,c,o); 20 steps -> [B,300]"
    )
    assert lstm.algebra().count_text() == "4 gates x (1*300 + 300*300 + 300) = 362,400"
    rnn = SimpleRNN(32)
    rnn.build_for((None, 10, 8))
    assert rnn.count_params() == 1_312
    assert rnn.algebra().text() == (
        "per step: [B,8] @ [8,32] + [B,32] @ [32,32] + [32] -> [B,32]; 10 steps -> [B,32]"
    )
    assert rnn.algebra().count_text() == "8*32 + 32*32 + 32 = 1,312"
    gru = GRU(32)
    gru.build_for((None, 10, 8))
    assert gru.count_params() == 4_032  # kernel 8x96 + recurrent 32x96 + bias 2x96
    assert gru.algebra().count_text() == "3 gates x (8*32 + 32*32 + 2*32) = 4,032"
    assert "+ [96] + [96] -> 3 gates [B,32] (z,r,h)" in gru.algebra().text()
    old = GRU(32, reset_after=False)
    old.build_for((None, 10, 8))
    assert old.count_params() == 3_936


@pytest.mark.parametrize(
    "cls,gates", [(SimpleRNN, 1), (LSTM, 4), (GRU, 3)], ids=["SimpleRNN", "LSTM", "GRU"]
)
def test_weight_names_and_layouts(cls, gates):
    layer = cls(5)
    layer.build_for((None, 7, 3))
    assert layer.weight_names == ["kernel", "recurrent_kernel", "bias"]
    bias = (2, 15) if cls is GRU else (gates * 5,)
    assert [w.shape for w in layer.get_weights()] == [(3, gates * 5), (5, gates * 5), bias]
    assert all(w.dtype == np.float32 for w in layer.get_weights())
    u = layer.get_weights()[1]  # orthogonal recurrent kernel: rows are orthonormal
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)


def test_unit_forget_bias():
    lstm = LSTM(3)
    lstm.build_for((None, 2, 1))
    np.testing.assert_array_equal(lstm.bias.data, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    plain = LSTM(3, unit_forget_bias=False)
    plain.build_for((None, 2, 1))
    assert not plain.bias.data.any()


def test_variable_timesteps_and_float32():
    layer = GRU(4)
    assert layer(np.zeros((2, 6, 3))).shape == (2, 4)
    out = layer(np.zeros((2, 9, 3)))  # Keras: only the feature axis is fixed by build
    assert out.shape == (2, 4) and out.dtype == np.float32


# ---------------------------------------------------------------- switches and fallbacks
def test_paths_fused_reference_and_fallback():
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    assert ops.LSTMSequence in ops_in_graph(LSTM(2)(Tensor(x, requires_grad=True)))
    assert ops.LSTMSequence not in ops_in_graph(LSTM(2, fused=False)(Tensor(x, requires_grad=True)))
    elu = SimpleRNN(2, activation="elu")  # not fused: falls back to the reference loop
    out = elu(Tensor(x, requires_grad=True))
    assert ops.SimpleRNNSequence not in ops_in_graph(out) and ops.Elu in ops_in_graph(out)
    with config.fused(False):
        assert ops.GRUSequence not in ops_in_graph(GRU(2)(Tensor(x, requires_grad=True)))


@pytest.mark.parametrize("fused", [True, False])
def test_trainable_false_gives_no_weight_grads(fused):
    layer = LSTM(3, trainable=False, fused=fused)
    x = Tensor(np.ones((2, 3, 2)), requires_grad=True)
    layer(x).sum().backward()
    assert x.grad is not None and all(w.grad is None for w in layer.weights)
    assert layer.parameters() == []


def test_config_and_weights_round_trip():
    layer = GRU(
        4,
        activation="relu",
        recurrent_activation="tanh",
        use_bias=False,
        return_sequences=True,
        go_backwards=True,
        reset_after=False,
        fused=False,
        kernel_regularizer="l2",
        name="enc",
    )
    x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(np.float32)
    first = layer(x).data
    config = layer.get_config()
    for key in (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "return_sequences",
        "return_state",
        "go_backwards",
        "reset_after",
        "fused",
        "kernel_initializer",
    ):
        assert key in config
    clone = GRU(**config)
    clone.build_for((None, 3, 5))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, first)
    assert len(clone.regularization_losses()) == 1
    lstm = LSTM(2, unit_forget_bias=False)
    assert LSTM(**lstm.get_config()).unit_forget_bias is False


# ---------------------------------------------------------------- errors that teach
@pytest.mark.parametrize("units", [0, -3, 2.5, True, "8"])
def test_bad_units_is_a_config_error(units):
    with pytest.raises(ConfigError) as err:
        LSTM(units)
    assert "LSTM" in err.value.where and repr(units) in err.value.got and err.value.fix


def test_unknown_activation_names_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        SimpleRNN(4, activation="tahn")
    assert "'tanh'" in err.value.fix
    with pytest.raises(ConfigError):
        LSTM(4, recurrent_activation="sigmod")


def test_sequence_without_feature_axis():
    with pytest.raises(ShapeError) as err:
        LSTM(8, name="lstm")(np.zeros((32, 20)))
    e = err.value
    assert "'lstm' (LSTM)" in e.where and "(32, 20)" in e.got and "rank 3" in e.expected
    assert "x[..., None]" in e.fix and "(32, 20, 1)" in e.fix
    built = LSTM(8, input_shape=(20, 1), name="lstm")
    with pytest.raises(ShapeError) as err:
        built(np.zeros((32, 20)))
    e = err.value
    assert "lstm" in e.where and "20, 1" in e.expected and "x[..., None]" in e.fix


def test_single_sequence_without_batch_axis():
    layer = SimpleRNN(4, name="rnn")
    layer(np.zeros((2, 10, 3)))
    with pytest.raises(ShapeError) as err:
        layer(np.zeros((10, 3)))
    e = err.value
    assert "rnn" in e.where and "10, 3" in e.expected and "(10, 3)" in e.got
    assert "x[None, ...]" in e.fix and "reshape(1, 10, 3)" in e.fix


def test_wrong_feature_count_names_both():
    layer = GRU(4, name="gru")
    layer(np.zeros((2, 10, 8)))
    with pytest.raises(ShapeError) as err:
        layer(np.zeros((2, 10, 5)))
    e = err.value
    assert "gru" in e.where and "8 features" in e.expected and "5" in e.got
    assert "8" in e.fix and "5" in e.fix


def test_unknown_keras_argument_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        LSTM(4, recurent_dropout=0.1)
    assert "recurent_dropout" in err.value.got


def test_rank_two_declared_shape_gets_a_fix_that_runs():
    """(None, 10) is a declared shape: x.reshape(None, 10, 1) would not run; -1 does."""
    with pytest.raises(ShapeError) as err:
        LSTM(5).build_for((None, 10))
    fix = err.value.fix
    assert "reshape(None" not in fix
    assert "x.reshape(-1, 10, 1)" in fix and "input_shape=(10, 1)" in fix
    x = np.zeros((4, 10))
    assert LSTM(5, input_shape=(10, 1))(x.reshape(-1, 10, 1)).shape == (4, 5)
