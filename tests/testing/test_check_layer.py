"""``check_layer`` passes on correct layers, fails (with a clear message) on each kind of broken
layer, and leaves the layer as it found it; the config strategies draw valid configurations and
reach the unit counts users use (1 and 64 by default, 300 under the ``thorough`` profile)."""

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, GradcheckError, Tensor, gradcheck, tensor_from_op
from tinygrad_edu.function import Function
from tinygrad_edu.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Layer,
    MaxPooling2D,
    SimpleRNN,
)
from tinygrad_edu.testing import default_max_units, load_profile, unit_counts
from tinygrad_edu.testing.layers import (
    batchnorm_configs,
    check_layer,
    conv2d_configs,
    dense_configs,
    pooling_configs,
    rnn_configs,
    rnn_stack_configs,
)
from tinygrad_edu.testing.strategies import unit_edges


class BadSquare(Function):
    """out = a^2 with a wrong backward: it returns g * a instead of g * 2a."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, grad):
        return grad * self.a


class BadScale(Function):
    """out = a * w (w of shape (n,)); the gradient w.r.t. w forgets to multiply by a."""

    def forward(self, a, w):
        self.a, self.w = a, w
        return a * w

    def backward(self, grad):
        return grad * self.w, grad


class Squarer(Layer):
    def call(self, x, training=False):
        return tensor_from_op(BadSquare, x)


class Scale(Layer):
    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, x, training=False):
        return tensor_from_op(BadScale, x, self.w)


class WrongShape(Layer):
    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape, 1)


class ForgetfulDense(Dense):
    def get_config(self):
        config = super().get_config()
        config["units"] = 1  # a constructor argument lost in the config
        return config


def test_passes_on_dense():
    report = check_layer(
        Dense(4, activation="tanh"), (3, 5), expected_output_shape=(None, 4), expected_params=24
    )
    assert report == {
        "output_shape": (None, 4),
        "params": 24,
        "trainable_params": 24,
        "gradchecked": ["input", "kernel", "bias"],
    }


def test_fails_on_a_wrong_input_gradient():
    with pytest.raises(GradcheckError) as err:
        check_layer(Squarer(), (2, 3))
    assert err.value.tensor_name == "input" and "squarer" in err.value.where
    assert err.value.analytic == pytest.approx(0.5 * err.value.numeric, rel=1e-4)


def test_fails_on_a_wrong_weight_gradient():
    with pytest.raises(GradcheckError) as err:
        check_layer(Scale(), (2, 3))
    assert err.value.tensor_name == "w" and "'w'" in err.value.where


def test_fails_on_a_wrong_output_shape():
    with pytest.raises(AssertionError, match="compute_output_shape"):
        check_layer(WrongShape(), (2, 3))


def test_fails_on_wrong_expectations():
    with pytest.raises(AssertionError, match="count_params"):
        check_layer(Dense(2), (1, 3), expected_params=9)
    with pytest.raises(AssertionError, match="expected"):
        check_layer(Dense(2), (1, 3), expected_output_shape=(None, 3))


def test_fails_on_a_lossy_config():
    with pytest.raises(AssertionError, match="get_config"):
        check_layer(ForgetfulDense(3), (2, 4))


def test_leaves_the_layer_as_it_found_it():
    layer = Dense(3)
    layer.build_for((None, 4))
    before = layer.get_weights()
    check_layer(layer, (2, 4))
    for w, b in zip(layer.weights, before):
        np.testing.assert_array_equal(w.data, b)
        assert w.data.dtype == np.float32 and w.is_leaf and w.requires_grad and w.grad is None
    x = Tensor(np.ones((2, 4), np.float32), requires_grad=True)
    layer(x).sum().backward()  # the weights still train normally
    assert layer.kernel.grad.shape == (4, 3)


def test_restores_batchnorm_moving_statistics():
    layer = BatchNormalization()
    check_layer(layer, (3, 2), training=True)
    np.testing.assert_array_equal(layer.moving_mean.data, np.zeros(2))
    np.testing.assert_array_equal(layer.moving_variance.data, np.ones(2))


def test_random_layers_see_the_same_randomness_in_every_evaluation():
    layer = Dropout(0.5, seed=0)
    mask_before = layer(np.ones((1, 8)), training=True).data
    layer = Dropout(0.5, seed=0)
    check_layer(layer, (3, 4), training=True)
    np.testing.assert_array_equal(layer(np.ones((1, 8)), training=True).data, mask_before)


# ---------------------------------------------------------------------------- config strategies
MAX_UNITS = default_max_units()
GENERATE = [Phase.explicit, Phase.generate]  # find(): the first match, not shrunk


@given(dense_configs(draw_fused=True))
def test_dense_configs_are_valid(cfg):
    shape, kw = cfg["input_shape"], cfg["kwargs"]
    assert 2 <= len(shape) <= 3 and all(1 <= d <= 5 for d in shape)
    assert 1 <= kw["units"] <= MAX_UNITS and isinstance(kw["fused"], bool)
    report = check_layer(
        Dense(**kw), shape, expected_output_shape=(None, *shape[1:-1], kw["units"])
    )
    assert report["gradchecked"][0] == "input"


def _as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _window_fits(cfg, key, dilation=(1, 1)):
    kw, shape = cfg["kwargs"], cfg["input_shape"]
    window = [d * (k - 1) + 1 for k, d in zip(_as_pair(kw[key]), dilation)]
    spatial = shape[2:] if kw["data_format"] == "channels_first" else shape[1:3]
    assert len(shape) == 4 and kw["padding"] in ("valid", "same")
    assert kw["data_format"] in ("channels_last", "channels_first")
    assert max(spatial) <= 7 and 1 <= shape[0] <= 3
    if kw["padding"] == "valid":
        assert all(s >= k >= 1 for s, k in zip(spatial, window))
    return kw


@given(conv2d_configs(draw_fused=True))
def test_conv2d_configs_are_valid(cfg):
    kw = cfg["kwargs"]
    dilation, strides = _as_pair(kw["dilation_rate"]), _as_pair(kw["strides"])
    _window_fits(cfg, "kernel_size", dilation)
    assert 1 <= kw["filters"] <= MAX_UNITS
    assert max(dilation) == 1 or max(strides) == 1  # Keras refuses both above 1
    check_layer(Conv2D(**kw), cfg["input_shape"])


@given(pooling_configs())
def test_pooling_configs_are_valid(cfg):
    kw = _window_fits(cfg, "pool_size")
    assert kw["strides"] is None or kw["strides"] >= 1
    check_layer(MaxPooling2D(**kw), cfg["input_shape"], expected_params=0)


def rnn_output_shape(kwargs, timesteps):
    units = kwargs["units"]
    return (None, timesteps, units) if kwargs["return_sequences"] else (None, units)


@given(rnn_configs(draw_fused=True))
def test_rnn_configs_fit_every_recurrent_class(cfg):
    kw, (b, t, f) = cfg["kwargs"], cfg["input_shape"]
    assert 1 <= kw["units"] <= MAX_UNITS and 1 <= b <= 3 and 1 <= t <= 5 and 1 <= f <= 5
    common = {"units", "return_sequences", "go_backwards", "use_bias", "activation", "fused"}
    assert set(kw) == common and cfg["layer"] in (SimpleRNN, LSTM, GRU)
    for cls in (SimpleRNN, LSTM, GRU):
        assert cls(**kw).build_for((None, t, f)) == rnn_output_shape(kw, t)


@given(st.sampled_from([SimpleRNN, LSTM, GRU, "LSTM"]).flatmap(lambda c: rnn_configs(layer=c)))
def test_rnn_configs_for_one_class_pass_check_layer(cfg):
    kw, (b, t, f) = cfg["kwargs"], cfg["input_shape"]
    own = {LSTM: {"recurrent_activation", "unit_forget_bias"}}.get(cfg["layer"], set())
    own = {GRU: {"recurrent_activation", "reset_after"}}.get(cfg["layer"], own)
    assert own <= set(kw)
    check_layer(cfg["layer"](**kw), (b, t, f), expected_output_shape=rnn_output_shape(kw, t))


def build_stack(cfg):
    return [c["layer"](**c["kwargs"]) for c in cfg["layers"]]


@given(rnn_stack_configs(draw_fused=True))
def test_rnn_stacks_chain_and_their_gradients_are_right(cfg):
    layers = build_stack(cfg)
    assert 2 <= len(layers) <= 3
    assert all(layer.return_sequences for layer in layers[:-1])
    shape = (None, *cfg["input_shape"][1:])
    for layer in layers:
        shape = layer.build_for(shape)
        layer.cast(np.float64)
    assert shape == rnn_output_shape(cfg["layers"][-1]["kwargs"], cfg["input_shape"][1])

    def stack(x):
        for layer in layers:
            x = layer(x)
        return x

    x = np.random.default_rng(0).standard_normal(cfg["input_shape"])
    assert gradcheck(stack, x)


@given(batchnorm_configs(), st.booleans())
def test_batchnorm_configs_are_valid(cfg, training):
    kw, shape = cfg["kwargs"], cfg["input_shape"]
    features = shape[kw["axis"]]
    assert shape[0] >= 2 and 1 <= features <= MAX_UNITS
    report = check_layer(BatchNormalization(**kw), shape, training=training)
    assert report["params"] == (2 + kw["center"] + kw["scale"]) * features


# ---------------------------------------------------------------------------- sizes users use
def units_of(cfg):
    """Every unit count in a config: one layer's units/filters/features, or a stack's."""
    if "layers" in cfg:
        return [c["kwargs"]["units"] for c in cfg["layers"]]
    kw = cfg["kwargs"]
    if "axis" in kw:
        return [cfg["input_shape"][kw["axis"]]]
    return [kw["units"] if "units" in kw else kw["filters"]]


DEFAULT_STRATEGIES = {
    "dense": dense_configs,
    "conv2d": conv2d_configs,
    "rnn": rnn_configs,
    "SimpleRNN": lambda: rnn_configs(layer=SimpleRNN),
    "LSTM": lambda: rnn_configs(layer=LSTM),
    "GRU": lambda: rnn_configs(layer=GRU),
    "stack": rnn_stack_configs,
    "LSTM stack": lambda: rnn_stack_configs(layer="LSTM"),
    "batchnorm": batchnorm_configs,
}


def reaches(strategy, condition):
    """hypothesis.find: some drawn config satisfies ``condition`` (raises NoSuchExample if not)."""
    return find(
        strategy, condition, settings=settings(max_examples=2000, database=None, phases=GENERATE)
    )


@pytest.mark.parametrize("name", sorted(DEFAULT_STRATEGIES))
def test_default_strategies_reach_one_unit_and_64(name):
    make = DEFAULT_STRATEGIES[name]
    assert min(units_of(reaches(make(), lambda c: 1 in units_of(c)))) == 1
    assert max(units_of(reaches(make(), lambda c: max(units_of(c)) >= 64))) >= 64


def test_stacks_of_two_and_three_layers_are_drawn():
    for n in (2, 3):
        assert len(reaches(rnn_stack_configs(), lambda c: len(c["layers"]) == n)["layers"]) == n


@pytest.fixture
def thorough_profile():
    load_profile("thorough")
    yield
    load_profile()


@pytest.mark.parametrize("name", ["dense", "conv2d", "LSTM", "stack"])
def test_thorough_profile_reaches_300_units(name, thorough_profile):
    assert default_max_units() == 300
    cfg = reaches(DEFAULT_STRATEGIES[name](), lambda c: max(units_of(c)) >= 300)
    assert max(units_of(cfg)) == 300


def test_unit_counts_take_explicit_bounds():
    assert unit_edges(1, 64) == (1, 2, 7, 64) and unit_edges(3, 10) == (3, 7, 10)
    assert reaches(unit_counts(max_units=5), lambda u: u == 5) == 5
    assert reaches(unit_counts(max_units=8, min_units=8), lambda u: True) == 8
    with pytest.raises(ValueError):
        reaches(unit_counts(max_units=3, min_units=4), lambda u: True)


@pytest.mark.parametrize("bad", [(None, 4), (2, -1), "x", (2.5, 4), (True, 4), ()])
def test_a_bad_input_shape_is_our_config_error(bad) -> None:
    """A raw TypeError/ValueError before; (2.5, 4) was silently truncated to a batch of 2."""
    with pytest.raises(ConfigError) as err:
        check_layer(Dense(3), bad)
    assert err.value.where == "check_layer" and "check_layer(" in err.value.fix
