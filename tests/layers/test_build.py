"""Keras' own way of building a layer (issue 11, item 7): ``layer.build(input_shape)``.

``build`` marks the layer built and remembers the shape (the batch size becomes None); weights set
after it stick (the first call does not build again); building again adds no weight (a compatible
shape is a no-op, an incompatible one our ShapeError); calling on an incompatible input is our
ShapeError; a malformed shape is a ConfigError; a build that fails leaves no weight behind.
Checked for Dense, Conv2D, LSTM and BatchNormalization, plus a custom layer.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.errors import ConfigError, NotBuiltError, ShapeError
from tinygrad_edu.layers import LSTM, BatchNormalization, Conv2D, Dense, Layer

#: name -> (make the layer, the build shape as Keras users write it (a concrete batch size),
#:          an input of another batch size that fits, an input that does not fit, params)
CASES = {
    "Dense": (lambda: Dense(2), (1, 3), (5, 3), (5, 4), 3 * 2 + 2),
    "Conv2D": (lambda: Conv2D(2, 3), (1, 6, 6, 1), (4, 6, 6, 1), (4, 6, 6, 3), 3 * 3 * 2 + 2),
    "LSTM": (lambda: LSTM(2), (1, 4, 3), (3, 7, 3), (3, 4, 5), 4 * (3 * 2 + 2 * 2 + 2)),
    "BatchNormalization": (lambda: BatchNormalization(), (1, 3), (6, 3), (6, 4), 4 * 3),
}
NAMES = sorted(CASES)


def new_values(layer: Layer, seed: int = 1) -> list:
    """Recognizable weights of the layer's shapes (all different from any initializer's)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in layer.weights]


@pytest.mark.parametrize("name", NAMES)
def test_build_marks_built_and_remembers_the_shape(name):
    make, shape, _, _, params = CASES[name]
    layer = make()
    assert not layer.built
    layer.build(shape)
    assert layer.built
    assert layer.input_shape == (None, *shape[1:])  # the batch size is not part of the layer
    assert layer.count_params() == params
    assert layer.output_shape == tuple(layer.compute_output_shape((None, *shape[1:])))


@pytest.mark.parametrize("name", NAMES)
def test_weights_set_after_build_stick(name):
    """The issue's failure: Dense(2); build((1, 2)); set_weights(...); layer(x) built again with
    random weights (and twice the parameters)."""
    make, shape, fits, _, params = CASES[name]
    layer = make()
    layer.build(shape)
    values = new_values(layer)
    layer.set_weights(values)
    out = layer(np.ones(fits, np.float32))
    assert out.shape[0] == fits[0]
    assert layer.count_params() == params
    assert len(layer.weights) == len(values)
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_dense_uses_the_weights_set_after_build():
    layer = Dense(2)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5])])
    out = layer(np.array([[1.0, 1.0]], np.float32))
    np.testing.assert_allclose(out.numpy(), [[4.5, 5.5]])
    assert layer.count_params() == 6


@pytest.mark.parametrize("name", NAMES)
def test_building_again_adds_no_weight(name):
    make, shape, fits, _, params = CASES[name]
    layer = make()
    layer.build(shape)
    layer.set_weights(new_values(layer))
    kept = layer.get_weights()
    layer.build(shape)  # the same shape
    layer.build((None, *shape[1:]))  # the same with the batch axis unknown
    layer.build(fits)  # another batch size (and, for LSTM, another number of steps)
    layer.build_for((None, *shape[1:]))
    assert layer.count_params() == params
    for got, want in zip(layer.get_weights(), kept):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_building_again_for_an_incompatible_shape_is_a_shape_error(name):
    make, shape, _, misfit, params = CASES[name]
    layer = make()
    layer.build(shape)
    kept = layer.get_weights()
    with pytest.raises(ShapeError) as err:
        layer.build(misfit)
    assert layer.name in err.value.where
    assert layer.count_params() == params
    for got, want in zip(layer.get_weights(), kept):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_calling_on_an_incompatible_input_is_a_shape_error(name):
    make, shape, _, misfit, _ = CASES[name]
    layer = make()
    layer.build(shape)
    with pytest.raises(ShapeError) as err:
        layer(np.ones(misfit, np.float32))
    assert err.value.fix


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", ["784", (1.5, 3), None, 3, (), (None, 0), [[1, 3]], (True, 3)])
def test_a_malformed_build_shape_is_a_config_error(name, bad):
    layer = CASES[name][0]()
    with pytest.raises(ConfigError) as err:
        layer.build(bad)
    assert "input_shape" in err.value.expected
    assert not layer.built and not layer.weights


@pytest.mark.parametrize("name", NAMES)
def test_compute_output_shape_refuses_what_build_refuses(name):
    make, shape, _, misfit, _ = CASES[name]
    layer = make()
    with pytest.raises(ConfigError):
        layer.compute_output_shape("784")
    with pytest.raises(ShapeError):
        layer.compute_output_shape((None,))  # wrong rank: not an IndexError from inside
    assert layer.compute_output_shape(shape)[0] == shape[0]


