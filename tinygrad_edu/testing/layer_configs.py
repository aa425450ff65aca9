"""Hypothesis strategies that draw valid layer configurations, for ``check_layer``.

Each of ``dense_configs``, ``conv2d_configs``, ``pooling_configs``, ``rnn_configs`` and
``batchnorm_configs`` draws ``{"kwargs": {...constructor arguments...}, "input_shape": (batch,
...)}``; ``rnn_configs`` adds ``"layer"`` (the class), ``rnn_stack_configs`` draws stacks of 2-3
recurrent layers. Unit counts (Dense units, Conv2D filters, recurrent units, BatchNorm features)
reach the sizes users use: 1 to 64 with 1, 2, 7 and 64 drawn often (up to 300 under the
``thorough`` profile; ``max_units=`` sets another bound). Batches, sequences and images stay small,
so a property test stays fast::

    @given(rnn_configs(layer="LSTM"))
    def test_lstm(cfg):
        check_layer(cfg["layer"](**cfg["kwargs"]), cfg["input_shape"])
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .profiles import default_max_units
from .strategies import unit_counts

_ACTIVATIONS = [None, "tanh", "sigmoid", "relu"]
RELU_MAX_UNITS = 64
#: no relu for Conv2D: a window lying wholly in the "same" zero padding has a pre-activation of
#: exactly 0 (the bias starts at 0), relu's kink, where no gradient check can agree
_CONV_ACTIVATIONS = [None, "tanh", "sigmoid", "linear"]
#: no relu for recurrent layers either: over T steps of up to 300 units some pre-activation lands
#: within a finite-difference step of relu's kink often enough to fail a gradient check
_RNN_ACTIVATIONS = ["tanh", "sigmoid", "linear"]
_RNN_CLASSES = ("SimpleRNN", "LSTM", "GRU")
_FORMATS = ["channels_last", "channels_first"]


def _int_or_pair(draw: Any, lo: int, hi: int) -> tuple[Any, tuple[int, int]]:
    """Keras accepts ``3`` or ``(3, 2)``: draw either form; return (argument, as a pair)."""
    pair = (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))
    if draw(st.booleans()):
        return pair[0], (pair[0], pair[0])
    return pair, pair


def _as_argument(pair: tuple[int, int]) -> Any:
    """``(2, 2)`` -> ``2`` (Keras' int form); a pair of two different sizes stays a pair."""
    return pair[0] if pair[0] == pair[1] else pair


def _image_shape(
    draw: Any,
    window: tuple[int, int],
    data_format: str,
    max_batch: int,
    max_spatial: int,
    max_channels: int,
) -> tuple[int, ...]:
    """(batch, H, W, C) or (batch, C, H, W) with H, W at least the window (valid padding fits)."""
    batch = draw(st.integers(1, max_batch))
    h = draw(st.integers(window[0], max(window[0], max_spatial)))
    w = draw(st.integers(window[1], max(window[1], max_spatial)))
    c = draw(st.integers(1, max_channels))
    return (batch, c, h, w) if data_format == "channels_first" else (batch, h, w, c)


def _relu_ceiling(activation: Any, max_units: int | None) -> int | None:
    """relu's kink: the more pre-activations, the likelier one lies within gradcheck's step of 0
    (measured per check_layer call: 0.2% at 64 units x 9 rows, 4.5% at 300), so relu layers stay
    at <= 64 units while the other activations go up to ``max_units``."""
    if activation != "relu":
        return max_units
    return min(RELU_MAX_UNITS, default_max_units() if max_units is None else max_units)


def _maybe_fused(draw: Any, kwargs: dict[str, Any], draw_fused: bool) -> dict[str, Any]:
    if draw_fused:
        kwargs["fused"] = draw(st.booleans())
    return kwargs


@st.composite
def dense_configs(
    draw: Any,
    max_units: int | None = None,
    max_features: int = 5,
    max_batch: int = 3,
    max_rank: int = 3,
    draw_fused: bool = False,
) -> dict[str, Any]:
    """Dense kwargs (units, activation, use_bias; ``fused`` too if ``draw_fused``) and an input
    of rank 2..max_rank (Dense maps the last axis). Units: ``unit_counts(max_units)``, at most
    ``RELU_MAX_UNITS`` (64) with relu."""
    middle = draw(st.lists(st.integers(1, 3), max_size=max_rank - 2))
    activation = draw(st.sampled_from(_ACTIVATIONS))
    kwargs = {
        "units": draw(unit_counts(_relu_ceiling(activation, max_units))),
        "activation": activation,
        "use_bias": draw(st.booleans()),
    }
    shape = (draw(st.integers(1, max_batch)), *middle, draw(st.integers(1, max_features)))
    return {"kwargs": _maybe_fused(draw, kwargs, draw_fused), "input_shape": shape}


def _conv_geometry(draw: Any, max_kernel: int, max_stride: int, max_dilation: int) -> tuple:
    """kernel, strides, dilation as pairs; Keras refuses strides > 1 with dilation > 1, so a
    config has one or the other (or neither)."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    strides, dilation = (1, 1), (1, 1)
    if max_dilation > 1 and draw(st.booleans()):
        dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    else:
        strides = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    return kernel, strides, dilation


@st.composite
def conv2d_configs(
    draw: Any,
    max_filters: int | None = None,
    max_kernel: int = 3,
    max_stride: int = 3,
    max_dilation: int = 2,
    max_spatial: int = 6,
    max_channels: int = 4,
    max_batch: int = 3,
    draw_fused: bool = False,
) -> dict[str, Any]:
    """Conv2D kwargs (filters, kernel_size, strides or dilation_rate, padding, data_format,
    activation, use_bias; ``fused`` too if ``draw_fused``) and an input at least as big as the
    dilated kernel. Filters: ``unit_counts(max_filters)``: often more filters than channels."""
    kernel, strides, dilation = _conv_geometry(draw, max_kernel, max_stride, max_dilation)
    padding = draw(st.sampled_from(["valid", "same"]))
    data_format = draw(st.sampled_from(_FORMATS))
    kwargs = {
        "filters": draw(unit_counts(max_filters)),
        "kernel_size": _as_argument(kernel) if draw(st.booleans()) else kernel,
        "strides": _as_argument(strides),
        "dilation_rate": _as_argument(dilation),
        "padding": padding,
        "data_format": data_format,
        "activation": draw(st.sampled_from(_CONV_ACTIVATIONS)),
        "use_bias": draw(st.booleans()),
    }
    window = tuple(d * (k - 1) + 1 if padding == "valid" else 1 for k, d in zip(kernel, dilation))
    shape = _image_shape(draw, window, data_format, max_batch, max_spatial, max_channels)
    return {"kwargs": _maybe_fused(draw, kwargs, draw_fused), "input_shape": shape}


@st.composite
def pooling_configs(
    draw: Any,
    max_pool: int = 3,
    max_stride: int = 3,
    max_spatial: int = 7,
    max_channels: int = 4,
    max_batch: int = 3,
    draw_fused: bool = False,
) -> dict[str, Any]:
    """2-D pooling kwargs (pool_size, strides or None, padding, data_format; ``fused`` too if
    ``draw_fused``) and an input at least as big as the pool window."""
    pool, pool_pair = _int_or_pair(draw, 1, max_pool)
    strides = draw(st.one_of(st.none(), st.integers(1, max_stride)))
    data_format = draw(st.sampled_from(_FORMATS))
    kwargs = {
        "pool_size": pool,
        "strides": strides,
        "padding": draw(st.sampled_from(["valid", "same"])),
        "data_format": data_format,
    }
    shape = _image_shape(draw, pool_pair, data_format, max_batch, max_spatial, max_channels)
    return {"kwargs": _maybe_fused(draw, kwargs, draw_fused), "input_shape": shape}


def _rnn_class(layer: Any) -> type:
    """A recurrent layer class from a class or its name ("LSTM")."""
    from .. import layers as L

    if isinstance(layer, str):
        if layer not in _RNN_CLASSES:
            raise ValueError(f"rnn_configs: layer must be one of {_RNN_CLASSES}, got {layer!r}")
        return getattr(L, layer)
    return layer


def _rnn_kwargs(
    draw: Any, cls: type | None, max_units: int | None, draw_fused: bool
) -> dict[str, Any]:
    """The options every recurrent layer takes, then (when ``cls`` is given) its own."""
    kwargs = {
        "units": draw(unit_counts(max_units)),
        "return_sequences": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "use_bias": draw(st.booleans()),
        "activation": draw(st.sampled_from(_RNN_ACTIVATIONS)),
    }
    name = getattr(cls, "__name__", None)
    if name in ("LSTM", "GRU"):
        kwargs["recurrent_activation"] = draw(st.sampled_from(["sigmoid", "tanh"]))
    if name == "LSTM":
        kwargs["unit_forget_bias"] = draw(st.booleans())
    if name == "GRU":
        kwargs["reset_after"] = draw(st.booleans())
    return _maybe_fused(draw, kwargs, draw_fused)


def _sequence_shape(draw: Any, max_batch: int, max_timesteps: int, max_features: int) -> tuple:
    return (
        draw(st.integers(1, max_batch)),
        draw(st.integers(1, max_timesteps)),
        draw(st.integers(1, max_features)),
    )


@st.composite
def rnn_configs(
    draw: Any,
    max_units: int | None = None,
    max_timesteps: int = 5,
    max_features: int = 5,
    max_batch: int = 3,
    layer: Any = None,
    draw_fused: bool = False,
    draw_return_state: bool = False,
) -> dict[str, Any]:
    """``{"layer": class, "kwargs": {...}, "input_shape": (batch, T, F)}`` for SimpleRNN, LSTM
    and GRU. ``cfg["layer"](**cfg["kwargs"])`` builds it.

    layer: None (default) draws the class, and the kwargs are only those every recurrent layer
        takes (units, return_sequences, go_backwards, use_bias, activation), so they fit any of
        the three; a class or name ("LSTM") adds its own options (recurrent_activation,
        unit_forget_bias, reset_after).
    draw_fused, draw_return_state: also draw ``fused`` / ``return_state``.
    Units: ``unit_counts(max_units)``, with short sequences and small batches to stay fast.
    """
    given_cls = None if layer is None else _rnn_class(layer)
    cls = given_cls or _rnn_class(draw(st.sampled_from(_RNN_CLASSES)))
    kwargs = _rnn_kwargs(draw, given_cls, max_units, draw_fused)
    if draw_return_state:
        kwargs["return_state"] = draw(st.booleans())
    shape = _sequence_shape(draw, max_batch, max_timesteps, max_features)
    return {"layer": cls, "kwargs": kwargs, "input_shape": shape}


@st.composite
def rnn_stack_configs(
    draw: Any,
    min_layers: int = 2,
    max_layers: int = 3,
    max_units: int | None = None,
    max_timesteps: int = 4,
    max_features: int = 5,
    max_batch: int = 2,
    layer: Any = None,
    draw_fused: bool = False,
) -> dict[str, Any]:
    """A stack of recurrent layers: ``{"layers": [{"layer": class, "kwargs": {...}}, ...],
    "input_shape": (batch, T, F)}``. Every layer but the last returns sequences (so the next one
    gets a (batch, T, units) input); the last may return only its final state.

    layer: None mixes SimpleRNN, LSTM and GRU (each with its own options); a class or name makes
    every layer that class. Units per layer: ``unit_counts(max_units)``.
    """
    n = draw(st.integers(min_layers, max_layers))
    stack = []
    for i in range(n):
        cls = _rnn_class(layer if layer is not None else draw(st.sampled_from(_RNN_CLASSES)))
        kwargs = _rnn_kwargs(draw, cls, max_units, draw_fused)
        if i < n - 1:
            kwargs["return_sequences"] = True
        stack.append({"layer": cls, "kwargs": kwargs})
    shape = _sequence_shape(draw, max_batch, max_timesteps, max_features)
    return {"layers": stack, "input_shape": shape}


@st.composite
def batchnorm_configs(
    draw: Any, max_features: int | None = None, max_batch: int = 3, max_spatial_dims: int = 2
) -> dict[str, Any]:
    """BatchNormalization kwargs (axis, center, scale, momentum) and an input of batch >= 2
    with 0..max_spatial_dims spatial axes, features last (axis=-1) or first (axis=1).
    Features: ``unit_counts(max_features)``."""
    features = draw(unit_counts(max_features))
    spatial = draw(st.lists(st.integers(1, 3), max_size=max_spatial_dims))
    channels_first = bool(spatial) and draw(st.booleans())
    batch = draw(st.integers(2, max(2, max_batch)))
    shape = (batch, features, *spatial) if channels_first else (batch, *spatial, features)
    kwargs = {
        "axis": 1 if channels_first else -1,
        "center": draw(st.booleans()),
        "scale": draw(st.booleans()),
        "momentum": draw(st.floats(0, 1)),
    }
    return {"kwargs": kwargs, "input_shape": shape}


__all__ = [
    "batchnorm_configs",
    "conv2d_configs",
    "dense_configs",
    "pooling_configs",
    "rnn_configs",
    "rnn_stack_configs",
]
