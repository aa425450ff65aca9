"""Read a pasted Keras model safely: ``ast`` only, never eval - a whole tutorial script included.

The model may be written as
- ``Sequential([Dense(32, input_shape=(784,)), Dense(10)])`` (also ``keras.Sequential``,
  ``tf.keras.models.Sequential``, ...; a ``model = ...`` assignment around it is fine);
- ``model = Sequential()`` followed by ``model.add(Dense(...))`` lines;
- a bare list of layer calls ``[LSTM(300, input_shape=(20, 1)), Dense(20)]``, or one layer call
  ``Dense(32, input_shape=(784,))``: each is explained as the Sequential model of those layers.

Each layer is a call of a class ``tinygrad_edu.layers`` exports (``Dense``, ``layers.Dense``,
``tf.keras.layers.Dense``; an alias an import line made, ``L.Dense``, too), with the argument
values ``cli.values`` reads: literals, names set to literals (``num_classes = 10``), activation
references (``activation=tf.nn.relu``), regularizers and initializers made from literals.

The rest of a pasted script is read, never run: imports (read for their aliases), ``model.
compile/fit/evaluate/predict/summary/save(...)`` and ``print(...)`` lines, and code that neither
uses the model nor makes layers (data loading) are skipped; ``ModelText.note()`` lists them in one
line. Code using the model otherwise, the functional API and subclassing (``cli.other_apis``)
are refused with a ``ModelTextError`` naming what was rejected.

A model built in a function, and ``K.set_image_dim_ordering('th')``, are followed (``cli.
script_forms``). Text over ``MAX_TEXT_CHARS`` or ``MAX_LAYERS`` layers, or too deep, is refused.

>>> read = read_model_text("import keras\\nmodel = keras.Sequential([keras.layers.Dense(2)])\\n"
...                        "model.compile(loss='mse')")
>>> read.specs
[('Dense', (2,), {})]
>>> read.note()
'note: read only the model definition; skipped: imports (line 1), model.compile (line 3)'
>>> parse_model_text("Dense(10, activation=tf.nn.relu)")
[('Dense', (10,), {'activation': 'relu'})]
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from typing import Any

from ..errors import suggest
from .common import ModelTextError
from .model_text import (
    ALLOWED,
    MAX_LAYERS,
    MAX_TEXT_CHARS,
    STATEMENTS,
    LayerSpec,
    ModelText,
    check_text_size,
)
from .names import READ_ONLY_FUNCTIONS, READ_ONLY_METHODS, Names, layer_names
from .other_apis import SEQUENTIAL_FORMS, refuse_other_apis
from .script_forms import data_format_call, model_function, value_and_targets
from .values import LITERALS, Values, describe


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = textwrap.dedent(check_text_size(text)).strip()
        self.names = Names()
        self.values = Values(self.names, self.reject)
        self.layer_count = 0
        self.specs: list[LayerSpec] | None = None
        self.model_var: str | None = None
        self.loose: list[tuple[LayerSpec, ast.stmt]] = []  # layer calls outside any model
        self.layer_vars: dict[str, LayerSpec] = {}  # hidden = Dense(32)
        self.skipped: list[tuple[str, int]] = []
        self.input_shape: tuple | None = None
        self.data_format: str | None = None  # K.set_image_dim_ordering('th') and the like
        self.model_functions: set[str] = set()  # def baseline_model(): ... (read as the model)

    def reject(
        self,
        node: ast.AST,
        what: str,
        fix: str = ALLOWED,
        expected: str = SEQUENTIAL_FORMS,
        error: type = ModelTextError,
    ) -> ModelTextError:
        code = ast.get_source_segment(self.text, node) or type(node).__name__
        code = " ".join(code.split())
        if len(code) > 80:
            code = code[:77] + "..."
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        return error(
            where=f"model text, line {line}, col {col}",
            expected=expected,
            got=f"`{code}` ({what})",
            fix=fix,
        )

    # ---------------------------------------------------------------- statements
    def read(self) -> ModelText:
        tree = self._parse()
        if not tree.body:
            raise ModelTextError(
                where="model text", expected="a model definition", got="empty text", fix=ALLOWED
            )
        refuse_other_apis(tree, self.names, self.text, self.reject)
        for stmt in tree.body:
            self._statement(stmt)
        wrapped = None
        if self.specs is None:
            self.specs, wrapped = self._loose_layers(tree)
        else:
            self.skipped += [("a layer outside the model", stmt.lineno) for _, stmt in self.loose]
        self.skipped.sort(key=lambda item: item[1])
        return ModelText(self.specs, self.skipped, wrapped, self.input_shape, self.data_format)

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

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self.names.learn(stmt)
            self.skipped.append(("imports", stmt.lineno))
            return
        body = model_function(stmt, self._is_layer_or_model)
        if body is not None:  # def baseline_model(): ... return model - read its body
            self.skipped.append((f"def {stmt.name}() (its body read as the model)", stmt.lineno))
            self.model_functions.add(stmt.name)
            for inner in body:
                self._statement(inner)
            return
        value, targets = value_and_targets(stmt)
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and not targets:
            return  # a docstring: text, not code
        if isinstance(value, ast.Call) and getattr(value.func, "id", 0) in self.model_functions:
            self.skipped.append((f"{value.func.id}() (read above)", stmt.lineno))  # model = f()
            self.model_var = targets[0].id if targets and hasattr(targets[0], "id") else None
            return
        fmt = data_format_call(value, self.names.dotted)
        if fmt is not None:  # K.set_image_dim_ordering('th'): the layers' default data_format
            self.data_format = fmt
            self.skipped.append((f"the image layout setting (read: {fmt})", stmt.lineno))
            return
        if value is None:
            self._other_code(stmt)
            return
        if self._add_call(value) or self._build_call(value):
            return
        target = targets[0].id if len(targets) == 1 and isinstance(targets[0], ast.Name) else None
        if self._loose_layer(value, stmt, target):
            return
        model = self._model(value)
        if model is not None:
            if self.specs is not None:
                raise self.reject(stmt, "a second model definition")
            self.specs, self.model_var = model, target
            return
        use = self._read_only_use(value)
        if use is not None:
            self.skipped.append((use, stmt.lineno))
        elif not (targets and self.values.learn_constant(targets, value)):
            self._other_code(stmt)

    def _other_code(self, stmt: ast.stmt) -> None:
        """Skip a statement that neither uses the model nor makes layers; refuse one that
        does (explain cannot follow what it would do)."""
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and node.id == self.model_var:
                raise self.reject(
                    stmt,
                    f"{self._kind(stmt)} using the model; explain reads only its definition",
                    fix="explain reads Sequential([...]) and model.add(...) lines and skips "
                    "model.compile/fit/evaluate/predict/summary/save(...) and print lines: put "
                    "this change into the definition, or leave the line out to see the model "
                    "as defined",
                )
            if isinstance(node, ast.Call) and self._is_layer_or_model(node.func):
                raise self.reject(
                    stmt,
                    f"{self._kind(stmt)} making layers; explain runs no code",
                    fix="write each layer call out in the model: "
                    "Sequential([Dense(64), Dense(32)]). " + ALLOWED,
                )
        self.values.learn_computed(stmt)
        self.skipped.append(("other code", stmt.lineno))

    def _kind(self, stmt: ast.stmt) -> str:
        if isinstance(stmt, ast.Expr):
            return describe(stmt.value)
        return STATEMENTS.get(type(stmt), "a statement")

    def _is_layer_or_model(self, func: ast.expr) -> bool:
        name = self.names.dotted(func)
        return self.names.layer_class(name) is not None or self.names.is_sequential(name)

    def _read_only_use(self, value: ast.expr) -> str | None:
        """``model.fit(...)`` -> "model.fit", ``print(...)`` -> "print"; None otherwise."""
        if not isinstance(value, ast.Call):
            return None
        func = value.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.attr in READ_ONLY_METHODS
        ):
            return f"{func.value.id}.{func.attr}"
        name = self.names.dotted(func)
        return name[-1] if name in READ_ONLY_FUNCTIONS else None

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

    def _model_method(self, value: ast.expr, method: str) -> ast.Call | None:
        """``value`` when it is ``<name>.<method>(...)``, else None; on a name that is not the
        model defined above it is refused."""
        if not (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == method
            and isinstance(value.func.value, ast.Name)
        ):
            return None
        if self.model_var is None or value.func.value.id != self.model_var:
            raise self.reject(value, f"{method}() on something that is not the model defined above")
        return value

    def _add_call(self, value: ast.expr) -> bool:
        """``model.add(Dense(...))`` after ``model = Sequential()``."""
        call = self._model_method(value, "add")
        if call is None:
            return False
        if len(call.args) != 1 or call.keywords:
            raise self.reject(call, "add() takes exactly one layer")
        self._count_layers(call, 1)
        self.specs.append(self._layer(call.args[0]))
        return True

    def _build_call(self, value: ast.expr) -> bool:
        """``model.build((None, 784))``: the input shape, as ``--input-shape 784`` gives it."""
        call = self._model_method(value, "build")
        if call is None:
            return False
        given = [*call.args, *(kw.value for kw in call.keywords if kw.arg == "input_shape")]
        shape = self.values.value(given[0]) if len(given) == 1 else None
        if not (isinstance(shape, (tuple, list)) and len(shape) > 1 and shape[0] is None):
            raise self.reject(
                call, "build() without a (None, ...) input shape", fix="model.build((None, 784))"
            )
        self.input_shape = tuple(shape[1:])
        return True

    # ---------------------------------------------------------------- expressions
    def _loose_layer(self, node: ast.expr, stmt: ast.stmt, target: str | None) -> bool:
        """A layer call outside any model (``Dense(32)``, ``hidden = Dense(32)``): kept aside,
        it is the model when the text has no other; a name it is given may be used in one."""
        if not (
            isinstance(node, ast.Call) and self.names.layer_class(self.names.dotted(node.func))
        ):
            return False
        self._count_layers(node, 1)
        spec = self._layer(node)
        if target is not None:
            self.layer_vars[target] = spec
        self.loose.append((spec, stmt))
        return True

    def _model(self, node: ast.expr) -> list[LayerSpec] | None:
        """The layers of a model expression; None when ``node`` is not one."""
        if isinstance(node, (ast.List, ast.Tuple)):
            if not any(isinstance(item, ast.Call) for item in node.elts):
                return None
            self._count_layers(node, len(node.elts))
            return [self._layer(item) for item in node.elts]
        if not isinstance(node, ast.Call):
            return None
        if self.names.is_sequential(self.names.dotted(node.func)):
            return self._sequential(node)
        return None

    def _loose_layers(self, tree: ast.Module) -> tuple[list[LayerSpec], str | None]:
        """The model of a text without one: its lone layer call, wrapped."""
        calls = [self._segment(stmt) for _, stmt in self.loose]
        if len(self.loose) == 1:
            return [self.loose[0][0]], calls[0]
        if self.loose:
            raise self.reject(
                self.loose[1][1],
                "a second layer outside any model",
                fix=f"put the layers in one model: Sequential([{', '.join(calls)}])",
            )
        other = next(
            (s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))), None
        )
        raise self.reject(
            other or tree.body[0],
            "no model in the text" + (f": {self._kind(other)}" if other is not None else ""),
        )

    def _segment(self, stmt: ast.stmt) -> str:
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else stmt
        return " ".join((ast.get_source_segment(self.text, value) or "").split())

    def _sequential(self, node: ast.Call) -> list[LayerSpec]:
        layers_node = None
        if len(node.args) > 1:
            raise self.reject(node.args[1], "an extra positional argument to Sequential")
        if node.args:
            layers_node = node.args[0]
        for kw in node.keywords:
            if kw.arg == "layers" and layers_node is None:
                layers_node = kw.value
            elif kw.arg == "name":
                self.values.value(kw.value)
            else:
                raise self.reject(
                    kw.value if kw.arg else node, f"the Sequential argument {kw.arg or '**'}"
                )
        if layers_node is None:
            return []
        if not isinstance(layers_node, (ast.List, ast.Tuple)):
            raise self.reject(
                layers_node,
                f"{describe(layers_node)}; Sequential needs a literal list of layer calls",
            )
        self._count_layers(layers_node, len(layers_node.elts))
        return [self._layer(item) for item in layers_node.elts]

    def _layer(self, node: ast.expr) -> LayerSpec:
        if isinstance(node, ast.Name) and node.id in self.layer_vars:
            spec = self.layer_vars[node.id]
            self.loose = [(s, stmt) for s, stmt in self.loose if s is not spec]
            return spec
        if not isinstance(node, ast.Call):
            raise self.reject(node, describe(node))
        name = self.names.dotted(node.func)
        if name is None:
            raise self.reject(node.func, "a call of something that is not a layer class")
        cls = self.names.layer_class(name)
        if cls is None:
            known = sorted(self.names.known_layers)
            hint = ALLOWED if name[-1] in known else suggest(name[-1], known)
            raise self.reject(
                node,
                f"`{'.'.join(name)}` is not a tinygrad_edu layer",
                fix=f"use a layer class from tinygrad_edu.layers: {hint}",
            )
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.reject(node, "*args unpacking", expected=LITERALS)
        first = "activation" if cls == "Activation" else None  # Activation(tf.nn.relu)
        args = tuple(
            self.values.value(a, keyword=first if k == 0 else None) for k, a in enumerate(node.args)
        )
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise self.reject(kw.value, "**kwargs unpacking", expected=LITERALS)
            kwargs[kw.arg] = self.values.value(kw.value, keyword=kw.arg)
        return cls, args, kwargs


def read_model_text(text: str) -> ModelText:
    """The layers of pasted model text and how they were read (see the module docstring)."""
    return _Reader(text).read()


def parse_model_text(text: str) -> list[LayerSpec]:
    """Layer specs ``(class_name, args, kwargs)`` from pasted model text (see the module
    docstring)."""
    return read_model_text(text).specs


__all__ = [
    "MAX_LAYERS",
    "MAX_TEXT_CHARS",
    "LayerSpec",
    "ModelText",
    "ModelTextError",
    "check_text_size",
    "layer_names",
    "parse_model_text",
    "read_model_text",
]
