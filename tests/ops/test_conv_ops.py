"""The fused Conv2D / MaxPool2D / AvgPool2D ops equal their composed-from-Tensor-ops reference
forms: forward values and every gradient (input, kernel, bias), over hypothesis-drawn sizes,
strides, dilations, paddings and data formats. (Forward vs numpy and the float64 gradcheck of the
fused ops are in the op table: ``entries_conv.py``.)"""

import numpy as np
import pytest
from entries_conv import window_geometry
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, config, gradcheck, ops, tensor_from_op
from tinygrad_edu.layers import AveragePooling2D, Conv2D, MaxPooling2D
from tinygrad_edu.layers.conv import conv2d_reference
from tinygrad_edu.layers.pooling import pool2d_reference
from tinygrad_edu.ops.conv import spatial_pads
from tinygrad_edu.testing import arrays, distinct_values

FORMATS = st.sampled_from(["channels_last", "channels_first"])


def ops_in_graph(out):
    found, stack = set(), [out]
    while stack:
        t = stack.pop()
        if t.op is not None:
            found.add(type(t.op))
            stack.extend(t.op.parents)
    return found


def run(layer, x, upstream, dtype=np.float64):
    """Output, the ops in its graph, and the gradients of sum(out * upstream) w.r.t. the input
    and each weight."""
    xt = Tensor(np.array(x, dtype=dtype), requires_grad=True)
    out = layer(xt)
    found = ops_in_graph(out)  # before backward frees the graph
    out.backward(upstream.astype(dtype))
    return out, found, [xt.grad] + [w.grad for w in layer.weights]


def twin_layers(cls, kwargs, shape, dtype=np.float64):
    """The same layer twice, fused and reference, sharing one set of weights."""
    fused, ref = cls(**kwargs, fused=True), cls(**kwargs, fused=False)
    ref.build_for((None, *shape[1:]))
    fused.build_for((None, *shape[1:]))
    fused.set_weights(ref.get_weights())
    return fused.cast(dtype), ref.cast(dtype)


def assert_twins_agree(cls, kwargs, x, seed=0, dtype=np.float64, tol=1e-10):
    fused, ref = twin_layers(cls, kwargs, x.shape, dtype)
    out_shape = fused.compute_output_shape((x.shape[0], *x.shape[1:]))
    upstream = np.random.default_rng(seed).standard_normal(out_shape)
    out_f, ops_f, grads_f = run(fused, x, upstream, dtype)
    out_r, ops_r, grads_r = run(ref, x, upstream, dtype)
    assert out_f.dtype == out_r.dtype == dtype
    np.testing.assert_allclose(out_f.data, out_r.data, rtol=tol, atol=tol)
    for gf, gr in zip(grads_f, grads_r):
        assert gf.dtype == gr.dtype == dtype
        np.testing.assert_allclose(gf, gr, rtol=tol, atol=tol)
    return ops_f, ops_r


@st.composite
def conv_layer_case(draw):
    kernel, strides, dilation, padding, hw = draw(window_geometry())
    fmt = draw(FORMATS)
    b, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shape = (b, c, *hw) if fmt == "channels_first" else (b, *hw, c)
    kwargs = dict(
        filters=draw(st.integers(1, 6)),
        kernel_size=kernel,
        strides=strides,
        dilation_rate=dilation,
        padding=padding,
        data_format=fmt,
        use_bias=draw(st.booleans()),
        activation=draw(st.sampled_from([None, "relu", "tanh"])),
    )
    return kwargs, draw(arrays(shape))


@given(conv_layer_case())
def test_conv_fused_equals_reference(cfg):
    kwargs, x = cfg
    ops_f, ops_r = assert_twins_agree(Conv2D, kwargs, x)
    assert ops.Conv2D in ops_f and ops.Conv2D not in ops_r


@given(conv_layer_case())
def test_conv_fused_equals_reference_float32(cfg):
    kwargs, x = cfg
    assert_twins_agree(Conv2D, kwargs, x, dtype=np.float32, tol=1e-4)


