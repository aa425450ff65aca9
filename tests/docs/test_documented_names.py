"""Every public name the documents show exists: a removal cannot pass CI.

The README once advertised ``loss.to_dot()`` after the method was gone; nothing noticed, because
the README is not executed and nothing read its prose. ``doc_names.resolve_document`` reads the
code of README.md and docs/*.md (the ``>>>`` examples, the fenced blocks, the inline code spans)
and resolves every ``tinygrad_edu`` import and dotted name, every CamelCase call and every method
called on an object whose type the page makes clear (see its docstring).
"""

from __future__ import annotations

import pytest
from doc_names import DOCUMENTS, ROOT, resolve_document


# ---------------------------------------------------------------------- the tests
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_name_a_document_shows_exists(path):
    checks = resolve_document(path.read_text())
    broken = [f"{path.name}:{c.line}: {c.name} - {c.problem}" for c in checks if c.problem]
    assert not broken, "names the document shows but the package lacks:\n" + "\n".join(broken)
    assert checks, f"{path.name}: no name of tinygrad_edu found - is the collector broken?"


def test_the_names_that_once_went_missing_are_checked():
    readme = {c.name for c in resolve_document((ROOT / "README.md").read_text())}
    assert {
        "loss.to_dot()",
        "tinygrad_edu.explain.graph",
        "tinygrad_edu.config.fused",
        "model.summary()",
        "model.explain()",
        "opt.step()",
        "opt.zero_grad()",
        "loss.backward()",
        "Optimizer.step",
        "tinygrad_edu.optimizers.Adam",
        "Dense(...)",
    } <= readme


SAMPLE = '''
# A page

```python
>>> import tinygrad_edu as tg
>>> from tinygrad_edu.layers import Dense, Dnse
>>> model = tg.models.Sequential([Dense(3)])
>>> model.fit_generator(x)
>>> w = tg.Tensor([1.0])
>>> w.to_graphviz()
>>> tg.explain.draw(w)
```

Call `loss.to_svg()` or `tinygrad_edu.explain.graph(loss)`; `TextVectorization(10)` and
`MyLayer(3)` after `class MyLayer(Layer): pass`. `np.zeros(3).sum()` is numpy's.

```bash
python -c "import tinygrad_edu.explian"
```
'''


def test_the_collector_catches_removed_names_of_every_kind():
    problems = {c.name: c.problem for c in resolve_document(SAMPLE) if c.problem}
    assert problems == {
        "tinygrad_edu.layers.Dnse": "tinygrad_edu.layers has no Dnse",
        "model.fit_generator()": "Sequential has no fit_generator",
        "w.to_graphviz()": "Tensor has no to_graphviz",
        "tg.explain.draw": "tg.explain has no draw",
        "loss.to_svg()": "Tensor has no to_svg",
        "TextVectorization(...)": "not a public name of tinygrad_edu",
        "tinygrad_edu.explian": "tinygrad_edu has no explian",
    }
    ok = {c.name for c in resolve_document(SAMPLE) if not c.problem}
    assert {"tinygrad_edu.explain.graph", "tg.models.Sequential", "Dense(...)"} <= ok


def test_every_tutorial_is_linked_from_the_readme():
    """A page nobody links is a page no learner finds."""
    readme = (ROOT / "README.md").read_text()
    unlinked = [p.name for p in DOCUMENTS[1:] if f"](docs/{p.name})" not in readme]
    assert not unlinked, f"link these from README.md: {unlinked}"


def test_a_name_that_needs_an_optional_extra_counts_as_existing(monkeypatch):
    """Without torch, ``interop.RecurrentOutput`` raises our ConfigError (install torch) instead
    of AttributeError: the page still shows a real name, while a misspelt one stays caught."""
    from tinygrad_edu.errors import ConfigError
    from tinygrad_edu.interop import torch_modules

    def no_torch():
        raise ConfigError(where="interop", expected="PyTorch installed", got="no torch")

    monkeypatch.setattr(torch_modules, "modules", no_torch)
    page = "Use `tinygrad_edu.interop.RecurrentOutput` or `tinygrad_edu.interop.RecurentOutput`."
    problems = {c.name: c.problem for c in resolve_document(page)}
    assert not problems["tinygrad_edu.interop.RecurrentOutput"]
    assert problems["tinygrad_edu.interop.RecurentOutput"]
