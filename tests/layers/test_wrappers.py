"""Bidirectional and TimeDistributed: the layer contract (float64 gradcheck through check_layer,
shapes, counts, config round trip), outputs equal to the forward and backward layers applied by
hand with numpy flips, Keras' weight order and names, save/load, and the teaching errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError
from tinygrad_edu.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    SimpleRNN,
    TimeDistributed,
)
from tinygrad_edu.models import Sequential
from tinygrad_edu.saving import load_model
from tinygrad_edu.testing.layers import check_layer

RNNS = [SimpleRNN, LSTM, GRU]
MODES = ["concat", "sum", "mul", "ave"]
GATES = {SimpleRNN: 1, LSTM: 4, GRU: 3}


def n_params(cls, f, u):
    """Keras' closed forms (GRU with reset_after=True: two biases)."""
    return GATES[cls] * u * (f + u + (2 if cls is GRU else 1))


@given(
    cls=st.sampled_from(RNNS),
    mode=st.sampled_from(MODES),
    units=st.sampled_from([1, 3, 8]),
    return_sequences=st.booleans(),
    go_backwards=st.booleans(),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3)),
)
def test_bidirectional_contract(cls, mode, units, return_sequences, go_backwards, shape):
    _, t, f = shape
    inner = cls(units, return_sequences=return_sequences, go_backwards=go_backwards)
    # a layer reading backwards needs a backward_layer reading forwards (Keras refuses otherwise)
    backward = cls(units, return_sequences=return_sequences) if go_backwards else None
    out_units = 2 * units if mode == "concat" else units
    expected = (None, t, out_units) if return_sequences else (None, out_units)
    report = check_layer(
        Bidirectional(inner, merge_mode=mode, backward_layer=backward),
        shape,
        expected_output_shape=expected,
        expected_params=2 * n_params(cls, f, units),
    )
    assert report["gradchecked"][1] == f"forward_{inner.name}/kernel"


@pytest.mark.parametrize("cls, mode", zip(RNNS, ["concat", "mul", "ave"]))
def test_bidirectional_contract_at_64_units(cls, mode):
    """The width of a typical layer (the hypothesis test above stays small to stay fast)."""
    layer = Bidirectional(cls(64, return_sequences=True), merge_mode=mode)
    report = check_layer(layer, (1, 2, 2), expected_params=2 * n_params(cls, 2, 64))
    assert report["output_shape"] == (None, 2, 128 if mode == "concat" else 64)


@given(units=st.sampled_from([1, 7, 64]), shape=st.tuples(st.integers(1, 3), st.integers(1, 4)))
def test_time_distributed_contract(units, shape):
    b, t = shape
    report = check_layer(
        TimeDistributed(Dense(units, activation="tanh")),
        (b, t, 5),
        expected_output_shape=(None, t, units),
        expected_params=5 * units + units,
    )
    assert report["gradchecked"] == ["input", "dense/kernel", "dense/bias"]


def by_hand(bi, x):
    """The forward and backward copies run on numpy inputs, the backward one on the reversed
    sequence (time order restored for sequences) - Keras' definition, without Bidirectional."""
    fwd_cls, bwd_cls = type(bi.forward_layer), type(bi.backward_layer)
    fwd_cfg = {**bi.forward_layer.get_config(), "go_backwards": False, "name": "f"}
    bwd_cfg = {**bi.backward_layer.get_config(), "go_backwards": False, "name": "b"}
    fwd, bwd = fwd_cls(**fwd_cfg), bwd_cls(**bwd_cfg)
    fwd.build((None, *x.shape[1:]))
    bwd.build((None, *x.shape[1:]))
    fwd.set_weights(bi.forward_layer.get_weights())
    bwd.set_weights(bi.backward_layer.get_weights())
    y = fwd(x).numpy()
    y_rev = bwd(np.ascontiguousarray(x[:, ::-1])).numpy()
    if bi.return_sequences:
        y_rev = y_rev[:, ::-1]
    return y, y_rev