@pytest.mark.parametrize(
    "name, shape",
    [("Dense", (None, None)), ("LSTM", (None, 4, None)), ("Conv2D", (None, 6, 6, None))],
)
def test_a_failed_build_leaves_no_weight_behind(name, shape):
    """An unknown feature axis cannot size the kernel: our ShapeError, and the layer stays
    unbuilt and empty, so a later build with a known shape makes exactly its weights."""
    make, good, _, _, params = CASES[name]
    layer = make()
    with pytest.raises(ShapeError) as err:
        layer.build(shape)
    assert "known size" in err.value.expected
    assert not layer.built and layer.weights == [] and not layer.non_trainable_weights
    layer.build(good)
    assert layer.count_params() == params


def test_a_build_failing_after_its_first_weight_takes_that_weight_back():
    """LSTM(100_000) on one feature: the kernel (1, 400_000) is made, then the recurrent kernel
    (100_000, 400_000) is refused - the kernel must not stay behind, half-built."""
    layer = LSTM(100_000)
    with pytest.raises(ConfigError) as err:
        layer.build((None, 5, 1))
    assert "recurrent_kernel" in err.value.expected
    assert not layer.built and layer.weights == [] and layer.regularization_losses() == []


class TwoWeights(Layer):
    def build(self, input_shape):
        self.add_weight("a", (input_shape[-1],), "ones", regularizer="l2")
        self.add_weight("b", (input_shape[-1], "2"))  # a typo in the custom layer

    def call(self, x, training=False):
        return x


def test_a_custom_build_that_fails_midway_leaves_no_weight_or_penalty():
    layer = TwoWeights()
    with pytest.raises(ConfigError):
        layer.build((None, 3))
    assert layer.weights == [] and layer.regularization_losses() == []
    assert not layer.built


def test_set_weights_before_build_is_a_not_built_error():
    layer = Dense(2)
    with pytest.raises(NotBuiltError) as err:
        layer.set_weights([np.ones((3, 2)), np.zeros(2)])
    assert "build" in err.value.fix


def test_set_weights_counts_as_an_in_place_write():
    layer = Dense(2)
    layer.build((None, 3))
    before = [w._version for w in layer.weights]
    layer.set_weights(new_values(layer))
    assert [w._version for w in layer.weights] == [v + 1 for v in before]


def test_batchnorm_moving_statistics_update_in_place_and_count_it():
    bn = BatchNormalization(momentum=0.5)
    bn.build((None, 2))
    mean_array, version = bn.moving_mean._data, bn.moving_mean._version
    bn(np.array([[1.0, 3.0], [3.0, 5.0]], np.float32), training=True)
    assert bn.moving_mean._data is mean_array  # optimizers and savers keep the same array
    np.testing.assert_allclose(bn.moving_mean.numpy(), [1.0, 2.0])  # 0.5 * 0 + 0.5 * batch
    assert bn.moving_mean._version == version + 1


class Scale(Layer):
    """A custom layer whose build calls the base's (super().build runs inside the protocol)."""

    def build(self, input_shape):
        super().build(input_shape)
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, x, training=False):
        return x * self.w


def test_custom_layers_get_the_same_build_semantics():
    layer = Scale()
    layer.build((2, 3))
    assert layer.built and layer.input_shape == (None, 3)
    layer.set_weights([np.array([1.0, 2.0, 3.0])])
    np.testing.assert_allclose(layer(Tensor(np.ones((4, 3)))).numpy()[0], [1.0, 2.0, 3.0])
    layer.build((None, 3))
    assert len(layer.weights) == 1
    with pytest.raises(ShapeError):
        layer(np.ones((4, 5)))


def test_a_layer_built_by_build_works_in_a_model():
    from tinygrad_edu.models import Sequential

    first = Dense(2)
    first.build((1, 3))
    first.set_weights([np.ones((3, 2)), np.zeros(2)])
    model = Sequential([first, Dense(1)])
    model.build((None, 3))
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], np.ones((3, 2)))
    assert model.count_params() == 8 + 3


class Custom(Layer):
    """A custom layer whose weight shape comes from the test."""

    def __init__(self, weight_shape, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.weight_shape, self.initializer = weight_shape, initializer

    def build(self, input_shape):
        self.add_weight("w", self.weight_shape, self.initializer)

    def call(self, x, training=False):
        return x


@pytest.mark.parametrize("shape", ["3", (3, 0), (2.0,), None, [[3]]])
def test_add_weight_checks_the_shape(shape):
    layer = Custom(shape)
    with pytest.raises(ConfigError) as err:
        layer.build((None, 3))
    assert "shape of 'w'" in err.value.expected
    assert not layer.built and not layer.weights


def test_add_weight_checks_what_a_custom_initializer_returns():
    layer = Custom((2, 3), initializer=lambda shape, dtype: np.zeros((3, 2), dtype))
    with pytest.raises(ConfigError) as err:
        layer.build((None, 3))
    assert "(2, 3)" in err.value.expected and "(3, 2)" in err.value.got
    assert Custom(()).build_for((None, 3)) == (None, 3)  # a scalar weight is fine


@pytest.mark.parametrize("dtype", ["int32", None, "float", 3])
def test_cast_and_trainable_check_their_values(dtype):
    layer = Dense(2)
    layer.build((None, 3))
    if dtype == "float":  # numpy's name for float64
        assert layer.cast(dtype).dtype is np.float64
    else:
        with pytest.raises(ConfigError):
            layer.cast(dtype)
        assert layer.dtype is np.float32 and layer.kernel.dtype == np.float32
    with pytest.raises(ConfigError):
        layer.trainable = "no"
    assert layer.trainable is True
