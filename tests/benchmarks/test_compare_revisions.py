"""The before/after comparison (``benchmarks/compare_revisions.py``) compares what it says.

No test times anything. Checked: a renamed copy of the package is a separate package (its
modules import each other, never ``tinygrad_edu``); ``same_step`` says "yes" only when the
contenders' steps give the same weights (and catches a difference); the measurement-only
``guarantees_off.strip`` takes the checks out of a copy - never out of the package itself - and
proves it did; a git revision exports and imports; a quick run renders one row per workload.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import compare_revisions
import guarantees_off
import revisions

import tinygrad_edu
from tinygrad_edu.errors import DivergenceError
from tinygrad_edu.optimizers import SGD
from tinygrad_edu.tensor import Tensor

MLP = compare_revisions.WORKLOADS[0]
HAS_GIT = (REPO / ".git").exists() and shutil.which("git") is not None


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two renamed copies of this tree: one as it is, one with the checks stripped."""
    where = tmp_path_factory.mktemp("copies")
    src = REPO / "tinygrad_edu"
    for name in ("tinygrad_edu_same", "tinygrad_edu_stripped"):
        revisions.renamed_copy(src, name, where)
    same = revisions.load("tinygrad_edu_same", where)
    stripped = guarantees_off.strip(revisions.load("tinygrad_edu_stripped", where))
    return {"same": same, "stripped": stripped, "where": where}


def test_a_renamed_copy_is_its_own_package(copies: dict) -> None:
    same = copies["same"]
    tensor_module = sys.modules[type(same.Tensor([1.0])).__module__]
    assert tensor_module.__name__ == "tinygrad_edu_same.tensor"
    assert tensor_module.__file__.startswith(str(copies["where"]))
    texts = [p.read_text() for p in (copies["where"] / "tinygrad_edu_same").rglob("*.py")]
    assert not any("tinygrad_edu." in t or "import tinygrad_edu\n" in t for t in texts)
    assert any("TINYGRAD_EDU_" in t for t in texts)  # environment names stay shared
    assert same.Tensor is not tinygrad_edu.Tensor


def test_same_step_says_yes_for_equal_code_and_catches_a_difference(copies: dict) -> None:
    assert compare_revisions.same_step(MLP, [tinygrad_edu, copies["same"]]) == "yes"

    def other_weights(pkg):
        model = MLP.build(pkg)
        if pkg is copies["same"]:
            kernel = model.layers[0].kernel
            kernel.assign(kernel.numpy() * 1.01)
        return model

    differing = compare_revisions.Workload("changed", other_weights, (784,), 10, 32)
    assert compare_revisions.same_step(differing, [tinygrad_edu, copies["same"]]).startswith("no")


def test_strip_takes_the_checks_out_of_the_copy_only(copies: dict) -> None:
    with pytest.raises(ValueError, match="renamed copy"):
        guarantees_off.strip(tinygrad_edu)
    guarantees_off.check_stripped(copies["stripped"])  # passes NaN through, copies nothing
    with pytest.raises(AssertionError, match="gradient check"):
        guarantees_off.check_stripped(copies["same"])
    w = Tensor(np.zeros(2, np.float32), requires_grad=True)  # the real package: still checked
    w.grad = np.array([np.nan, 1.0], np.float32)
    with pytest.raises(DivergenceError):
        SGD([w], learning_rate=0.1).step()
    assert compare_revisions.same_step(MLP, [tinygrad_edu, copies["stripped"]]) == "yes"


def test_a_quick_comparison_renders_a_row_per_workload(copies: dict) -> None:
    pkgs = {"before": copies["same"], "now": tinygrad_edu, "off": copies["stripped"]}
    workloads = compare_revisions.WORKLOADS[:2]
    rows = [compare_revisions.compare(w, pkgs, 3, quick=True) for w in workloads]
    table = compare_revisions.render(rows, list(pkgs))
    lines = table.splitlines()
    assert len(lines) == 2 + len(rows)
    assert "now / before" in lines[0] and "off / before" in lines[0]
    for row, line in zip(rows, lines[2:]):
        assert line.startswith(f"| {row['workload']} |") and line.endswith("| yes |")
        lo, med, p10, p90 = row["now/before"]
        assert p10 <= med <= p90 and lo > 0


@pytest.mark.skipif(not HAS_GIT, reason="needs the repository's git history")
def test_a_git_revision_exports_and_imports(tmp_path: Path) -> None:
    name, dest = revisions.export("HEAD", tmp_path)
    assert name == f"tinygrad_edu_{revisions.resolve('HEAD')[:7]}"
    old = revisions.load(name, dest)
    assert old.__file__.startswith(str(tmp_path))
    with pytest.raises(SystemExit, match="not a commit"):
        revisions.resolve("no-such-revision-anywhere")
