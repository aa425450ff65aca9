"""``trace(model, x)``: run a real batch layer by layer and explain each step.

It prints, per layer, the operation of the summary's algebra column with the real batch size in
place of ``B`` (``layer.algebra().text(batch=32)``), e.g.::

    dense: [32,784] @ [784,32] + [32] -> [32,32]; relu -> [32,32]

and checks every measured output shape against the layer's ``compute_output_shape``.

>>> import numpy as np
>>> from tinygrad_edu.layers import Dense
>>> from tinygrad_edu.models import Sequential
>>> model = Sequential([Dense(32, activation="relu", input_shape=(784,)), Dense(10)])
>>> rows = trace(model, np.zeros((8, 784)), print_fn=None)
>>> rows[0]["operation"]
'[8,784] @ [784,32] + [32] -> [8,32]; relu -> [8,32]'
>>> rows[1]["output_shape"], rows[1]["params"]
((8, 10), 330)
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional

import numpy as np

from ..errors import ConfigError, NotBuiltError
from ..layers.algebra import algebra_of
from ..layers.base import Layer, bracket_shape
from ..tensor import Tensor, no_grad


class ShapeMismatchWarning(UserWarning):
    """A layer's real output shape differs from what its ``compute_output_shape`` promises."""


def _shape_of(out: Any) -> Any:
    """The shape of a layer output: a tuple, or a tuple of tuples for several outputs."""
    if isinstance(out, (list, tuple)):
        return tuple(_shape_of(o) for o in out)
    return tuple(int(d) for d in np.shape(out.data if isinstance(out, Tensor) else out))


def _fill_batch(shape: Any, batch: int) -> Any:
    """``(None, 10)`` -> ``(batch, 10)``; recurses into a list of shapes (several outputs)."""
    if shape and isinstance(shape[0], (tuple, list)):
        return tuple(_fill_batch(s, batch) for s in shape)
    return tuple(batch if (i == 0 and d is None) else d for i, d in enumerate(shape))


def _brackets(shape: Any) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(bracket_shape(s) for s in shape)
    return bracket_shape(shape)


def _operation(layer: Layer, in_shape: tuple, out_shape: Any, batch: int) -> str:
    """The layer's algebra with the real batch size, framed by the measured shapes: the input
    leads unless the algebra starts from that very shape, the output ends the line unless the
    algebra ends at it (an activation after it, ``; relu``, names the result again)."""
    algebra = algebra_of(layer)
    text = algebra.text(batch)
    if algebra.shown_input(batch) != in_shape:
        text = f"{_brackets(in_shape)} -> {text}"
    if algebra.activation or algebra.shown_output(batch) != out_shape:
        text = f"{text} -> {_brackets(out_shape)}"
    return text


def _layer_calls(model: Any, x: Any, training: bool) -> tuple:
    """(the input array, the ``(layer, input, output)`` calls of one forward pass), with the
    model's usual teaching checks on the input. A model runs its own ``layer_calls``; a layer or
    a list of layers runs as a stack."""
    if isinstance(model, Layer):
        layers = [model]
    elif isinstance(model, (list, tuple)):
        layers = list(model)
    else:
        layers = list(getattr(model, "layers", []))
    if not layers:
        raise NotBuiltError(
            where=f"model '{getattr(model, 'name', 'model')}'",
            expected="at least one layer",
            got="an empty model",
            fix="model.add(Dense(...))",
        )
    if callable(getattr(model, "layer_calls", None)):  # a Model (see tinygrad_edu.models.base)
        arr = model._check_x(x, "explain")
        return arr, model.layer_calls(arr, training=training)
    arr = x._data if isinstance(x, Tensor) else np.asarray(x)
    layers[0].check_input(arr.shape)
    return arr, _stack_calls(layers, arr, training)


def _stack_calls(layers: List[Layer], x: Any, training: bool) -> Iterator[tuple]:
    for layer in layers:
        out = layer(x, training=training)
        yield layer, x, out
        x = out


def trace(
    model: Any, x: Any, print_fn: Optional[Callable[[str], Any]] = print, training: bool = False
) -> List[Dict[str, Any]]:
    """Run the batch ``x`` through ``model`` one layer at a time and explain each step.

    model: a model (``Sequential``...), a layer, or a list of layers. x: a real batch, batch
    axis first. print_fn: called with each line (``None``: print nothing). training: run
    Dropout and BatchNormalization as in training (default: inference).

    Returns one dict per layer: ``layer`` (name), ``type`` (class name), ``input_shape`` and
    ``output_shape`` (measured tuples; a tuple of tuples for several outputs), ``operation``
    (the printed text), ``params`` (count), ``expected_shape`` (``compute_output_shape`` with the
    batch filled in) and ``shape_ok``. A mismatch is printed as ``!!! SHAPE MISMATCH`` and warned
    (``ShapeMismatchWarning``): it means the layer's ``compute_output_shape`` is wrong.
    """
    _check_trace_options(print_fn, training)
    arr, calls = _layer_calls(model, x, training)
    emit = print_fn if print_fn is not None else (lambda line: None)
    batch = int(arr.shape[0])
    mode = "training" if training else "inference"
    emit(
        f"Trace of model '{getattr(model, 'name', 'model')}' on a real batch of {batch} "
        f"({mode} mode, no graph recorded); B = {batch}"
    )
    emit(f"input: {bracket_shape(arr.shape)}")
    rows: List[Dict[str, Any]] = []
    with no_grad():
        for layer, layer_input, layer_output in calls:
            in_shape = _shape_of(layer_input)
            out_shape = _shape_of(layer_output)
            several = isinstance(layer_input, (list, tuple))  # a merge layer's inputs
            without_batch = [(None, *s[1:]) for s in in_shape] if several else (None, *in_shape[1:])
            expected = _fill_batch(layer.compute_output_shape(without_batch), batch)
            ok = _same(expected, out_shape)
            row = {
                "layer": layer.name,
                "type": type(layer).__name__,
                "input_shape": in_shape,
                "output_shape": out_shape,
                "operation": _operation(layer, in_shape, out_shape, batch),
                "params": layer.count_params(),
                "expected_shape": expected,
                "shape_ok": ok,
            }
            rows.append(row)
            emit(f"{layer.name}: {row['operation']}")
            if not ok:
                msg = (
                    f"!!! SHAPE MISMATCH in layer '{layer.name}' ({type(layer).__name__}): "
                    f"measured {_brackets(out_shape)} but compute_output_shape says "
                    f"{_brackets(expected)}"
                )
                emit(msg)
                warnings.warn(msg, ShapeMismatchWarning, stacklevel=2)
    emit(f"output: {_brackets(rows[-1]['output_shape'])}")
    return rows


def _check_trace_options(print_fn: Any, training: Any) -> None:
    if print_fn is not None and not callable(print_fn):
        raise ConfigError(
            where="explain.trace",
            expected="print_fn as a function of one line (or None)",
            got=type(print_fn).__name__,
            fix="trace(model, x, print_fn=lines.append)",
        )
    if not isinstance(training, (bool, np.bool_)):
        raise ConfigError(
            where="explain.trace",
            expected="training as True or False",
            got=repr(training),
            fix="trace(model, x, training=True)",
        )


def _same(expected: Any, measured: Any) -> bool:
    try:
        return tuple(map(_plain, expected)) == tuple(map(_plain, measured))
    except TypeError:
        return False


def _plain(d: Any) -> Any:
    if isinstance(d, (tuple, list)):
        return tuple(map(_plain, d))
    return None if d is None else int(d)


__all__ = ["ShapeMismatchWarning", "trace"]
