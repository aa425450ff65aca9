"""``training_step(model, x, y)``: what one training step of a compiled model really is - the
numbered list of numpy calls that ``tinygrad_edu.jit`` replays, labelled by phase (forward,
loss, backward, update) and layer.

The step is the one ``fit`` takes (``models/steps.py``): forward in training mode, the compiled
loss plus every regularization penalty, ``backward()``, ``optimizer.step()``, the gradients
forgotten. It is captured on a deep copy of the model and its optimizer, so the model itself
never changes: same weights, same optimizer state and step count, same dropout generators.

>>> import numpy as np
>>> from tinygrad_edu.layers import Dense
>>> from tinygrad_edu.models import Sequential
>>> model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> x, y = np.ones((5, 3), np.float32), np.zeros((5, 2), np.float32)
>>> before = model.get_weights()
>>> text = training_step(model, x, y)
>>> phases = {line.split()[1] for line in text.splitlines() if line[:4].strip().isdigit()}
>>> sorted(phases & {"forward", "loss", "backward", "update"})
['backward', 'forward', 'loss', 'update']
>>> all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
True
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError
from ..jit import jit
from ..tensor import Tensor

WHERE = "tinygrad_edu.explain.training_step"


def training_step(model: Any, x: Any, y: Any) -> str:
    """The tape text (``JitStep.tape_text()``) of one training step of ``model`` on the batch
    ``(x, y)``, captured on a deep copy: ``model`` is left exactly as it was."""
    optimizer, loss_fn = getattr(model, "optimizer", None), getattr(model, "loss_fn", None)
    if optimizer is None or loss_fn is None:
        raise ConfigError(
            where=WHERE,
            expected="a compiled model (its optimizer and loss make the step)",
            got=f"model '{getattr(model, 'name', type(model).__name__)}' without compile()",
            fix='model.compile(optimizer="sgd", loss="mse")',
        )
    twin, twin_optimizer = copy.deepcopy((model, optimizer))  # the optimizer keeps its tensors
    x = np.asarray(x)
    if not twin.built:
        twin.build((None, *x.shape[1:]))
    twin_optimizer.set_params(twin.trainable_weights)
    step = jit(_fit_step(twin, twin_optimizer, twin.loss_fn))
    step(x, y)  # eager: anything still lazy (optimizer slots) is made now
    step(x, y)  # captured while it runs eagerly
    return step.tape_text()


def _fit_step(model: Any, optimizer: Any, loss_fn: Callable[..., Tensor]) -> Callable:
    """The step ``fit`` takes, written as the PyTorch loop (without fit's undo buffer)."""

    def step(x: np.ndarray, y: Any) -> Tensor:
        out = model(x, training=True)
        loss = loss_fn(y, out)
        for penalty in model.regularization_losses():
            loss = loss + penalty
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    return step


__all__ = ["training_step"]
