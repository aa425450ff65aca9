"""Op-table entries of ``ops/conv.py`` and ``ops/pooling.py``: Conv2D (with/without bias, strides,
dilation, valid/same padding), MaxPool2D (distinct values: no ties) and AvgPool2D (same padding
averages only real pixels), each against a direct loop-over-output-pixels numpy reference."""

import numpy as np
from hypothesis import strategies as st
from op_table import OpEntry, case

from tinygrad_edu import ops, tensor_from_op
from tinygrad_edu.ops.conv import spatial_pads
from tinygrad_edu.testing import arrays, distinct_values


@st.composite
def window_geometry(draw, max_window=3, max_stride=3, max_spatial=6, dilate=True):
    """(kernel, strides, dilation, padding name, (H, W)) that Keras allows (no stride > 1 with
    dilation > 1) and where a "valid" window fits the image."""
    kernel = (draw(st.integers(1, max_window)), draw(st.integers(1, max_window)))
    strides, dilation = (1, 1), (1, 1)
    if dilate and draw(st.booleans()):
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    else:
        strides = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = draw(st.sampled_from(["valid", "same"]))
    eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    low = eff if padding == "valid" else [1, 1]
    hw = tuple(draw(st.integers(lo, max(lo, max_spatial))) for lo in low)
    return kernel, strides, dilation, padding, hw


@st.composite
def conv_case(draw, bias=True, relu=False):
    """x [B, H, W, C], W [kh, kw, C, F] (F may exceed C), b [F], with explicit padding pairs.

    For a relu the pre-activations must stay away from its kink at 0 (finite differences across
    it disagree): then x > 0 and each filter's weights and bias share one drawn sign, so every
    pre-activation is at least 0.1 from 0 (or exactly 0 where a window sees only padding)."""
    kernel, strides, dilation, padding, hw = draw(window_geometry())
    b, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    if relu:
        sign = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=f, max_size=f)))
        arrs = [draw(arrays((b, *hw, c), 0.5, 1.5)), draw(arrays((*kernel, c, f), 0.2, 1)) * sign]
        bias_values = draw(arrays((f,), 0.1, 1)) * sign
    else:
        arrs = [draw(arrays((b, *hw, c))), draw(arrays((*kernel, c, f)))]
        bias_values = draw(arrays((f,)))
    if bias:
        arrs.append(bias_values)
    pads = spatial_pads(hw, kernel, strides, padding, dilation)
    params = dict(strides=strides, padding=pads, dilation=dilation)
    return case(*arrs, **params, activation="relu") if relu else case(*arrs, **params)


@st.composite
def pool_case(draw, values=arrays):
    """x [B, H, W, C] with a pool window, strides (often == pool: the reshape path) and pads."""
    pool, strides, _, padding, hw = draw(window_geometry(dilate=False))
    if draw(st.booleans()):
        strides = pool
    x = draw(values((draw(st.integers(1, 2)), *hw, draw(st.integers(1, 3)))))
    return case(x, pool=pool, strides=strides, padding=spatial_pads(hw, pool, strides, padding))


def _out_hw(padded_hw, window, strides, dilation):
    return [
        (n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(padded_hw, window, strides, dilation)
    ]


def _each_window(x, window, strides, dilation, padding, fill=0.0):
    """Yield (oh, ow, window [B, kh, kw, C]) for every output pixel, the slow obvious way."""
    xp = np.pad(x, ((0, 0), *padding, (0, 0)), constant_values=fill)
    oh, ow = _out_hw(xp.shape[1:3], window, strides, dilation)
    (kh, kw), (sh, sw), (dh, dw) = window, strides, dilation
    for r in range(oh):
        for q in range(ow):
            yield (
                r,
                q,
                xp[
                    :,
                    r * sh : r * sh + dh * (kh - 1) + 1 : dh,
                    q * sw : q * sw + dw * (kw - 1) + 1 : dw,
                    :,
                ],
            )


def np_conv2d(x, w, b=None, *, strides, padding, dilation, activation=None):
    """out[:, r, q, f] = sum over the receptive field of window * W[..., f] (+ b[f]), then relu
    if asked."""
    kh, kw, _, f = w.shape
    xp_hw = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:3], padding)]
    out = np.zeros((x.shape[0], *_out_hw(xp_hw, (kh, kw), strides, dilation), f), x.dtype)
    for r, q, win in _each_window(x, (kh, kw), strides, dilation, padding):
        out[:, r, q, :] = np.einsum("bijc,ijcf->bf", win, w)
    out = out if b is None else out + b
    return np.maximum(out, 0) if activation == "relu" else out


def np_pool2d(x, kind, *, pool, strides, padding):
    """Max (padding never wins) or mean over the real pixels of each window."""
    xp_hw = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:3], padding)]
    out = np.zeros((x.shape[0], *_out_hw(xp_hw, pool, strides, (1, 1)), x.shape[3]), x.dtype)
    real = np.ones_like(x)
    wins = _each_window(x, pool, strides, (1, 1), padding, np.nan)
    masks = _each_window(real, pool, strides, (1, 1), padding)
    for (r, q, win), (_, _, mask) in zip(wins, masks):
        out[:, r, q, :] = (
            np.nanmax(win, axis=(1, 2))
            if kind == "max"
            else np.nansum(win, axis=(1, 2)) / mask.sum(axis=(1, 2))
        )
    return out


def _conv(*ts, **p):
    return tensor_from_op(ops.Conv2D, *ts, **p)


OP_ENTRIES = [
    OpEntry("conv2d-bias", ops.Conv2D, conv_case(), _conv, np_conv2d),
    OpEntry("conv2d-no-bias", ops.Conv2D, conv_case(bias=False), _conv, np_conv2d),
    OpEntry("conv2d-relu", ops.Conv2D, conv_case(relu=True), _conv, np_conv2d),
    OpEntry("conv2d-relu-no-bias", ops.Conv2D, conv_case(bias=False, relu=True), _conv, np_conv2d),
    OpEntry(
        "max_pool2d",
        ops.MaxPool2D,
        pool_case(distinct_values),
        lambda x, **p: tensor_from_op(ops.MaxPool2D, x, **p),
        lambda x, **p: np_pool2d(x, "max", **p),
    ),
    OpEntry(
        "avg_pool2d",
        ops.AvgPool2D,
        pool_case(),
        lambda x, **p: tensor_from_op(ops.AvgPool2D, x, **p),
        lambda x, **p: np_pool2d(x, "avg", **p),
    ),
]
