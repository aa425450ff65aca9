"""The torch modules ``from_torch`` maps, each to our layer with the same weights.

| torch | ours | weights |
|---|---|---|
| ``Linear(in, out)`` | ``Dense(out)`` | ``weight.T`` -> kernel (in, out) |
| ``Conv2d`` | ``Conv2D(data_format="channels_first")`` | (out, in, kh, kw) -> (kh, kw, in, out) |
| ``ZeroPad2d`` | ``ZeroPadding2D``, or folded into the next Conv2D's ``padding="same"`` | |
| ``MaxPool2d``/``AvgPool2d`` | ``MaxPooling2D``/``AveragePooling2D`` | |
| ``AdaptiveAvg/MaxPool2d(1)`` | ``GlobalAverage/MaxPooling2D(keepdims=True)`` | |
| ``Flatten()``, ``Dropout(p)`` | ``Flatten``, ``Dropout(p)`` | |
| ``BatchNorm1d/2d`` | ``BatchNormalization`` (momentum m -> 1 - m) | gamma, beta, statistics |
| ``ReLU``, ``Softmax(dim)``, ... | the previous Dense/Conv2D's ``activation``, or ``Activation`` | |
| ``RNN/LSTM/GRU(batch_first=True)`` | ``SimpleRNN/LSTM/GRU`` (one per layer of ``num_layers``) | gate blocks reordered; ``bias_ih + bias_hh`` -> Keras' one bias (GRU: both rows) |
| ``Embedding`` | ``Embedding`` | unchanged |

Every option whose result we would compute differently is refused by ``require``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .._shapes import same_padding
from ..errors import ConfigError
from ..layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
    Reshape,
    ZeroPadding2D,
)
from .builder import Builder, Spec, array, channels, pair, require, require_rank, require_size
from .from_torch_sequences import bare_recurrent, embedding, recurrent_output
from .tables import ACTIVATIONS, ALONG_AN_AXIS, KERAS_NAME
from .torch_modules import modules

Converter = Callable[[Any, str, Builder], None]
NO_PADDING = ((0, 0), (0, 0))


# ---------------------------------------------------------------------- dense and images
def linear(m: Any, where: str, b: Builder) -> None:
    b.require_own_layout(where)
    fix = f"torch.nn.Linear({b.shape[-1]}, {m.out_features})"
    require_size(where, "in_features", m.in_features, b.shape[-1], fix)
    weights = [array(m.weight).T] + ([array(m.bias)] if m.bias is not None else [])
    kwargs = {"units": m.out_features, "use_bias": m.bias is not None}
    b.add(Spec(Dense, kwargs, weights, where, takes_activation=True))


def conv2d(m: Any, where: str, b: Builder) -> None:
    fix = f"torch.nn.Conv2d({m.in_channels}, {m.out_channels}, {m.kernel_size})"
    require(m, where, "groups", (1,), fix)
    require(m, where, "padding_mode", ("zeros",), fix)
    kwargs = {
        "filters": m.out_channels,
        "kernel_size": m.kernel_size,
        "strides": m.stride,
        "dilation_rate": m.dilation,
        "use_bias": m.bias is not None,
    }
    kwargs["padding"] = _conv_padding(m, where, b, kwargs)
    size_fix = f"torch.nn.Conv2d({channels(b, where)}, {m.out_channels}, {m.kernel_size})"
    require_size(where, "in_channels", m.in_channels, channels(b, where), size_fix)
    kwargs["data_format"] = b.data_format
    weights = [array(m.weight).transpose(2, 3, 1, 0)]  # (out, in, kh, kw) -> (kh, kw, in, out)
    weights += [array(m.bias)] if m.bias is not None else []
    b.add(Spec(Conv2D, kwargs, weights, where, takes_activation=True))


def _conv_padding(m: Any, where: str, b: Builder, conv: dict[str, Any]) -> str:
    """ "valid" or "same" (torch's "same" is TF's: the extra pixel after). Explicit zero padding -
    torch's ``padding=(p, q)`` or a ZeroPad2d just before - that is exactly Keras' "same" for
    this input folds into it; other padding stays a ZeroPadding2D layer before a "valid" conv."""
    if isinstance(m.padding, str):
        return m.padding
    pads = tuple((p, p) for p in m.padding)
    pending = b.pending
    folding = pads == NO_PADDING and pending is not None and pending.cls is ZeroPadding2D
    if folding:
        pads, shape = pending.kwargs["padding"], b.shape_before_pending
    else:
        shape = b.shape
    if pads == NO_PADDING:
        return "valid"
    require_rank(where, shape, (4,), "images (C, H, W)")
    spatial = shape[1:3] if b.permuted else shape[2:4]
    same = tuple(
        same_padding(n, k, s, d)
        for n, k, s, d in zip(spatial, conv["kernel_size"], conv["strides"], conv["dilation_rate"])
    )
    if pads == same:
        if folding:
            b.pending = None
        return "same"
    if not folding:
        b.add(Spec(ZeroPadding2D, {"padding": pads, "data_format": b.data_format}, [], where))
    return "valid"


def zero_pad2d(m: Any, where: str, b: Builder) -> None:
    left, right, top, bottom = m.padding
    if min(m.padding) < 0:
        raise ConfigError(
            where=where,
            expected="padding >= 0 (negative padding crops)",
            got=f"padding={m.padding}",
            fix="torch.nn.ZeroPad2d((1, 1, 1, 1))",
        )
    channels(b, where)  # checks the rank
    kwargs = {"padding": ((top, bottom), (left, right)), "data_format": b.data_format}
    b.add(Spec(ZeroPadding2D, kwargs, [], where))


def pool2d(m: Any, where: str, b: Builder) -> None:
    fix = f"torch.nn.{type(m).__name__}({m.kernel_size})"
    for option, supported in (("padding", (0, (0, 0))), ("ceil_mode", (False,))):
        require(m, where, option, supported, fix)
    if type(m).__name__ == "MaxPool2d":
        require(m, where, "dilation", (1, (1, 1)), fix)
        require(m, where, "return_indices", (False,), fix)
        cls = MaxPooling2D
    else:
        require(m, where, "divisor_override", (None,), fix)
        cls = AveragePooling2D
    channels(b, where)
    stride = m.stride or m.kernel_size  # torch's stride=None: the kernel size
    kwargs = {"pool_size": pair(m.kernel_size), "strides": pair(stride)}
    b.add(Spec(cls, {**kwargs, "data_format": b.data_format}, [], where))


def adaptive_pool2d(m: Any, where: str, b: Builder) -> None:
    fix = f"torch.nn.{type(m).__name__}(1)"
    require(m, where, "output_size", (1, (1, 1)), fix)
    if type(m).__name__ == "AdaptiveMaxPool2d":
        require(m, where, "return_indices", (False,), fix)
    channels(b, where)
    cls = GlobalMaxPooling2D if "Max" in type(m).__name__ else GlobalAveragePooling2D
    b.add(Spec(cls, {"keepdims": True, "data_format": b.data_format}, [], where))


def flatten(m: Any, where: str, b: Builder) -> None:
    fix = "torch.nn.Flatten()"
    require(m, where, "start_dim", (1,), fix)
    require(m, where, "end_dim", (-1,), fix)
    b.require_own_layout(where)  # torch would flatten (C, H, W), we (H, W, C)
    b.add(Spec(Flatten, {"data_format": "channels_last"}, [], where))  # as the array lies


def dropout(m: Any, where: str, b: Builder) -> None:
    b.add(Spec(Dropout, {"rate": m.p}, [], where))


def identity(m: Any, where: str, b: Builder) -> None:
    """Nothing to do: ``nn.Identity`` returns its input."""


# ---------------------------------------------------------------------- normalization, activations
def batch_norm(m: Any, where: str, b: Builder) -> None:
    fix = f"torch.nn.{type(m).__name__}({m.num_features})"
    require(m, where, "track_running_stats", (True,), fix)
    if m.momentum is None:  # a cumulative average: no Keras momentum gives it
        require(m, where, "momentum", (0.1,), fix)
    shape = b.shape
    two_d = type(m).__name__ == "BatchNorm2d"
    require_rank(where, shape, (4,) if two_d else (2, 3), "BatchNorm's input")
    axis = -1 if len(shape) == 2 or b.permuted else 1  # permuted: our last axis is dim 1
    size_fix = f"torch.nn.{type(m).__name__}({shape[axis]})"
    require_size(where, "num_features", m.num_features, shape[axis], size_fix)
    kwargs = {
        "axis": axis,
        "momentum": 1 - m.momentum,  # torch: new = (1 - m) old + m batch; Keras the other way
        "epsilon": m.eps,
        "center": m.affine,
        "scale": m.affine,
    }
    weights = [array(m.weight), array(m.bias)] if m.affine else []
    weights += [array(m.running_mean), array(m.running_var)]
    b.add(Spec(BatchNormalization, kwargs, weights, where))


def activation(m: Any, where: str, b: Builder) -> None:
    name = KERAS_NAME[type(m).__name__]
    torch_name, settings = ACTIVATIONS[name]
    fix = f"torch.nn.{torch_name}(" + ", ".join(f"{k}={v!r}" for k, v in settings.items())
    for option, value in settings.items():
        require(m, where, option, (value,), fix + ")")
    if name in ALONG_AN_AXIS:  # ours work over the last axis: torch's dim must be that one
        ndim = b.ndim()
        last = 1 if b.permuted else ndim - 1  # in torch's (permuted) tensor
        require(m, where, "dim", (last, last - ndim), f"torch.nn.{torch_name}(dim={last})")
    if not b.fold_activation(name):
        b.add(Spec(Activation, {"activation": name}, [], where))


# ---------------------------------------------------------------------- to_torch's own modules
def permute(m: Any, where: str, b: Builder) -> None:
    """``to_torch``'s layout changes: into torch's view of our array (NHWC -> NCHW, or (B, T, F)
    -> (B, F, T) around a BatchNorm1d), and back; our layers keep our layout meanwhile."""
    views = {(0, 3, 1, 2): ((0, 2, 3, 1), 4), (0, 2, 1): ((0, 2, 1), 3)}  # into: (back, rank)
    into = b.permuted is None and views.get(m.dims, (None, 0))[1] == len(b.shape)
    back = b.permuted is not None and views[b.permuted][0] == m.dims
    if not (into or back):
        raise ConfigError(
            where=where,
            expected="Permute((0, 3, 1, 2)) on images or Permute((0, 2, 1)) on sequences, then "
            "the Permute back (as to_torch writes them)",
            got=f"Permute({m.dims}) on shape {b.shape}, torch's view {b.permuted}",
            fix="from_torch(to_torch(model), input_shape=model.input_shape[1:])",
        )
    b.flush()
    b.permuted = m.dims if into else None


def reshape(m: Any, where: str, b: Builder) -> None:
    b.require_own_layout(where)
    b.add(Spec(Reshape, {"target_shape": m.target}, [], where))


def global_pool(m: Any, where: str, b: Builder) -> None:
    channels(b, where)
    if m.keepdims not in (None, b.data_format):
        raise ConfigError(
            where=where,
            expected=f"keepdims None or {b.data_format!r} (the layout of the tensor here)",
            got=f"keepdims={m.keepdims!r}",
            fix=f"GlobalPool(use_max={m.use_max}, keepdims={b.data_format!r})",
        )
    cls = GlobalMaxPooling2D if m.use_max else GlobalAveragePooling2D
    kwargs = {"keepdims": m.keepdims is not None, "data_format": b.data_format}
    b.add(Spec(cls, kwargs, [], where))
    b.flush()
    b.permuted = None  # (B, C) or the kept (B, 1, 1, C): the same array in both


@functools.cache
def converters(torch: Any) -> dict[type, Converter]:
    """torch module class -> its converter (exact classes: a subclass may change forward)."""
    nn, helpers = torch.nn, modules()
    table: dict[type, Converter] = {
        nn.Linear: linear,
        nn.Conv2d: conv2d,
        nn.ZeroPad2d: zero_pad2d,
        nn.MaxPool2d: pool2d,
        nn.AvgPool2d: pool2d,
        nn.AdaptiveAvgPool2d: adaptive_pool2d,
        nn.AdaptiveMaxPool2d: adaptive_pool2d,
        nn.Flatten: flatten,
        nn.Dropout: dropout,
        nn.Identity: identity,
        nn.BatchNorm1d: batch_norm,
        nn.BatchNorm2d: batch_norm,
        nn.RNN: bare_recurrent,
        nn.LSTM: bare_recurrent,
        nn.GRU: bare_recurrent,
        nn.Embedding: embedding,
        helpers.RecurrentOutput: recurrent_output,
        helpers.Permute: permute,
        helpers.Reshape: reshape,
        helpers.GlobalPool: global_pool,
    }
    table.update({getattr(nn, torch_name): activation for torch_name in KERAS_NAME})
    return table


__all__ = ["converters", "require"]
