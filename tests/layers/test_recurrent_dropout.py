"""``dropout``, ``recurrent_dropout`` and ``seed`` of SimpleRNN, LSTM and GRU (Keras 3 semantics).

Checked: a numpy loop written like Keras 3's cells (one mask per gate when ``recurrent_dropout >
0``, as Keras 3.8+ does; the same masks at every step) equals both forms of the layer given the
masks the layer drew; a new mask each call and for each sample; float64 gradchecks with the masks
held fixed (``check_layer`` puts the layer's generator back before every evaluation); inference
and rates of 0 change nothing - the same bytes and the same graph ops; the masks' scaling; seeds;
argument errors; the config round trip; and a model that trains through ``fit``.
(Fused == reference with masks at 1 and 64 units and in stacks: ``tests/reliability/
test_fused_equals_reference.py``; the ops with masks: ``tests/ops/test_recurrent_masks.py``.)
"""

from collections import Counter

import numpy as np
import pytest

from tinygrad_edu import ConfigError, Tensor, set_seed
from tinygrad_edu._rng import global_rng
from tinygrad_edu.layers import GRU, LSTM, Dense, SimpleRNN
from tinygrad_edu.layers.recurrent_dropout import draw_masks
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import Adam
from tinygrad_edu.testing.layers import check_layer

KINDS = [SimpleRNN, LSTM, GRU]
RATES = [(0.3, 0.0), (0.0, 0.4), (0.3, 0.4)]  # (dropout, recurrent_dropout)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- a numpy Keras 3 cell
def np_layer(cls, x, weights, masks, reset_after=True, go_backwards=False):
    """All outputs ``[B, T, u]`` of ``cls`` (tanh/sigmoid) over ``x``, written like Keras 3's
    ``implementation=1`` cells: gate k gets ``x_t * d_k`` and ``h_{t-1} * m_k`` (``d_0``/``m_0``
    for every gate when there is one mask), the masks the same at every step."""
    w, u, b = weights
    n, d, m = u.shape[0], masks.get("input_mask"), masks.get("recurrent_mask")

    def gate(k, v, mask):  # v as gate k sees it
        return v if mask is None else v * mask[k if len(mask) > 1 else 0]

    def lin(k, x_t, h, bias):  # gate k: (d_k x_t) W_k + (m_k h) U_k + b_k
        cols = slice(k * n, (k + 1) * n)
        return gate(k, x_t, d) @ w[:, cols] + gate(k, h, m) @ u[:, cols] + bias[cols]

    h = c = np.zeros((x.shape[0], n))
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    outs = []
    for t in steps:
        x_t = x[:, t]
        if cls is SimpleRNN:
            h = np.tanh(lin(0, x_t, h, b))
        elif cls is LSTM:
            i, f, o = (sigmoid(lin(k, x_t, h, b)) for k in (0, 1, 3))
            c = f * c + i * np.tanh(lin(2, x_t, h, b))
            h = o * np.tanh(c)
        else:
            b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
            z, r = (sigmoid(lin(k, x_t, h, b_in + b_rec)) for k in (0, 1))
            x_h = gate(2, x_t, d) @ w[:, 2 * n :] + b_in[2 * n :]
            if reset_after:
                hh = np.tanh(x_h + r * (gate(2, h, m) @ u[:, 2 * n :] + b_rec[2 * n :]))
            else:
                hh = np.tanh(x_h + (r * gate(2, h, m)) @ u[:, 2 * n :])
            h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1)


def make(cls, dropout, recurrent_dropout, fused, seed=11, **kw):
    """A float64 layer built for (T=4, F=3) with moderate random weights."""
    layer = cls(
        5, dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, fused=fused, **kw
    )
    layer.build((None, 4, 3))
    layer.cast("float64")
    rng = np.random.default_rng(3)
    layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    return layer


def call_with_masks(layer, x):
    """(the layer's training output, the masks it used: re-drawn from its generator's state)."""
    state = layer._rng.bit_generator.state
    out = layer(x, training=True).numpy()
    after = layer._rng.bit_generator.state
    layer._rng.bit_generator.state = state
    masks = {k: m.numpy() for k, m in layer._dropout_masks(Tensor(x), training=True).items()}
    assert layer._rng.bit_generator.state == after  # the same draws the call made
    return out, masks


