"""Graduation path: move a trained model to PyTorch (optional ``torch`` extra).

``to_torch(model)`` returns an equivalent ``torch.nn.Sequential`` that takes the *same* inputs as
the tinygrad_edu model (channels_last images stay channels_last: a permute is inserted) and gives
the same predictions. Weights are converted to torch's layouts:

- Dense ``kernel (in, units)`` -> ``Linear.weight (units, in)`` (the transpose);
- Conv2D ``kernel (kh, kw, in, out)`` -> ``Conv2d.weight (out, in, kh, kw)``;
- SimpleRNN/LSTM ``kernel (in, g*u)``, ``recurrent_kernel (u, g*u)``, ``bias (g*u,)`` ->
  ``weight_ih (g*u, in)``, ``weight_hh (g*u, u)``, ``bias_ih`` = bias and ``bias_hh`` = 0 (torch
  has two bias vectors: that is why its LSTM(300) on 1 feature counts 363,600 parameters, Keras
  362,400);
- GRU (reset_after=True): Keras gate order z, r, h -> torch r, z, n; the bias rows -> ih / hh.

Keras weights move the other way unchanged: ``model.get_weights()`` / ``set_weights()`` use Keras'
order and layouts, so ``keras_model.set_weights(our_model.get_weights())`` works for the same
architecture.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from . import activations as _act
from ._shapes import same_padding
from .errors import ConfigError
from .layers import (
    GRU,
    LSTM,
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
    SimpleRNN,
)
from .layers.base import Layer


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigError(
            where="interop.to_torch",
            expected="PyTorch installed",
            got="no torch",
            fix='pip install "tinygrad_edu[torch]"',
        ) from None
    return torch


def to_torch(model: Any):
    """An equivalent ``torch.nn.Sequential`` (eval mode, float32) with the weights converted."""
    torch = _torch()
    nn = torch.nn
    model._require_built("to_torch")
    modules: List[Any] = []
    channels_first = False  # where the running torch tensor keeps its channels
    for layer in model.layers:
        is_image = isinstance(
            layer,
            (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D),
        )
        if is_image and layer.data_format == "channels_last" and not channels_first:
            modules.append(_Permute(torch, (0, 3, 1, 2)))
            channels_first = True
        elif not is_image and channels_first and not isinstance(layer, (Dropout, Activation)):
            if not (isinstance(layer, BatchNormalization) and layer.axis in (1, -1)):
                modules.append(_Permute(torch, (0, 2, 3, 1)))
                channels_first = False
        converted = _convert(layer, torch)
        if channels_first:  # Keras' last axis (the channels) is dim 1 of the NCHW tensor
            for module in converted:
                if getattr(module, "dim", None) == -1:
                    module.dim = 1
        modules.extend(converted)
        if isinstance(layer, (GlobalAveragePooling2D, GlobalMaxPooling2D)):
            channels_first = False  # (B, C), or (B, 1, 1, C) with keepdims
    out = nn.Sequential(*modules).float().eval()
    return out


def _convert(layer: Layer, torch: Any) -> List[Any]:
    """The torch modules for one layer, from the converter of its class (or of a base class)."""
    converter = _lookup(_CONVERTERS, layer)
    if converter is None:
        raise ConfigError(
            where="interop.to_torch",
            expected="a layer with a torch equivalent",
            got=type(layer).__name__,
            fix="convert this layer by hand",
        )
    return converter(layer, torch)


def _lookup(table: Dict[type, Any], layer: Layer) -> Any:
    """``table``'s entry for the layer's class, or for its nearest base class listed there."""
    return next((table[cls] for cls in type(layer).__mro__ if cls in table), None)


def _tensor(torch: Any, array: np.ndarray):
    return torch.tensor(np.ascontiguousarray(array), dtype=torch.float32)


def _dense(layer: Dense, torch: Any) -> List[Any]:
    lin = torch.nn.Linear(layer.kernel.shape[0], layer.units, bias=layer.use_bias)
    lin.weight.data = _tensor(torch, layer.kernel.data.T)
    if layer.use_bias:
        lin.bias.data = _tensor(torch, layer.bias.data)
    return [lin, *_activation(layer.activation, torch)]


def _conv2d(layer: Conv2D, torch: Any) -> List[Any]:
    kh, kw, cin, cout = layer.kernel.shape
    conv = torch.nn.Conv2d(
        cin,
        cout,
        (kh, kw),
        stride=layer.strides,
        padding=0,
        dilation=layer.dilation_rate,
        bias=layer.use_bias,
    )
    conv.weight.data = _tensor(torch, layer.kernel.data.transpose(3, 2, 0, 1))
    if layer.use_bias:
        conv.bias.data = _tensor(torch, layer.bias.data)
    return [*_same_padding(layer, torch), conv, *_activation(layer.activation, torch)]


def _same_padding(layer: Conv2D, torch: Any) -> List[Any]:
    """TF's "same" padding (the extra pixel after) as an explicit ``ZeroPad2d``; [] for valid."""
    if layer.padding != "same":
        return []
    kh, kw = layer.kernel_size
    h, w = layer.spatial(layer.input_shape)
    top, bottom = same_padding(h, kh, layer.strides[0], layer.dilation_rate[0])
    left, right = same_padding(w, kw, layer.strides[1], layer.dilation_rate[1])
    return [torch.nn.ZeroPad2d((left, right, top, bottom))]