MERGE = {
    "concat": lambda a, b: np.concatenate([a, b], axis=-1),
    "sum": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "ave": lambda a, b: (a + b) / 2,
}


@pytest.mark.parametrize("cls", RNNS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("mode", [*MODES, None])
def test_outputs_equal_the_two_layers_by_hand(cls, return_sequences, mode):
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32)
    bi = Bidirectional(cls(4, return_sequences=return_sequences), merge_mode=mode)
    out = bi(x)
    y, y_rev = by_hand(bi, x)
    if mode is None:
        assert [o.shape for o in out] == [y.shape, y_rev.shape]
        np.testing.assert_allclose(out[0].numpy(), y, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), y_rev, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), MERGE[mode](y, y_rev), rtol=1e-5, atol=1e-6)
    shape = bi.compute_output_shape((None, 5, 3))
    assert shape == ([bi.forward_layer.output_shape] * 2 if mode is None else bi.output_shape)


def test_weights_in_keras_order_with_prefixed_names():
    bi = Bidirectional(LSTM(8))
    bi.build((None, 10, 3))
    assert bi.weight_names == [
        f"{d}_lstm/{w}"
        for d in ("forward", "backward")
        for w in ("kernel", "recurrent_kernel", "bias")
    ]
    assert [w.shape for w in bi.weights] == [(3, 32), (8, 32), (32,)] * 2
    assert bi.forward_layer.go_backwards is False and bi.backward_layer.go_backwards is True
    assert bi.count_params() == 2 * 4 * 8 * (3 + 8 + 1)  # 768, as Keras


def test_time_distributed_applies_one_dense_to_each_step():
    x = np.random.default_rng(2).standard_normal((2, 4, 3)).astype(np.float32)
    td = TimeDistributed(Dense(5))
    out = td(x).numpy()
    kernel, bias = td.layer.get_weights()
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert td.count_params() == 3 * 5 + 5


def test_algebra_and_config_round_trip():
    bi = Bidirectional(GRU(6, return_sequences=True), merge_mode="ave")
    bi.build((None, 7, 2))
    algebra = bi.algebra()
    assert algebra.count.total == bi.count_params()
    assert "backward" in algebra.text() and algebra.text().endswith("-> [B,7,6]")
    clone = Bidirectional.from_config(bi.get_config())
    clone.build((None, 7, 2))
    assert (clone.merge_mode, clone.return_sequences) == ("ave", True)
    assert clone.get_config() == bi.get_config()
    td = TimeDistributed(Dense(3))
    td.build((None, 4, 2))
    assert td.algebra().count.total == td.count_params() == 9
    assert TimeDistributed.from_config(td.get_config()).get_config() == td.get_config()


def test_save_and_load_round_trip(tmp_path):
    x = np.random.default_rng(3).standard_normal((3, 6, 2)).astype(np.float32)
    model = Sequential(
        [
            Bidirectional(LSTM(5, return_sequences=True), input_shape=(6, 2)),
            TimeDistributed(Dense(4)),
            Bidirectional(SimpleRNN(3), merge_mode="sum"),
            Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.ones((3, 1)), epochs=1, verbose=0)
    path = tmp_path / "bi.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.count_params() == model.count_params()


def test_errors_teach():
    with pytest.raises(ConfigError, match="SimpleRNN, LSTM or GRU"):
        Bidirectional(Dense(3))
    with pytest.raises(ConfigError, match="return_state"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_state=True))
    with pytest.raises(ConfigError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ConfigError, match="the other way"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ShapeError):
        TimeDistributed(Dense(3))(np.zeros((2, 3)))
    with pytest.raises(ShapeError):
        Bidirectional(LSTM(3))(np.zeros((2, 3)))


