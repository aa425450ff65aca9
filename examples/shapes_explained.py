"""The questions learners ask about shapes and units, answered by the library's own output.

What it shows: each question is a heading and its answer is what tinygrad_edu prints - the
summary's algebra column (``[B,784] @ [784,32] + [32] -> [B,32]``), ``model.explain(x)`` traces of
real batches, ``layer.get_weights()`` shapes, a caught ``ShapeError`` with its ``expected`` /
``got`` / ``fix`` fields, dropout masks counted layer by layer, and the hidden activations of a
small trained MLP. Every claim printed is also checked against that output (``check ok: ...``
or ``CHECK FAILED: ... got ...``); the script ends with how many checks held and exits with status
1 if one did not:

1. Why does ``Dense(32, input_shape=(784,))`` turn 784 numbers into 32?
2. Why is the weight matrix "785 x 32"?
3. How can a layer have more units than input features?
4. What does ``LSTM(300)`` return, and why 362,400 parameters?
5. What is the 32 in ``Conv2D(32, (3,3))``, and why is the output 26x26?
6. Does ``Dropout(0.25)`` apply to one layer or to all of them?
7. Why does ``predict`` on one sample fail?
8. Why 25 hidden units and not 100?
9. What are the hidden layers doing?

Runtime: on a 2-core machine, ~2 s by default, ~1 s with --quick (two small MLPs, 3 epochs on 5,000
images; --quick: 2,000). Measured as CPU time with one BLAS thread (about the wall time on an idle
machine); at load ~10 (other jobs running) the wall time was ~6 s and ~4 s.
Expected last line: ``all 26 checks hold: every answer above is the library's own output``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.layers import LSTM, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from tinygrad_edu.models import Sequential


class Checks:
    """Compare each printed claim with what the library returned; failures are printed, never
    hidden, and counted for the last line."""

    def __init__(self) -> None:
        self.held, self.failed = 0, []

    def __call__(self, claim: str, holds: bool, got: object = None) -> None:
        if holds:
            self.held += 1
            print(f"  check ok: {claim}")
        else:
            self.failed.append(claim)
            print(f"  CHECK FAILED: {claim} - got {got}")

    def equal(self, claim: str, got: object, expected: object) -> None:
        self(f"{claim} == {expected!r}", got == expected, got)

    def verdict(self) -> int:
        """Print the last line; the exit status: 0 if every check held."""
        total = self.held + len(self.failed)
        if self.failed:
            print(f"{len(self.failed)} of {total} checks FAILED: " + "; ".join(self.failed))
            return 1
        print(f"all {total} checks hold: every answer above is the library's own output")
        return 0


def dense_count(inputs: int, units: int) -> int:
    """A Dense layer's parameters: kernel (inputs, units) + bias (units,)."""
    return (inputs + 1) * units


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


def q1_dense(x: np.ndarray, check: Checks) -> Sequential:
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
    check.equal(
        "Dense(32) maps 784 features to 32: model.layers[0].output_shape",
        model.layers[0].output_shape,
        (None, 32),
    )
    show("the output shape does not depend on the activation: Dense(32, activation=a)(x[:4])")
    shapes = set()
    for activation in (None, "relu", "sigmoid"):
        out = Dense(32, activation=activation)(x[:4])
        shapes.add(tuple(out.shape))
        print(
            f"activation={activation!r:<10} -> shape {tuple(out.shape)}, "
            f"zeros {int(np.sum(out.numpy() == 0))} of {out.numpy().size}"
        )
    check.equal("the three activations give one output shape", shapes, {(4, 32)})
    return model


def q2_weights(model: Sequential, check: Checks) -> None:
    heading(2, 'Why is the weight matrix "785 x 32"?')
    for i, layer in enumerate(model.layers):
        show(
            f"layer = model.layers[{i}]; [(n, w.shape) for n, w in zip(layer.weight_names, "
            "layer.get_weights())]"
        )
        print([(n, w.shape) for n, w in zip(layer.weight_names, layer.get_weights())])
        print(weight_shapes(layer), f"(count_params() = {layer.count_params():,})")
        inputs, units = layer.get_weights()[0].shape
        check.equal(
            f"{layer.name}: (inputs + 1 bias row) x units = ({inputs} + 1) x {units}; "
            "count_params()",
            layer.count_params(),
            dense_count(inputs, units),
        )


