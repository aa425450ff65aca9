"""Teaching tools: trace a real batch through a model, and draw the autograd graph.

``trace(model, x)`` runs ``x`` layer by layer (no graph recorded) and prints, per layer, the
operation of the summary's algebra column with the real batch size in place of ``B``, e.g.::

    dense: [32,784] @ [784,32] + [32] -> [32,32]; relu -> [32,32]

and checks every measured output shape against the layer's ``compute_output_shape``.

``graph(tensor)`` returns Graphviz DOT text of the graph behind a tensor (no graphviz needed);
``render(tensor_or_dot, "graph.svg")`` draws it with the ``dot`` program when it is installed.
``backward()`` frees the graph, so to see gradients in the drawing keep it alive::

    loss.backward(retain_graph=True)
    print(graph(loss))

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

import os
import re
import shutil
import subprocess
import warnings
from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np

from .errors import ConfigError, NotBuiltError
from .layers.base import Layer, bracket_shape
from .tensor import Tensor, no_grad

# "B" as a whole token (the algebra's batch symbol), never the letter inside a word
_BATCH_TOKEN = re.compile(r"(?<![A-Za-z0-9_])B(?![A-Za-z0-9_])")


class ShapeMismatchWarning(UserWarning):
    """A layer's real output shape differs from what its ``compute_output_shape`` promises."""


# ====================================================================== trace
def with_batch(text: str, batch: int) -> str:
    """Replace the batch symbol ``B`` of an algebra text by ``batch`` (whole tokens only).

    >>> with_batch("im2col [B*26*26, 9] @ [9, 32] -> [B,26,26,32]; Batch stays", 32)
    'im2col [32*26*26, 9] @ [9, 32] -> [32,26,26,32]; Batch stays'
    """
    if (
        not isinstance(text, str)
        or isinstance(batch, bool)
        or not isinstance(batch, (int, np.integer))
    ):
        raise ConfigError(
            where="explain.with_batch",
            expected="(algebra text as str, batch size as int)",
            got=f"({type(text).__name__}, {type(batch).__name__})",
            fix='with_batch("[B,784] @ [784,32]", 32)',
        )
    return _BATCH_TOKEN.sub(str(int(batch)), text)


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
    """The layer's algebra with the real batch size, framed by the measured shapes."""
    algebra = with_batch(layer.algebra()[0], batch)
    src, dst = _brackets(in_shape), _brackets(out_shape)
    text = algebra if src in algebra else f"{src} -> {algebra}"
    last = algebra.rsplit("; ", 1)[-1]
    if dst not in algebra or (last != algebra and last.isidentifier()):  # "...; relu" -> out
        text = f"{text} -> {dst}"
    return text


def _layers_and_input(model: Any, x: Any) -> tuple:
    """(layers, input array) with the model's usual teaching checks on the input."""
    if isinstance(model, Layer):
        layers = [model]
    elif isinstance(model, (list, tuple)):
        layers = list(model)
    else:
        layers = list(getattr(model, "layers", []))
    name = getattr(model, "name", "model")
    if not layers:
        raise NotBuiltError(
            where=f"model '{name}'",
            expected="at least one layer",
            got="an empty model",
            fix="model.add(Dense(...))",
        )
    if hasattr(model, "_check_x"):
        arr = model._check_x(x, "explain")
    else:
        arr = x.data if isinstance(x, Tensor) else np.asarray(x)
        layers[0].check_input(arr.shape)
    return layers, arr