def _pooling(layer: Any, torch: Any) -> List[Any]:
    if layer.padding != "valid":
        raise ConfigError(
            where=f"to_torch: {layer.where}",
            expected="padding='valid'",
            got=repr(layer.padding),
            fix="torch pools pad differently; use valid padding for a model you want to export",
        )
    cls = torch.nn.MaxPool2d if layer.kind == "max" else torch.nn.AvgPool2d
    return [cls(layer.pool_size, stride=layer.strides)]


def _global_pooling(layer: Any, torch: Any) -> List[Any]:
    return [_GlobalPool(torch, layer.kind == "max", layer.keepdims)]


def _flatten(layer: Flatten, torch: Any) -> List[Any]:
    return [torch.nn.Flatten()]


def _reshape(layer: Reshape, torch: Any) -> List[Any]:
    return [_Reshape(torch, layer.target_shape)]


def _dropout(layer: Dropout, torch: Any) -> List[Any]:
    return [torch.nn.Dropout(layer.rate)]


def _activation_layer(layer: Activation, torch: Any) -> List[Any]:
    return _activation(layer.activation, torch)


def _activation(fn: Any, torch: Any) -> List[Any]:
    nn = torch.nn
    name = _act.serialize(fn)
    table = {
        "linear": None,
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "elu": nn.ELU,
        "selu": nn.SELU,
        "softplus": nn.Softplus,
        "gelu": nn.GELU,
        "swish": nn.SiLU,
        "silu": nn.SiLU,
        "celu": nn.CELU,  # alpha 1.0 in both
        "hard_sigmoid": nn.Hardsigmoid,  # Keras 3: relu6(x + 3) / 6, torch's formula
        "hard_silu": nn.Hardswish,
        "hard_swish": nn.Hardswish,
        "hard_tanh": nn.Hardtanh,
        "log_sigmoid": nn.LogSigmoid,
        "mish": nn.Mish,
        "relu6": nn.ReLU6,
        "soft_shrink": nn.Softshrink,  # threshold 0.5 in both
        "hard_shrink": nn.Hardshrink,  # threshold 0.5 in both
        "softsign": nn.Softsign,
        "tanh_shrink": nn.Tanhshrink,
    }
    # over Keras' last axis; to_torch moves dim to 1 where the torch tensor is NCHW
    along_last_axis = {"softmax": nn.Softmax, "log_softmax": nn.LogSoftmax, "glu": nn.GLU}
    if name in along_last_axis:
        return [along_last_axis[name](dim=-1)]
    if name == "leaky_relu":
        return [nn.LeakyReLU(0.2)]
    if name not in table:
        raise ConfigError(
            where="interop.to_torch",
            expected="an activation torch has a module for",
            got=f"{name!r}" if isinstance(name, str) else repr(fn),
            fix="use one of "
            + ", ".join(sorted([*table, *along_last_axis, "leaky_relu"]))
            + " - or convert this layer by hand",
        )
    return [] if table[name] is None else [table[name]()]


def _batchnorm(layer: BatchNormalization, torch: Any) -> List[Any]:
    nn = torch.nn
    features = layer.input_shape[layer.axis]
    cls = nn.BatchNorm1d if len(layer.input_shape) <= 3 else nn.BatchNorm2d
    bn = cls(features, eps=layer.epsilon, momentum=1 - layer.momentum, affine=True)
    weights = dict(zip(layer.weight_names, layer.weights))
    if "gamma" in weights:
        bn.weight.data = _tensor(torch, weights["gamma"].data)
    if "beta" in weights:
        bn.bias.data = _tensor(torch, weights["beta"].data)
    bn.running_mean.data = _tensor(torch, weights["moving_mean"].data)
    bn.running_var.data = _tensor(torch, weights["moving_variance"].data)
    return [bn]


