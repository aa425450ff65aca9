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

from tinygrad_edu import (
    ConfigError,
    DataError,
    ShapeError,
    Tensor,
    activations,
    losses,
    metrics,
    no_grad,
    ops,
    tensor_from_op,
)
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


def _sparse_loss_and_grad(y, make_pred, **options):
    z = Tensor(np.linspace(-2, 3, 12).reshape(4, 3), requires_grad=True)
    loss = losses.sparse_categorical_crossentropy(y, make_pred(z), **options)
    loss.backward()
    return loss.numpy(), z.grad


@pytest.mark.parametrize("from_logits", [False, True])
def test_the_default_loss_options_skip_the_check_and_compute_what_the_checked_ones_do(from_logits):
    """sparse_categorical_crossentropy takes from_logits=False and reduction="mean" as they are;
    any other spelling goes through options() and gives the same loss and gradient."""
    y = np.array([0, 2, 1, 2])

    def make_pred(z):
        return z if from_logits else z.softmax()

    usual = _sparse_loss_and_grad(y, make_pred, from_logits=from_logits)
    for spelled in ({"reduction": "MEAN"}, {"reduction": np.str_("mean")}):
        same = _sparse_loss_and_grad(y, make_pred, from_logits=np.bool_(from_logits), **spelled)
        for a, b in zip(usual, same):
            np.testing.assert_array_equal(a, b)
    for bad in ({"reduction": np.array("mean")}, {"from_logits": 0}, {"reduction": "avg"}):
        with pytest.raises(ConfigError):
            losses.sparse_categorical_crossentropy(y, make_pred(Tensor(np.ones((4, 3)))), **bad)


def test_labels_of_every_accepted_kind_give_the_loss_of_intp_labels_and_the_rest_are_refused():
    """The labels' shortcut (an int/float array as it is) and the full conversion agree."""
    z = Tensor(np.linspace(-2, 3, 12).reshape(4, 3))
    y = np.array([0, 2, 1, 2], dtype=np.intp)
    want = losses.sparse_categorical_crossentropy(y, z.softmax()).numpy()
    for labels in (y.tolist(), y.astype(np.int8), y.astype(np.float32), Tensor(y), y[:, None]):
        got = losses.sparse_categorical_crossentropy(labels, z.softmax()).numpy()
        np.testing.assert_array_equal(got, want)
    for bad in (np.array(["a", "b", "c", "d"]), np.array([0, None, 1, 2], dtype=object)):
        with pytest.raises(DataError) as err:
            losses.sparse_categorical_crossentropy(bad, z.softmax())
        assert err.value.where == "loss 'sparse_categorical_crossentropy' (y_true)"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_softmax_output_reuses_its_log_probabilities_and_equals_the_loss_from_its_logits(dtype):
    """softmax_logits: the Softmax op's own log(out) (graph recorded) and a fresh log-softmax of
    the logits (no graph, or from_logits=True) give the same loss, to the bit."""
    z = Tensor(np.linspace(-4, 5, 21).reshape(7, 3).astype(dtype), requires_grad=True)
    y = np.array([0, 1, 2, 2, 1, 0, 0])
    from_logits = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
    from_logits.backward()
    grad, z.grad = z.grad, None
    reused = losses.sparse_categorical_crossentropy(y, z.softmax())
    reused.backward()  # straight into the logits, never through the softmax's backward
    with no_grad():
        recomputed = losses.sparse_categorical_crossentropy(y, z.softmax()).numpy()
    np.testing.assert_array_equal(reused.numpy(), from_logits.numpy())
    np.testing.assert_array_equal(recomputed, from_logits.numpy())
    assert z.grad.tobytes() == grad.tobytes()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 7, 30])
