"""``python -m tinygrad_edu explain "..."``: the summary (with the algebra column) of a pasted
Keras model, and with ``--batch N`` a trace of a random batch of N through it.

The work is bounded: the summary is computed with weight placeholders (``Dense(10**9)`` costs no
memory), and a traced batch is refused when its weights or activations would pass
``MAX_TRACE_PARAMS``/``MAX_TRACE_VALUES``; every refusal is one message and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import warnings
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from .. import config
from ..errors import TinygradEduError
from ..explain import trace
from ..models import Sequential
from ..summary import weight_elements, weights_without_storage
from .build import LAYER_ARGUMENT_ERRORS, build_model, make_layers
from .common import EXIT_OK, OptionError, reject
from .parse import MAX_TEXT_CHARS, ModelTextError, check_text_size, read_model_text

#: a traced batch runs real weights: at most this many parameters (200 MB of float32)
MAX_TRACE_PARAMS = 50_000_000
#: ... and at most this many values in one layer's input (times its window) plus output
MAX_TRACE_VALUES = 2**25
MAX_TRACE_BATCH = 4096
MAX_INPUT_RANK = 8


def _parse_shape(text: str) -> tuple:
    parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
    if len(parts) > MAX_INPUT_RANK:
        raise ValueError(text)
    shape = tuple(int(p) for p in parts)
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(text)
    return shape


def _input_shape_option(text: str | None) -> tuple | None:
    if text is None:
        return None
    try:
        return _parse_shape(text)
    except ValueError:
        raise OptionError(
            f"--input-shape {text[:40]!r}: expected up to {MAX_INPUT_RANK} positive integers "
            "separated by commas, e.g. 28,28,1"
        ) from None


def _batch_option(batch: int | None) -> int | None:
    if batch is not None and not 1 <= batch <= MAX_TRACE_BATCH:
        raise OptionError(f"--batch must be from 1 to {MAX_TRACE_BATCH:,} (got {batch})")
    return batch


def _model_text(args: argparse.Namespace) -> str:
    if args.model != "-":
        return check_text_size(args.model)
    if sys.stdin is None:
        raise OptionError("model '-' reads the text from standard input, but there is none")
    try:
        text = sys.stdin.read(MAX_TEXT_CHARS + 1)
    except UnicodeDecodeError:
        raise ModelTextError(
            where="model text (standard input)",
            expected="UTF-8 text",
            got="bytes that are not UTF-8",
            fix="save the model definition as UTF-8 text",
        ) from None
    return check_text_size(text)


def _described_model(specs: Sequence[Any], input_shape: tuple | None) -> Any:
    """The model with weight placeholders: exact shapes and counts, no weight storage."""
    layers = make_layers(specs)
    with weights_without_storage(layers):
        model = _built(lambda: Sequential(layers), input_shape)
    return model


def _runnable_model(specs: Sequence[Any], input_shape: tuple | None) -> Any:
    return _built(lambda: build_model(specs), input_shape)


def _built(make: Callable[[], Any], input_shape: tuple | None) -> Any:
    try:
        model = make()
        if input_shape is not None:
            model.build((None, *input_shape))
    except TinygradEduError:
        raise
    except LAYER_ARGUMENT_ERRORS as exc:
        raise ModelTextError(
            where="building the model",
            expected="layers whose shapes fit together",
            got=f"{type(exc).__name__}: {str(exc)[:160]}",
            fix="check the layer arguments and the input shape",
        ) from None
    return model


def _check_traceable(model: Any, batch: int) -> tuple:
    """The input shape of a traced batch, after refusing what would take too much memory."""
    if not model.built:
        raise OptionError(
            "--batch needs the input shape: give the first layer input_shape=(...) or pass "
            "--input-shape"
        )
    sample = tuple(model.input_shape[1:])
    if any(d is None for d in sample):
        raise OptionError(
            f"--batch needs every input size, but the input shape is {sample}: pass "
            "--input-shape with all of them"
        )
    params = weight_elements(model)
    if params > MAX_TRACE_PARAMS:
        raise OptionError(
            f"--batch: the model has {params:,} parameters; a traced batch runs real weights, "
            f"at most {MAX_TRACE_PARAMS:,} - leave out --batch to see only the summary"
        )
    values = batch * max(_layer_values(layer) for layer in model.layers)
    if values > MAX_TRACE_VALUES:
        raise OptionError(
            f"--batch {batch}: a layer would hold {values:,} values (at most "
            f"{MAX_TRACE_VALUES:,}) - use a smaller --batch or input shape"
        )
    return sample


def _layer_values(layer: Any) -> int:
    """Values one sample needs in a layer: its input times its window, plus its output."""
    window = math.prod(getattr(layer, "kernel_size", None) or (1,))
    return _elements(layer.input_shape) * window + _elements(layer.output_shape)


def _elements(shape: Any) -> int:
    if shape and isinstance(shape[0], (tuple, list)):
        return sum(_elements(s) for s in shape)
    return math.prod(int(d) for d in tuple(shape)[1:] if d is not None)


def _layout(data_format: str | None) -> Any:
    """The script's image layout (``K.set_image_dim_ordering('th')``) while layers are made."""
    return contextlib.nullcontext() if data_format is None else config.data_format(data_format)


def cmd_explain(
    args: argparse.Namespace, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    try:
        input_shape = _input_shape_option(args.input_shape)
        batch = _batch_option(args.batch)
        read = read_model_text(_model_text(args))
        specs, input_shape = read.specs, input_shape or read.input_shape
        with warnings.catch_warnings(record=True) as caught:  # e.g. Keras 1 spellings
            warnings.simplefilter("always")
            with _layout(read.data_format):
                model = _described_model(specs, input_shape)
        sample = _check_traceable(model, batch) if batch is not None else None
    except OptionError as exc:
        return reject(str(exc), err)
    except ModelTextError as exc:
        return reject(f"rejected: {exc}", err)
    except TinygradEduError as exc:
        return reject(str(exc), err)
    if read.note() is not None:
        err(read.note())  # how the text was read: beside the summary, not in it
    for warning in caught:  # as lines of the command, not Python's "file:line: ..." form
        err(f"{warning.category.__name__}: {warning.message}")
    model.summary(print_fn=out)
    if batch is None:
        return EXIT_OK
    try:
        with warnings.catch_warnings():  # the same layers again: their warnings were shown
            warnings.simplefilter("ignore")
            with _layout(read.data_format):
                runnable = _runnable_model(specs, input_shape)
        x = np.random.default_rng(0).standard_normal((batch, *sample))
        out("")
        trace(runnable, x, print_fn=out)
    except TinygradEduError as exc:
        return reject(str(exc), err)
    except MemoryError:
        return reject("--batch: not enough memory to trace this batch; use a smaller one", err)
    return EXIT_OK


__all__ = ["MAX_TRACE_BATCH", "MAX_TRACE_PARAMS", "MAX_TRACE_VALUES", "cmd_explain"]
