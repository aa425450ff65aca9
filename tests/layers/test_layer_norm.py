"""LayerNormalization: the contract at 1 and 64 features (float64 gradcheck through the
statistics), the forward against numpy's formula, Keras' numbers, and the axis error."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ShapeError
from tinygrad_edu.layers import LayerNormalization
from tinygrad_edu.testing.layers import check_layer


@settings(deadline=None)
@given(
    features=st.sampled_from([1, 64]),
    center=st.booleans(),
    scale=st.booleans(),
    sequence=st.booleans(),
)
def test_layer_norm_contract(features, center, scale, sequence):
    shape = (2, 3, features) if sequence else (3, features)
    layer = LayerNormalization(center=center, scale=scale)
    report = check_layer(layer, shape, expected_params=(center + scale) * features)
    assert report["gradchecked"] == ["input"] + ["gamma"] * scale + ["beta"] * center


@pytest.mark.parametrize(
    "axis, shape", [(-1, (4, 5)), (-1, (2, 3, 6)), (1, (2, 3, 6)), (-2, (2, 3, 6))]
)
def test_forward_equals_numpy(axis, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    layer = LayerNormalization(axis=axis, dtype="float64")
    layer.build_for((None, *shape[1:]))
    gamma, beta = rng.standard_normal(shape[axis]), rng.standard_normal(shape[axis])
    layer.set_weights([gamma, beta])
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    expected = gamma.reshape(bshape) * (x - mean) / np.sqrt(var + 1e-3) + beta.reshape(bshape)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-12)
    assert layer.weight_names == ["gamma", "beta"]


@pytest.mark.parametrize("axis", [[-2, -1], (1, 2), [2, 1]])
def test_several_axes_normalize_over_all_of_them(axis):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4)) * 2 + 1
    layer = LayerNormalization(axis=axis, dtype="float64")
    layer.build_for((None, 3, 4))
    gamma, beta = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    layer.set_weights([gamma, beta])
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-12)
    assert layer.count_params() == 24 and layer.algebra().count_text() == "2*3*4 = 24"
    check_layer(LayerNormalization(axis=axis), (2, 3, 4), expected_params=24)


def test_same_in_training_and_inference_and_keras_numbers():
    layer = LayerNormalization()
    x = np.random.default_rng(1).standard_normal((4, 128))
    np.testing.assert_array_equal(layer(x, training=True).data, layer(x).data)
    assert layer.count_params() == 256 and not layer.non_trainable_weights
    assert layer.algebra().count_text() == "2*128 = 256"
    assert layer.get_config()["epsilon"] == 1e-3


def test_batch_axis_is_refused():
    with pytest.raises(ShapeError) as err:
        LayerNormalization(axis=0)(np.zeros((2, 3)))
    fixed = eval(err.value.fix.split("  #")[0], {"LayerNormalization": LayerNormalization})
    assert fixed(np.zeros((2, 3))).shape == (2, 3)
