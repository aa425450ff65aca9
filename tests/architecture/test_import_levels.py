"""Imports go strictly downward, and no import cycle hides anywhere - an ast scan of every module.

The level table is the one in docs/architecture.md (section 2); keep the two equal.

Every import statement counts, wherever it is: at module level, inside a function or method, under
``if TYPE_CHECKING:``, in a ``try``. An import moved into a function still runs (only later), and
a cycle it closes is still a cycle: it only waits for the call that meets a half-initialized
module.

An import names the module it loads: ``from ..saving import save_model`` -> ``tinygrad_edu.saving``
(the package's ``__init__``), ``from . import fit`` -> ``tinygrad_edu.models.fit`` (a submodule).
The parent packages Python runs on the way are not counted (every submodule would otherwise
"import" its own package's ``__init__``).

Three rules:

1. levels: a module imports only lower levels (``LEVELS``), or its own level where a level holds
   peers (4, 6, 7);
2. no cycle between modules (files);
3. no cycle between components (the first name under ``tinygrad_edu``: ``models``, ``saving``...),
   so peers of one level still form a strict order.

Third-party imports inside functions (plot's matplotlib, interop's torch) are not ours to count.
"""

from __future__ import annotations

import ast
import pathlib
from typing import Dict, Iterator, List, NamedTuple, Optional, Set

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "tinygrad_edu"
ROOT = "tinygrad_edu"

# module (first component under tinygrad_edu) -> level
LEVELS = {
    "errors": 0,
    "_shapes": 0,
    "_rng": 0,
    "validation": 0,
    "datasets": 0,
    "function": 1,
    "workspace": 1,
    "ops": 2,
    "grad_mode": 1,
    "config": 1,  # the fused setting; reads validation (L0)
    "capture_hooks": 1,  # who listens to the engine's hook points (tinygrad_edu.jit), per thread
    "engine": 2,
    "tensor_ops": 3,
    "tensor": 3,
    "graph_dot": 3,  # the DOT text of a graph, for Tensor.to_dot and explain.graph
    "tensor_indexing": 3,  # TensorOps' base: argmax, gather, split, repeat, tile, ...
    "functional": 4,
    "creation": 4,  # zeros, ones, arange, rand, one_hot, ...
    "gradcheck": 4,
    "initializers": 4,
    "activations": 4,
    "activation_extras": 4,  # the newer Keras 3 activations; activations holds the registry
    "losses": 4,
    "metrics": 4,
    "regularizers": 4,
    "layers": 5,
    "optimizers": 5,
    "models": 6,
    "summary": 6,
    "callbacks": 6,
    "explain": 6,
    "saving": 6,
    "interop": 6,  # a package: to_torch, from_torch and the tables both read
    "plot": 6,
    "jit": 6,  # capture and replay of a training step; imports optimizers, never models
    "testing": 7,
    "__main__": 7,
    "cli": 7,
    "__init__": 7,
}
#: levels whose modules may import each other (never in a cycle: rule 3)
PEER_LEVELS = (3, 4, 6, 7)  # 3: Tensor is split in tensor (core) and tensor_ops (math)
# optimizers see only tensors: never layers or anything above L3
EXTRA_FORBIDDEN = {
    "optimizers": {
        "initializers",
        "activations",
        "activation_extras",
        "losses",
        "metrics",
        "regularizers",
        "functional",
        "gradcheck",
        "layers",
    }
}


class Import(NamedTuple):
    target: str  # dotted module name, e.g. "tinygrad_edu.saving"
    line: int
    in_function: bool


# ---------------------------------------------------------------------- the scan
def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULE_PATHS = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_in(source: str, module: str, is_package: bool, known: Set[str]) -> Iterator[Import]:
    """Every import of a ``tinygrad_edu`` module in ``source`` (module ``module``), wherever the
    statement stands; ``known`` is the set of module names (to tell submodules from names)."""
    tree = ast.parse(source)
    inside = _statements_inside_functions(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, module, is_package)
            targets = [_submodule_or(base, alias.name, known) for alias in node.names]
        else:
            continue
        for target in targets:
            owner = _known_owner(target, known)
            if owner is not None and owner != module:
                yield Import(owner, node.lineno, id(node) in inside)


def _statements_inside_functions(tree: ast.AST) -> Set[int]:
    functions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, functions)
        for inner in ast.walk(node)
        if inner is not node
    }


def _from_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from X import ...`` reads from, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _submodule_or(base: str, name: str, known: Set[str]) -> str:
    """``from base import name``: the submodule ``base.name`` when there is one, else ``base``."""
    candidate = f"{base}.{name}"
    return candidate if candidate in known else base


def _known_owner(target: str, known: Set[str]) -> Optional[str]:
    """The longest known module that ``target`` is or lies in (``None``: not ours)."""
    while target:
        if target in known:
            return target
        target = target.rpartition(".")[0]
    return None


def _component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> Dict[str, List[Import]]:
    known = set(MODULE_PATHS)
    return {
        module: list(imports_in(path.read_text(), module, path.name == "__init__.py", known))
        for module, path in MODULE_PATHS.items()
    }


GRAPH = _graph()


