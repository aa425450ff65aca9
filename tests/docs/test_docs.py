"""Every ``docs/*.md`` tutorial is executed: its ``>>>`` examples must print what the text says.

Each file runs as one doctest (fresh globals, ``ELLIPSIS | NORMALIZE_WHITESPACE``) and must hold at
least 3 examples. Markdown code fences (lines that are only ```` ``` ```` or ```` ```python ````)
are blanked before parsing, so an expected output may end right above its closing fence.
Examples marked ``# doctest: +REQUIRES_TORCH`` are dropped when PyTorch is not installed - except
under CI (env ``CI`` set), where a page with such examples fails, as tests/reference does.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^\s*```[\w-]*\s*$")
REQUIRES_TORCH = doctest.register_optionflag("REQUIRES_TORCH")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MIN_EXAMPLES = 3


def load(path: pathlib.Path) -> doctest.DocTest:
    """The file as one doctest (code fences blanked), every example included."""
    text = "\n".join("" if FENCE.match(line) else line for line in path.read_text().splitlines())
    return doctest.DocTestParser().get_doctest(
        text, {"__name__": path.stem}, path.name, str(path), 0
    )


def test_the_tutorials_exist():
    names = {p.name for p in DOCS}
    assert {
        "autograd.md",
        "shapes_and_units.md",
        "rnn_shapes.md",
        "conv_shapes.md",
        "custom_layers.md",
        "keras_vs_pytorch_counts.md",
        "regularization_and_training.md",
        "functional_api.md",
    } <= names


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_doc_examples_pass(path):
    test = load(path)
    assert len(test.examples) >= MIN_EXAMPLES, (
        f"{path.name} has {len(test.examples)} examples; a tutorial needs at least {MIN_EXAMPLES}"
    )
    if importlib.util.find_spec("torch") is None:
        needs_torch = [ex for ex in test.examples if ex.options.get(REQUIRES_TORCH)]
        if needs_torch and os.environ.get("CI"):  # as tests/reference: CI must run them
            pytest.fail(f"{path.name}: {len(needs_torch)} examples need torch, required under CI")
        test.examples = [ex for ex in test.examples if not ex.options.get(REQUIRES_TORCH)]
    failures: list = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=failures.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, (
        f"{path.name}: {result.failed} of {result.attempted} examples failed:\n" + "".join(failures)
    )
