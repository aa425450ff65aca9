"""The values of a pasted layer call's arguments, read from the syntax tree - never evaluated.

A value is a literal (numbers - negative too -, strings, ``None``/``True``/``False``, tuples and
lists of them), a name the text set to such a literal earlier (``num_classes = 10`` ...
``Dense(num_classes)``), an activation function reference where an activation goes
(``activation=tf.nn.relu`` -> ``"relu"``), or a regularizer/initializer made from literals
(``kernel_regularizer=regularizers.l2(0.01)``, ``kernel_initializer=he_normal(seed=0)``).
Anything else is refused through the reader's ``reject``, naming what it was.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

from ..errors import TinygradEduError
from .names import Names

LITERALS = "literal layer arguments (numbers, strings, None/True/False, tuples/lists of them)"
VALUE_FIX = "write the value itself, e.g. Dense(10) or input_shape=(28, 28, 1)"
#: the keyword arguments that take an activation function
ACTIVATION_KEYWORDS = ("activation", "recurrent_activation")
#: a value to show in a fix, by keyword
EXAMPLES = {"input_shape": "(28, 28, 1)", "units": "10", "filters": "32", "rate": "0.5"}
#: what a regularizer or initializer constructor may raise on arguments of the wrong kind
_CALL_ERRORS = (TypeError, ValueError, ArithmeticError)

Reject = Callable[..., Exception]


class Values:
    """Reads argument values; remembers the literal constants and the names code sets."""

    def __init__(self, names: Names, reject: Reject) -> None:
        self.names = names
        self.reject = reject
        self.constants: dict[str, Any] = {}
        self.computed: dict[str, int] = {}  # a name set by code explain does not run -> line

    # ------------------------------------------------------------ names the text sets
    def learn_constant(self, targets: list[ast.expr], value: ast.expr) -> bool:
        """``num_classes = 10`` or ``rows, cols = 28, 28``: remember them and return True;
        False when the value is not a literal (the names are then code's, see ``computed``)."""
        pairs = []
        for target in targets:
            if isinstance(target, ast.Name):
                pairs.append((target, value))
            elif (
                isinstance(target, (ast.Tuple, ast.List))
                and isinstance(value, (ast.Tuple, ast.List))
                and len(target.elts) == len(value.elts)
                and all(isinstance(t, ast.Name) for t in target.elts)
            ):
                pairs.extend(zip(target.elts, value.elts))
            else:
                return False
        if not pairs or not all(self._is_literal(v) for _, v in pairs):
            return False
        for target, node in pairs:
            self.constants[target.id] = self.value(node)
            self.computed.pop(target.id, None)
        return True

    def learn_computed(self, stmt: ast.stmt) -> None:
        """The names a statement that is not run assigns: using one as a value is refused
        with the line that sets it."""
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.computed[node.id] = stmt.lineno
                self.constants.pop(node.id, None)

    def _is_literal(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (bool, int, float, str)) or node.value is None
        if isinstance(node, (ast.Tuple, ast.List)):
            return all(self._is_literal(item) for item in node.elts)
        if isinstance(node, ast.Name):
            return node.id in self.constants
        return _is_signed_number(node)

    # ------------------------------------------------------------ values
    def value(self, node: ast.expr, keyword: str | None = None) -> Any:
        """The value of an argument (``keyword``: the keyword it is given as, if any;
        ``"activation"`` for ``Activation``'s first argument)."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bool, int, float, str)) or node.value is None:
                return node.value
            raise self.reject(
                node,
                f"a {type(node.value).__name__} constant",
                expected=LITERALS,
                fix="use numbers, strings, None/True/False or tuples/lists of them",
            )
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.value(item) for item in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if _is_signed_number(node):
            number = node.operand.value
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self._reference(node, keyword)
        if isinstance(node, ast.Call):
            return self._made(node)
        raise self.reject(
            node, f"{describe(node)} as an argument", expected=LITERALS, fix=VALUE_FIX
        )

    def _reference(self, node: ast.expr, keyword: str | None) -> str:
        """``tf.nn.relu`` where an activation goes -> "relu"; else a refusal that says why."""
        dotted = self.names.dotted(node)
        name = self.names.activation(dotted)
        if name is not None and keyword in ACTIVATION_KEYWORDS:
            return name
        code = ".".join(dotted or ())
        if name is not None:
            raise self.reject(
                node,
                f"the activation function `{code}` where no activation goes",
                expected=LITERALS,
                fix=f'use it as activation="{name}" (or activation={code})',
            )
        if isinstance(node, ast.Name) and node.id in self.computed:
            line = self.computed[node.id]
            example = EXAMPLES.get(keyword or "", "")
            raise self.reject(
                node,
                f"a name whose value code on line {line} computes; explain never runs code",
                expected=LITERALS,
                fix=f"write the value itself in place of `{node.id}`"
                + (f", e.g. {keyword}={example}" if example else ""),
            )
        raise self.reject(
            node, f"{describe(node)} as an argument", expected=LITERALS, fix=VALUE_FIX
        )

    def _made(self, node: ast.Call) -> Any:
        """A regularizer or initializer made from literal arguments."""
        make = self.names.factory(self.names.dotted(node.func))
        if make is None:
            raise self.reject(
                node,
                "a call of something that is not a layer class, regularizer or initializer",
                expected=LITERALS,
                fix=VALUE_FIX,
            )
        if any(kw.arg is None for kw in node.keywords) or any(
            isinstance(a, ast.Starred) for a in node.args
        ):
            raise self.reject(node, "*args/**kwargs unpacking", expected=LITERALS, fix=VALUE_FIX)
        args = [self.value(a) for a in node.args]
        kwargs = {kw.arg: self.value(kw.value) for kw in node.keywords}
        try:
            return make(*args, **kwargs)
        except TinygradEduError:
            raise
        except _CALL_ERRORS as exc:
            raise self.reject(
                node,
                f"{type(exc).__name__}: {str(exc)[:120]}",
                expected=f"valid arguments of {make.__name__}",
                fix=f"see help(tinygrad_edu.{make.__module__.split('.')[-1]}.{make.__name__})",
            ) from None


def _is_signed_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    )


_KINDS = {
    ast.Name: "a variable name",
    ast.Attribute: "attribute access",
    ast.Call: "a call of something that is not a layer class",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.BinOp: "an arithmetic expression",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Subscript: "indexing",
    ast.Starred: "*-unpacking",
    ast.Constant: "a constant",
    ast.BoolOp: "a boolean expression",
    ast.Compare: "a comparison",
    ast.IfExp: "a conditional expression",
}


def describe(node: ast.AST) -> str:
    """What a syntax node is, in words (``a lambda``, ``attribute access``...)."""
    return _KINDS.get(type(node), f"a {type(node).__name__} expression")


__all__ = ["ACTIVATION_KEYWORDS", "LITERALS", "Values", "describe"]
