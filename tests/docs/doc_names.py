"""The names a document shows, resolved against the package (``resolve_document``); used by
``test_documented_names.py``.

It reads the code of a Markdown page - the ``>>>`` examples, the fenced blocks and the inline
code spans - and resolves:

- every import of ``tinygrad_edu`` (``from tinygrad_edu.x import y``, ``import tinygrad_edu.x``);
- every dotted name rooted at something of ours: ``tinygrad_edu.config.fused``,
  ``explain.graph`` (a submodule), ``Tensor.assign``, ``tg.layers.Dense`` after ``import
  tinygrad_edu as tg``, ``losses.sparse_categorical_crossentropy`` after ``from tinygrad_edu
  import losses``;
- every CamelCase name used as a call (``Dense(32)``, ``LSTM(300)``) - it must be a public name of
  the package (in some module's ``__all__``) unless the document defines it;
- every method called on an object whose type the document makes clear: assigned from a class of
  ours (``model = Sequential(...)``, ``opt = Adam(...)``, ``x = Tensor(...)``), or one of the
  conventional names the documents use throughout (``loss`` is a Tensor, ``model`` a Sequential,
  ``opt``/``optimizer`` an Optimizer, ``layer`` a Layer) - so ``loss.to_dot()``,
  ``model.summary()`` and ``opt.zero_grad()`` must exist on those classes.

Text that is not Python (shell commands, shapes such as ``kernel (in, out)``) is scanned only for
``tinygrad_edu.x.y`` names. The code is parsed, never run (``tests/docs/test_docs.py`` runs it).
"""

from __future__ import annotations

import ast
import builtins
import doctest
import importlib
import pathlib
import pkgutil
import re
from typing import Any, NamedTuple

import tinygrad_edu
from tinygrad_edu import Tensor
from tinygrad_edu.errors import TinygradEduError
from tinygrad_edu.layers import Layer
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import Optimizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
doctest.register_optionflag("REQUIRES_TORCH")  # test_docs.py's flag, so the parser knows it
FENCE = re.compile(r"^\s*```[\w-]*\s*$")
INLINE = re.compile(r"`([^`\n]+)`")
FILE_NAME = re.compile(r"^[\w./*-]+\.(?:py|md|npz|toml|json|txt)$")  # `tensor.py`: not code
DOTTED = re.compile(r"\btinygrad_edu(?:\.\w+)+")
#: names the documents use for one type throughout
CONVENTIONAL = {
    "loss": Tensor,
    "model": Sequential,
    "opt": Optimizer,
    "optimizer": Optimizer,
    "layer": Layer,
}
UNKNOWN = object()  # a name the document binds to something whose type we do not know


class Piece(NamedTuple):
    source: str
    line: int  # 1-based, in the document
    kind: str  # "example" (>>>), "block" (fenced, no >>>) or "inline"


class Check(NamedTuple):
    name: str  # what the document shows, e.g. "loss.to_dot()" or "tinygrad_edu.explain.graph"
    line: int
    problem: str  # "" when it resolves


