"""A layer instance used twice in a ``Sequential`` holds one set of weights, as in Keras: counted,
listed, saved in ``get_weights`` and updated once per step, its gradient summed over both uses -
the same numbers as the functional model that shares the layer explicitly."""

from __future__ import annotations

import numpy as np

from tinygrad_edu import set_seed
from tinygrad_edu.layers import Dense, Input
from tinygrad_edu.models import Model, Sequential
from tinygrad_edu.optimizers import SGD


def _pair():
    set_seed(1)
    first, shared = Dense(3, input_shape=(3,)), Dense(3, activation="tanh")
    seq = Sequential([first, shared, shared])
    inp = Input((3,))
    f_first, f_shared = Dense(3), Dense(3, activation="tanh")
    functional = Model(inp, f_shared(f_shared(f_first(inp))))
    functional.set_weights(seq.get_weights())
    return seq, functional


def test_counts_and_lists_the_shared_weights_once():
    seq, functional = _pair()
    assert seq.count_params() == functional.count_params() == 24
    assert len(seq.weights) == len(seq.get_weights()) == len(seq.trainable_weights) == 4
    assert len(seq.layers) == 3  # the layer list still shows both uses, as Keras' summary does
    assert len(seq.named_weights()) == 4


def test_one_training_step_equals_the_functional_model_with_the_layer_shared():
    seq, functional = _pair()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    for model in (seq, functional):
        model.compile(SGD(0.1), "mse")
        model.train_on_batch(x, y)
    for a, b in zip(seq.get_weights(), functional.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    seq.set_weights(functional.get_weights())  # 4 arrays in, as get_weights gives them
    np.testing.assert_allclose(
        seq.predict(x, verbose=0), functional.predict(x, verbose=0), rtol=1e-6
    )