def test_backward_layer_given():
    bi = Bidirectional(LSTM(3), backward_layer=GRU(3, go_backwards=True), merge_mode="sum")
    bi.build((None, 4, 2))
    assert [type(bi.forward_layer), type(bi.backward_layer)] == [LSTM, GRU]
    assert bi.count_params() == n_params(LSTM, 2, 3) + n_params(GRU, 2, 3)
    assert Bidirectional.from_config(bi.get_config()).backward_layer.go_backwards is True


def test_sequential_refuses_a_list_output():
    with pytest.raises(ConfigError, match="merge_mode=None"):
        Sequential([Bidirectional(LSTM(3), merge_mode=None, input_shape=(4, 2))])


@pytest.mark.parametrize("cls", RNNS)
@pytest.mark.parametrize("mode", ["concat", None])
def test_return_state_lists_the_merged_output_then_each_directions_states(cls, mode):
    x = np.random.default_rng(4).standard_normal((2, 5, 3)).astype(np.float32)
    bi = Bidirectional(cls(4, return_sequences=True, return_state=True), merge_mode=mode)
    out = bi(x)
    n_states = 2 if cls is LSTM else 1
    merged = 2 if mode is None else 1
    assert len(out) == merged + 2 * n_states
    assert [tuple(o.shape) for o in out] == [
        (2, *s[1:]) for s in bi.compute_output_shape((None, 5, 3))
    ]
    fwd_all = bi.forward_layer(x)
    bwd_all = bi.backward_layer(x)
    for got, want in zip(out[merged:], [*fwd_all[1:], *bwd_all[1:]]):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    h_b = bwd_all[1].numpy()  # the backward state after reading x_T .. x_1
    np.testing.assert_allclose(h_b, bwd_all[0].numpy()[:, -1], rtol=1e-6)
    shown = ["[B,5,8]"] if mode == "concat" else ["[B,5,4]"] * 2
    assert bi.algebra().text().endswith(", ".join(shown + ["[B,4]"] * 2 * n_states))
    with pytest.raises(ConfigError, match="return_state=True"):
        Sequential([bi])


@pytest.mark.parametrize("cls", RNNS)
def test_stateful_and_masking_are_refused_by_name_not_ignored(cls):
    """Keras' ``stateful=True`` (states carried across batches) and ``mask_zero=True`` (padding
    steps skipped) are not implemented: both raise, naming the option, before any Bidirectional
    could run a layer that silently does something else."""
    with pytest.raises(ConfigError, match="stateful") as err:
        Bidirectional(cls(4, stateful=True))
    assert f"{cls.__name__}(32)" in err.value.fix
    assert Bidirectional(cls(4, stateful=False)).forward_layer.units == 4
    with pytest.raises(ConfigError, match="mask_zero"):
        Embedding(10, 4, mask_zero=True)


# ------------------------------------------------------------------------- freezing a wrapper
def test_a_frozen_wrapper_freezes_its_inner_layers_as_keras_does() -> None:
    """``TimeDistributed(BatchNormalization()).trainable = False`` puts the inner BN in
    inference mode (Keras sets ``trainable`` on every sublayer): moving statistics untouched and
    the output normalized by them, even with training=True. It updated them (silently) before."""
    from tinygrad_edu.layers import BatchNormalization

    x = np.random.default_rng(0).normal(size=(4, 3, 5)).astype(np.float32) * 3 + 2
    td = TimeDistributed(BatchNormalization())
    td(x, training=True)
    td.trainable = False
    gamma, beta, mean, var = td.get_weights()
    out = td(x, training=True).numpy()
    assert all(np.array_equal(a, b) for a, b in zip(td.get_weights(), [gamma, beta, mean, var]))
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-5)
    assert td.layer.trainable is False and td.trainable_weights == []
    td.trainable = True
    assert td.layer.trainable is True and len(td.trainable_weights) == 2
    bi = Bidirectional(LSTM(3), trainable=False)
    bi(x)
    assert not bi.forward_layer.trainable and not bi.backward_layer.trainable
    assert bi.trainable_weights == [] and bi.get_config()["trainable"] is False
