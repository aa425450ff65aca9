"""Models: ``Model``, the base every model kind shares, and ``Sequential``, a stack of layers.

The package, by responsibility:

- ``base``: ``Model`` - the training, inference, weights, saving and description API, and the
  contract a model kind fulfils (``call``, ``build``, ``layers``, ``layer_calls``, config);
- ``sequential``: ``Sequential(Model)``;
- ``functional``: ``Functional(Model)``, what ``Model(inputs=..., outputs=...)`` makes;
- ``subclassing``: layers tracked as attributes of ``class M(Model)``, built by calling;
- ``fit``: the epoch loop of ``fit``, in named steps;
- ``steps``: one training step (with its exact undo on divergence) and one evaluation pass, and
  the loss plus penalties computed in one place;
- ``arguments``, ``data``, ``weights``: the checks of arguments, data and new weight values.

>>> from tinygrad_edu.layers import Dense
>>> model = Sequential([Dense(2, input_shape=(3,))])
>>> isinstance(model, Model)
True
"""

from __future__ import annotations

from ..saving import load_model
from .base import Model, ModelContractError
from .functional import Functional
from .sequential import Sequential

__all__ = ["Functional", "Model", "ModelContractError", "Sequential", "load_model"]
