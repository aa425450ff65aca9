"""Embedding: the contract (float64 gradcheck of the table at 1 and 64 units), the lookup against
numpy, the exact scattered gradient of repeated ids, Keras' numbers, and refused ids."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, DataError, Tensor
from tinygrad_edu.layers import Embedding
from tinygrad_edu.testing.layers import check_layer


@settings(deadline=None)
@given(
    input_dim=st.integers(1, 12),
    output_dim=st.sampled_from([1, 64]),
    batch=st.integers(1, 3),
    steps=st.integers(1, 5),
)
def test_embedding_contract(input_dim, output_dim, batch, steps):
    report = check_layer(
        Embedding(input_dim, output_dim),
        (batch, steps),
        expected_output_shape=(None, steps, output_dim),
        expected_params=input_dim * output_dim,
    )
    assert report["gradchecked"] == ["embeddings"]  # ids have no gradient


def test_forward_is_the_table_row_of_each_id():
    layer = Embedding(7, 4)
    ids = np.array([[0, 6, 3], [3, 3, 1]])
    out = layer(ids)
    table = layer.get_weights()[0]
    expected = np.stack([[table[i] for i in row] for row in ids])  # row by row, no fancy index
    np.testing.assert_array_equal(out.data, expected)
    assert layer.weight_names == ["embeddings"] and table.shape == (7, 4)


def test_repeated_ids_accumulate_their_gradient_exactly():
    layer = Embedding(5, 3).cast("float64")
    ids = np.array([[2, 2, 4], [2, 0, 4]])
    upstream = np.arange(18, dtype=np.float64).reshape(2, 3, 3)
    (layer(ids) * Tensor(upstream)).sum().backward()
    expected = np.zeros((5, 3))
    for (b, t), i in np.ndenumerate(ids):
        expected[i] += upstream[b, t]
    np.testing.assert_array_equal(layer.embeddings.grad, expected)
    assert not expected[1].any() and not expected[3].any()  # unused rows get nothing


def test_whole_floats_are_cast_and_default_initializer_is_keras_uniform():
    layer = Embedding(10, 8)
    a, b = layer(np.array([[1.0, 9.0]])), layer(np.array([[1, 9]]))
    np.testing.assert_array_equal(a.data, b.data)
    table = layer.get_weights()[0]
    assert np.abs(table).max() <= 0.05 and layer.get_config()["embeddings_initializer"] == "uniform"


@pytest.mark.parametrize("ids", [[[0, 3, 10]], [[-1, 2]], [[1e20]]])
def test_ids_outside_the_table_name_the_id_and_the_fix_runs(ids):
    layer = Embedding(10, 4)
    with pytest.raises(DataError) as err:
        layer(np.array(ids))
    bad = next(i for i in np.ravel(ids) if not 0 <= i < 10)
    assert f"the id {int(bad)}" in err.value.got
    fixed = eval(err.value.fix.split("  #")[0], {"Embedding": Embedding})
    assert fixed.input_dim >= 10
    if 0 <= bad < 1000:  # (a 1e20-row table is named honestly, not built)
        assert fixed.input_dim == int(bad) + 1 and fixed(np.array(ids)).shape[-1] == 4


def test_non_integer_ids_are_refused():
    with pytest.raises(DataError, match="whole numbers") as err:
        Embedding(10, 4)(np.array([[1.0, 2.5]]))
    assert "2.5" in err.value.got and "[0, 1]" in err.value.got


def test_mask_zero_is_refused_with_a_fix_that_runs():
    with pytest.raises(ConfigError, match="masking is not implemented") as err:
        Embedding(100, 8, mask_zero=True)
    fixed = eval(err.value.fix.split("  #")[0], {"Embedding": Embedding})
    assert fixed.mask_zero is False and "padding" in err.value.fix


def test_a_bad_initializer_fails_at_construction_and_a_regularizer_adds_its_loss():
    with pytest.raises(ConfigError, match="initializer"):
        Embedding(10, 4, embeddings_initializer="unifrom")
    layer = Embedding(10, 4, embeddings_regularizer="l2")
    layer(np.array([[1, 2]]))
    assert len(layer.regularization_losses()) == 1
    assert layer.get_config()["embeddings_regularizer"] == "l2"


def test_keras_numbers_and_input_length():
    layer = Embedding(input_dim=10000, output_dim=128, input_length=200)
    layer.build_for((None, 200))
    assert layer.count_params() == 1_280_000 and layer.output_shape == (None, 200, 128)
    algebra = layer.algebra()
    assert algebra.count_text() == "10000*128 = 1,280,000"
    assert [(op.role, op.factors()) for op in algebra.weights] == [("embeddings", (10000, 128))]
    assert (algebra.input, algebra.output) == (layer.input_shape, layer.output_shape)
    assert algebra.text(batch=2) == "[2,200] picks rows of [10000,128] -> [2,200,128]"
    clone = Embedding.from_config(layer.get_config())
    assert clone.input_length == 200 and clone.get_config() == layer.get_config()


def test_ids_given_as_a_float_tensor_are_checked_and_cast_like_arrays():
    """A functional model hands its inputs on as Tensors; Embedding must still check and cast
    them (a fast path that let Tensors skip ``_to_tensor`` broke two-input Keras files)."""
    layer = Embedding(5, 3)
    ids = np.array([[1, 4], [0, 2]])
    from_array = layer(ids.astype(np.float32)).numpy()
    from_tensor = layer(Tensor(ids.astype(np.float32))).numpy()
    assert np.array_equal(from_array, from_tensor)
    assert np.array_equal(from_tensor, layer.embeddings.numpy()[ids])
    with pytest.raises(DataError):
        layer(Tensor(np.array([[1.0, 5.0]], dtype=np.float32)))
