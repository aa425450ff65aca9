"""Recognizers of the classic mistakes: the diagnosis comes before the advice.

A layer alone sees one wrong shape; the right fix often lies elsewhere in the model - in the layer
before it, in the labels. Each recognizer here looks at the whole model (the previous layers, the
declared input shape, the labels), names the real mistake, and writes a fix that is code running as
written, rebuilt from the learner's own arguments (``arguments.layer_code``):

- ``swapped_channels``: channels-first images (``input_shape=(1, 28, 28)``: a leading 1, 3 or 4
  before two axes of at least 8 pixels) on a channels_last image layer, or the reverse ->
  ``data_format='channels_first'``, or the data transposed (called by the image layers);
- ``check_next_layer`` (called by ``Sequential.add``, before the new layer is built):
  a recurrent layer fed by a recurrent layer without ``return_sequences`` -> the first one with
  ``return_sequences=True``; an image layer whose data_format (left to the default) differs from
  the image layer before it -> the same ``data_format``; a ``BatchNormalization`` left at
  ``axis=-1`` after channels_first images -> ``axis=1``;
- ``forgotten_flatten`` (called by ``fit``/``evaluate`` before the loss checks the labels): a Dense
  fed rank-3/4 activations makes per-position outputs that one label per sample cannot match ->
  the model with ``Flatten()`` before that Dense;
- ``warn_single_unit_softmax`` (called by ``compile``): ``Dense(1, activation='softmax')`` outputs
  1.0 whatever the input -> a ``ClassicMistakeWarning`` saying sigmoid + binary_crossentropy.

A missing feature axis in a recurrent layer's ``input_shape`` (``SimpleRNN(10, input_shape=(3,))``)
is recognized where every layer checks its declaration, ``input_checks.py``.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from .. import activations as _activations
from .._shapes import fmt_shape
from ..errors import ShapeError
from . import legacy
from .arguments import code_repr, given_arguments, layer_code
from .base import Layer
from .core import Dense
from .normalization import BatchNormalization


class ClassicMistakeWarning(UserWarning):
    """A model that runs but cannot learn what it is meant to (e.g. softmax over one unit)."""


# ---------------------------------------------------------------------- one image layer
def looks_swapped(shape: Sequence[Optional[int]], channels_first: bool) -> bool:
    """A 4-D shape whose layout is the other one: a 1/3/4-sized axis where the other layout keeps
    its channels, next to two axes of at least 8 pixels."""
    chan, h, w = (shape[3], shape[1], shape[2]) if channels_first else shape[1:]
    return chan in (1, 3, 4) and all(d is not None and d >= 8 for d in (h, w))


def swapped_channels(layer: Any, shape: Sequence[Optional[int]]) -> ShapeError:
    """The error for images in the other layout than ``layer``'s (before it is built)."""
    shape = tuple(shape)
    declared = shape == layer._declared_input_shape
    other = "channels_last" if layer.channels_first else "channels_first"
    moved = (shape[3], *shape[1:3]) if layer.channels_first else (*shape[2:], shape[1])
    transpose = "x.transpose(0, 3, 1, 2)" if layer.channels_first else "x.transpose(0, 2, 3, 1)"
    order = (
        "(channels, height, width)" if other == "channels_first" else "(height, width, channels)"
    )
    who = " - PyTorch's and Theano's order" if other == "channels_first" else ""
    got = f"input_shape={shape[1:]}" if declared else fmt_shape(shape, "batch")
    move = f"move the channels {'last' if other == 'channels_first' else 'first'} in the data, "
    if declared:
        fix = (
            f"say the data is {other}: {layer_code(layer, data_format=other)} - or {move}"
            f"x = {transpose}, and declare {layer_code(layer, input_shape=moved)}"
        )
    else:
        fix = f"say the data is {other}: {layer_code(layer, data_format=other)} - or {move}"
        fix += f"x = {transpose}"
    return ShapeError(
        where=layer.where,
        expected=f"{layer.data_format} images (batch, {_order(layer.channels_first)})",
        got=f"{got}, which reads as {other} images {order}{who}",
        fix=fix,
    )


def _order(channels_first: bool) -> str:
    return "channels, height, width" if channels_first else "height, width, channels"


# ---------------------------------------------------------------------- pairs of layers
def check_next_layer(previous: Sequence[Layer], layer: Layer) -> None:
    """Raise the right error before ``layer`` is built on the output of ``previous`` (the
    layers before it, in order) when the pair shows a classic mistake."""
    source = _source(previous)
    if source is None:
        return
    if layer.expected_ndim == 3 and getattr(source, "return_sequences", None) is False:
        raise _last_state_only(source, layer)
    if not _is_image_layer(source):
        return
    given = given_arguments(layer)
    layout_left_default = _is_image_layer(layer) and "data_format" not in given
    if layout_left_default and layer.data_format != source.data_format:
        raise _other_layout(source, layer)
    if isinstance(layer, BatchNormalization) and source.channels_first and "axis" not in given:
        raise ShapeError(
            where=layer.where,
            expected=f"axis=1 (the channels) after {source.where}, which outputs channels_first "
            "images",
            got="axis=-1 (the default): it would normalize each column of pixels, not each channel",
            fix=layer_code(layer, axis=1),
        )


#: how far back ``_source`` looks: the mistakes show within a few layers, and ``Sequential.add``
#: stays constant work per layer
LOOK_BACK = 4


