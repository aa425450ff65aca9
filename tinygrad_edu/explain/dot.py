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
from typing import Optional, Union

from ..errors import ConfigError
from ..graph_dot import dot_text
from ..tensor import Tensor


def graph(tensor: Tensor, title: Optional[str] = None) -> str:
    """Graphviz DOT text of the autograd graph behind ``tensor`` - the same text as
    ``tensor.to_dot()`` (written by ``tinygrad_edu.graph_dot``), with the argument checked.

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
    >>> graph(loss) == loss.to_dot()
    True
    >>> print(graph(loss).splitlines()[3])
      t0 [label="w\\n(1, 2) float32", shape=ellipse, style=filled, fillcolor=lightblue];
    """
    if not isinstance(tensor, Tensor):
        raise ConfigError(
            where="explain.graph",
            expected="a Tensor",
            got=type(tensor).__name__,
            fix="pass the tensor, e.g. graph(loss)",
        )
    return dot_text(tensor, title, where="explain.graph")


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
