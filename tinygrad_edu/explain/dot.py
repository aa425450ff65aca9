"""``graph(tensor)``: Graphviz DOT text of the autograd graph behind a tensor (no graphviz
needed); ``render(tensor_or_dot, "graph.svg")`` draws it with the ``dot`` program when it is
installed. ``backward()`` frees the graph, so to see gradients in the drawing keep it alive::

    loss.backward(retain_graph=True)
    print(graph(loss))
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import List, Optional, Union

import numpy as np

from ..errors import ConfigError
from ..tensor import Tensor


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
    path: Union[str, os.PathLike[str]],
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


__all__ = ["graph", "render"]
