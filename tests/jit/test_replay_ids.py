"""Embedding ids read by a replayed step are checked as eager checks them.

The tape copies the ids from the step's input and indexes the table with them; the range check
lives in ``Embedding.ids``, which a replay never runs. Before the guard, a replayed
``train_on_batch`` took the id -1 as the table's last row (and trained that row, silently) and
an id >= input_dim raised numpy's raw IndexError. Now such a batch runs eagerly: Embedding's
``DataError``, weights untouched; valid batches keep replaying byte-equal with eager.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tinygrad_edu import set_seed
from tinygrad_edu.errors import DataError
from tinygrad_edu.layers import Dense, Embedding, Flatten
from tinygrad_edu.models import Sequential


def compiled(jit_compile: bool, model=None):
    if model is None:
        set_seed(0)
        model = Sequential([Embedding(20, 4, input_shape=(6,)), Flatten(), Dense(3, "softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
    return model


@pytest.mark.parametrize("bad", [-1, -20, 20, 25, 2**40])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32])
def test_an_id_out_of_range_in_a_replayed_step_is_refused_as_eager_does(bad, dtype) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 20, size=(8, 6)).astype(dtype), rng.integers(0, 3, 8)
    eager = compiled(False)
    jitted = compiled(True, copy.deepcopy(eager))
    for _ in range(3):
        assert eager.train_on_batch(x, y) == jitted.train_on_batch(x, y)
    assert jitted.train_function.last_mode == "replay"
    before = jitted.get_weights()
    bad_x = x.astype(np.int64)
    bad_x[1, 2] = bad
    with pytest.raises(DataError) as err:
        jitted.train_on_batch(bad_x.astype(dtype) if abs(bad) < 2**24 else bad_x, y)
    assert "ids in [0, 20)" in err.value.expected
    assert all(np.array_equal(a, b) for a, b in zip(before, jitted.get_weights()))
    assert eager.train_on_batch(x, y) == jitted.train_on_batch(x, y)  # and replays again
    assert all(np.array_equal(a, b) for a, b in zip(eager.get_weights(), jitted.get_weights()))