def trace(
    model: Any, x: Any, print_fn: Optional[Callable[[str], Any]] = print, training: bool = False
) -> List[Dict[str, Any]]:
    """Run the batch ``x`` through ``model`` one layer at a time and explain each step.

    model: a ``Sequential`` (or a list of layers). x: a real batch, batch axis first.
    print_fn: called with each line (``None``: print nothing). training: run Dropout and
    BatchNormalization as in training (default: inference).

    Returns one dict per layer: ``layer`` (name), ``type`` (class name), ``input_shape`` and
    ``output_shape`` (measured tuples; a tuple of tuples for several outputs), ``operation``
    (the printed text), ``params`` (count), ``expected_shape`` (``compute_output_shape`` with the
    batch filled in) and ``shape_ok``. A mismatch is printed as ``!!! SHAPE MISMATCH`` and warned
    (``ShapeMismatchWarning``): it means the layer's ``compute_output_shape`` is wrong.
    """
    _check_trace_options(print_fn, training)
    layers, arr = _layers_and_input(model, x)
    emit = print_fn if print_fn is not None else (lambda line: None)
    batch = int(arr.shape[0])
    mode = "training" if training else "inference"
    emit(
        f"Trace of model '{getattr(model, 'name', 'model')}' on a real batch of {batch} "
        f"({mode} mode, no graph recorded); B = {batch}"
    )
    emit(f"input: {bracket_shape(arr.shape)}")
    rows: List[Dict[str, Any]] = []
    h: Any = arr
    with no_grad():
        for layer in layers:
            in_shape = _shape_of(h)
            h = layer(h, training=training)
            out_shape = _shape_of(h)
            expected = _fill_batch(layer.compute_output_shape((None, *in_shape[1:])), batch)
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


# ====================================================================== graph
def _quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, one line."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", " ") + '"'


def _lines(*parts: str) -> str:
    """Several label lines as one DOT string (``\\n`` is DOT's line break)."""
    return _quote("\0".join(parts)).replace("\0", "\\n")


def _collect(root: Tensor) -> List[Tensor]:
    """Every tensor the root was computed from, inputs before outputs (iterative DFS)."""
    order: List[Tensor] = []
    seen = set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t.op
        if fn is not None:
            # reversed: the first parent is expanded first, so ids follow the argument order
            stack.extend((p, False) for p in reversed(fn.parents) if id(p) not in seen)
    return order


def _tensor_label(t: Tensor) -> str:
    parts = [t.name] if t.name else []
    parts.append(f"{tuple(t.shape)} {t.dtype}")
    if t.grad is not None:
        g = np.asarray(t.grad)
        parts.append(f"grad {tuple(g.shape)} |g|={float(np.linalg.norm(g)):.4g}")
    return _lines(*parts)


def graph(tensor: Tensor, title: Optional[str] = None) -> str:
    """Graphviz DOT text of the autograd graph behind ``tensor``.

    One ellipse per tensor (name if any, shape, dtype; ``grad shape |g|=norm`` once ``.grad``
    is set) and one box per op (its class name); edges go input -> op -> output, labelled with
    the argument position for ops of several inputs. Node ids (``t0``, ``op3``...) follow the
    order of computation, so the same computation always gives the same text.
    Leaves that require grad are blue, constants grey, the tensor itself has a bold border.

    The graph exists only until ``backward()`` frees it: call ``loss.backward(retain_graph=True)``
    to draw it with the gradients. Save it with ``open("g.dot", "w").write(graph(loss))``.

    >>> from tinygrad_edu import Tensor
    >>> w = Tensor([[1.0, 2.0]], requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> print(graph(loss))  # doctest: +NORMALIZE_WHITESPACE
    digraph autograd {
      rankdir=LR;
      node [fontname="Helvetica", fontsize=10];
      t0 [label="w\\n(1, 2) float32", shape=ellipse, style=filled, fillcolor=lightblue];
      t1 [label="(1, 2) float32", shape=ellipse];
      op1 [label="Mul", shape=box, style=filled, fillcolor=lightyellow];
      t0 -> op1 [label="0"];
      t0 -> op1 [label="1"];
      op1 -> t1;
      t2 [label="() float32", shape=ellipse, penwidth=2];
      op2 [label="Sum", shape=box, style=filled, fillcolor=lightyellow];
      t1 -> op2;
      op2 -> t2;
    }
    """
    if not isinstance(tensor, Tensor):
        raise ConfigError(
            where="explain.graph",
            expected="a Tensor",
            got=type(tensor).__name__,
            fix="pass the tensor, e.g. graph(loss)",
        )
    if title is not None and not isinstance(title, str):
        raise ConfigError(
            where="explain.graph",
            expected="title as a str (or None)",
            got=type(title).__name__,
            fix='graph(loss, title="my loss")',
        )
    order = _collect(tensor)
    ids = {id(t): i for i, t in enumerate(order)}
    out = ["digraph autograd {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    if title is not None:
        out.append(f"  labelloc=t; label={_quote(title)};")
    elif not tensor.is_leaf and tensor.op is None:
        out.append(
            '  labelloc=t; label="the graph was freed by backward(): call '
            'loss.backward(retain_graph=True) to keep it";'
        )
    for t in order:
        i = ids[id(t)]
        style = ""
        if t.op is None:
            style = ", style=filled, fillcolor=" + ("lightblue" if t.requires_grad else "lightgrey")
        if t is tensor:
            style += ", penwidth=2"
        out.append(f"  t{i} [label={_tensor_label(t)}, shape=ellipse{style}];")
        fn = t.op
        if fn is None:
            continue
        out.append(
            f"  op{i} [label={_quote(type(fn).__name__)}, shape=box, style=filled, "
            "fillcolor=lightyellow];"
        )
        several = len(fn.parents) > 1
        for k, p in enumerate(fn.parents):
            out.append(f"  t{ids[id(p)]} -> op{i}" + (f' [label="{k}"];' if several else ";"))
        out.append(f"  op{i} -> t{i};")
    out.append("}")
    return "\n".join(out)


_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "dot", "gv")