def _source(previous: Sequence[Layer]) -> Optional[Layer]:
    """The layer whose kind of output reaches the next one: the last layer, or further back
    through built layers that keep the rank (Dropout, Activation, BatchNormalization, Dense)."""
    for candidate in reversed(previous[-LOOK_BACK:]):
        keeps_rank = candidate.built and len(candidate.input_shape) == len(candidate.output_shape)
        decisive = getattr(candidate, "return_sequences", None) is not None
        if not keeps_rank or decisive or _is_image_layer(candidate):
            return candidate
    return previous[0] if 0 < len(previous) <= LOOK_BACK else None


def _is_image_layer(layer: Any) -> bool:
    return layer.expected_ndim == 4 and hasattr(layer, "channels_first")


def _last_state_only(source: Layer, layer: Layer) -> ShapeError:
    units = getattr(source, "units", "units")
    return ShapeError(
        where=layer.where,
        expected="a sequence (batch, timesteps, features) from the layers before it",
        got=f"the last state only: {source.where} has return_sequences=False, so it outputs "
        f"(batch, {units})",
        fix=f"let '{source.name}' pass on its whole sequence (one output per step): "
        + layer_code(source, return_sequences=True),
    )


def _other_layout(source: Layer, layer: Layer) -> ShapeError:
    return ShapeError(
        where=layer.where,
        expected=f"{source.data_format} images, as {source.where} outputs them "
        f"(batch, {_order(source.channels_first)})",
        got=f"a {layer.data_format} layer (data_format not given, so config.image_data_format() "
        f"= {layer.data_format!r}): it would read the channel axis as pixels",
        fix=f"give it the same layout: {layer_code(layer, data_format=source.data_format)} - or, "
        "for a model ported from Theano-ordered Keras 1 code, call tinygrad_edu.config."
        f"set_image_data_format({source.data_format!r}) before building the model",
    )


# ---------------------------------------------------------------------- the labels
def forgotten_flatten(model: Any, y: np.ndarray) -> None:
    """Raise before the loss checks ``y`` when a Dense got rank-3/4 activations (no Flatten
    before it) and the labels, one per sample, cannot match its per-position outputs."""
    out = model.output_shape
    if not isinstance(out, tuple) or len(out) < 3 or y.ndim > 2:
        return
    if tuple(y.shape[1:]) in (tuple(out[1:-1]), (*out[1:-1], 1), tuple(out[1:])):
        return  # one label per position (sequence labelling): the model means it
    layers = list(model.layers)
    first = next((i for i, layer in enumerate(layers) if _dense_on_grid(layer)), None)
    if first is None:
        return
    dense = layers[first]
    positions = dense.input_shape[1:-1]
    count = (
        f"{positions[0]}"
        if len(positions) == 1
        else (f"{'x'.join(map(str, positions))} = {math.prod(d or 1 for d in positions)}")
    )
    raise ShapeError(
        where=f"model '{model.name}'",
        expected=f"one output per sample, to match labels of shape {y.shape}",
        got=f"outputs of shape {fmt_shape(out)}: {dense.where} received "
        f"{fmt_shape(dense.input_shape)} and, like every Dense, applied its weights to the last "
        f"axis only - once for each of the {count} positions",
        fix="flatten each sample before the first Dense: " + _with_flatten(model, layers, first),
    )


def _dense_on_grid(layer: Layer) -> bool:
    return isinstance(layer, Dense) and layer.built and len(layer.input_shape) >= 3


def _with_flatten(model: Any, layers: Sequence[Layer], first: int) -> str:
    """The model's code with ``Flatten()`` in front of ``layers[first]`` (taking over its
    ``input_shape`` when it declared one)."""
    dense = layers[first]
    shape_names = ("input_shape", "input_dim", "batch_input_shape")
    flatten = "Flatten()"
    if dense._declared_input_shape is not None:
        flatten = f"Flatten(input_shape={code_repr(dense._declared_input_shape[1:])})"
    codes = [layer_code(layer) for layer in layers]
    codes[first : first + 1] = [flatten, layer_code(dense, drop=shape_names)]
    if flatten == "Flatten()" and layers[0]._declared_input_shape is None and model.input_shape:
        codes.insert(0, f"Input(shape={code_repr(tuple(model.input_shape[1:]))})")
    if type(model).__name__ != "Sequential":
        return f"add Flatten() before {dense.where}"
    return f"model = Sequential([{', '.join(codes)}])"


# ---------------------------------------------------------------------- compile
def warn_single_unit_softmax(layers: Sequence[Layer]) -> None:
    """A ``ClassicMistakeWarning`` for each softmax over one unit (its output is always 1.0)."""
    for layer in layers:
        fn = getattr(layer, "activation", None)
        if fn is None or _activations.serialize(fn) != "softmax":
            continue
        units = getattr(layer, "units", None)
        if units is None and layer.output_shape is not None:
            units = layer.output_shape[-1]
        if units != 1:
            continue
        two = "Dense(2, activation='softmax')"
        if hasattr(layer, "units"):
            two = layer_code(layer, units=2)
        legacy.warn(
            f"{layer.where}: softmax over a single unit is exp(z) / exp(z) = 1.0 for every input, "
            "so the model outputs a constant and cannot learn. For two classes use one "
            f"probability, {layer_code(layer, activation='sigmoid')} with "
            f"loss='binary_crossentropy' (labels 0/1), or one output per class, {two} with "
            "loss='sparse_categorical_crossentropy'",
            ClassicMistakeWarning,
        )


__all__ = [
    "ClassicMistakeWarning",
    "check_next_layer",
    "forgotten_flatten",
    "looks_swapped",
    "swapped_channels",
    "warn_single_unit_softmax",
]
