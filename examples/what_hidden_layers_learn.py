"""What do the hidden units of a 784-32-10 MLP learn? Look at their weights and activations.

What it shows: after a short training on the built-in MNIST-like digits,

1. the per-digit average activation of each of the 32 hidden units (a 10 x 32 table): every digit
   lights up its own combination of units - the hidden layer re-describes a 784-pixel image by
   32 numbers that separate the digits;
2. for each digit, the units that respond most to it (its mean minus the mean over all digits),
   and the units that never fire (dead relu units);
3. what those units look for, as text pictures: the average of the test images that make each
   one fire most (its weights, column ``u`` of ``kernel (784, 32)``, are the template it
   matches; ``--plot-dir`` draws them as 28x28 images);
4. with ``--plot-dir DIR`` (needs the ``plot`` extra; skipped with a note without matplotlib):
   ``weights.png`` (every unit's 28x28 weight image), ``activations.png`` (per-class mean
   activations of every layer) and ``history.png`` (loss and accuracy per epoch).

Runtime on 2 cores: ~9 s by default (20,000 images, 5 epochs; ~3 s more with --plot-dir);
~2 s with --quick (3,000 images, 2 epochs).
Expected last line (default settings): ``test accuracy: 0.95xx`` (--quick: ``0.83xx``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential

SHADES = " .:+#"  # pixel brightness 0 ... 1


def picture(image: np.ndarray) -> list:
    """A 28x28 image in [0, 1] as 14 lines of 14 characters (2x2 pixel blocks averaged)."""
    small = image.reshape(14, 2, 14, 2).mean(axis=(1, 3))
    small = small / (small.max() or 1.0)
    return [
        "".join(SHADES[min(int(v * len(SHADES)), len(SHADES) - 1)] for v in row) for row in small
    ]


def print_pictures(images: list, titles: list, per_line: int = 5) -> None:
    for start in range(0, len(images), per_line):
        print("   ".join(f"{title:<16}" for title in titles[start : start + per_line]).rstrip())
        for lines in zip(*(picture(im) for im in images[start : start + per_line])):
            print("   ".join(f"|{line}|" for line in lines))
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3,000 images, 2 epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="default 5 (2 with --quick)")
    parser.add_argument("--plot-dir", default=None, help="save weights/activations/history PNGs")
    args = parser.parse_args()
    epochs = args.epochs if args.epochs is not None else (2 if args.quick else 5)
    n_train, n_test = (3000, 1000) if args.quick else (20000, 2000)

    tg.set_seed(args.seed)
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_synthetic_digits(n_train, n_test, seed=args.seed)
    x_train = x_train.reshape(len(x_train), 784).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255
    model = Sequential(
        [Dense(32, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, epochs=epochs, verbose=0, validation_split=0.1, seed=args.seed
    )
    print(
        f"trained on {n_train:,} images for {epochs} epochs "
        f"({time.perf_counter() - start:.1f} s); final loss {history.history['loss'][-1]:.4f}"
    )

    hidden_name = model.layers[0].name
    hidden = model.activations(x_test)[hidden_name]  # (n_test, 32): relu(x @ kernel + bias)
    means = np.stack([hidden[y_test == digit].mean(axis=0) for digit in range(10)])
    print()
    print(
        f"Mean activation of each hidden unit per digit: model.activations(x_test)"
        f"['{hidden_name}'] {hidden.shape}, averaged over each digit's {len(x_test) // 10} "
        "test images"
    )
    print("digit |" + "".join(f"{u:>4}" for u in range(means.shape[1])))
    print("------+" + "-" * (4 * means.shape[1]))
    for digit, row in enumerate(means):
        print(f"{digit:>5} |" + "".join(f"{v:>4.1f}" for v in row))

    selectivity = means - means.mean(axis=0)  # how much more a unit fires for this digit
    best_units = []
    print()
    print("Units that respond most to each digit (mean for the digit minus mean over all digits):")
    for digit, row in enumerate(selectivity):
        top = [int(u) for u in np.argsort(row)[::-1][:3]]
        best_units.append(top[0])
        print(f"digit {digit}: " + ", ".join(f"unit {u:>2} (+{row[u]:.1f})" for u in top))
    dead = np.flatnonzero(hidden.max(axis=0) == 0).tolist()
    print(f"units that never fire on the test set (dead relu units): {dead or 'none'}")

    print()
    print(
        "What the most selective unit of each digit looks for: the average of the 20 test "
        "images that make it fire most (2x2 blocks, ' ' dark ... '#' bright)"
    )
    print()
    images = [
        x_test[np.argsort(hidden[:, u])[::-1][:20]].mean(axis=0).reshape(28, 28) for u in best_units
    ]
    print_pictures(images, [f"digit {d}: unit {u}" for d, u in enumerate(best_units)])
    kernel = model.layers[0].get_weights()[0]
    print(
        f"Unit u's weights are column u of kernel {kernel.shape} (784 pixel weights; "
        "--plot-dir draws each as a 28x28 image)"
    )

    if args.plot_dir:
        from tinygrad_edu import plot

        try:
            paths = [
                plot.plot_weights(model.layers[0], f"{args.plot_dir}/weights.png"),
                plot.plot_activations(model, x_test, f"{args.plot_dir}/activations.png", y=y_test),
                plot.plot_history(history, f"{args.plot_dir}/history.png"),
            ]
            print("saved " + ", ".join(paths))
        except tg.ConfigError as err:
            print(f"plots skipped: {err.fix}")

    accuracy = model.evaluate(x_test, y_test)[1]
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
