"""Issue 11: a test that checks nothing passes on a wrong answer. An ast scan of every test module
requires each ``test_*`` function to check something, and no skip to say a feature is missing.

A test "checks" when its body (or a helper defined in the same module that it calls, followed
transitively) has an ``assert`` statement, a ``pytest.raises``/``pytest.warns``/``pytest.fail``,
a call to an ``assert*`` function (``np.testing.assert_allclose``, ``assert_teaches``, ...), or a
call to one of ``CHECKING_HELPERS``: imported functions that raise on a wrong answer.

Tests in other owners' files that still break a rule are listed in ``KNOWN_*`` until their owners
fix them; a listed test that no longer breaks its rule only warns (remove it from the list), and
any test not listed fails the rule.
"""

from __future__ import annotations

import ast
import pathlib
import re
import warnings
from typing import Dict, Iterator, List, Set, Tuple

TESTS = pathlib.Path(__file__).resolve().parents[1]

#: imported functions that raise AssertionError (or a subclass) on a wrong answer
CHECKING_HELPERS = {"check_layer", "check_op", "gradcheck"}
#: pytest functions that check (``pytest.raises`` and friends)
PYTEST_CHECKS = {"raises", "warns", "deprecated_call", "fail"}
#: skip reasons that mean "a feature is missing": such a test hides a wrong or absent answer
MISSING_FEATURE = re.compile(r"not (available|implemented)( yet)?|not supported yet|todo", re.I)

#: tests in other owners' files that still skip for a missing feature (file::function)
KNOWN_MISSING_FEATURE_SKIPS: Set[str] = set()
#: tests in other owners' files that check nothing yet, only that no exception is raised
KNOWN_UNCHECKED_TESTS: Set[str] = set()


def all_test_modules() -> List[pathlib.Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)


def called_name(call: ast.Call) -> str:
    """``f(...)`` -> "f", ``a.b.f(...)`` -> "f"; "" for anything else (``g()(...)``)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def checks_directly(node: ast.AST) -> bool:
    """An assert, pytest.raises & co., or a call to an assert* or a known checking helper."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert):
            return True
        if isinstance(sub, ast.Call):
            name = called_name(sub)
            if name.startswith("assert") or name in CHECKING_HELPERS:
                return True
            if name in PYTEST_CHECKS and is_pytest_attribute(sub.func):
                return True
    return False


def is_pytest_attribute(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "pytest"


def local_calls(node: ast.AST) -> Set[str]:
    return {called_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)} - {""}


def module_functions(tree: ast.Module) -> Dict[str, ast.AST]:
    """Every function defined in the module, methods included, by name."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {n.name: n for n in ast.walk(tree) if isinstance(n, kinds)}


def checking_functions(functions: Dict[str, ast.AST]) -> Set[str]:
    """Names of the module's functions that check, directly or through other local functions."""
    checking = {name for name, fn in functions.items() if checks_directly(fn)}
    calls = {name: local_calls(fn) & set(functions) for name, fn in functions.items()}
    grew = True
    while grew:
        found = {name for name, callees in calls.items() if callees & checking} - checking
        checking |= found
        grew = bool(found)
    return checking