@st.composite
def pool_layer_case(draw, values):
    pool, strides, _, padding, hw = draw(window_geometry(dilate=False))
    fmt = draw(FORMATS)
    b, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (b, c, *hw) if fmt == "channels_first" else (b, *hw, c)
    strides = draw(st.sampled_from([None, strides]))
    kwargs = dict(pool_size=pool, strides=strides, padding=padding, data_format=fmt)
    return kwargs, draw(values(shape))


def small_integers(shape):
    """Values from {-1, 0, 1}: windows full of ties."""
    return arrays(shape, -1.5, 1.5).map(np.round)


@given(pool_layer_case(distinct_values))
def test_max_pool_fused_equals_reference(cfg):
    ops_f, ops_r = assert_twins_agree(MaxPooling2D, *cfg)
    assert ops.MaxPool2D in ops_f and ops.MaxPool2D not in ops_r


@given(pool_layer_case(small_integers))
def test_max_pool_ties_are_shared_the_same_way_in_both_forms(cfg):
    assert_twins_agree(MaxPooling2D, *cfg)


@given(pool_layer_case(arrays))
def test_avg_pool_fused_equals_reference(cfg):
    ops_f, ops_r = assert_twins_agree(AveragePooling2D, *cfg)
    assert ops.AvgPool2D in ops_f and ops.AvgPool2D not in ops_r


def test_max_pool_tie_rule_splits_equally():
    x = np.zeros((1, 2, 2, 1))
    for fused in (True, False):
        xt = Tensor(x, requires_grad=True)
        MaxPooling2D(fused=fused)(xt).sum().backward()
        np.testing.assert_array_equal(xt.grad, np.full_like(x, 0.25))


def test_the_setting_switches_every_layer_to_the_reference():
    x = Tensor(np.ones((1, 4, 4, 2)), requires_grad=True)
    with config.fused(False):
        found = ops_in_graph(MaxPooling2D()(Conv2D(3, 2)(x)))
    assert not found & {ops.Conv2D, ops.MaxPool2D}
    found = ops_in_graph(AveragePooling2D()(Conv2D(3, 2)(x)))
    assert {ops.Conv2D, ops.AvgPool2D} <= found


@given(st.data())
def test_reference_forms_pass_gradcheck(data):
    kernel, strides, dilation, padding, hw = data.draw(window_geometry(max_spatial=5))
    c, f = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    x = data.draw(arrays((1, *hw, c)))
    w, b = data.draw(arrays((*kernel, c, f))), data.draw(arrays((f,)))
    pads = spatial_pads(hw, kernel, strides, padding, dilation)
    assert gradcheck(lambda x, w, b: conv2d_reference(x, w, b, strides, pads, dilation), x, w, b)
    xd = data.draw(distinct_values((1, *hw, c)))
    pool_pads = spatial_pads(hw, kernel, strides, padding)
    for kind in ("max", "avg"):
        assert gradcheck(lambda t: pool2d_reference(t, kind, kernel, strides, pool_pads), xd)


@pytest.mark.parametrize("needs", [(False, True, True), (True, False, False), (True, True, False)])
def test_conv_op_computes_only_the_gradients_asked_for(needs):
    rng = np.random.default_rng(1)
    arrays_ = [
        rng.standard_normal((2, 5, 5, 3)),
        rng.standard_normal((3, 3, 3, 4)),
        rng.standard_normal(4),
    ]
    ts = [Tensor(a, requires_grad=n) for a, n in zip(arrays_, needs)]
    ref = [Tensor(a, requires_grad=True) for a in arrays_]
    tensor_from_op(ops.Conv2D, *ts).sum().backward()
    conv2d_reference(*ref, (1, 1), ((0, 0), (0, 0)), (1, 1)).sum().backward()
    for t, r, n in zip(ts, ref, needs):
        if n:
            np.testing.assert_allclose(t.grad, r.grad, rtol=1e-10, atol=1e-10)
        else:
            assert t.grad is None
