"""Pasted models built the other two Keras ways - the functional API (``Input``, layers called
on tensors, ``Model(inputs, outputs)``) and subclassing ``Model`` - are refused with one message
saying that tinygrad_edu does not have them yet (a later issue), never with advice that would
build a different model. A functional model that is one straight chain of layers *is* a
Sequential model, and the message then gives that model, written out from the pasted calls.
"""

from __future__ import annotations

import ast
from typing import Callable

from .common import FunctionalModelError
from .names import Names

SEQUENTIAL_FORMS = (
    "a Sequential model: Sequential([...]), a list of layer calls, or model = Sequential() "
    "with model.add(...) lines"
)
NOT_YET = "which tinygrad_edu does not have yet (a later issue)"

Reject = Callable[..., Exception]


def refuse_other_apis(tree: ast.Module, names: Names, text: str, reject: Reject) -> None:
    """Raise ``FunctionalModelError`` (through ``reject``) when the text uses the functional
    API or subclasses a model class; return quietly otherwise."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and _subclasses_model(node, names):
            raise reject(
                node,
                f"a model class of your own, class {node.name}: its layers are made by running "
                "code, and explain never runs code",
                expected=SEQUENTIAL_FORMS,
                fix=f"run it in Python instead: make it with {node.name}(...) and call its "
                "summary() once it has been built on an input",
                error=FunctionalModelError,
            )
    first = _first_functional_call(tree, names)
    if first is None:
        return
    chain = _straight_chain(tree, names, text)
    fix = (
        f"this model is one chain of layers, the same as the Sequential model {chain}"
        if chain is not None
        else "no rewrite: the model branches or has several inputs or outputs, which only the "
        "functional API can express; explain one branch at a time as Sequential([...])"
    )
    raise reject(
        first,
        f"the Keras functional API - layers called on tensors, Model(inputs, outputs) - {NOT_YET}",
        expected=SEQUENTIAL_FORMS,
        fix=fix,
        error=FunctionalModelError,
    )


def _subclasses_model(node: ast.ClassDef, names: Names) -> bool:
    return any(names.is_functional_model(names.dotted(base)) for base in node.bases)


def _first_functional_call(tree: ast.Module, names: Names) -> ast.AST | None:
    """The first statement holding a layer called on a tensor (``Dense(10)(x)``) or a
    ``Model(...)``; None when there is none."""
    for stmt in tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and (
                _applied_layer(node, names) is not None
                or names.is_functional_model(names.dotted(node.func))
            ):
                return stmt
    return None


def _applied_layer(node: ast.Call, names: Names) -> ast.Call | None:
    """``Dense(10)(x)`` -> the inner ``Dense(10)`` call; None for any other call."""
    inner = node.func
    if isinstance(inner, ast.Call) and names.layer_class(names.dotted(inner.func)) is not None:
        return inner
    return None


def _straight_chain(tree: ast.Module, names: Names, text: str) -> str | None:
    """``model = Sequential([...])`` from ``inputs = Input(...)``, ``x = Layer(...)(previous)``
    lines and ``Model(inputs, outputs)``, when every layer takes the one before it; else None."""
    calls: list[str] = []
    first = tip = None
    closed = False
    applied = 0
    for stmt in tree.body:
        applied += sum(
            1 for n in ast.walk(stmt) if isinstance(n, ast.Call) and _applied_layer(n, names)
        )
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        target, value = stmt.targets[0], stmt.value
        if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)):
            continue
        if names.layer_class(names.dotted(value.func)) in ("Input", "InputLayer") and first is None:
            first = tip = target.id
            calls.append(ast.get_source_segment(text, value) or "")
        elif _applied_layer(value, names) is not None and _takes(value, tip):
            calls.append(ast.get_source_segment(text, value.func) or "")
            tip = target.id
        elif names.is_functional_model(names.dotted(value.func)):
            closed = _model_of(value) == (first, tip)
        elif target.id == tip:
            tip = None  # the end of the chain is now something else: a branch joined
    if not closed or first is None or applied != len(calls) - 1 or not all(calls):
        return None
    return "model = Sequential([" + ", ".join(calls) + "])"


def _takes(call: ast.Call, tip: str | None) -> bool:
    """The layer is applied to the current end of the chain and nothing else."""
    return (
        tip is not None
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == tip
    )


def _model_of(call: ast.Call) -> tuple[str | None, str | None]:
    """The names of ``Model(inputs, outputs)``'s inputs and outputs (None when not names)."""
    given = dict(zip(("inputs", "outputs"), call.args))
    given.update({kw.arg: kw.value for kw in call.keywords if kw.arg in ("inputs", "outputs")})
    found = [given.get(key) for key in ("inputs", "outputs")]
    return tuple(n.id if isinstance(n, ast.Name) else None for n in found)  # type: ignore[return-value]


__all__ = ["SEQUENTIAL_FORMS", "refuse_other_apis"]
