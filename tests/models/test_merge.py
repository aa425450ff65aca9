"""Merge layers: Keras' semantics on lists of inputs, float64 gradients, shape errors that name
every input's shape, the algebra, and the config round trip."""

import numpy as np
import pytest

from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.errors import ConfigError, ShapeError
from tinygrad_edu.layers import (
    Add,
    Average,
    Concatenate,
    Dense,
    Dot,
    Input,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

rng = np.random.default_rng(0)
A, B, C = (rng.normal(size=(3, 4)) for _ in range(3))

ELEMENTWISE = [
    (Add, lambda *xs: sum(xs)),
    (Multiply, lambda *xs: np.prod(xs, axis=0)),
    (Average, lambda *xs: np.mean(xs, axis=0)),
    (Maximum, lambda *xs: np.max(xs, axis=0)),
    (Minimum, lambda *xs: np.min(xs, axis=0)),
]


@pytest.mark.parametrize("cls, reference", ELEMENTWISE)
def test_elementwise_forward_and_gradient(cls, reference):
    out = cls()([A, B, C])
    np.testing.assert_allclose(out.data, reference(A, B, C), rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda a, b, c: cls()([a, b, c]), A, B, C)


def test_subtract_takes_exactly_two():
    np.testing.assert_allclose(Subtract()([A, B]).data, A - B, rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda a, b: Subtract()([a, b]), A, B)
    with pytest.raises(ConfigError, match="2 inputs"):
        Subtract()([A, B, C])


def test_broadcast_of_size_one_as_keras():
    col = rng.normal(size=(3, 1))
    np.testing.assert_allclose(Add()([A, col]).data, A + col, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [1, -1, 2])
def test_concatenate(axis):
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    out = Concatenate(axis=axis)([a, b])
    np.testing.assert_allclose(out.data, np.concatenate([a, b], axis=axis), rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda x, y: Concatenate(axis=axis)([x, y]), a, b)


def test_dot_rank2_and_normalize_is_cosine():
    out = Dot(axes=1)([A, B])
    np.testing.assert_allclose(out.data, (A * B).sum(1, keepdims=True), rtol=1e-5, atol=1e-6)
    cos = Dot(axes=1, normalize=True)([A, B]).data
    expect = (A * B).sum(1) / np.linalg.norm(A, axis=1) / np.linalg.norm(B, axis=1)
    np.testing.assert_allclose(cos.ravel(), expect, rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda a, b: Dot(axes=1, normalize=True)([a, b]), A, B)


@pytest.mark.parametrize(
    "axes, b_shape", [((2, 1), (2, 4, 5)), ((1, 1), (2, 3, 5)), ((2, 2), (2, 5, 4))]
)
def test_dot_rank3_is_a_batched_contraction(axes, b_shape):
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=b_shape)
    out = Dot(axes=axes)([a, b])
    letters_a = "bij" if axes[0] == 2 else "bji"
    letters_b = "bjk" if axes[1] == 1 else "bkj"
    expect = np.einsum(f"{letters_a},{letters_b}->bik", a, b)
    np.testing.assert_allclose(out.data, expect, rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda x, y: Dot(axes=axes)([x, y]), a, b)


def test_shape_errors_at_graph_construction_name_both_inputs():
    a, b = Input(shape=(64,)), Input(shape=(32,))
    with pytest.raises(ShapeError) as err:
        Add()([a, b])
    assert "(batch, 64) and (batch, 32)" in err.value.got
    assert "Concatenate" in err.value.fix
    with pytest.raises(ShapeError) as err:
        Dot(axes=1)([Dense(8)(a), Dense(4)(b)])
    assert "(batch, 8) and (batch, 4)" in err.value.got
    with pytest.raises(ShapeError, match="axis -1"):
        Concatenate()([Input(shape=(2, 3)), Input(shape=(4, 3))])


def test_data_errors():
    with pytest.raises(ConfigError, match="list of inputs"):
        Add()(A)
    with pytest.raises(ShapeError, match="batch size"):
        Add()([A, B[:2]])
    with pytest.raises(ConfigError, match="2 or more"):
        Add()([A])


def test_algebra_and_config():
    add = Add()
    add.build([(None, 4), (None, 4)])
    assert add.algebra().text() == "[B,4] + [B,4] -> [B,4]"
    assert add.count_params() == 0 and add.algebra().count.total == 0
    cat = Concatenate(axis=-1)
    cat.build([(None, 4), (None, 2)])
    assert cat.output_shape == (None, 6)
    assert cat.algebra().text() == "concat([B,4], [B,2], axis=-1) -> [B,6]"
    again = Dot.from_config(Dot(axes=(2, 1), normalize=True).get_config())
    assert again.axes == (2, 1) and again.normalize
    assert Concatenate.from_config(cat.get_config()).axis == -1


def test_tensor_arithmetic_on_symbolic_tensors_points_to_merge_layers():
    x = Dense(4)(Input(shape=(3,)))
    with pytest.raises(ConfigError, match="Add"):
        x + x
    assert isinstance(Add()([x, x]).shape, tuple)


def test_float32_inputs_stay_float32():
    out = Add()([A.astype(np.float32), Tensor(B.astype(np.float32))])
    assert out.dtype == np.float32


def test_a_built_merge_layer_still_checks_each_call():
    add = Add()
    add([A, B])
    with pytest.raises(ShapeError) as err:
        add([A, np.ones((3, 5))])
    assert "(batch, 4) and (batch, 5)" in err.value.got


@pytest.mark.parametrize("width", [1, 64])
@pytest.mark.parametrize("make", [Add, Maximum, Concatenate, lambda: Dot(axes=1)])
def test_gradients_at_the_widths_users_use(width, make):
    a, b = rng.normal(size=(2, width)), rng.normal(size=(2, width))
    assert gradcheck(lambda x, y: make()([x, y]), a, b)