# ---------------------------------------------------------------------- what the package exports
def _public_names() -> dict[str, Any]:
    """Every name in some ``tinygrad_edu`` module's ``__all__``, and every submodule by its last
    name (``explain``, ``interop``); the package's own ``__all__`` wins a clash."""
    found: dict[str, Any] = {}
    for info in pkgutil.walk_packages(tinygrad_edu.__path__, "tinygrad_edu."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra (torch, matplotlib) may be missing
            continue
        found.setdefault(info.name.rsplit(".", 1)[1], module)
        for name in getattr(module, "__all__", ()):
            if hasattr(module, name):
                found.setdefault(name, getattr(module, name))
    found.update({n: getattr(tinygrad_edu, n) for n in tinygrad_edu.__all__})
    found["tinygrad_edu"] = tinygrad_edu
    return found


PUBLIC = _public_names()


def _is_ours(obj: Any) -> bool:
    name = getattr(obj, "__name__", "") if isinstance(obj, type(tinygrad_edu)) else ""
    module = name or getattr(obj, "__module__", "") or ""
    return module == "tinygrad_edu" or module.startswith("tinygrad_edu.")


# ---------------------------------------------------------------------- the code of a document
def code_pieces(text: str) -> list[Piece]:
    """The ``>>>`` examples, the fenced blocks without ``>>>`` and the inline code spans outside
    fenced blocks, in document order."""
    lines = text.splitlines()
    blanked = "\n".join("" if FENCE.match(line) else line for line in lines)
    pieces = [
        Piece(ex.source, ex.lineno + 1, "example")
        for ex in doctest.DocTestParser().get_examples(blanked)
    ]
    inside, start, body = False, 0, []
    for number, line in enumerate(lines, 1):
        if FENCE.match(line):
            if inside and not any(b.lstrip().startswith(">>>") for b in body):
                pieces.append(Piece("\n".join(body), start + 1, "block"))
            inside, start, body = not inside, number, []
        elif inside:
            body.append(line)
        elif not line.lstrip().startswith((">>>", "...")):
            spans = (m.group(1) for m in INLINE.finditer(line))
            pieces.extend(Piece(s, number, "inline") for s in spans if not FILE_NAME.match(s))
    return sorted(pieces, key=lambda p: p.line)


def defined_names(pieces: list[Piece]) -> set[str]:
    """Classes and functions the document defines itself (``class ScaledTanh(Layer): ...``)."""
    names = set()
    for piece in pieces:
        tree = _parse(piece.source)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
    return names


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source.strip())
    except SyntaxError:
        return None


