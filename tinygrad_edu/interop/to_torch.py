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
- GRU (reset_after=True): Keras gate order z, r, h -> torch r, z, n; the bias rows -> ih / hh;
- Embedding ``embeddings (input_dim, output_dim)`` -> ``Embedding.weight``, unchanged.

Where torch has no module for a step (a layout change, Reshape, global pooling, a recurrent layer's
``return_sequences``), the small modules of ``torch_modules.py`` stand in; ``from_torch`` reads
them back, so ``from_torch(to_torch(model), input_shape)`` rebuilds the same layers.

Keras weights move the other way unchanged: ``model.get_weights()`` / ``set_weights()`` use Keras'
order and layouts, so ``keras_model.set_weights(our_model.get_weights())`` works for the same
architecture.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import activations as _act
from .._shapes import same_padding
from ..errors import ConfigError
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
)
from ..layers.base import Layer
from .tables import ACTIVATIONS, ALIASES, ALONG_AN_AXIS, TORCH_ORDER
from .torch_modules import import_torch, modules


def to_torch(model: Any):
    """An equivalent ``torch.nn.Sequential`` (eval mode; float64 for a float64 model, else
    float32) with the weights converted."""
    torch = import_torch("interop.to_torch")
    model._require_built("to_torch")
    helpers = modules()
    steps: list[Any] = []
    nchw_view = False  # torch's tensor is our (B, H, W, C) array seen as (B, C, H, W)
    for layer in model.layers:
        wants = _wants_nchw_view(layer)
        if wants is not None and wants != nchw_view:
            steps.append(helpers.Permute((0, 3, 1, 2) if wants else (0, 2, 3, 1)))
            nchw_view = wants
        converted = _convert(layer, torch)
        if nchw_view:  # Keras' last axis (the channels) is dim 1 of the NCHW tensor
            for module in converted:
                if getattr(module, "dim", None) == -1:
                    module.dim = 1
        steps.extend(converted)
        if isinstance(layer, (GlobalAveragePooling2D, GlobalMaxPooling2D)):
            nchw_view = False  # (B, C), or (B, 1, 1, C) with keepdims: the same in both
    weights = model.get_weights()
    float64 = bool(weights) and all(w.dtype == np.float64 for w in weights)
    return torch.nn.Sequential(*steps).to(torch.float64 if float64 else torch.float32).eval()


def _wants_nchw_view(layer: Layer) -> bool | None:
    """Whether torch must see our (B, H, W, C) array as (B, C, H, W) for ``layer`` - its
    channels on dim 1, as torch's image modules want them; None: either view works."""
    if isinstance(layer, (Dropout, Activation)):
        return None
    if isinstance(layer, IMAGE_LAYERS):
        return layer.data_format == "channels_last"
    if isinstance(layer, BatchNormalization) and len(layer.input_shape) == 4:
        return layer.axis in (-1, 3)  # over our last axis: torch's BatchNorm2d takes dim 1
    return False


def _convert(layer: Layer, torch: Any) -> list[Any]:
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


def _lookup(table: dict[type, Any], layer: Layer) -> Any:
    """``table``'s entry for the layer's class, or for its nearest base class listed there."""
    return next((table[cls] for cls in type(layer).__mro__ if cls in table), None)


def _tensor(torch: Any, array: np.ndarray):
    """A copy in torch (float64 stays float64; to_torch then casts the model to one dtype)."""
    return torch.tensor(np.ascontiguousarray(array))


def _dense(layer: Dense, torch: Any) -> list[Any]:
    lin = torch.nn.Linear(layer.kernel.shape[0], layer.units, bias=layer.use_bias)
    lin.weight.data = _tensor(torch, layer.kernel.data.T)
    if layer.use_bias:
        lin.bias.data = _tensor(torch, layer.bias.data)
    return [lin, *_activation(layer.activation, torch)]


def _conv2d(layer: Conv2D, torch: Any) -> list[Any]:
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


def _same_padding(layer: Conv2D, torch: Any) -> list[Any]:
    """TF's "same" padding (the extra pixel after) as an explicit ``ZeroPad2d``; [] for valid."""
    if layer.padding != "same":
        return []
    kh, kw = layer.kernel_size
    h, w = layer.spatial(layer.input_shape)
    top, bottom = same_padding(h, kh, layer.strides[0], layer.dilation_rate[0])
    left, right = same_padding(w, kw, layer.strides[1], layer.dilation_rate[1])
    return [torch.nn.ZeroPad2d((left, right, top, bottom))]


def _pooling(layer: Any, torch: Any) -> list[Any]:
    if layer.padding != "valid":
        raise ConfigError(
            where=f"to_torch: {layer.where}",
            expected="padding='valid'",
            got=repr(layer.padding),
            fix="torch pools pad differently; use valid padding for a model you want to export",
        )
    cls = torch.nn.MaxPool2d if layer.kind == "max" else torch.nn.AvgPool2d
    return [cls(layer.pool_size, stride=layer.strides)]


def _global_pooling(layer: Any, torch: Any) -> list[Any]:
    keepdims = layer.data_format if layer.keepdims else None
    return [modules().GlobalPool(layer.kind == "max", keepdims)]


def _flatten(layer: Flatten, torch: Any) -> list[Any]:
    return [torch.nn.Flatten()]


def _reshape(layer: Reshape, torch: Any) -> list[Any]:
    return [modules().Reshape(layer.target_shape)]


def _dropout(layer: Dropout, torch: Any) -> list[Any]:
    return [torch.nn.Dropout(layer.rate)]


