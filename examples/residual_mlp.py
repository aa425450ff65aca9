"""Train a residual MLP, built with the functional API, on the built-in MNIST-like digits.

What it shows: a model ``Sequential`` cannot express. Two hidden layers of 64 units, each added
back to its input (a skip connection, ``h2 = h1 + relu(h1 @ W + b)``), written as layer calls on
symbolic tensors: ``Input(shape=(784,))`` -> ``Dense(64)`` -> ``Add()([h, Dense(64)(h)])`` ->
``Dense(10, softmax)``, then ``Model(inputs=..., outputs=...)``. The summary shows where every
layer's inputs come from ("Connected to") next to its algebra; the model trains with ``fit``, and
a save/load round trip gives the same predictions, graph included.

Runtime: on a 2-core machine, ~15 s by default, ~3 s with --quick (60,000 + 10,000 images generated
first, 5 epochs; --quick: 12,000 images, 5 epochs). Measured as CPU time with one BLAS thread.
Expected last line: ``test accuracy: 0.9xxx`` (0.9851 with --seed 0; with --quick 0.970, at least
0.95, which the tests check).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.layers import Add, Dense, Input
from tinygrad_edu.models import Model


def residual_mlp(width: int = 64, blocks: int = 2) -> Model:
    """784 -> width, then ``blocks`` times h = h + relu(h @ W + b), then 10 class scores."""
    inputs = Input(shape=(784,), name="pixels")
    h = Dense(width, activation="relu", name="proj")(inputs)
    for k in range(1, blocks + 1):
        branch = Dense(width, activation="relu", name=f"block{k}")(h)
        h = Add(name=f"skip{k}")([h, branch])  # [B,width] + [B,width]: same shapes, no weights
    outputs = Dense(10, activation="softmax", name="classes")(h)
    return Model(inputs=inputs, outputs=outputs, name="residual_mlp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="12,000 images, 5 epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    args = parser.parse_args()
    n_train, n_test, epochs = (12000, 1000, 5) if args.quick else (60000, 10000, 5)

    tg.set_seed(args.seed)
    start = time.perf_counter()
    print(f"generating {n_train:,} training and {n_test:,} test images of synthetic digits...")
    (x_train, y_train), (x_test, y_test) = load_synthetic_digits(
        n_train=n_train, n_test=n_test, seed=args.seed
    )
    x_train = x_train.reshape(len(x_train), 784).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255

    model = residual_mlp()
    model.summary()
    # the count, by hand: 784*64 + 64, twice 64*64 + 64, 64*10 + 10; Add layers have no weights
    assert model.count_params() == 784 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=args.verbose, seed=args.seed)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "residual.npz"
        model.save(path)
        again = tg.load_model(path)
        same = np.array_equal(again.predict(x_test[:100]), model.predict(x_test[:100]))
    print(f"saved and loaded (graph and weights): same predictions: {same}")
    _, accuracy = model.evaluate(x_test, y_test)
    print(f"total time {time.perf_counter() - start:.1f} s")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