def q3_more_units(check: Checks) -> None:
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
    rank = int(np.linalg.matrix_rank(out))
    print(f"output shape {out.shape}, rank {rank}")
    print("100 outputs per point, but they vary along only 3 directions: more units than inputs is")
    print("allowed (the kernel is any (3, 100) matrix); the extra units are combinations of 3.")
    check.equal("kernel shape", model.layers[0].get_weights()[0].shape, (3, 100))
    check.equal("rank of the 100-unit output of 3-feature inputs", rank, 3)


def q4_lstm(check: Checks) -> None:
    heading(4, "What does LSTM(300) return, and why does it have 362,400 parameters?")
    model = Sequential([LSTM(300, input_shape=(20, 1))])
    show("model = Sequential([LSTM(300, input_shape=(20, 1))]); model.summary()")
    model.summary()
    print(weight_shapes(model.layers[0]))
    check.equal("4 gates x (1*300 + 300*300 + 300): count_params()", model.count_params(), 362_400)
    x = np.random.default_rng(0).normal(size=(2, 20, 1)).astype(np.float32)
    show("model.predict(x).shape          # x: 2 sequences of 20 steps, 1 feature each")
    print(model.predict(x).shape, "- the last hidden state h_T of every sequence")
    check.equal("LSTM(300) returns one 300-vector per sequence", model.predict(x).shape, (2, 300))
    show("model.explain(x)")
    model.explain(x)
    both = LSTM(300, return_sequences=True, return_state=True)
    show("[o.shape for o in LSTM(300, return_sequences=True, return_state=True)(x)]")
    shapes = [tuple(o.shape) for o in both(x)]
    print(shapes, "- [h_t at every step, h_T, c_T]")
    check.equal("return_sequences/return_state shapes", shapes, [(2, 20, 300), (2, 300), (2, 300)])


def q5_conv(x: np.ndarray, check: Checks) -> None:
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
    conv, pool, flat = model.layers[:3]
    check.equal(
        "28 - 3 + 1 = 26 positions per axis, one map per filter: conv output_shape",
        conv.output_shape,
        (None, 26, 26, 32),
    )
    check.equal("32 x (3*3*1 + 1) = 320: conv count_params()", conv.count_params(), 320)
    check.equal("MaxPooling2D halves 26 to 13: output_shape", pool.output_shape, (None, 13, 13, 32))
    check.equal("13*13*32 = 5,408 numbers after Flatten", flat.output_shape, (None, 5408))
    same = Sequential([Conv2D(32, (3, 3), padding="same", input_shape=(28, 28, 1))])
    show('Conv2D(32, (3, 3), padding="same") on (28, 28, 1): output_shape')
    print(same.output_shape)
    check.equal('padding="same" keeps 28x28', same.output_shape, (None, 28, 28, 32))


def q6_dropout(x: np.ndarray, check: Checks) -> None:
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
    zeros = {}
    for training in (True, False):
        h, cells = x[:256], []
        with tg.no_grad():
            for layer in model.layers:
                h = layer(h, training=training)
                zeros[training, layer.name] = float(np.mean(h.numpy() == 0))
                cells.append(f"{layer.name} {zeros[training, layer.name]:.3f}")
        print(f"training={training!s:<5}: " + " | ".join(cells))
    print("Each Dropout zeroes its own rate of the layer before it, in training only; the Dense")
    print("after it sees the survivors (scaled by 1/(1 - rate)) and outputs no extra zeros.")
    for layer in model.layers:
        rate = getattr(layer, "rate", 0.0)
        got = zeros[True, layer.name]
        check(f"training: {layer.name} zeroes {rate:.2f} (+-0.02)", abs(got - rate) <= 0.02, got)
    check.equal(
        "inference: no layer zeroes anything (largest fraction)",
        max(zeros[False, layer.name] for layer in model.layers),
        0.0,
    )


