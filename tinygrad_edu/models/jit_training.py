"""``model.compile(..., jit_compile=True)`` (Keras' argument): ``fit`` and ``train_on_batch`` run
their step through a ``tinygrad_edu.jit`` JitStep held as ``model.train_function`` (Keras'
attribute name), ``evaluate``/``test_on_batch`` through ``model.test_function`` and ``predict``
through ``model.predict_function`` (no backward, no update). With ``jit_compile=False`` (the
default) the three are None and every call runs eagerly - the eager path is the oracle.

The steps are the eager ones, spelled once here: forward, the compiled loss with its penalties,
a NaN/inf loss refused before the backward pass (a replayed step repeats the check), backward,
the optimizer's step, zero the gradients. ``models/steps.py`` still wraps a training step in its
undo buffer, so a step that diverges is undone exactly, replayed or not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import capture_hooks
from .. import validation as check
from ..errors import DivergenceError
from ..jit import JitStep
from ..tensor import no_grad
from .steps import loss_with_penalties


def compiled(model: Any, jit_compile: Any, chosen: tuple) -> tuple:
    """``compile``'s last part, once everything else is chosen: ``jit_compile`` checked (a value
    other than True/False changes nothing), then the three JitSteps set on the model (or None
    for each when it is False). Returns ``chosen``, for ``compile`` to set."""
    where = f"model '{model.name}'.compile"
    example = "model.compile(..., jit_compile=True)"
    model.jit_compile = jit_compile = check.flag("jit_compile", jit_compile, where, example)
    if not jit_compile:
        model.train_function = model.test_function = model.predict_function = None
        return chosen
    model.train_function = JitStep(_TrainStep(model))
    model.test_function = JitStep(_TestStep(model))
    model.predict_function = JitStep(_PredictStep(model))
    return chosen


def require_finite_loss(loss: np.ndarray) -> None:
    """The eager step's check, before backward: a NaN/inf loss changes nothing."""
    value = float(loss)
    if not math.isfinite(value):
        raise DivergenceError(expected="a finite loss", got=f"the loss became {value}")


class _Step:
    """A step function holding its model as an attribute (not in a closure), so that a deep copy
    of the model copies the step with it and the copy trains itself."""

    def __init__(self, model: Any) -> None:
        self.model = model


class _TrainStep(_Step):
    def __call__(self, x: np.ndarray, y: Any, sample_weight: Any = None):
        model = self.model
        out = model(x, training=True)
        loss = loss_with_penalties(model, y, out, sample_weight)
        capture_hooks.stateful_call(require_finite_loss, (loss._data,), "loss")
        loss.backward()
        model.optimizer.step()  # checks every gradient for NaN/inf before any update
        model.optimizer.zero_grad()
        return out, float(loss._data)


class _TestStep(_Step):
    def __call__(self, x: np.ndarray, y: Any, sample_weight: Any = None):
        with no_grad():
            out = self.model(x, training=False)
            return out, float(loss_with_penalties(self.model, y, out, sample_weight)._data)


class _PredictStep(_Step):
    def __call__(self, x: np.ndarray):
        with no_grad():
            return self.model(x, training=False)


__all__ = ["compiled", "require_finite_loss"]
