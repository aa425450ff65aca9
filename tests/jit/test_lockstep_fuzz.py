"""Random models, optimizers, batch patterns and in-between changes: replay still equals eager.

Hypothesis draws a stack of Dense (1, 3 or 16 units; relu, tanh, sigmoid or linear),
Dropout and BatchNormalization layers, one of the optimizers of ``test_lockstep.OPTIMIZERS``,
a sequence of batch sizes (so signatures are seen once, twice or often: eager, capture, replay),
and between steps one of: nothing, a new learning rate, an inference call, a new dropout rate, a
layer frozen or unfrozen. The twins must stay byte-equal after every step and every change.
``HYPOTHESIS_PROFILE=thorough`` runs many more examples.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import CLASSES, FEATURES, OPTIMIZERS, SPARSE_CE, data
from twins import Twin, loop_twins, ragged_batches, run_lockstep

from tinygrad_edu import set_seed
from tinygrad_edu.layers import BatchNormalization, Dense, Dropout
from tinygrad_edu.models import Sequential

try:  # until tinygrad_edu.jit lands (another helper builds it), collecting must not fail
    from tinygrad_edu.jit import jit
except ImportError:
    pytest.skip("tinygrad_edu.jit is not built yet", allow_module_level=True)

LAYER = st.one_of(
    st.tuples(
        st.just("dense"),
        st.sampled_from([1, 3, 16]),
        st.sampled_from(["relu", "tanh", "sigmoid", None]),
    ),
    st.tuples(st.just("dropout"), st.sampled_from([0.1, 0.5])),
    st.tuples(st.just("bn")),
)
ACTIONS = ("none", "lr", "infer", "rate", "freeze")


def build(spec: list) -> Sequential:
    layers: list = []
    for kind, *args in spec:
        if kind == "dense":
            layers.append(Dense(args[0], args[1]))
        elif kind == "dropout":
            layers.append(Dropout(args[0]))
        else:
            layers.append(BatchNormalization())
    model = Sequential(
        [Dense(8, "relu", input_shape=(FEATURES,)), *layers, Dense(CLASSES, "softmax")]
    )
    model.build((None, FEATURES))
    return model


def act(action: str, step: int, twin: Twin) -> Any:
    """Change one thing on a twin after a step; returns what the comparison should see."""
    model = twin.model
    if action == "lr" and twin.optimizer._schedule is None:  # a schedule refuses a number
        twin.optimizer.learning_rate = 0.02 / step
    elif action == "infer":
        return model(data(n=5, seed=step)[0], training=False).numpy()
    elif action == "rate":
        for layer in model.layers:
            if isinstance(layer, Dropout):
                layer.rate = 0.2 if layer.rate != 0.2 else 0.4
    elif action == "freeze":
        first = model.layers[0]
        first.trainable = not first.trainable
    return None


@settings(max_examples=10, deadline=None)
@given(
    spec=st.lists(LAYER, max_size=4),
    optimizer=st.sampled_from(sorted(OPTIMIZERS)),
    sizes=st.lists(st.sampled_from([1, 4, 8]), min_size=3, max_size=10),
    actions=st.lists(st.sampled_from(ACTIONS), min_size=10, max_size=10),
    seed=st.integers(0, 2**16),
)
def test_random_steps_replay_byte_equal(spec, optimizer, sizes, actions, seed) -> None:
    set_seed(seed)
    model = build(spec)
    x, y = data(n=32, seed=seed)
    batches = ragged_batches(x, y, sizes + sizes)  # every signature at least twice
    eager, jitted = loop_twins(model, OPTIMIZERS[optimizer](model.parameters()), SPARSE_CE, jit)
    steps = run_lockstep(eager, jitted, batches, lambda i, twin: act(actions[i % 10], i, twin))
    assert steps == len(batches) and sum(jitted.step.stats.values()) == steps
    assert np.isfinite(eager.model.layers[-1].kernel.numpy()).all()