def q7_one_sample(model: Sequential, x: np.ndarray, check: Checks) -> None:
    heading(7, "Why does predict on one sample fail?")
    show("model.predict(x_test[0])       # x_test[0].shape == (784,)")
    caught = None
    try:
        model.predict(x[0])
    except tg.ShapeError as err:
        caught = err
        print(f"caught {type(err).__name__}")
        for field in ("where", "expected", "got", "fix"):
            print(f"  {field:<8} = {getattr(err, field)}")
    check("predict on a (784,) sample raises ShapeError", caught is not None, "no error")
    show("model.predict(x_test[0][None, :]).shape")
    shape = model.predict(x[0][None, :]).shape
    print(shape)
    check.equal("with a batch axis of 1: predict(...).shape", shape, (1, 10))


def train(units: int, data, args: argparse.Namespace) -> tuple:
    x_train, y_train, x_test, y_test = data
    tg.set_seed(args.seed)
    model = Sequential(
        [Dense(units, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=0, seed=args.seed)
    return model, model.evaluate(x_test, y_test)[1]


def q8_how_many(data, args: argparse.Namespace, check: Checks) -> Sequential:
    heading(8, "Why 25 hidden units and not 100?")
    n = len(data[0])
    show(
        f"784-u-10 MLPs trained on {n} images for {args.epochs} epochs, tested on "
        f"{len(data[2])} (examples/hidden_units_sweep.py compares 4...256 over seeds)"
    )
    print(f"{'units':>6} {'params':>8} {'test accuracy':>14}")
    models = {}
    for units in (25, 100):
        models[units], accuracy = train(units, data, args)
        print(f"{units:>6} {models[units].count_params():>8,} {accuracy:>14.4f}")
    print(
        f"sqrt(784) = {np.sqrt(784):.0f} (a rule of thumb, not a law: the data decides). One seed"
    )
    print("and one test set cannot tell a small difference from noise: hidden_units_sweep.py")
    print("chooses on a validation split over several seeds and tests once.")
    for units, model in models.items():
        check.equal(
            f"784-{units}-10 parameters",
            model.count_params(),
            dense_count(784, units) + dense_count(units, 10),
        )
    return models[25]


def q9_hidden(model: Sequential, x: np.ndarray, y: np.ndarray, check: Checks) -> None:
    heading(9, "What are the hidden layers doing?")
    hidden = model.activations(x)[model.layers[0].name]
    show(f"model.activations(x_test)['{model.layers[0].name}'].shape")
    print(hidden.shape)
    check.equal("one row of 25 activations per image", hidden.shape, (len(x), 25))
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
    in_hidden, in_pixels = float(np.mean(nearest == y)), float(np.mean(nearest_px == y))
    print(f"hidden space: {in_hidden:.4f}   pixel space: {in_pixels:.4f}")
    print("25 numbers per image instead of 784, and the digits are about as easy to tell apart by")
    print("their nearest per-digit mean (within 0.05): the hidden layer keeps what separates them")
    print("in a 31x shorter description, which the output layer reads with one linear map.")
    check(
        "nearest-mean accuracy in the hidden space is within 0.05 of (or above) pixel space",
        in_hidden >= in_pixels - 0.05,
        f"{in_hidden:.4f} vs {in_pixels:.4f}",
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

    check = Checks()
    model = q1_dense(x_test, check)
    q2_weights(model, check)
    q3_more_units(check)
    q4_lstm(check)
    q5_conv(x_test, check)
    q6_dropout(x_test, check)
    q7_one_sample(model, x_test, check)
    trained = q8_how_many(data, args, check)
    q9_hidden(trained, x_test, y_test, check)
    print()
    print(f"(total time {time.perf_counter() - start:.1f} s)")
    raise SystemExit(check.verdict())


if __name__ == "__main__":
    main()
