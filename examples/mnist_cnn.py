"""A small convolutional network on the built-in MNIST-like digits.

What it shows: ``Conv2D(32, (3, 3))`` learns 32 filters of 3x3x1 weights (+1 bias each = 320
parameters); each filter slides over the 28x28 image and gives one 26x26 feature map, so the
output is (None, 26, 26, 32). ``MaxPooling2D`` halves the maps to 13x13, ``Flatten`` lines up
13*13*32 = 5,408 numbers for the ``Dense`` layers. The summary prints all of that.

Runtime: on a 2-core machine, ~15 s by default, ~7 s with --quick (20,000 images, 3 epochs;
--quick: 10,000 images, 3 epochs). Measured as CPU time with one BLAS thread (about the wall time
on an idle machine); at load ~10 (other jobs running) the wall time was ~56 s and ~28 s.
Expected last line (default settings): ``test accuracy: 0.97xx`` (0.9856 with --train-size 60000);
with --quick at least 0.95 (0.967 with --seed 0), which the tests check.
"""

from __future__ import annotations

import argparse

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_mnist, load_synthetic_digits
from tinygrad_edu.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tinygrad_edu.models import Sequential


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default 3")
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--quick", action="store_true", help="10,000 images, 1,000 to test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with the real MNIST files")
    args = parser.parse_args()
    epochs = args.epochs if args.epochs is not None else 3
    n_train = 10000 if args.quick else args.train_size

    tg.set_seed(args.seed)
    if args.data_dir:
        print(f"loading the MNIST files from {args.data_dir}...", flush=True)
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    else:
        n_test = 1000 if args.quick else 5000
        print(f"generating {n_train:,} training and {n_test:,} test images...", flush=True)
        (x_train, y_train), (x_test, y_test) = load_synthetic_digits(n_train, n_test, args.seed)
    # images need a channel axis: (n, 28, 28) -> (n, 28, 28, 1), channels_last like Keras
    x_train = x_train[..., None].astype(np.float32) / 255
    x_test = x_test[..., None].astype(np.float32) / 255

    model = Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=2, seed=args.seed)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256)
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
