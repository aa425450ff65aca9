"""The eager step's shortcuts give the same answers as the checks they skip.

Each training step calls ``Tensor(x)``, every layer, an activation and a loss; the common case
(a float array, a Tensor, ``axis=-1``, default loss options, the input shape accepted last time)
takes a short path, and a metric counts its hits without ``np.mean``'s wrapper. Here each
shortcut is held to the full path, and every input it must not let through still meets its typed
error.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor, activations, losses, metrics
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential


def test_a_layer_checks_each_new_input_shape_and_again_after_a_change():
    layer = Dense(4, input_shape=(3,))
    assert layer(np.ones((2, 3), np.float32)).shape == (2, 4)
    with pytest.raises(ShapeError) as err:
        layer(np.ones((2, 5), np.float32))  # a new shape is checked, not taken as the last one
    assert err.value.where == layer.where  # the layer's teaching error, not numpy's in the op
    assert layer(Tensor(np.ones((2, 3), np.float32))).shape == (2, 4)
    assert layer(np.ones((7, 3), np.float32)).shape == (7, 4)  # a new batch size
    for _ in range(2):  # refused every time, never remembered
        with pytest.raises(ShapeError) as err:
            layer(Tensor(np.ones((7, 5), np.float32)))
        assert err.value.where == layer.where


def test_a_layer_converts_every_array_that_is_not_already_its_dtype():
    layer = Dense(2, input_shape=(3,))
    x64 = np.ones((1, 3))
    assert layer(x64).dtype == np.float32  # float64 cast to the layer's float32
    swapped = np.ones((1, 3), dtype=">f4")  # float32 in the other byte order: a new dtype object
    assert layer(swapped).dtype == np.float32
    np.testing.assert_array_equal(layer(swapped).numpy(), layer(x64).numpy())
    wide = Dense(2, input_shape=(3,), dtype="float64")
    assert wide(np.ones((1, 3), np.float32)).dtype == np.float64


def test_tensor_keeps_float_arrays_and_converts_or_refuses_the_rest():
    a = np.ones(3, np.float32)
    assert Tensor(a)._data is a and Tensor(a.astype(np.float64))._data.dtype == np.float64
    assert Tensor(np.ones(3, np.float16))._data.dtype == np.float32
    assert Tensor(a, dtype="float64")._data.dtype == np.float64
    assert Tensor(a, requires_grad=np.bool_(True)).requires_grad is True
    with pytest.raises(ConfigError):
        Tensor(a, requires_grad=1)  # 1 == True, but a flag is a bool


def test_softmax_shortcut_equals_the_checked_axis_and_refuses_what_the_check_refuses():
    z = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    expected = activations.softmax(z, axis=np.int64(1)).numpy()  # the checked path
    np.testing.assert_array_equal(activations.softmax(z).numpy(), expected)
    np.testing.assert_array_equal(activations.softmax(z.numpy().tolist()).numpy(), expected)
    for bad in (-1.0, True, 2, "last"):
        with pytest.raises((ConfigError, ShapeError)) as err:
            activations.softmax(z, axis=bad)
        assert err.value.where == "activation 'softmax'"  # the activation's check, not the op's


def test_loss_options_given_in_any_spelling_compute_the_same_loss():
    y_pred = Tensor(np.array([[0.2, 0.8], [0.6, 0.4]]))
    y = np.array([1, 0])
    usual = losses.sparse_categorical_crossentropy(y, y_pred, reduction="sum").item()
    assert losses.sparse_categorical_crossentropy(y, y_pred, reduction="SUM").item() == usual
    with pytest.raises(ConfigError):
        losses.sparse_categorical_crossentropy(y, y_pred, from_logits=0)


@given(st.integers(1, 300), st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_accuracies_are_exactly_the_mean_of_their_hits(batch, classes, seed):
    rng = np.random.default_rng(seed)
    p = rng.random((batch, classes)).round(1)  # ties too: argmax takes the first
    labels = rng.integers(0, classes, batch)
    one_hot = np.eye(classes)[labels]
    hits = p.argmax(axis=-1) == labels
    assert metrics.sparse_categorical_accuracy(labels, p) == float(np.mean(hits))
    assert metrics.categorical_accuracy(one_hot, p) == float(np.mean(hits))
    t = rng.integers(0, 2, (batch, classes))
    assert metrics.binary_accuracy(t, p) == float(np.mean((p > 0.5) == (t > 0.5)))


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_of_a_one_element_tensor_starts_from_ones_of_its_shape_and_dtype(shape, dtype):
    x = Tensor(np.full(shape, 3.0, dtype), requires_grad=True)
    (x * x).backward()
    assert x.grad.shape == shape and x.grad.dtype == dtype and x.grad.item() == 6.0
    x.zero_grad()
    x.backward()  # the root is the leaf itself: its .grad is ones, owned by no one else
    assert x.grad.shape == shape and x.grad.dtype == dtype and x.grad.item() == 1.0
    x.grad += 1
    x.backward()
    assert x.grad.item() == 3.0


def test_a_layer_that_overrides_to_tensor_sees_tensors_too():
    class Doubling(Dense):  # a user's layer converting its inputs its own way
        def _to_tensor(self, x):
            return Tensor(np.asarray(x.numpy() if isinstance(x, Tensor) else x) * 2)

    layer = Doubling(1, input_shape=(1,), kernel_initializer="ones")
    assert Doubling.converts_tensors and not Dense.converts_tensors
    assert layer(Tensor(np.ones((1, 1), np.float32))).item() == 2.0


@given(
    units=st.sampled_from([1, 64]),
    batches=st.lists(st.integers(1, 9), min_size=1, max_size=4),
)
def test_the_shape_cache_in_a_stacked_model_equals_the_checked_path(units, batches):
    """A stack of layers (1 and 64 units) called with changing batch sizes, Tensors and arrays
    mixed, gives what a fresh, never-cached copy gives, and a wrong width after many good calls
    is still each layer's teaching error."""
    def stack():
        return Sequential(
            [Dense(units, "relu", input_shape=(3,)), Dense(units, "tanh"), Dense(2)]
        )

    cached, weights = stack(), None
    rng = np.random.default_rng(units)
    for k, b in enumerate(batches):
        x = rng.normal(size=(b, 3)).astype(np.float32)
        out = cached(Tensor(x) if k % 2 else x).numpy()
        weights = weights or cached.get_weights()
        fresh = stack()
        fresh.set_weights(weights)
        np.testing.assert_array_equal(out, fresh(x).numpy())
    with pytest.raises(ShapeError) as err:
        cached(np.ones((2, 4), np.float32))
    assert err.value.where == cached.layers[0].where  # the layer's error, not the op's