# ---------------------------------------------------------------------- resolving
class Resolver(ast.NodeVisitor):
    """Walks the code of one document in order; ``env`` holds what each name is bound to."""

    def __init__(self, defined: set[str]) -> None:
        self.env: dict[str, Any] = {}
        self.types: dict[str, Any] = {}  # variable -> the class of ours it holds
        self.defined = defined
        self.checks: list[Check] = []
        self.line = 0

    def check(self, name: str, problem: str = "") -> None:
        self.checks.append(Check(name, self.line, problem))

    # ------------------------------------------------------------ statements
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            module = self._import(alias.name)
            if alias.asname:
                self.env[alias.asname] = module if module is not None else UNKNOWN
            else:
                root = alias.name.split(".")[0]
                self.env[root] = tinygrad_edu if root == "tinygrad_edu" else UNKNOWN

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = node.module or ""
        ours = source.split(".")[0] == "tinygrad_edu"
        module = self._import(source) if ours else None
        for alias in node.names:
            value: Any = UNKNOWN
            if module is not None:
                value = getattr(module, alias.name, None)
                if value is None:
                    value = self._import(f"{source}.{alias.name}", quiet=True)
                if value is None:
                    self.check(f"{source}.{alias.name}", f"{source} has no {alias.name}")
                    value = UNKNOWN
                else:
                    self.check(f"{source}.{alias.name}")
            self.env[alias.asname or alias.name] = value

    def _import(self, name: str, quiet: bool = False) -> Any:
        if name.split(".")[0] != "tinygrad_edu":
            return None
        try:
            module = importlib.import_module(name)
        except ImportError as err:
            if not quiet:
                self.check(name, f"cannot be imported ({err})")
            return None
        if not quiet:
            self.check(name)
        return module

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        kind = self._type_of(node.value)
        for target in node.targets:
            self._bind(target, kind)

    def _bind(self, target: ast.AST, kind: Any) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = UNKNOWN
            if kind is None:
                self.types.pop(target.id, None)
            else:
                self.types[target.id] = kind
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._bind(item, UNKNOWN)
        else:
            self.visit(target)

    def _type_of(self, value: ast.AST) -> Any:
        """The class of ours a value is an instance of; UNKNOWN for a call of something else
        (``np.zeros``, a class the document defines); None when nothing is known."""
        if not isinstance(value, ast.Call):
            return None
        made_by = self._resolve_quietly(value.func)
        if isinstance(made_by, type) and _is_ours(made_by):
            return made_by
        chain = _chain(value.func)
        if chain is not None and (self.env.get(chain[0]) is UNKNOWN or chain[0] in self.defined):
            return UNKNOWN
        return None  # e.g. (x @ w).sum(), losses.mse(...): the conventional name decides

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._bind(node.target, UNKNOWN)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.env[node.name] = UNKNOWN
        for base in node.bases:
            self.visit(base)
        for stmt in node.body:
            self.visit(stmt)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.env[node.name] = UNKNOWN
        outer = dict(self.env), dict(self.types)
        for arg in node.args.args + node.args.kwonlyargs:
            self.env[arg.arg] = UNKNOWN
            self.types.pop(arg.arg, None)
        for stmt in node.body:
            self.visit(stmt)
        self.env, self.types = outer

    # ------------------------------------------------------------ expressions
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id[:1].isupper():
            self._check_bare(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            kind = self._variable_type(func.value.id)
            if kind is not None:
                problem = "" if hasattr(kind, func.attr) else f"{kind.__name__} has no {func.attr}"
                self.check(f"{func.value.id}.{func.attr}()", problem)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _chain(node)
        if chain is not None and self._root(chain[0]) is not None:
            self._resolve_chain(chain)
            return
        self.generic_visit(node)

    def _check_bare(self, name: str) -> None:
        bound = self.env.get(name)
        if bound is UNKNOWN or name in self.defined or hasattr(builtins, name):
            return
        if bound is None and name not in PUBLIC:
            self.check(f"{name}(...)", "not a public name of tinygrad_edu")
        else:
            self.check(f"{name}(...)")

    def _variable_type(self, name: str) -> Any:
        """The class of ours ``name`` holds: from its assignment, else by convention."""
        if name in self.types:
            kind = self.types[name]
            return None if kind is UNKNOWN else kind
        return CONVENTIONAL.get(name)

    def _root(self, name: str) -> Any:
        """What a chain's first name stands for when it is ours: bound by an import, or a
        public name used without one (``Tensor.assign``, ``explain.graph``)."""
        bound = self.env.get(name, PUBLIC.get(name) if name not in self.types else None)
        return bound if bound is not None and bound is not UNKNOWN and _is_ours(bound) else None

    def _resolve_chain(self, chain: list[str]) -> Any:
        obj = self._root(chain[0])
        for k, attr in enumerate(chain[1:], 1):
            try:
                found = getattr(obj, attr, None)
            except TinygradEduError:  # a name made on use that needs an optional extra
                self.check(".".join(chain[: k + 1]))  # (interop.RecurrentOutput: torch) exists
                return None
            if found is None and isinstance(obj, type(tinygrad_edu)):
                found = self._import(f"{obj.__name__}.{attr}", quiet=True)
            if found is None:
                self.check(".".join(chain[: k + 1]), f"{'.'.join(chain[:k])} has no {attr}")
                return None
            obj = found
        self.check(".".join(chain))
        return obj

    def _resolve_quietly(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            bound = self.env.get(node.id)
            return bound if bound is not None else PUBLIC.get(node.id)
        chain = _chain(node)
        if chain is None or self._root(chain[0]) is None:
            return None
        obj = self._root(chain[0])
        for attr in chain[1:]:
            obj = getattr(obj, attr, None)
        return obj


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None when the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def resolve_document(text: str) -> list[Check]:
    """Every check of one document's code (see the module docstring)."""
    pieces = code_pieces(text)
    resolver = Resolver(defined_names(pieces))
    for piece in pieces:
        tree = _parse(piece.source)
        resolver.line = piece.line
        if tree is None:  # not Python: shell commands, shapes, output
            for name in DOTTED.findall(piece.source):
                resolver._resolve_chain(name.split("."))
            continue
        if piece.kind == "inline":  # a span stands alone: its names are not the file's
            saved = dict(resolver.env), dict(resolver.types)
            resolver.env, resolver.types = {}, {}
            resolver.visit(tree)
            resolver.env, resolver.types = saved
        else:
            resolver.visit(tree)
    return resolver.checks
