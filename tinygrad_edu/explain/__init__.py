"""Teaching tools: trace a real batch through a model, and draw the autograd graph.

- ``trace(model, x)`` (``tracing``): run ``x`` layer by layer (no graph recorded) and print, per
  layer, the operation of the summary's algebra column with the real batch size in place of
  ``B`` (``layer.algebra().text(batch=n)``), checking every measured output shape against the
  layer's ``compute_output_shape``;
- ``graph(tensor)`` and ``render(tensor_or_dot, path)`` (``dot``): the autograd graph behind a
  tensor as Graphviz DOT text, and drawn with the ``dot`` program;
- ``training_step(model, x, y)`` (``step_tape``): one training step of a compiled model as the
  numbered numpy calls ``tinygrad_edu.jit`` replays, taken on a copy (the model never changes).

>>> import numpy as np
>>> from tinygrad_edu.layers import Dense
>>> from tinygrad_edu.models import Sequential
>>> model = Sequential([Dense(32, activation="relu", input_shape=(784,)), Dense(10)])
>>> trace(model, np.zeros((8, 784)), print_fn=None)[1]["output_shape"]
(8, 10)
"""

from __future__ import annotations

from .dot import graph, render
from .step_tape import training_step
from .tracing import ShapeMismatchWarning, trace

__all__ = ["ShapeMismatchWarning", "graph", "render", "trace", "training_step"]
