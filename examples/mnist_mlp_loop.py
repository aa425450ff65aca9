"""The same 784-128-10 MLP as mnist_mlp.py, trained with a PyTorch-style loop.

What it shows: the Keras objects work in a hand-written loop - ``model(x, training=True)``,
a loss function, ``loss.backward()``, ``opt.step()``, ``opt.zero_grad()`` - so every step of
training is visible and yours to change.

Runtime: on a 2-core machine, ~18 s by default, ~3 s with --quick (60,000 images, 8 epochs;
--quick: 12,000 images, 4 epochs). Measured as CPU time with one BLAS thread (about the wall time
on an idle machine); at load ~10 (other jobs running) the wall time was ~72 s and ~11 s.
Expected last line (default settings): ``test accuracy: 0.98xx`` (0.9831 with --seed 0); with --quick
at least 0.95 (0.971 with --seed 0), which the tests check.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import losses
from tinygrad_edu.datasets import batches, load_mnist, load_synthetic_digits
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import Adam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default 8 (4 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="12,000 images, 4 epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with the real MNIST files")
    args = parser.parse_args()
    epochs = args.epochs if args.epochs is not None else (4 if args.quick else 8)

    tg.set_seed(args.seed)
    if args.data_dir:
        print(f"loading the MNIST files from {args.data_dir}...", flush=True)
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
    else:
        n_train, n_test = (12000, 1000) if args.quick else (60000, 10000)
        print(f"generating {n_train:,} training and {n_test:,} test images...", flush=True)
        (x_train, y_train), (x_test, y_test) = load_synthetic_digits(n_train, n_test, args.seed)
    x_train = x_train.reshape(len(x_train), 784).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255

    model = Sequential([Dense(128, "relu", input_shape=(784,)), Dense(10, "softmax")])
    opt = Adam(model.parameters(), learning_rate=1e-3)

    for epoch in range(epochs):
        start, total, seen = time.perf_counter(), 0.0, 0
        for xb, yb in batches(
            x_train, y_train, args.batch_size, shuffle=True, seed=args.seed + epoch
        ):
            probs = model(xb, training=True)  # [B,784] -> [B,128] -> [B,10]
            loss = losses.sparse_categorical_crossentropy(yb, probs)  # mean over the batch
            loss.backward()  # fills w.grad for every weight
            opt.step()  # w <- w - update(w.grad)
            opt.zero_grad()  # grads accumulate otherwise
            total += loss.item() * len(xb)
            seen += len(xb)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / seen:.4f} "
            f"({time.perf_counter() - start:.1f} s)"
        )

    predictions = model.predict(x_test, batch_size=256)  # inference mode, no graph
    accuracy = float(np.mean(predictions.argmax(axis=1) == y_test))
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
