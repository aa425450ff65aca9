"""``dot_text(tensor)``: the Graphviz DOT text of the autograd graph behind a tensor.

A pure walk of the graph (``tensor.op`` -> ``op.parents`` -> ...) that writes text; no Graphviz
needed. It sits beside ``tensor`` (level 3) so that ``Tensor.to_dot()`` can use it, and it never
imports ``tensor``: it reads only what every tensor has (``op``, ``name``, ``shape``, ``dtype``,
``grad``, ``requires_grad``, ``is_leaf``). ``tinygrad_edu.explain.graph`` is the same text with
the argument checked, and ``tinygrad_edu.explain.render`` draws it.

One ellipse per tensor (name if any, shape, dtype; ``grad shape |g|=norm`` once ``.grad`` is
set) and one box per op (its class name); edges go input -> op -> output, labelled with the
argument position for ops of several inputs. Node ids (``t0``, ``op3``...) follow the order of
computation, so the same computation always gives the same text. Leaves that require grad are
blue, constants grey, the tensor itself has a bold border.

>>> from tinygrad_edu import Tensor
>>> w = Tensor([[1.0, 2.0]], requires_grad=True, name="w")
>>> loss = (w * w).sum()
>>> print(dot_text(loss))  # doctest: +NORMALIZE_WHITESPACE
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

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConfigError

#: the title line of a graph whose ops ``backward()`` already freed
FREED_TITLE = (
    "the graph was freed by backward(): call loss.backward(retain_graph=True) to keep it"
)


def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, one line."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", " ") + '"'


def _lines(*parts: str) -> str:
    """Several label lines as one DOT string (``\\n`` is DOT's line break)."""
    return quote("\0".join(parts)).replace("\0", "\\n")


def collect(root: Any) -> list[Any]:
    """Every tensor the root was computed from, inputs before outputs (iterative DFS)."""
    order: list[Any] = []
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


def _tensor_label(t: Any) -> str:
    parts = [t.name] if t.name else []
    parts.append(f"{tuple(t.shape)} {t.dtype}")
    if t.grad is not None:
        g = np.asarray(t.grad)
        parts.append(f"grad {tuple(g.shape)} |g|={float(np.linalg.norm(g)):.4g}")
    return _lines(*parts)


def dot_text(tensor: Any, title: str | None = None, where: str = "Tensor.to_dot") -> str:
    """Graphviz DOT text of the autograd graph behind ``tensor`` (see the module docstring).

    ``title`` (a str) is drawn above the graph; without one, a graph already freed by
    ``backward()`` says how to keep it (``backward(retain_graph=True)``). ``where`` names the
    public entry in the error for a title that is not a str.
    """
    if title is not None and not isinstance(title, str):
        raise ConfigError(
            where=where,
            expected="title as a str (or None)",
            got=type(title).__name__,
            fix='loss.to_dot(title="my loss")',
        )
    order = collect(tensor)
    ids = {id(t): i for i, t in enumerate(order)}
    out = ["digraph autograd {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    if title is not None:
        out.append(f"  labelloc=t; label={quote(title)};")
    elif not tensor.is_leaf and tensor.op is None:
        out.append(f"  labelloc=t; label={quote(FREED_TITLE)};")
    for t in order:
        out.extend(_node(t, ids, is_root=t is tensor))
    out.append("}")
    return "\n".join(out)


def _node(t: Any, ids: dict, is_root: bool) -> list[str]:
    """The DOT lines of one tensor: its ellipse, and the box of the op that made it with the
    edges in and out."""
    i = ids[id(t)]
    style = ""
    if t.op is None:
        style = ", style=filled, fillcolor=" + ("lightblue" if t.requires_grad else "lightgrey")
    if is_root:
        style += ", penwidth=2"
    lines = [f"  t{i} [label={_tensor_label(t)}, shape=ellipse{style}];"]
    fn = t.op
    if fn is None:
        return lines
    lines.append(
        f"  op{i} [label={quote(type(fn).__name__)}, shape=box, style=filled, "
        "fillcolor=lightyellow];"
    )
    several = len(fn.parents) > 1
    for k, p in enumerate(fn.parents):
        lines.append(f"  t{ids[id(p)]} -> op{i}" + (f' [label="{k}"];' if several else ";"))
    lines.append(f"  op{i} -> t{i};")
    return lines


__all__ = ["FREED_TITLE", "collect", "dot_text", "quote"]
