"""Recurrent layers with ``dropout`` / ``recurrent_dropout`` replay byte-equal with eager.

Their masks used to be drawn by the layer outside any op, so the tape could not redraw them and
the capture refused the step ("this layer cannot be replayed yet"): a Keras LSTM with
``recurrent_dropout=0.2`` under ``compile(jit_compile=True)`` failed at its second batch. The
masks are now drawn by an op (``ops.DrawMask``) from the layer's generator, which a replay runs
again: the same draws, in the same order, as eager - so the masks, the weights and the
generator's state stay byte-equal (``twins.py`` compares all three).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import OPTIMIZERS, run_loop
from test_lockstep_compiled import compiled_twins
from twins import assert_replayed, run_lockstep

from tinygrad_edu import losses, set_seed
from tinygrad_edu.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN
from tinygrad_edu.models import Sequential


def batches(n: int = 6, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((4, 5, 3)).astype(np.float32), rng.integers(0, 3, 4)) for _ in range(n)
    ]


@pytest.mark.parametrize("cell", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("rates", [(0.3, 0.0), (0.0, 0.25), (0.3, 0.25)])
@pytest.mark.parametrize("fused", [True, False])
def test_recurrent_dropout_replays_byte_equal(cell, rates, fused) -> None:
    set_seed(1)
    dropout, recurrent_dropout = rates
    layer = cell(4, dropout=dropout, recurrent_dropout=recurrent_dropout, fused=fused)
    model = Sequential([layer, Dense(3, "softmax")])
    model.build((None, 5, 3))
    twin = run_loop(
        model, OPTIMIZERS["sgd-momentum"], batches(), losses.sparse_categorical_crossentropy
    )
    assert twin.step.stats["replay"] >= 4


def test_compiled_bidirectional_lstm_with_recurrent_dropout() -> None:
    set_seed(2)
    model = Sequential(
        [
            Bidirectional(LSTM(4, dropout=0.2, recurrent_dropout=0.2, return_sequences=True)),
            GRU(3, recurrent_dropout=0.1),
            Dense(3, "softmax"),
        ]
    )
    model.build((None, 5, 3))
    eager, jitted = compiled_twins(model, OPTIMIZERS["adam-schedule"], metrics=())
    run_lockstep(eager, jitted, batches(7, seed=3))
    assert_replayed(jitted)


@pytest.mark.parametrize("cell", [SimpleRNN, LSTM, GRU])
def test_the_reference_form_replays_byte_equal(cell) -> None:
    """An activation the fused ops lack (selu) runs the reference form, a loop of cell steps from
    a zero state: that state was a new array per call, refused as 'made outside the ops'; it is
    one read-only array per shape now (``recurrent_cells.zero_state``)."""
    set_seed(4)
    model = Sequential(
        [cell(4, activation="selu", return_sequences=True), GRU(2), Dense(3, "softmax")]
    )
    model.build((None, 5, 3))
    twin = run_loop(
        model, OPTIMIZERS["adam-schedule"], batches(), losses.sparse_categorical_crossentropy
    )
    assert twin.step.stats["replay"] >= 4
