"""Every fast path equals its reference form at the sizes users use (issue 11, 'done when').

For each layer family with a fused op (Dense, Conv2D, Conv1D, the 1-D and 2-D poolings, SimpleRNN,
LSTM, GRU): a ``fused=True`` layer and a ``fused=False`` twin with the same float64 weights give
the same output, and the same gradients with respect to the input and every weight, for a random
upstream gradient - at 1, 7 and 64 units (filters), batch sizes 1 and 5, and for stacks of recurrent
layers; the recurrent layers also in training with ``dropout`` / ``recurrent_dropout`` (both
forms draw the same masks from the same seed). float64 so the comparison can be tight (rtol
1e-9): the two forms differ only by the order of floating-point sums.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu import layers as L

RTOL, ATOL = 1e-9, 1e-11
UNITS = [1, 7, 64]
BATCHES = [1, 5]


def _twins(make, x_shape):
    """(fused layer, reference layer) with the same float64 weights, both built for x_shape."""
    fast, slow = make(True), make(False)
    for layer in (fast, slow):
        layer.build((None,) + tuple(x_shape[1:]))
        layer.cast("float64")
    slow.set_weights(fast.get_weights())
    return fast, slow


def _value_and_grads(layer, x, upstream_seed):
    xt = Tensor(x, requires_grad=True)
    out = layer(xt, training=True)
    outs = out if isinstance(out, list) else [out]
    rng = np.random.default_rng(upstream_seed)
    total = sum((o * Tensor(rng.normal(size=o.shape))).sum() for o in outs)
    total.backward()
    grads = [xt.grad] + [w.grad for w in layer.weights]
    return [o.numpy().copy() for o in outs], grads


def _assert_twins_agree(make, x):
    fast, slow = _twins(make, x.shape)
    out_f, grads_f = _value_and_grads(fast, x, 7)
    out_s, grads_s = _value_and_grads(slow, x, 7)
    for a, b in zip(out_f, out_s):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    assert len(grads_f) == len(grads_s)
    for k, (a, b) in enumerate(zip(grads_f, grads_s)):
        assert a is not None and b is not None, f"gradient {k} missing"
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"gradient {k}")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("activation", [None, "relu", "softmax"])
def test_dense(units, batch, activation):
    _assert_twins_agree(lambda f: L.Dense(units, activation=activation, fused=f), _x(batch, 6))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("filters", UNITS)
@pytest.mark.parametrize("padding,strides", [("valid", 1), ("same", 2)])
def test_conv2d(filters, batch, padding, strides):
    def make(f):
        return L.Conv2D(filters, (3, 3), strides=strides, padding=padding, fused=f)

    _assert_twins_agree(make, _x(batch, 6, 5, 2))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("cls", [L.MaxPooling2D, L.AveragePooling2D])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same")])
def test_pooling(cls, batch, pool, strides, padding):
    # distinct values: max pooling has no ties, so both forms pick the same element
    x = np.random.default_rng(1).permutation(batch * 7 * 6 * 3).reshape(batch, 7, 6, 3) / 10.0
    _assert_twins_agree(lambda f: cls(pool, strides=strides, padding=padding, fused=f), x)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("filters", UNITS)
@pytest.mark.parametrize("padding,strides,dilation", [("causal", 1, 2), ("same", 2, 1)])
def test_conv1d(filters, batch, padding, strides, dilation):
    def make(f):
        return L.Conv1D(filters, 3, strides, padding, dilation_rate=dilation, fused=f)

    _assert_twins_agree(make, _x(batch, 7, 2))


@pytest.mark.parametrize("cls", [L.MaxPooling1D, L.AveragePooling1D])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same")])
def test_pooling1d(cls, pool, strides, padding):
    x = np.random.default_rng(1).permutation(2 * 7 * 3).reshape(2, 7, 3) / 10.0  # no ties
    _assert_twins_agree(lambda f: cls(pool, strides=strides, padding=padding, fused=f), x)


RECURRENT = [L.SimpleRNN, L.LSTM, L.GRU]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("cls", RECURRENT, ids=lambda c: c.__name__)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent(cls, units, batch, return_sequences):
    def make(f):
        return cls(units, return_sequences=return_sequences, fused=f)

    _assert_twins_agree(make, _x(batch, 4, 3))


class _Stack:
    """Recurrent layers called one after another, with one weight list (for the twins)."""

    def __init__(self, layers):
        self.layers = layers

    def build(self, shape):
        for layer in self.layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def cast(self, dtype):
        for layer in self.layers:
            layer.cast(dtype)

    def get_weights(self):
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, values):
        values = list(values)
        for layer in self.layers:
            n = len(layer.weights)
            layer.set_weights(values[:n])
            values = values[n:]

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    def __call__(self, x, training=False):
        for layer in self.layers:
            x = layer(x, training=training)
        return x


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize(
    "kinds",
    [(L.SimpleRNN, L.SimpleRNN), (L.LSTM, L.LSTM), (L.GRU, L.LSTM, L.SimpleRNN)],
    ids=lambda ks: "-".join(k.__name__ for k in ks),
)
def test_stacked_recurrent_layers(kinds, units):
    def make(f):
        last = len(kinds) - 1
        return _Stack([k(units, return_sequences=i < last, fused=f) for i, k in enumerate(kinds)])

    _assert_twins_agree(make, _x(3, 5, 2))


@given(
    cls=st.sampled_from(RECURRENT),
    second=st.sampled_from([None, *RECURRENT]),  # a stacked pair when not None
    units=st.sampled_from([1, 64]),
    batch=st.integers(1, 5),
    rates=st.sampled_from([(0.3, 0.0), (0.0, 0.3), (0.25, 0.5)]),  # second > 0: masks per gate
    return_sequences=st.booleans(),
    go_backwards=st.booleans(),
)
def test_recurrent_with_dropout(cls, second, units, batch, rates, return_sequences, go_backwards):
    def make(f):
        kw = {"dropout": rates[0], "recurrent_dropout": rates[1], "fused": f}
        last = cls if second is None else second
        top = last(
            units, return_sequences=return_sequences, go_backwards=go_backwards, seed=2, **kw
        )
        if second is None:
            return top
        return _Stack(
            [cls(units, return_sequences=True, go_backwards=go_backwards, seed=1, **kw), top]
        )

    _assert_twins_agree(make, _x(batch, 4, 3))
