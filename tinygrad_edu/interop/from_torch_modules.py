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
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from .._shapes import same_padding
from ..errors import ConfigError, ShapeError
from ..layers import (
    GRU,
    LSTM,
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
    Reshape,
    SimpleRNN,
    ZeroPadding2D,
)
from .builder import Builder, Spec
from .tables import ACTIVATIONS, ALONG_AN_AXIS, KERAS_NAME, TORCH_ORDER
from .torch_modules import modules

Converter = Callable[[Any, str, Builder], None]
NO_PADDING = ((0, 0), (0, 0))


# ---------------------------------------------------------------------- checks
def require(module: Any, where: str, option: str, supported: Sequence[Any], fix: str) -> None:
    """Refuse ``module`` unless its ``option`` is one of ``supported``."""
    value = getattr(module, option)
    if value not in supported:
        raise ConfigError(
            where=where,
            expected=f"{option} in {tuple(supported)} (what tinygrad_edu's layer computes)",
            got=f"{option}={value!r}",
            fix=fix,
        )


def require_rank(where: str, shape: tuple, ranks: Sequence[int], what: str) -> None:
    if len(shape) not in ranks:
        raise ShapeError(
            where=where,
            expected=f"an input of rank {' or '.join(map(str, ranks))} ({what})",
            got=f"shape {shape} (batch axis None)",
            fix="pass input_shape without the batch axis, e.g. from_torch(net, (1, 28, 28))",
        )


def require_size(where: str, option: str, value: int, size: int, fix: str) -> None:
    if value != size:
        raise ShapeError(
            where=where,
            expected=f"{option} = {size}, the input's feature size here",
            got=f"{option}={value}",
            fix=fix,
        )


def array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def channels(builder: Builder, where: str) -> int:
    shape = builder.shape
    require_rank(where, shape, (4,), "images (C, H, W)")
    return shape[-1] if builder.permuted else shape[1]


# ---------------------------------------------------------------------- dense and images
def linear(m: Any, where: str, b: Builder) -> None:
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
    if b.permuted:  # torch would flatten (C, H, W), we (H, W, C)
        raise ConfigError(
            where=where,
            expected="the Permute back to NHWC before Flatten (as to_torch writes it)",
            got="Flatten of the NCHW view",
            fix="from_torch(to_torch(model), input_shape=model.input_shape[1:])",
        )
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
    axis = -1 if len(shape) == 2 or (two_d and b.permuted) else 1
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


