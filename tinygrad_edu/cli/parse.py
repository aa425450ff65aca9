"""Read a pasted Keras model definition safely: ``ast`` only, literal arguments only, never eval.

Accepted text (one of):

- ``Sequential([Dense(32, input_shape=(784,)), Dense(10)])`` - also spelled ``keras.Sequential``,
  ``models.Sequential``, ``keras.models.Sequential``, ``tf.keras.Sequential``,
  ``tf.keras.models.Sequential``; a ``model = ...`` assignment around it is fine;
- a bare list of layer calls: ``[LSTM(300, input_shape=(20, 1)), Dense(20)]``;
- ``model = Sequential()`` followed by ``model.add(Dense(...))`` lines.

Each layer is a call of a class exported by ``tinygrad_edu.layers`` (``Dense``, or
``layers.Dense``, ``keras.layers.Dense``, ``tf.keras.layers.Dense``) whose arguments are
literals: numbers (negative too), strings, ``None``/``True``/``False``, and tuples/lists of them.
Anything else - names, other calls, attribute access, lambdas, comprehensions, f-strings,
imports, ``*args``/``**kwargs`` - raises ``ModelTextError`` naming what was rejected.

The work is bounded: text longer than ``MAX_TEXT_CHARS`` or of more than ``MAX_LAYERS`` layers
is refused before it is parsed further, and so is text nested too deeply for the parser.

>>> specs = parse_model_text("Sequential([Dense(32, activation='relu', input_shape=(784,))])")
>>> specs
[('Dense', (32,), {'activation': 'relu', 'input_shape': (784,)})]
>>> parse_model_text("Dense(units=x)")
Traceback (most recent call last):
...
tinygrad_edu.cli.parse.ModelTextError: ModelTextError in model text, line 1, col 0: expected \
a Sequential([...]) or a list of layer calls, got `Dense(units=x)` (a single layer call).
Fix: wrap it in a list or Sequential: Sequential([Dense(units=x)])
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from typing import Any, Dict, List, Optional, Tuple

from .. import layers
from ..errors import ConfigError, suggest

LayerSpec = Tuple[str, Tuple[Any, ...], Dict[str, Any]]

#: the longest model text read (some 2,000 layer calls with arguments)
MAX_TEXT_CHARS = 100_000
#: the most layers one model text may define
MAX_LAYERS = 1_000
ALLOWED = (
    "Allowed: Sequential([Layer(...), ...]) or [Layer(...), ...], or model = "
    "Sequential() then model.add(Layer(...)) lines; layer arguments must be literals "
    "(numbers, strings, None/True/False, tuples/lists of those)"
)

LITERALS = "literal layer arguments (numbers, strings, None/True/False, tuples/lists of them)"

_SEQUENTIAL_PREFIXES = {
    (),
    ("keras",),
    ("models",),
    ("keras", "models"),
    ("tf", "keras"),
    ("tf", "keras", "models"),
    ("tensorflow", "keras"),
    ("tensorflow", "keras", "models"),
}
_LAYER_PREFIXES = {
    (),
    ("layers",),
    ("keras", "layers"),
    ("tf", "keras", "layers"),
    ("tensorflow", "keras", "layers"),
}
_INPUT_PREFIXES = {("keras",), ("tf", "keras"), ("tensorflow", "keras")}  # keras.Input(...)


class ModelTextError(ConfigError):
    """The pasted model text uses something other than layer calls with literal arguments."""


def layer_names() -> List[str]:
    """Layer class names the text may use (everything ``tinygrad_edu.layers`` exports)."""
    return sorted(n for n in layers.__all__ if n != "Layer")


def _dotted(node: ast.AST) -> Optional[Tuple[str, ...]]:
    """``tf.keras.layers.Dense`` -> ("tf", "keras", "layers", "Dense"); None if not dotted."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def check_text_size(text: Any) -> str:
    """``text`` if it is a str of at most ``MAX_TEXT_CHARS`` characters, else ModelTextError."""
    if not isinstance(text, str):
        raise ModelTextError(
            where="model text",
            expected="a str",
            got=type(text).__name__,
            fix="pass the model definition as text",
        )
    if len(text) > MAX_TEXT_CHARS:
        raise ModelTextError(
            where="model text",
            expected=f"at most {MAX_TEXT_CHARS:,} characters",
            got=f"{len(text):,} characters",
            fix="explain a smaller model (fewer or shorter layer calls)",
        )
    return text


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = textwrap.dedent(check_text_size(text)).strip()
        self.known = layer_names()
        self.layer_count = 0

    def reject(
        self,
        node: ast.AST,
        what: str,
        fix: str = ALLOWED,
        expected: str = "a Sequential([...]) or a list of layer calls",
    ) -> ModelTextError:
        code = ast.get_source_segment(self.text, node) or type(node).__name__
        if len(code) > 80:
            code = code[:77] + "..."
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        return ModelTextError(
            where=f"model text, line {line}, col {col}",
            expected=expected,
            got=f"`{code}` ({what})",
            fix=fix,
        )

    # ---------------------------------------------------------------- statements
    def read(self) -> List[LayerSpec]:
        tree = self._parse()
        if not tree.body:
            raise ModelTextError(
                where="model text", expected="a model definition", got="empty text", fix=ALLOWED
            )
        specs: Optional[List[LayerSpec]] = None
        model_var: Optional[str] = None
        for stmt in tree.body:
            value, target = self._statement(stmt)
            add = self._add_call(value, model_var)
            if add is not None:
                specs.append(add)
                continue
            if specs is not None:
                raise self.reject(stmt, "a second model definition")
            specs = self._model(value)
            model_var = target
        return specs or []

    def _parse(self) -> ast.Module:
        try:
            with warnings.catch_warnings():  # e.g. "invalid decimal literal": we report errors
                warnings.simplefilter("ignore", SyntaxWarning)
                return ast.parse(self.text, mode="exec")
        except SyntaxError as exc:
            line = exc.lineno if exc.lineno is not None else "?"
            got = f"a syntax error: {exc.msg}"
        except ValueError as exc:  # a NUL character (Python < 3.12), lone surrogates
            line, got = "?", f"text Python cannot read ({str(exc)[:60]})"
        except (RecursionError, MemoryError):
            line, got = "?", "an expression nested too deeply for the parser"
        raise ModelTextError(
            where=f"model text, line {line}",
            expected="valid Python syntax",
            got=got,
            fix=ALLOWED,
        )

    def _count_layers(self, node: ast.AST, more: int) -> None:
        """Refuse the text once it defines more than MAX_LAYERS layers."""
        self.layer_count += more
        if self.layer_count > MAX_LAYERS:
            raise self.reject(
                node,
                f"more than {MAX_LAYERS:,} layers",
                fix="explain a smaller model",
                expected=f"at most {MAX_LAYERS:,} layers",
            )

    def _statement(self, stmt: ast.stmt) -> Tuple[ast.expr, Optional[str]]:
        if isinstance(stmt, ast.Expr):
            return stmt.value, None
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            return stmt.value, stmt.targets[0].id
        kind = {ast.Import: "an import", ast.ImportFrom: "an import"}.get(type(stmt), "a statement")
        raise self.reject(
            stmt,
            f"{kind}, not a model expression",
            fix="paste only the model definition (no imports or other code). " + ALLOWED,
        )

    def _add_call(self, value: ast.expr, model_var: Optional[str]) -> Optional[LayerSpec]:
        """``model.add(Dense(...))`` after ``model = Sequential()``, else None."""
        if not (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "add"
            and isinstance(value.func.value, ast.Name)
        ):
            return None
        if model_var is None or value.func.value.id != model_var:
            raise self.reject(value, "add() on something that is not the model defined above")
        if len(value.args) != 1 or value.keywords:
            raise self.reject(value, "add() takes exactly one layer")
        self._count_layers(value, 1)
        return self._layer(value.args[0])

    # ---------------------------------------------------------------- expressions
    def _model(self, node: ast.expr) -> List[LayerSpec]:
        if isinstance(node, (ast.List, ast.Tuple)):
            self._count_layers(node, len(node.elts))
            return [self._layer(item) for item in node.elts]
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name is not None and name[-1] == "Sequential" and name[:-1] in _SEQUENTIAL_PREFIXES:
                return self._sequential(node)
            if name is not None and name[-1] in self.known:
                code = ast.get_source_segment(self.text, node)
                raise self.reject(
                    node,
                    "a single layer call",
                    fix=f"wrap it in a list or Sequential: Sequential([{code}])",
                )
        raise self.reject(node, self._describe(node))

    def _sequential(self, node: ast.Call) -> List[LayerSpec]:
        layers_node = None
        if len(node.args) > 1:
            raise self.reject(node.args[1], "an extra positional argument to Sequential")
        if node.args:
            layers_node = node.args[0]
        for kw in node.keywords:
            if kw.arg == "layers" and layers_node is None:
                layers_node = kw.value
            elif kw.arg == "name":
                self._literal(kw.value)
            else:
                raise self.reject(
                    kw.value if kw.arg else node, f"the Sequential argument {kw.arg or '**'}"
                )
        if layers_node is None:
            return []
        if not isinstance(layers_node, (ast.List, ast.Tuple)):
            raise self.reject(
                layers_node,
                f"{self._describe(layers_node)}; Sequential needs a literal list of layer calls",
            )
        self._count_layers(layers_node, len(layers_node.elts))
        return [self._layer(item) for item in layers_node.elts]

    def _layer(self, node: ast.expr) -> LayerSpec:
        if not isinstance(node, ast.Call):
            raise self.reject(node, self._describe(node))
        name = _dotted(node.func)
        if name is None:
            raise self.reject(node.func, "a call of something that is not a layer class")
        cls, prefix = name[-1], name[:-1]
        ok_prefix = prefix in _LAYER_PREFIXES or (
            cls in ("Input", "InputLayer") and prefix in _INPUT_PREFIXES
        )
        if cls not in self.known or not ok_prefix:
            hint = suggest(cls, self.known) if cls not in self.known else ALLOWED
            raise self.reject(
                node,
                f"`{'.'.join(name)}` is not a tinygrad_edu layer",
                fix=f"use a layer class from tinygrad_edu.layers: {hint}",
            )
        args = tuple(self._literal(a) for a in node.args)
        kwargs: Dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise self.reject(kw.value, "**kwargs unpacking", expected=LITERALS)
            kwargs[kw.arg] = self._literal(kw.value)
        return cls, args, kwargs

    def _literal(self, node: ast.expr) -> Any:
        """A literal argument's value: checked node by node, then ``ast.literal_eval``."""
        self._check_literal(node)
        return ast.literal_eval(node)

    def _check_literal(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bool, int, float, str)) or node.value is None:
                return
            raise self.reject(
                node,
                f"a {type(node.value).__name__} constant",
                expected=LITERALS,
                fix="use numbers, strings, None/True/False or tuples/lists of them",
            )
        if isinstance(node, (ast.Tuple, ast.List)):
            for item in node.elts:
                self._check_literal(item)
            return
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)
        ):
            return
        raise self.reject(
            node,
            f"{self._describe(node)} as an argument",
            expected=LITERALS,
            fix="write the value itself (e.g. "
            "activation='relu', not activation=tf.nn.relu). " + ALLOWED,
        )

    @staticmethod
    def _describe(node: ast.AST) -> str:
        kinds = {
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
        return kinds.get(type(node), f"a {type(node).__name__} expression")


def parse_model_text(text: str) -> List[LayerSpec]:
    """Layer specs ``(class_name, args, kwargs)`` from pasted model text (see module docstring)."""
    return _Reader(text).read()


__all__ = [
    "MAX_LAYERS",
    "MAX_TEXT_CHARS",
    "LayerSpec",
    "ModelTextError",
    "check_text_size",
    "layer_names",
    "parse_model_text",
]