def _recurrent(layer: Any, torch: Any) -> List[Any]:
    rnn, order = _lookup(_TORCH_RNNS, layer)(layer, torch)
    u = layer.units

    def blocks(a: np.ndarray) -> np.ndarray:  # reorder gate blocks along the last axis
        return np.concatenate([a[..., g * u : (g + 1) * u] for g in order], axis=-1)

    rnn.weight_ih_l0.data = _tensor(torch, blocks(layer.kernel.data).T)
    rnn.weight_hh_l0.data = _tensor(torch, blocks(layer.recurrent_kernel.data).T)
    bias = layer.bias.data if layer.bias is not None else np.zeros(len(order) * u, np.float32)
    bias_ih, bias_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
    rnn.bias_ih_l0.data = _tensor(torch, blocks(bias_ih))
    rnn.bias_hh_l0.data = _tensor(torch, blocks(bias_hh))
    return [_RunRNN(torch, rnn, layer.return_sequences, layer.go_backwards)]


def _torch_lstm(layer: LSTM, torch: Any) -> Tuple[Any, List[int]]:
    return torch.nn.LSTM(layer.kernel.shape[0], layer.units, batch_first=True), [0, 1, 2, 3]


def _torch_gru(layer: GRU, torch: Any) -> Tuple[Any, List[int]]:
    if not layer.reset_after:
        raise ConfigError(
            where=f"to_torch: {layer.where}",
            expected="reset_after=True",
            got="reset_after=False",
            fix="torch's GRU is the reset_after form",
        )
    gru = torch.nn.GRU(layer.kernel.shape[0], layer.units, batch_first=True)
    return gru, [1, 0, 2]  # z,r,h -> r,z,n


def _torch_simple_rnn(layer: SimpleRNN, torch: Any) -> Tuple[Any, List[int]]:
    name = _act.serialize(layer.activation)
    if name not in ("tanh", "relu"):
        raise ConfigError(
            where=f"to_torch: {layer.where}",
            expected="tanh or relu",
            got=repr(name),
            fix="torch's RNN supports only tanh and relu",
        )
    features, units = layer.kernel.shape[0], layer.units
    return torch.nn.RNN(features, units, batch_first=True, nonlinearity=name), [0]


def _Permute(torch: Any, dims):
    class Permute(torch.nn.Module):
        def forward(self, x):
            return x.permute(*dims)

    return Permute()


def _Reshape(torch: Any, target):
    class Reshape(torch.nn.Module):
        def forward(self, x):
            return x.reshape(x.shape[0], *target)

    return Reshape()


def _GlobalPool(torch: Any, use_max: bool, keepdims: bool):
    class GlobalPool(torch.nn.Module):
        def forward(self, x):  # x is (B, C, H, W) here
            out = x.amax(dim=(2, 3)) if use_max else x.mean(dim=(2, 3))
            return out[:, None, None, :] if keepdims else out

    return GlobalPool()


def _RunRNN(torch: Any, rnn: Any, return_sequences: bool, go_backwards: bool):
    class RunRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            if go_backwards:
                x = torch.flip(x, dims=(1,))
            out = self.rnn(x)[0]
            return out if return_sequences else out[:, -1]

    return RunRNN()


#: layer class -> the converter that returns its torch modules (a subclass uses its base's)
_CONVERTERS: Dict[type, Callable[[Any, Any], List[Any]]] = {
    Dense: _dense,
    Conv2D: _conv2d,
    MaxPooling2D: _pooling,
    AveragePooling2D: _pooling,
    GlobalAveragePooling2D: _global_pooling,
    GlobalMaxPooling2D: _global_pooling,
    Flatten: _flatten,
    Reshape: _reshape,
    Dropout: _dropout,
    Activation: _activation_layer,
    BatchNormalization: _batchnorm,
    SimpleRNN: _recurrent,
    LSTM: _recurrent,
    GRU: _recurrent,
}
#: recurrent layer class -> (the torch module, the Keras gate blocks in torch's order)
_TORCH_RNNS: Dict[type, Callable[[Any, Any], Tuple[Any, List[int]]]] = {
    SimpleRNN: _torch_simple_rnn,
    LSTM: _torch_lstm,
    GRU: _torch_gru,
}

__all__ = ["to_torch"]
