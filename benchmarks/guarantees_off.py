"""MEASUREMENT ONLY: a copy of the package with the per-step numeric guarantees taken out, to
price them. Never for training: a diverged step would leave NaN/inf weights behind unnoticed.

Issue 11 made every training step check its numbers; issue 12 restructured the code. Both
landed after 62109b3, so a before/after table mixes the price of the checks with the cost (or
gain) of the restructuring. ``strip(pkg)`` removes, from a *renamed copy* of the package
(``revisions.renamed_copy``; the real ``tinygrad_edu`` is never touched), exactly these:

- the NaN/inf check of every gradient in ``Optimizer.step`` (one BLAS dot per gradient): the
  shape checks stay, as they were before;
- ``train_on_batch``'s exact-undo copy of every weight and optimizer slot before the step
  (``UndoBuffer.save`` keeps only references; ``restore`` could not undo anything);
- the check of the updated weights (``UndoBuffer.weights_finite`` says True unread).

What stays is everything else the trust work added (write stamps, per-thread grad mode, version
bumps). ``strip`` proves it took effect (``check_stripped``): a NaN gradient passes
``Optimizer.step``, and ``train_on_batch`` keeps no copies. If the internals it patches are ever
renamed, it raises ``AttributeError`` at once rather than timing the unpatched code.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np


def _grads_unchecked(params: list, slots: list, where: str) -> list:
    """``checked_grads`` minus its NaN/inf dot: the same list of ``(i, p, p.grad)``, the same
    shape comparisons (a mismatch here is a benchmark bug: AssertionError)."""
    todo = []
    for i, p in enumerate(params):
        grad = p.grad
        if grad is None or not p.requires_grad:
            continue
        shape = p._data.shape
        assert grad.shape == shape, (where, i)
        s = slots[i]
        if s:
            for array in s.values():
                assert array.shape == shape, (where, i)
        todo.append((i, p, grad))
    return todo


def _save_references(self: Any, weights: list, optimizer: Any) -> None:
    self._weights = weights
    self._optimizer, self._iterations = optimizer, optimizer.iterations


def _all_finite_unread(self: Any) -> bool:
    return True


def strip(pkg: ModuleType) -> ModuleType:
    """Take the per-step guarantees out of ``pkg`` (a renamed copy: refused for the package
    itself); returns ``pkg``."""
    if pkg.__name__ == "tinygrad_edu":
        raise ValueError("strip() edits a renamed copy only (revisions.renamed_copy)")
    base = importlib.import_module(f"{pkg.__name__}.optimizers.base")
    steps = importlib.import_module(f"{pkg.__name__}.models.steps")
    base.checked_grads  # noqa: B018 - AttributeError now if the seam was renamed
    base.checked_grads = _grads_unchecked
    undo = steps.UndoBuffer
    undo.save, undo.weights_finite  # noqa: B018 - the same, for the undo buffer's seams
    undo.save = _save_references
    undo.weights_finite = _all_finite_unread
    check_stripped(pkg)
    return pkg


def check_stripped(pkg: ModuleType) -> None:
    """Fail unless ``pkg`` lets a NaN gradient through and copies nothing before a step."""
    tensor = importlib.import_module(f"{pkg.__name__}.tensor")
    optimizers = importlib.import_module(f"{pkg.__name__}.optimizers")
    w = tensor.Tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = optimizers.SGD([w], learning_rate=0.1)
    w.grad = np.array([np.nan, 1.0], np.float32)
    try:
        opt.step()  # the real optimizer raises DivergenceError here
    except Exception as err:
        raise AssertionError(f"the gradient check is still in place: {err}") from None
    assert np.isnan(w._data[0]), "the gradient check is still in place"
    layers = importlib.import_module(f"{pkg.__name__}.layers")
    models = importlib.import_module(f"{pkg.__name__}.models")
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32))
    assert not model._undo._copies, "train_on_batch still copies the weights"


__all__ = ["check_stripped", "strip"]