X = np.random.default_rng(0).normal(size=(6, 4, 3))


# ---------------------------------------------------------------- the masks, as Keras 3 uses them
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("rates", RATES)
@pytest.mark.parametrize(
    "cls,kw",
    [(SimpleRNN, {}), (LSTM, {}), (GRU, {}), (GRU, {"reset_after": False})],
    ids=["SimpleRNN", "LSTM", "GRU", "GRU-reset-before"],
)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_layer_equals_a_numpy_keras_cell_with_the_masks_it_drew(
    cls, kw, rates, fused, go_backwards
):
    layer = make(cls, *rates, fused, return_sequences=True, go_backwards=go_backwards, **kw)
    out, masks = call_with_masks(layer, X)
    groups = len(layer.gate_names) if rates[1] > 0 else 1  # one mask per gate: Keras 3.8+
    shapes = {"input_mask": (groups, 6, 3), "recurrent_mask": (groups, 6, 5)}
    assert {k: v.shape for k, v in masks.items()} == {
        k: s for k, s, rate in zip(shapes, shapes.values(), rates) if rate > 0
    }
    weights = [w.data for w in layer.weights] + [None] * (3 - len(layer.weights))
    want = np_layer(cls, X, weights, masks, kw.get("reset_after", True), go_backwards)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("fused", [True, False])
def test_each_call_and_each_sample_gets_its_own_mask(cls, fused):
    layer = make(cls, 0.3, 0.3, fused)
    same = np.repeat(X[:1], 6, axis=0)  # six copies of one sequence
    first, second = layer(same, training=True).numpy(), layer(same, training=True).numpy()
    assert not np.allclose(first, second)  # a new mask for the next batch
    assert len({row.tobytes() for row in first}) == 6  # and one per sample
    rates = (0.3, 0.3)
    masks = [draw_masks(np.random.default_rng(0), *rates, 6, 3, 5, 4, np.float64) for _ in "ab"]
    assert all(np.array_equal(masks[0][k], masks[1][k]) for k in masks[0])  # seeded: repeatable


# ---------------------------------------------------------------- gradients with fixed masks
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("rates", RATES)
@pytest.mark.parametrize(
    "cls,kw",
    [(SimpleRNN, {}), (LSTM, {"return_sequences": True}), (GRU, {}), (GRU, {"reset_after": False})],
    ids=["SimpleRNN", "LSTM", "GRU", "GRU-reset-before"],
)
def test_float64_gradcheck_with_the_masks_held_fixed(cls, kw, rates, fused):
    layer = cls(3, dropout=rates[0], recurrent_dropout=rates[1], seed=5, fused=fused, **kw)
    report = check_layer(layer, (2, 3, 2), training=True, atol=1e-6, rtol=1e-5)
    assert report["gradchecked"] == ["input", "kernel", "recurrent_kernel", "bias"]


# ---------------------------------------------------------------- nothing changes without dropout
def graph_ops(out):
    """How many ops of each kind the graph behind ``out`` holds."""
    counts, stack, seen = Counter(), [out], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t._ctx is None:
            continue
        seen.add(id(t))
        counts[type(t._ctx).__name__] += 1
        stack.extend(t._ctx.parents)
    return counts


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("fused", [True, False])
def test_inference_and_rates_of_zero_are_the_layer_without_dropout(cls, fused):
    plain = make(cls, 0.0, 0.0, fused, seed=None)
    dropping = make(cls, 0.5, 0.5, fused)
    zero = make(cls, 0.0, 0.0, fused)
    assert zero._rng is None and plain.get_config()["dropout"] == 0.0
    xt = Tensor(X, requires_grad=True)
    want = plain(xt, training=True)
    state = dropping._rng.bit_generator.state
    np.testing.assert_array_equal(dropping(xt, training=False).numpy(), want.numpy())
    assert dropping._rng.bit_generator.state == state  # inference draws nothing
    for training in (True, False):
        got = zero(xt, training=training)
        np.testing.assert_array_equal(got.numpy(), want.numpy())  # the same bytes
        assert graph_ops(got) == graph_ops(want)  # and the same ops
    if not fused:  # the reference form multiplies by the masks: more ops
        assert graph_ops(dropping(xt, training=True)) != graph_ops(want)