def render(
    source: Union[Tensor, str],
    path: Union[str, "os.PathLike[str]"],
    format: Optional[str] = None,
    timeout: float = 60.0,
) -> str:  # noqa: A002
    """Write the graph drawing to ``path``; return the path.

    source: a Tensor (drawn with ``graph``) or DOT text. format: ``svg``, ``png``, ``pdf``...
    (default: from the file suffix, else ``svg``); ``dot``/``gv`` write the text itself.
    Drawing needs the Graphviz program ``dot``; without it a ``ConfigError`` says how to get it.
    """
    if not isinstance(source, (Tensor, str)):
        raise ConfigError(
            where="explain.render",
            expected="a Tensor or DOT text",
            got=type(source).__name__,
            fix="render(loss, 'graph.svg') or render(graph(loss), 'graph.svg')",
        )
    try:
        path = os.fspath(path)
    except TypeError:
        path = None
    if not isinstance(path, str) or not path:
        raise ConfigError(
            where="explain.render",
            expected="a file path (str or pathlib.Path)",
            got=repr(path) if path is not None else "not a path",
            fix="render(loss, 'graph.svg')",
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigError(
            where="explain.render",
            expected="timeout as a positive number of seconds",
            got=repr(timeout),
            fix="render(loss, 'graph.svg', timeout=60)",
        )
    text = graph(source) if isinstance(source, Tensor) else source
    fmt = (format or os.path.splitext(path)[1].lstrip(".") or "svg").lower()
    if fmt not in _FORMATS:
        raise ConfigError(
            where="explain.render",
            expected="one of " + ", ".join(_FORMATS),
            got=repr(fmt),
            fix="use a path ending in .svg or .png, or format='svg'",
        )
    if fmt in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise ConfigError(
            where="explain.render",
            expected="the Graphviz program 'dot' on the PATH",
            got="no 'dot' program found",
            fix="install Graphviz (apt-get install graphviz, brew install graphviz or conda "
            "install graphviz), or save the DOT text and draw it elsewhere: "
            "open('graph.dot', 'w').write(graph(t))",
        )
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}", "-o", path],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            where="explain.render",
            expected=f"'dot' to finish within {timeout:g} s",
            got="a timeout",
            fix="draw a smaller graph, or pass timeout=...",
        ) from None
    if done.returncode != 0:
        raise ConfigError(
            where="explain.render",
            expected="'dot' to succeed",
            got=f"exit code {done.returncode}: "
            f"{done.stderr.decode('utf-8', 'replace').strip()[:500]}",
            fix="check the DOT text (graph(t)) and the output format",
        )
    return path


__all__ = ["trace", "with_batch", "graph", "render", "ShapeMismatchWarning"]
