"""The issue's text model, Embedding -> Bidirectional(LSTM) -> Dense: Keras' parameter count,
the same step through ``fit`` and through the PyTorch-style loop, and a save/load round trip."""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.layers import LSTM, Bidirectional, Dense, Embedding
from tinygrad_edu.losses import BinaryCrossentropy
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD

VOCAB, DIM, UNITS, T = 30, 8, 4, 6


def text_model() -> Sequential:
    return Sequential(
        [
            Embedding(VOCAB, DIM, input_shape=(T,)),
            Bidirectional(LSTM(UNITS)),
            Dense(1, activation="sigmoid"),
        ]
    )


def batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, size=(8, T))
    x[:, 0] = x[:, 1]  # a repeated id in every sequence: its embedding gradient accumulates
    return x, rng.integers(0, 2, size=(8, 1)).astype(np.float32)


def test_parameter_count_is_keras():
    # Embedding 30*8; each direction 4 gates x (8*4 + 4*4 + 4); Dense 2*4*1 + 1
    expected = VOCAB * DIM + 2 * 4 * (DIM * UNITS + UNITS * UNITS + UNITS) + 2 * UNITS + 1
    assert text_model().count_params() == expected == 665  # 240 + 416 + 9


def test_fit_and_the_pytorch_loop_take_the_same_step():
    tg.set_seed(0)
    a, b = text_model(), text_model()
    b.set_weights(a.get_weights())
    start = a.get_weights()
    x, y = batch()
    a.compile(SGD(learning_rate=0.5), "binary_crossentropy")
    a.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    opt = SGD(b.trainable_weights, learning_rate=0.5)
    loss = BinaryCrossentropy()(y, b(x, training=True))
    loss.backward()
    opt.step()
    opt.zero_grad()
    moved = [not np.array_equal(w, s) for w, s in zip(a.get_weights(), start)]
    assert all(moved)  # every weight, the embedding table included, took the step
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_training_lowers_the_loss_and_save_load_predicts_the_same(tmp_path):
    tg.set_seed(1)
    model = text_model()
    x, y = batch(1)
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "text.npz")
    again = tg.load_model(tmp_path / "text.npz")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
