"""design.md §1: imports go strictly downward. An ast scan of every module enforces the table."""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "tinygrad_edu"

# module (first component under tinygrad_edu) -> level
LEVELS = {
    "errors": 0,
    "_shapes": 0,
    "_rng": 0,
    "datasets": 0,
    "function": 1,
    "workspace": 1,
    "ops": 2,
    "tensor": 3,
    "functional": 4,
    "gradcheck": 4,
    "initializers": 4,
    "activations": 4,
    "losses": 4,
    "metrics": 4,
    "regularizers": 4,
    "layers": 5,
    "optimizers": 5,
    "models": 6,
    "summary": 6,
    "callbacks": 6,
    "explain": 6,
    "training": 6,
    "saving": 6,
    "interop": 6,
    "plot": 6,
    "testing": 7,
    "__main__": 7,
    "cli": 7,
    "__init__": 7,
}
# the one allowed upward import: Tensor.to_dot() lazily delegates to explain.graph (issue 6 asks
# for the method on the tensor; the import happens inside the method, never at module load)
LAZY_EXCEPTIONS = {("tensor", "explain")}
# optimizers see only tensors: never layers or anything above L3
EXTRA_FORBIDDEN = {
    "optimizers": {
        "initializers",
        "activations",
        "losses",
        "metrics",
        "regularizers",
        "functional",
        "gradcheck",
        "layers",
    }
}


def _component(path: pathlib.Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def _imported_components(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    rel_parts = path.relative_to(PACKAGE).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                mods = [node.module or ""]
            else:
                base = list(rel_parts[: len(rel_parts) - node.level])
                if path.name == "__init__.py":
                    base = (
                        list(rel_parts[: len(rel_parts) - node.level + 1])[:-1]
                        if node.level > 1
                        else list(rel_parts[:-1])
                    )
                mod = ".".join(["tinygrad_edu", *base] + ([node.module] if node.module else []))
                mods = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            for mod in mods:
                if mod.startswith("tinygrad_edu."):
                    yield mod.split(".")[1], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinygrad_edu."):
                    yield alias.name.split(".")[1], node.lineno


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py")


def test_every_module_has_a_level():
    missing = {_component(p) for p in MODULES} - set(LEVELS)
    assert not missing, f"add these modules to the level table in design.md and here: {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downward(path):
    me = _component(path)
    level = LEVELS[me]
    for other, line in _imported_components(path):
        if other == me or other not in LEVELS or (me, other) in LAZY_EXCEPTIONS:
            continue
        same_level_ok = other == "errors" or (LEVELS[other] == level and level in (4, 6, 7))
        assert LEVELS[other] < level or same_level_ok, (
            f"{path.relative_to(PACKAGE)}:{line} imports '{other}' (level {LEVELS[other]}) "
            f"from level {level}"
        )
        assert other not in EXTRA_FORBIDDEN.get(me, ()), f"{me} must not import {other}"
        assert other != "testing" or level == 7, "only L7 (cli, __main__) imports testing"