# ---------------------------------------------------------------------- cycles
def find_cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected group of nodes (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    groups: List[List[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges.get(node, ()):
                    groups.append(_cycle_through(sorted(group), edges))
    return groups


def _cycle_through(group: List[str], edges: Dict[str, Set[str]]) -> List[str]:
    """A shortest path from the group's first node back to itself, inside the group."""
    start, members = group[0], set(group)
    previous: Dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, ())):
                if nxt not in members or nxt in previous:
                    continue
                previous[nxt] = node
                if nxt == start:
                    path = [start]
                    while path[-1] != start or len(path) == 1:
                        path.append(previous[path[-1]])
                    return list(reversed(path))
                following.append(nxt)
        frontier = following
    return group


def _describe(cycle: List[str]) -> str:
    """``a:12 -> b; b:40 (in a function) -> a``: each step with the lines of its imports."""
    steps = []
    for here, there in zip(cycle, cycle[1:]):
        found = sorted(
            {(imp.line, imp.in_function) for imp in GRAPH.get(here, []) if imp.target == there}
        )
        lines = [f"{line}{' (in a function)' if inside else ''}" for line, inside in found]
        steps.append(f"{here}:{','.join(lines) or '?'} -> {there}")
    return "; ".join(steps)


# ---------------------------------------------------------------------- the rules
def test_every_module_has_a_level():
    missing = {_component(m) for m in MODULE_PATHS} - set(LEVELS)
    assert not missing, f"add these modules to the level table here: {missing}"


@pytest.mark.parametrize("module", sorted(MODULE_PATHS), ids=lambda m: m.replace(".", "/"))
def test_imports_go_downward(module):
    me = _component(module)
    level = LEVELS[me]
    for imp in GRAPH[module]:
        other = _component(imp.target)
        if other == me:
            continue
        where = f"{module}:{imp.line}{' (inside a function)' if imp.in_function else ''}"
        peer_ok = other == "errors" or (LEVELS[other] == level and level in PEER_LEVELS)
        assert LEVELS[other] < level or peer_ok, (
            f"{where} imports '{other}' (level {LEVELS[other]}) from level {level}"
        )
        assert other not in EXTRA_FORBIDDEN.get(me, ()), f"{where}: {me} must not import {other}"
        assert other != "testing" or level == 7, f"{where}: only L7 (cli) imports testing"


def test_no_import_cycle_between_modules():
    edges = {m: {imp.target for imp in imps} for m, imps in GRAPH.items()}
    cycles = find_cycles(edges)
    assert not cycles, "import cycles between modules:\n" + "\n".join(map(_describe, cycles))


def test_no_import_cycle_between_components():
    edges: Dict[str, Set[str]] = {}
    for module, imps in GRAPH.items():
        for imp in imps:
            if _component(imp.target) != _component(module):
                edges.setdefault(_component(module), set()).add(_component(imp.target))
    cycles = find_cycles(edges)
    assert not cycles, "import cycles between components: " + " | ".join(
        " -> ".join(c) for c in cycles
    )


# ---------------------------------------------------------------------- the scan is honest
SAMPLE = """
from typing import TYPE_CHECKING
import numpy
from . import fit as _fit
from ..errors import ConfigError
if TYPE_CHECKING:
    from ..optimizers.base import Optimizer
try:
    from ..summary import render
except ImportError:
    render = None

def save(model):
    from ..saving import save_model
    def inner():
        import tinygrad_edu.explain.dot
    return lambda: __import__("os")

class M:
    def load(self):
        from .. import saving
"""
KNOWN = {
    "tinygrad_edu.errors",
    "tinygrad_edu.explain",
    "tinygrad_edu.explain.dot",
    "tinygrad_edu.models",
    "tinygrad_edu.models.base",
    "tinygrad_edu.models.fit",
    "tinygrad_edu.optimizers",
    "tinygrad_edu.optimizers.base",
    "tinygrad_edu.saving",
    "tinygrad_edu.summary",
}


def test_the_scan_sees_every_import_statement_wherever_it_stands():
    found = list(imports_in(SAMPLE, "tinygrad_edu.models.base", False, KNOWN))
    assert [(imp.target, imp.in_function) for imp in sorted(found, key=lambda i: i.line)] == [
        ("tinygrad_edu.models.fit", False),
        ("tinygrad_edu.errors", False),
        ("tinygrad_edu.optimizers.base", False),  # under TYPE_CHECKING: a dependency still
        ("tinygrad_edu.summary", False),
        ("tinygrad_edu.saving", True),
        ("tinygrad_edu.explain.dot", True),
        ("tinygrad_edu.saving", True),  # `from .. import saving`: the package itself
    ]


def test_the_cycle_finder_finds_long_cycles_and_self_imports():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert find_cycles(edges) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_a_function_level_import_closing_a_cycle_is_caught():
    """The hidden cycle of old: models imports saving at module level, saving imports models
    inside a function (to rebuild a Sequential)."""
    known = {"tinygrad_edu.models", "tinygrad_edu.saving"}
    models = "from .saving import save_model\n"
    saving = "def load_model(path):\n    from .models import Sequential\n"
    edges = {
        "tinygrad_edu.models": {
            i.target for i in imports_in(models, "tinygrad_edu.models", False, known)
        },
        "tinygrad_edu.saving": {
            i.target for i in imports_in(saving, "tinygrad_edu.saving", False, known)
        },
    }
    assert find_cycles(edges) == [
        ["tinygrad_edu.models", "tinygrad_edu.saving", "tinygrad_edu.models"]
    ]