def test_a_layer_without_dropout_takes_nothing_from_the_global_generator():
    set_seed(3)
    first = global_rng().random()
    set_seed(3)
    LSTM(4, dropout=0.0, recurrent_dropout=0.0)  # no generator made
    assert global_rng().random() == first
    set_seed(3)
    LSTM(4, dropout=0.1)  # an unseeded generator is seeded from the global one
    assert global_rng().random() != first


# ---------------------------------------------------------------- scaling, seeds, arguments, config
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_masks_are_inverted_dropout_with_mean_one(rate):
    rng = np.random.default_rng(1)
    masks = draw_masks(rng, rate, rate, 4000, 25, 25, 4, np.float64)
    for mask in masks.values():  # 400,000 values each
        assert set(np.unique(mask)) == {0.0, 1 / (1 - rate)}
        assert abs(np.mean(mask == 0) - rate) < 0.005
        assert abs(mask.mean() - 1) < 0.02
    assert not np.array_equal(masks["recurrent_mask"][0], masks["recurrent_mask"][1])  # per gate


def test_seed_fixes_the_masks_and_set_seed_the_unseeded_ones():
    def two_runs(**kw):
        runs = []
        for _ in range(2):
            set_seed(1 + len(runs))  # a different global seed for each run
            layer = make(LSTM, 0.3, 0.3, True, **kw)
            runs.append(layer(X, training=True).numpy())
        return runs

    seeded = two_runs(seed=7)
    np.testing.assert_array_equal(*seeded)  # its own seed: whatever the global one
    unseeded = two_runs(seed=None)
    assert not np.array_equal(*unseeded)  # drawn from the global generator
    set_seed(2)
    again = make(LSTM, 0.3, 0.3, True, seed=None)(X, training=True).numpy()
    np.testing.assert_array_equal(again, unseeded[1])  # which set_seed repeats


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("arg", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("value", [1.0, 1.5, -0.1, "0.2", float("nan"), True, None])
def test_a_bad_rate_is_a_config_error_whose_example_runs(cls, arg, value):
    with pytest.raises(ConfigError) as err:
        cls(4, **{arg: value})
    e = err.value
    assert arg in e.expected and "[0, 1)" in e.expected and cls.__name__ in e.where
    example = e.fix.rsplit("e.g. ", 1)[1]
    layer = eval(example, {cls.__name__: cls})  # noqa: S307 - our own fix text
    assert getattr(layer, arg) == 0.2


@pytest.mark.parametrize("seed", [-1, 1.5, "3"])
def test_a_bad_seed_is_a_config_error(seed):
    with pytest.raises(ConfigError) as err:
        GRU(4, dropout=0.1, seed=seed)
    assert "seed" in err.value.expected and "e.g. GRU(" in err.value.fix


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_config_round_trip_keeps_the_rates_and_the_seed(cls):
    layer = make(cls, 0.25, 0.125, False, seed=9)
    config = layer.get_config()
    assert (config["dropout"], config["recurrent_dropout"], config["seed"]) == (0.25, 0.125, 9)
    clone = cls.from_config(config)
    assert clone.get_config() == config
    clone.build((None, 4, 3))
    clone.cast("float64")
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(
        clone(X, training=True).numpy(),
        make(cls, 0.25, 0.125, False, seed=9)(X, training=True).numpy(),
    )


# ---------------------------------------------------------------- training
def test_an_lstm_with_dropout_trains_through_fit():
    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 6, 2)).astype(np.float32)
    y = x[:, :, :1].mean(axis=1) - x[:, -1:, 1]  # needs the whole sequence
    lstm = LSTM(16, dropout=0.2, recurrent_dropout=0.2, input_shape=(6, 2))
    model = Sequential([lstm, Dense(1)])
    model.compile(optimizer=Adam(0.01), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    state = lstm._rng.bit_generator.state
    losses = model.fit(x, y, epochs=10, batch_size=32, verbose=0).history["loss"]
    assert lstm._rng.bit_generator.state != state  # fit trained with masks
    assert losses[-1] < 0.25 * losses[0]
    after = model.evaluate(x, y, verbose=0)  # inference: no masks, so below the training loss
    assert after < 0.1 * before and after < losses[-1]