def _embedding(layer: Embedding, torch: Any) -> list[Any]:
    embedding = torch.nn.Embedding(layer.input_dim, layer.output_dim)
    embedding.weight.data = _tensor(torch, layer.embeddings.data)
    return [embedding]


def _activation_layer(layer: Activation, torch: Any) -> list[Any]:
    return _activation(layer.activation, torch)


def _activation(fn: Any, torch: Any) -> list[Any]:
    """The torch module computing ``fn`` ([] for linear), from the table ``from_torch`` reads."""
    name = _act.serialize(fn)
    name = ALIASES.get(name, name) if isinstance(name, str) else name
    if name == "linear":
        return []
    if name not in ACTIVATIONS:
        raise ConfigError(
            where="interop.to_torch",
            expected="an activation torch has a module for",
            got=f"{name!r}" if isinstance(name, str) else repr(fn),
            fix="use one of " + ", ".join(sorted(ACTIVATIONS)) + " - or convert this layer by hand",
        )
    torch_name, settings = ACTIVATIONS[name]
    if name in ALONG_AN_AXIS:  # Keras' last axis; to_torch moves dim to 1 where torch is NCHW
        settings = {**settings, "dim": -1}
    return [getattr(torch.nn, torch_name)(**settings)]


def _batchnorm(layer: BatchNormalization, torch: Any) -> list[Any]:
    """torch normalizes dim 1: BatchNorm1d on (B, F) and (B, C, L), BatchNorm2d on (B, C, H, W)
    (to_torch has made our channels dim 1 of 4-D inputs); over the features of (B, T, F) it is
    wrapped in permutes."""
    ndim, axis = len(layer.input_shape), layer.axis % len(layer.input_shape)
    if ndim > 4 or (ndim == 4 and axis == 2):
        raise ConfigError(
            where=f"to_torch: {layer.where}",
            expected="BatchNormalization over the features or the channels (axis 1 or -1)",
            got=f"axis={layer.axis} of a {ndim}-D input",
            fix=layer.example(axis=-1),
        )
    cls = torch.nn.BatchNorm1d if ndim <= 3 else torch.nn.BatchNorm2d
    features = layer.input_shape[axis]
    affine = layer.center or layer.scale
    bn = cls(features, eps=layer.epsilon, momentum=1 - layer.momentum, affine=affine)
    weights = dict(zip(layer.weight_names, layer.weights))
    if "gamma" in weights:
        bn.weight.data = _tensor(torch, weights["gamma"].data)
    if "beta" in weights:
        bn.bias.data = _tensor(torch, weights["beta"].data)
    bn.running_mean.data = _tensor(torch, weights["moving_mean"].data)
    bn.running_var.data = _tensor(torch, weights["moving_variance"].data)
    if ndim == 3 and axis == 2:  # (B, T, F) -> (B, F, T): the features on dim 1, and back
        return [modules().Permute((0, 2, 1)), bn, modules().Permute((0, 2, 1))]
    return [bn]


def _recurrent(layer: Any, torch: Any) -> list[Any]:
    kind = _rnn_kind(layer)
    u, order = layer.units, TORCH_ORDER[kind]
    make = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind]
    options = {"nonlinearity": _act.serialize(layer.activation)} if kind == "RNN" else {}
    rnn = make(layer.kernel.shape[0], u, bias=layer.use_bias, batch_first=True, **options)

    def blocks(a: np.ndarray) -> np.ndarray:  # reorder gate blocks along the last axis
        return np.concatenate([a[..., g * u : (g + 1) * u] for g in order], axis=-1)

    rnn.weight_ih_l0.data = _tensor(torch, blocks(layer.kernel.data).T)
    rnn.weight_hh_l0.data = _tensor(torch, blocks(layer.recurrent_kernel.data).T)
    if layer.use_bias:
        bias = layer.bias.data
        bias_ih, bias_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
        rnn.bias_ih_l0.data = _tensor(torch, blocks(bias_ih))
        rnn.bias_hh_l0.data = _tensor(torch, blocks(bias_hh))
    return [modules().RecurrentOutput(rnn, layer.return_sequences, layer.go_backwards)]


def _rnn_kind(layer: Any) -> str:
    """ "RNN", "LSTM" or "GRU", after refusing what torch's modules do not compute."""
    kind = "LSTM" if isinstance(layer, LSTM) else "GRU" if isinstance(layer, GRU) else "RNN"
    activation = _act.serialize(layer.activation)
    gates = _act.serialize(getattr(layer, "recurrent_activation", _act.sigmoid))
    refusals = [
        ("activation", activation, ("tanh", "relu") if kind == "RNN" else ("tanh",)),
        ("recurrent_activation", gates, ("sigmoid",)),
        ("reset_after", getattr(layer, "reset_after", True), (True,)),  # torch's GRU form
        ("return_state", layer.return_state, (False,)),
    ]
    for option, value, supported in refusals:
        if value not in supported:
            raise ConfigError(
                where=f"to_torch: {layer.where}",
                expected=f"{option} in {supported} (what torch's nn.{kind} computes)",
                got=f"{option}={value!r}",
                fix=layer.example(**{option: supported[0]}),
            )
    return kind


IMAGE_LAYERS = (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D)
#: layer class -> the converter that returns its torch modules (a subclass uses its base's)
_CONVERTERS: dict[type, Callable[[Any, Any], list[Any]]] = {
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
    Embedding: _embedding,
    BatchNormalization: _batchnorm,
    SimpleRNN: _recurrent,
    LSTM: _recurrent,
    GRU: _recurrent,
}
__all__ = ["to_torch"]
