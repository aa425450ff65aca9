"""What do the hidden units of a 784-32-10 MLP learn? Ask each unit which digits excite it.

What it shows: after a short training on the built-in MNIST-like digits,

1. the per-digit mean activation of each of the 32 hidden units (a 10 x 32 table, from
   ``model.activations(x_train)``): every digit lights up its own combination of units;
2. per hidden unit: the digits that excite it most (its highest per-digit means), the digits it
   responds to (mean at least 75% of its peak), and its top-5 training images by activation,
   printed as ``index:label`` with the image's true label (``x_train[index]`` is the image);
3. "shared" units - units that respond to several digits - and why they exist: a unit matches a
   pattern of pixels (a stroke, a loop, an edge), several digits contain that pattern, and the
   output layer tells the digits apart by combining all 32 units;
4. text pictures of a few specific and a few shared units: the average of the 20 training images
   that excite the unit most, titled with the true labels of those 20 images (a shared unit's
   picture is several digits overlaid);
5. with ``--plot-dir DIR`` (needs the ``plot`` extra; skipped with a note without matplotlib):
   ``weights.png`` (every unit's 28x28 weight image), ``activations.png`` (per-class mean
   activations of every layer) and ``history.png`` (loss and accuracy per epoch).

Runtime: on a 2-core machine, ~4 s by default, ~1 s with --quick (20,000 images, 5 epochs; --quick:
3,000 images, 2 epochs). Measured as CPU time with one BLAS thread (about the wall time on an idle
machine); at load ~10 (other jobs running) the wall time was ~15 s and ~4 s.
Expected last line (default settings): ``test accuracy: 0.95xx`` (--quick: ``0.83xx``).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential

SHADES = " .:+#"  # pixel brightness 0 ... 1
SHARE = 0.75  # a unit "responds to" a digit whose mean activation is >= 75% of the unit's peak
TOP_K = 5  # training images listed per unit
PICTURE_K = 20  # training images averaged per picture


def picture(image: np.ndarray) -> list:
    """A 28x28 image in [0, 1] as 14 lines of 14 characters (2x2 pixel blocks averaged)."""
    small = image.reshape(14, 2, 14, 2).mean(axis=(1, 3))
    small = small / (small.max() or 1.0)
    return [
        "".join(SHADES[min(int(v * len(SHADES)), len(SHADES) - 1)] for v in row) for row in small
    ]


def print_pictures(images: list, titles: list, per_line: int = 5) -> None:
    """``titles``: two lines per picture."""
    for start in range(0, len(images), per_line):
        for line in range(2):
            print("   ".join(f"{t[line]:<16}" for t in titles[start : start + per_line]).rstrip())
        for lines in zip(*(picture(im) for im in images[start : start + per_line])):
            print("   ".join(f"|{line}|" for line in lines))
        print()


def label_counts(labels: np.ndarray, shown: int = 3) -> str:
    """``9x11 4x6 7x2 +1``: how many of the images carry each true label, most common first
    (the ``shown`` most common, then ``+n`` for the images with any other label)."""
    common = Counter(labels.tolist()).most_common()
    text = " ".join(f"{d}x{n}" for d, n in common[:shown])
    rest = sum(n for _, n in common[shown:])
    return f"{text} +{rest}" if rest else text


def describe_units(hidden: np.ndarray, y: np.ndarray) -> tuple:
    """Per unit: per-digit means, the digits it responds to, its top training images."""
    means = np.stack([hidden[y == digit].mean(axis=0) for digit in range(10)])  # (10, units)
    units = []
    for u in range(hidden.shape[1]):
        peak = means[:, u].max()
        order = np.argsort(hidden[:, u], kind="stable")[::-1]  # most exciting image first
        units.append(
            {
                "unit": u,
                "dead": bool(hidden[:, u].max() == 0),
                "top_digits": [int(d) for d in np.argsort(means[:, u])[::-1][:3]],
                "responds": [int(d) for d in np.flatnonzero(means[:, u] >= SHARE * peak)],
                "top_images": order[:PICTURE_K],
            }
        )
    return means, units


def print_unit_table(means: np.ndarray, units: list, y: np.ndarray) -> None:
    print(
        f"Per hidden unit: the digits that excite it most (mean activation), the digits it "
        f"responds to (mean >= {SHARE:.0%} of its peak), and its top-{TOP_K} training images "
        "by activation as index:true label"
    )
    print(f"unit | {'top digits: mean':<24} | {'responds to':<16} | top-{TOP_K} images")
    print("-----+-" + "-" * 24 + "-+-" + "-" * 16 + "-+-" + "-" * 36)
    for info in units:
        u = info["unit"]
        if info["dead"]:
            print(f"{u:>4} | never fires on the training images (a dead relu unit)")
            continue
        tops = "  ".join(f"{d}: {means[d, u]:.1f}" for d in info["top_digits"])
        responds = ", ".join(map(str, info["responds"]))
        images = " ".join(f"{i}:{y[i]}" for i in info["top_images"][:TOP_K])
        print(f"{u:>4} | {tops:<24} | {responds:<16} | {images}")


def explain_shared(units: list, n_units: int) -> tuple:
    alive = [info for info in units if not info["dead"]]
    shared = [info for info in alive if len(info["responds"]) > 1]
    specific = [info for info in alive if len(info["responds"]) == 1]
    print()
    print(
        f"{len(shared)} of the {n_units} units are shared (they respond to 2 or more digits), "
        f"{len(specific)} are specific to one digit; dead (never fire): {n_units - len(alive)}."
    )
    print(
        "A hidden unit is not a 'digit d detector'. It computes relu(x @ kernel[:, u] + b[u]): "
        "it fires for a pattern of pixels - a stroke, a loop, an edge at some place - and every "
        "digit that contains the pattern excites it (a closed loop is part of 0, 6, 8 and 9; a "
        "vertical stroke of 1, 4, 7 and 9). So no single unit names the digit: the output layer "
        "Dense(10) weighs all units together (its kernel is (units, 10)), and what differs from "
        "digit to digit is the combination - one row of the table above. Shared units are the "
        "normal case, not a failure: a few patterns, reused, describe ten digits. Even a unit "
        "specific to one digit by its mean can be excited most by a few images of another digit "
        "that share its pattern: the true labels in the table and under the pictures show it."
    )
    return shared, specific


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
    print(f"generating {n_train:,} training and {n_test:,} test images...", flush=True)
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
    hidden = model.activations(x_train)[hidden_name]  # (n_train, 32): relu(x @ kernel + bias)
    means, units = describe_units(hidden, y_train)
    print()
    print(
        f"Mean activation of each hidden unit per digit: model.activations(x_train)"
        f"['{hidden_name}'] {hidden.shape}, averaged over each digit's training images"
    )
    print("digit |" + "".join(f"{u:>4}" for u in range(means.shape[1])))
    print("------+" + "-" * (4 * means.shape[1]))
    for digit, row in enumerate(means):
        print(f"{digit:>5} |" + "".join(f"{v:>4.1f}" for v in row))
    print()
    print_unit_table(means, units, y_train)
    shared, specific = explain_shared(units, hidden.shape[1])

    print()
    print(
        f"What some units look for: the average of the {PICTURE_K} training images that excite "
        "each most, titled with those images' true labels (2x2 blocks, ' ' dark ... '#' bright)"
    )
    print()
    most_shared = sorted(shared, key=lambda info: -len(info["responds"]))[:5]
    shown = specific[:5] + most_shared
    print_pictures(
        [x_train[info["top_images"]].mean(axis=0).reshape(28, 28) for info in shown],
        [
            (
                f"unit {info['unit']} ({'shared' if len(info['responds']) > 1 else 'specific'})",
                label_counts(y_train[info["top_images"]]),
            )
            for info in shown
        ],
    )
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