# ---------------------------------------------------------------------- sequences
def recurrent_output(m: Any, where: str, b: Builder) -> None:
    """``RecurrentOutput(rnn, return_sequences, go_backwards)``, as ``to_torch`` writes it."""
    table = {"RNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
    if type(m.rnn).__name__ not in table or type(m.rnn).__module__ != "torch.nn.modules.rnn":
        raise ConfigError(
            where=where,
            expected="RecurrentOutput of a torch.nn.RNN, LSTM or GRU",
            got=type(m.rnn).__name__,
            fix="RecurrentOutput(torch.nn.LSTM(3, 8, batch_first=True))",
        )
    recurrent(m.rnn, f"{where}.rnn", b, m.return_sequences, m.go_backwards)


def bare_recurrent(m: Any, where: str, b: Builder) -> None:
    """A bare ``nn.LSTM`` (last in the Sequential): its output sequence, torch's ``output``."""
    recurrent(m, where, b, return_sequences=True, go_backwards=False)
    b.closed_by = f"nn.{type(m).__name__} ({where})"


def recurrent(m: Any, where: str, b: Builder, return_sequences: bool, go_backwards: bool) -> None:
    kind = type(m).__name__
    fix = f"torch.nn.{kind}({m.input_size}, {m.hidden_size}, batch_first=True)"
    require(m, where, "batch_first", (True,), fix)  # ours are batch-first: (B, T, F)
    require(m, where, "bidirectional", (False,), fix)
    if kind == "LSTM":
        require(m, where, "proj_size", (0,), fix)
    if kind == "RNN":
        require(m, where, "nonlinearity", ("tanh", "relu"), fix)
    shape = b.shape
    require_rank(where, shape, (3,), "sequences (T, F), batch_first")
    size_fix = f"torch.nn.{kind}({shape[-1]}, {m.hidden_size}, batch_first=True)"
    require_size(where, "input_size", m.input_size, shape[-1], size_fix)
    cls = {"RNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}[kind]
    for k in range(m.num_layers):
        last = k == m.num_layers - 1
        kwargs: dict[str, Any] = {"units": m.hidden_size, "use_bias": m.bias}
        kwargs["return_sequences"] = return_sequences if last else True
        kwargs["go_backwards"] = go_backwards and k == 0  # torch flips the input once
        kwargs.update({"activation": m.nonlinearity} if kind == "RNN" else {})
        kwargs.update({"reset_after": True} if kind == "GRU" else {})
        b.add(Spec(cls, kwargs, _recurrent_weights(m, kind, k), where))
        if m.dropout and not last:  # torch's dropout between the stacked layers
            b.add(Spec(Dropout, {"rate": m.dropout}, [], where))


def _recurrent_weights(m: Any, kind: str, k: int) -> list[np.ndarray]:
    """Layer ``k``'s weights in Keras' layout: gate blocks in Keras' order, one bias for SimpleRNN
    and LSTM (torch's two summed: exact when bias_hh is 0, as to_torch writes it), both rows for
    the GRU (reset_after)."""
    u, order = m.hidden_size, TORCH_ORDER[kind]

    def rows(name: str) -> np.ndarray:  # torch's gate blocks (rows) in Keras' order
        a = array(getattr(m, f"{name}_l{k}"))
        return np.concatenate([a[g * u : (g + 1) * u] for g in order], axis=0)

    weights = [rows("weight_ih").T, rows("weight_hh").T]  # (g*u, F) -> kernel (F, g*u)
    if not m.bias:
        return weights
    bias_ih, bias_hh = rows("bias_ih"), rows("bias_hh")
    return weights + [np.stack([bias_ih, bias_hh]) if kind == "GRU" else bias_ih + bias_hh]


def embedding(m: Any, where: str, b: Builder) -> None:
    fix = f"torch.nn.Embedding({m.num_embeddings}, {m.embedding_dim})"
    # padding_idx: torch never updates that row in training; max_norm rescales rows in forward
    for option, supported in (("padding_idx", None), ("max_norm", None)):
        require(m, where, option, (supported,), fix)
    require(m, where, "scale_grad_by_freq", (False,), fix)
    require_rank(where, b.shape, (2,), "token ids (T,)")
    kwargs = {"input_dim": m.num_embeddings, "output_dim": m.embedding_dim}
    b.add(Spec(Embedding, kwargs, [array(m.weight)], where))


# ---------------------------------------------------------------------- to_torch's own modules
def permute(m: Any, where: str, b: Builder) -> None:
    """``to_torch``'s layout change: NHWC -> NCHW (our layers stay channels_last), and back."""
    into = m.dims == (0, 3, 1, 2) and not b.permuted and len(b.shape) == 4
    back = m.dims == (0, 2, 3, 1) and b.permuted
    if not (into or back):
        raise ConfigError(
            where=where,
            expected="Permute((0, 3, 1, 2)) on NHWC images, then Permute((0, 2, 3, 1)) back",
            got=f"Permute({m.dims}) on shape {b.shape}",
            fix="from_torch(to_torch(model), input_shape=model.input_shape[1:])",
        )
    b.flush()
    b.permuted = into


def reshape(m: Any, where: str, b: Builder) -> None:
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
    b.permuted = False  # (B, C) or the kept (B, 1, 1, C): the same array in both


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
