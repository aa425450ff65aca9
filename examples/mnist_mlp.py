"""Train a 784-128-10 MLP on the built-in MNIST-like digits and print its test accuracy.

What it shows: the Keras workflow on tinygrad_edu - ``Sequential`` built before any data (so the
summary with its algebra column prints first), ``compile``, ``fit`` with live progress lines,
``evaluate``. Each image of 28x28 pixels is flattened to 784 numbers; ``Dense(128)`` computes
``[B,784] @ [784,128] + [128] -> [B,128]`` and ``Dense(10)`` turns that into 10 class scores.

Runtime: on a 2-core machine, ~20 s by default, ~3 s with --quick (60,000 + 10,000 images generated
first, 8 epochs; --quick: 12,000 images, 4 epochs). Measured as CPU time with one BLAS thread
(about the wall time on an idle machine); at load ~10 (other jobs running) the wall time was ~80 s
and ~12 s.
Expected last line (default settings): ``test accuracy: 0.98xx`` (0.9852 with --seed 0); with --quick
at least 0.95 (0.969 with --seed 0), which the tests check.
Use ``--data-dir DIR`` to train on the real MNIST files instead (IDX files or Keras' mnist.npz).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_mnist, load_synthetic_digits
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential


def load_data(args: argparse.Namespace):
    """Say what is coming before the slow part (drawing 70,000 images takes a few seconds)."""
    if args.data_dir:
        print(f"loading the MNIST files from {args.data_dir}...", flush=True)
        return load_mnist(args.data_dir)
    n_train, n_test = (12000, 1000) if args.quick else (60000, 10000)
    print(
        f"generating {n_train:,} training and {n_test:,} test images of synthetic digits "
        "(drawn with numpy, no download)...",
        flush=True,
    )
    return load_synthetic_digits(n_train=n_train, n_test=n_test, seed=args.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default 8 (4 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="12,000 images, 4 epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with the real MNIST files")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args()
    epochs = args.epochs if args.epochs is not None else (4 if args.quick else 8)

    tg.set_seed(args.seed)
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_data(args)
    # 28x28 uint8 images -> 784 floats in [0, 1]: the 784 inputs of the first Dense layer
    x_train = x_train.reshape(len(x_train), 784).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255
    print(
        f"data: {x_train.shape[0]} training and {x_test.shape[0]} test images "
        f"({time.perf_counter() - start:.1f} s)"
    )

    model = Sequential([Dense(128, "relu", input_shape=(784,)), Dense(10, "softmax")])
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=epochs,
        verbose=args.verbose,
        validation_split=0.1,
        seed=args.seed,
    )
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"test loss: {loss:.4f}  (total time {time.perf_counter() - start:.1f} s)")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
