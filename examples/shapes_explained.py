"""The questions learners ask about shapes and units, answered by the library's own output.

What it shows: each question is a heading and its answer is what tinygrad_edu prints - the
summary's algebra column (``[B,784] @ [784,32] + [32] -> [B,32]``), ``model.explain(x)`` traces of
real batches, ``layer.get_weights()`` shapes, a caught ``ShapeError`` with its ``expected`` /
``got`` / ``fix`` fields, dropout masks counted layer by layer, and the hidden activations of a
small trained MLP:

1. Why does ``Dense(32, input_shape=(784,))`` turn 784 numbers into 32?
2. Why is the weight matrix "785 x 32"?
3. How can a layer have more units than input features?
4. What does ``LSTM(300)`` return, and why 362,400 parameters?
5. What is the 32 in ``Conv2D(32, (3,3))``, and why is the output 26x26?
6. Does ``Dropout(0.25)`` apply to one layer or to all of them?
7. Why does ``predict`` on one sample fail?
8. Why 25 hidden units and not 100?
9. What are the hidden layers doing?

Runtime on 2 cores: ~2 s (data ~1 s, two small MLPs trained for 3 epochs on 5,000 images), up
to ~15 s on a busy machine; ~1 s with --quick (2,000 images).
Expected last line: ``all questions answered by the library's own output``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.layers import LSTM, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from tinygrad_edu.models import Sequential


def heading(number: int, question: str) -> None:
    print()
    print("=" * 100)
    print(f"Q{number}. {question}")
    print("=" * 100)


def show(code: str) -> None:
    """Print the line of code whose output follows (the answer is that output)."""
    print(f">>> {code}")


def weight_shapes(layer) -> str:
    """``kernel (784, 32) + bias (32,) = 785 x 32 = 25,120 numbers`` from the real arrays."""
    names, arrays = layer.weight_names, layer.get_weights()
    parts = " + ".join(f"{n} {a.shape}" for n, a in zip(names, arrays))
    total = sum(a.size for a in arrays)
    kernel = arrays[0]
    if len(arrays) == 2 and kernel.ndim == 2:  # Dense: the bias is one more row of the kernel
        rows, cols = kernel.shape[0] + 1, kernel.shape[1]
        return f"{parts} = {rows} x {cols} = {total:,} numbers"
    return f"{parts} = {total:,} numbers"


def load(args: argparse.Namespace):
    n_train, n_test = (2000, 500) if args.quick else (5000, 1000)
    (x_train, y_train), (x_test, y_test) = load_synthetic_digits(n_train, n_test, seed=args.seed)
    x_train = x_train.reshape(len(x_train), 784).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255
    return x_train, y_train, x_test, y_test


def q1_dense(x: np.ndarray) -> Sequential:
    heading(1, "Why does Dense(32, input_shape=(784,)) turn 784 numbers into 32?")
    model = Sequential(
        [Dense(32, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    show(
        'model = Sequential([Dense(32, activation="relu", input_shape=(784,)), '
        'Dense(10, activation="softmax")])'
    )
    show("model.summary()")
    model.summary()
    show("model.explain(x_test[:4])   # 4 real images, flattened to 784 pixels each")
    model.explain(x[:4])
    show("the output shape does not depend on the activation: Dense(32, activation=a)(x[:4])")
    for activation in (None, "relu", "sigmoid"):
        out = Dense(32, activation=activation)(x[:4])
        print(
            f"activation={activation!r:<10} -> shape {tuple(out.shape)}, "
            f"zeros {int(np.sum(out.numpy() == 0))} of {out.numpy().size}"
        )
    return model


def q2_weights(model: Sequential) -> None:
    heading(2, 'Why is the weight matrix "785 x 32"?')
    for i, layer in enumerate(model.layers):
        show(
            f"layer = model.layers[{i}]; [(n, w.shape) for n, w in zip(layer.weight_names, "
            "layer.get_weights())]"
        )
        print([(n, w.shape) for n, w in zip(layer.weight_names, layer.get_weights())])
        print(weight_shapes(layer), f"(count_params() = {layer.count_params():,})")


def q3_more_units() -> None:
    heading(3, "How can a layer have more units than input features?")
    model = Sequential([Dense(100, input_shape=(3,))])
    show("model = Sequential([Dense(100, input_shape=(3,))]); model.summary()")
    model.summary()
    show("model.explain(np.ones((2, 3)))")
    model.explain(np.ones((2, 3), dtype=np.float32))
    print(weight_shapes(model.layers[0]))
    points = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32)
    out = model.predict(points) - model.layers[0].get_weights()[1]
    show("np.linalg.matrix_rank(model.predict(points) - bias)   # 500 random 3-feature points")
    print(f"output shape {out.shape}, rank {np.linalg.matrix_rank(out)}")


def q4_lstm() -> None:
    heading(4, "What does LSTM(300) return, and why does it have 362,400 parameters?")
    model = Sequential([LSTM(300, input_shape=(20, 1))])
    show("model = Sequential([LSTM(300, input_shape=(20, 1))]); model.summary()")
    model.summary()
    print(weight_shapes(model.layers[0]))
    x = np.random.default_rng(0).normal(size=(2, 20, 1)).astype(np.float32)
    show("model.predict(x).shape          # x: 2 sequences of 20 steps, 1 feature each")
    print(model.predict(x).shape, "- the last hidden state h_T of every sequence")
    show("model.explain(x)")
    model.explain(x)
    both = LSTM(300, return_sequences=True, return_state=True)
    show("[o.shape for o in LSTM(300, return_sequences=True, return_state=True)(x)]")
    print([tuple(o.shape) for o in both(x)], "- [h_t at every step, h_T, c_T]")


def q5_conv(x: np.ndarray) -> None:
    heading(5, "What is the 32 in Conv2D(32, (3,3)), and why is the output 26x26?")
    model = Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )
    show(
        'model = Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)), '
        'MaxPooling2D((2, 2)), Flatten(), Dense(10, activation="softmax")]); model.summary()'
    )
    model.summary()
    show("model.explain(x_test[:2].reshape(2, 28, 28, 1))")
    model.explain(x[:2].reshape(2, 28, 28, 1))
    print(weight_shapes(model.layers[0]), "- 32 filters, each 3x3 over 1 channel")
    same = Sequential([Conv2D(32, (3, 3), padding="same", input_shape=(28, 28, 1))])
    show('Conv2D(32, (3, 3), padding="same") on (28, 28, 1): output_shape')
    print(same.output_shape)


def q6_dropout(x: np.ndarray) -> None:
    heading(6, "Does Dropout(0.25) apply to one layer or to all of them?")
    model = Sequential(
        [Dense(64, input_shape=(784,)), Dropout(0.25), Dense(64), Dropout(0.5), Dense(10)]
    )
    show(
        "model = Sequential([Dense(64, input_shape=(784,)), Dropout(0.25), Dense(64), "
        "Dropout(0.5), Dense(10)]); model.summary()"
    )
    model.summary()
    show("fraction of zeros in each layer's output for 256 images (training=True / False)")
    for training in (True, False):
        h, cells = x[:256], []
        with tg.no_grad():
            for layer in model.layers:
                h = layer(h, training=training)
                cells.append(f"{layer.name} {np.mean(h.numpy() == 0):.3f}")
        print(f"training={training!s:<5}: " + " | ".join(cells))


def q7_one_sample(model: Sequential, x: np.ndarray) -> None:
    heading(7, "Why does predict on one sample fail?")
    show("model.predict(x_test[0])       # x_test[0].shape == (784,)")
    try:
        model.predict(x[0])
    except tg.ShapeError as err:
        print(f"caught {type(err).__name__}")
        for field in ("where", "expected", "got", "fix"):
            print(f"  {field:<8} = {getattr(err, field)}")
    show("model.predict(x_test[0][None, :]).shape")
    print(model.predict(x[0][None, :]).shape)


def train(units: int, data, args: argparse.Namespace) -> tuple:
    x_train, y_train, x_test, y_test = data
    tg.set_seed(args.seed)
    model = Sequential(
        [Dense(units, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=0, seed=args.seed)
    return model, model.evaluate(x_test, y_test)[1]


def q8_how_many(data, args: argparse.Namespace) -> Sequential:
    heading(8, "Why 25 hidden units and not 100?")
    n = len(data[0])
    show(
        f"784-u-10 MLPs trained on {n} images for {args.epochs} epochs, tested on "
        f"{len(data[2])} (examples/hidden_units_sweep.py sweeps 1...512)"
    )
    print(f"{'units':>6} {'params':>8} {'test accuracy':>14}")
    models = {}
    for units in (25, 100):
        models[units], accuracy = train(units, data, args)
        print(f"{units:>6} {models[units].count_params():>8,} {accuracy:>14.4f}")
    print(f"sqrt(784) = {np.sqrt(784):.0f} (a rule of thumb, not a law: the data decides)")
    return models[25]


def q9_hidden(model: Sequential, x: np.ndarray, y: np.ndarray) -> None:
    heading(9, "What are the hidden layers doing?")
    hidden = model.activations(x)[model.layers[0].name]
    show(f"model.activations(x_test)['{model.layers[0].name}'].shape")
    print(hidden.shape)
    means = np.stack([hidden[y == digit].mean(axis=0) for digit in range(10)])
    show("per-digit mean activation of the 25 hidden units (rows: digit, columns: unit)")
    print("digit " + "".join(f"{u:>5}" for u in range(means.shape[1])))
    for digit, row in enumerate(means):
        print(f"{digit:>5} " + "".join(f"{v:>5.1f}" for v in row))
    show("the 3 hidden units that respond most to each digit (its mean minus the mean over all)")
    selectivity = means - means.mean(axis=0)
    for digit, row in enumerate(selectivity):
        top = np.argsort(row)[::-1][:3]
        print(f"digit {digit}: units " + ", ".join(f"{u} (+{row[u]:.1f})" for u in top))
    dead = np.flatnonzero(hidden.max(axis=0) == 0)
    show("units that never fire on the test images (relu outputs 0 for every image)")
    print(dead.tolist())
    nearest = np.argmin(((hidden[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    show("nearest per-digit mean in the 25-number hidden space vs in the 784-pixel space")
    pixel_means = np.stack([x[y == digit].mean(axis=0) for digit in range(10)])
    nearest_px = np.argmin(((x[:, None, :] - pixel_means[None]) ** 2).sum(-1), axis=1)
    print(
        f"hidden space: {np.mean(nearest == y):.4f}   pixel space: {np.mean(nearest_px == y):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="less data for Q8/Q9")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3, help="training epochs for Q8/Q9")
    args = parser.parse_args()
    tg.set_seed(args.seed)
    start = time.perf_counter()
    data = load(args)
    x_test, y_test = data[2], data[3]

    model = q1_dense(x_test)
    q2_weights(model)
    q3_more_units()
    q4_lstm()
    q5_conv(x_test)
    q6_dropout(x_test)
    q7_one_sample(model, x_test)
    trained = q8_how_many(data, args)
    q9_hidden(trained, x_test, y_test)
    print()
    print(f"(total time {time.perf_counter() - start:.1f} s)")
    print("all questions answered by the library's own output")


if __name__ == "__main__":
    main()