def test_the_cross_entropy_ops_reduce_as_their_plain_formula_to_the_bit(dtype, batch):
    """-mean(log_p[rows, labels]) with the sign on the scalar, the cached rows and the scalar
    gradient factor: the bits of the plain form (negate, sum, times dtype(1/n))."""
    rng = np.random.default_rng(batch)
    z = (rng.standard_normal((batch, 4)) * 3).astype(dtype)
    labels = rng.integers(0, 4, batch)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = log_p[np.arange(batch), labels]
    g = np.asarray(dtype(1.5))
    for reduction, factor in (("mean", 1.0 / batch), ("sum", 1.0)):
        op = ops.SparseSoftmaxCrossEntropy()
        out = op.forward(z, labels=labels, reduction=reduction, log_p=log_p)
        plain = np.asarray(np.add.reduce(-picked, axis=None) * dtype(factor))
        assert out.dtype == plain.dtype and out.tobytes() == plain.tobytes()
        dz = np.exp(log_p)
        dz[np.arange(batch), labels] -= 1
        dz *= g * factor
        assert op.backward(g).tobytes() == dz.tobytes()
        dense = ops.SoftmaxCrossEntropy().forward(
            z, target=np.eye(4, dtype=dtype)[labels], reduction=reduction, log_p=log_p
        )
        assert dense.tobytes() == plain.tobytes()
    assert not op.rows.flags.writeable  # shared between ops: nobody may write into it


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_scales_kept_values_by_one_over_dtype_one_minus_rate(dtype):
    """The op's cached scale is dtype(1) / dtype(1 - rate) for each rate and dtype."""
    a = np.ones((4, 50), dtype)
    for rate in (0.1, 1 / 3, 0.5, 0.9):
        op = ops.DropoutDraw()
        out = op.forward(a, rng=np.random.default_rng(0), rate=rate)
        keep = np.random.default_rng(0).random(a.shape) >= rate
        expected = np.where(keep, dtype(1) / dtype(1 - rate), dtype(0)).astype(dtype)
        assert out.dtype == dtype and out.tobytes() == expected.tobytes()


def test_dense_folds_batch_axes_only_when_there_are_several():
    """Linear's backward uses [B, n] inputs as they are and folds [B, T, n] into [B*T, n]: a
    time axis of one gives the 2-D gradients to the bit."""
    flat, timed = Dense(3, "relu"), Dense(3, "relu")
    flat.build((None, 5))
    timed.build((None, 1, 5))
    timed.set_weights(flat.get_weights())
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    flat(x).sum().backward()
    timed(x[:, None, :]).sum().backward()
    for a, b in zip(flat.weights, timed.weights):
        assert a.grad.tobytes() == b.grad.tobytes()


def test_metrics_take_lists_tensors_and_arrays_alike_and_name_themselves_in_errors():
    """A metric's shortcut (numeric arrays as they are, targets already of the right shape)
    and the full conversion agree; (B, 1) labels are still reshaped."""
    p = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    y = np.array([1, 0, 0])
    want = metrics.sparse_categorical_accuracy(y, p)
    for labels in (y.tolist(), Tensor(y), y[:, None], y.astype(np.float32), y.astype(bool)):
        assert metrics.sparse_categorical_accuracy(labels, Tensor(p)) == want
    assert metrics.binary_accuracy(y[:, None].tolist(), p[:, 1:]) == want
    with pytest.raises(DataError) as err:
        metrics.sparse_categorical_accuracy(np.array(["a", "b", "c"]), p)
    assert err.value.where == "metric 'sparse_categorical_accuracy' (y_true)"


@pytest.mark.parametrize(
    "x_shape, w_shape", [((2, 3), (4, 5)), ((), (3, 2)), ((2, 3), ()), ((2, 2, 3), (2, 5))]
)
def test_linear_checks_its_inner_sizes_only_when_they_can_be_wrong_and_then_as_matmul(
    x_shape, w_shape
):
    """Linear skips the inner-size check for a 2-D W that fits; every misfit still gets the
    check's teaching error (never numpy's)."""
    x, w = Tensor(np.ones(x_shape)), Tensor(np.ones(w_shape))
    with pytest.raises(ShapeError) as err:
        tensor_from_op(ops.Linear, x, w)
    assert err.value.where == "op 'Linear'" and "@" in err.value.got
    fits = tensor_from_op(ops.Linear, Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4))))
    assert fits.shape == (2, 4)