def collected_tests(tree: ast.Module) -> Iterator[ast.AST]:
    """Module-level ``test_*`` functions and ``test_*`` methods of ``Test*`` classes."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, kinds) and node.name.startswith("test"):
            yield node
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            yield from (n for n in node.body if isinstance(n, kinds) and n.name.startswith("test"))


def label(path: pathlib.Path, name: str) -> str:
    return f"{path.relative_to(TESTS).as_posix()}::{name}"


def unchecked_tests() -> Set[str]:
    found = set()
    for path in all_test_modules():
        tree = ast.parse(path.read_text(), str(path))
        checking = checking_functions(module_functions(tree))
        found |= {label(path, fn.name) for fn in collected_tests(tree) if fn.name not in checking}
    return found


def skip_reasons(tree: ast.Module) -> Iterator[Tuple[str, str]]:
    """(innermost enclosing function or "<module>", reason text) of every ``pytest.skip``,
    ``skipif``, ``skip`` mark and ``importorskip``; a decorator belongs to its function."""
    owners: Dict[int, Tuple[str, ast.Call]] = {}
    for fn in [tree, *module_functions(tree).values()]:  # outer first: inner ones overwrite
        for call in (c for c in ast.walk(fn) if isinstance(c, ast.Call)):
            owners[id(call)] = (getattr(fn, "name", "<module>"), call)
    for owner, call in owners.values():
        if called_name(call) in {"skip", "skipif", "importorskip"}:
            yield owner, " ".join(string_parts(call))


def string_parts(call: ast.Call) -> List[str]:
    """The literal text of a call's arguments (f-strings' literal parts included)."""
    nodes = [*call.args, *(k.value for k in call.keywords)]
    return [
        n.value
        for arg in nodes
        for n in ast.walk(arg)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def missing_feature_skips() -> Set[str]:
    found = set()
    for path in all_test_modules():
        tree = ast.parse(path.read_text(), str(path))
        found |= {
            label(path, owner)
            for owner, reason in skip_reasons(tree)
            if MISSING_FEATURE.search(reason)
        }
    return found


# --------------------------------------------------------------------------- the rules
def warn_if_stale(known: Set[str], found: Set[str], list_name: str) -> None:
    """An entry fixed by its owner is only a warning: the owner may not edit this file."""
    fixed = sorted(known - found)
    if fixed:
        warnings.warn(f"fixed, remove from {list_name}: {fixed}", stacklevel=2)


def test_every_test_checks_something():
    unchecked = unchecked_tests()
    new = sorted(unchecked - KNOWN_UNCHECKED_TESTS)
    assert not new, "tests that check nothing (add an assert or a check helper): " + str(new)
    warn_if_stale(KNOWN_UNCHECKED_TESTS, unchecked, "KNOWN_UNCHECKED_TESTS")


def test_no_skip_for_a_missing_feature():
    skips = missing_feature_skips()
    new = sorted(skips - KNOWN_MISSING_FEATURE_SKIPS)
    assert not new, "a skip saying a feature is missing hides a wrong answer: " + str(new)
    warn_if_stale(KNOWN_MISSING_FEATURE_SKIPS, skips, "KNOWN_MISSING_FEATURE_SKIPS")


# --------------------------------------------------------------------------- the checker itself
CHECKER_CASES = {
    "def test_a():\n    x = 1\n": False,
    "def test_a():\n    assert 1\n": True,
    "import pytest\ndef test_a():\n    with pytest.raises(ValueError):\n        int('x')\n": True,
    "def test_a(np):\n    np.testing.assert_allclose(1, 1)\n": True,
    "def helper():\n    assert 1\ndef via():\n    helper()\ndef test_a():\n    via()\n": True,
    "def helper():\n    return 1\ndef test_a():\n    helper()\n": False,
    "def test_a():\n    check_layer(None, (1,))\n": True,
    "def test_a(raises):\n    raises(ValueError)\n": False,  # not pytest's
    "class TestX:\n    def test_m(self):\n        self.x = 1\n": False,
}


def test_the_checker_tells_checking_tests_from_the_others():
    for source, checks in CHECKER_CASES.items():
        tree = ast.parse(source)
        checking = checking_functions(module_functions(tree))
        verdicts = {fn.name in checking for fn in collected_tests(tree)}
        assert verdicts == {checks}, source


def test_the_checker_finds_missing_feature_skips():
    source = (
        "import pytest\n"
        "def test_a():\n    pytest.skip(f'{name} not available yet')\n"
        "@pytest.mark.skipif(True, reason='Graphviz not installed')\ndef test_b():\n    pass\n"
    )
    reasons = dict(skip_reasons(ast.parse(source)))
    assert MISSING_FEATURE.search(reasons["test_a"])
    assert not MISSING_FEATURE.search(reasons["test_b"])
