"""SimpleRNN and LSTM predicting the next 20 steps of a noisy sine from its last 20 steps.

What it shows: sequences enter recurrent layers as (batch, timesteps, features) = (B, 20, 1);
``LSTM(32)`` reads them one step at a time and returns only its last hidden state, shape
(None, 32) - that is why a learner's ``LSTM(300)`` "outputs (None, 300)". ``Dense(20)`` maps it
to the 20 future values. The summary shows each parameter count (LSTM: 4 gates x
(1*32 + 32*32 + 32)); a "repeat the last value" baseline shows the networks learned something.

Runtime: on a 2-core machine, ~4 s by default, ~1 s with --quick (4,000 windows, 15 epochs;
--quick: 2,000 windows, 8 epochs). Measured as CPU time with one BLAS thread (about the wall time
on an idle machine); at load ~10 (other jobs running) the wall time was ~15 s and ~5 s.
Expected last line (default settings): ``LSTM test mse: 0.0xxx (baseline 1.0xxx)``. The claim,
checked by the tests on the --quick run: the LSTM beats the baseline by a wide margin - its mse is
at most a fifth of the baseline's (default settings: about 1/70; --quick: about 1/14).
"""

from __future__ import annotations

import argparse

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.layers import LSTM, Dense, SimpleRNN
from tinygrad_edu.models import Sequential

STEPS = 20


def noisy_sines(n: int, rng: np.random.Generator):
    """n windows of 40 steps of sin (random frequency/phase) + noise: first 20 in, last 20 out."""
    t = np.arange(2 * STEPS)
    freq = rng.uniform(0.1, 0.4, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    series = np.sin(freq * t + phase) + rng.normal(0, 0.05, (n, 2 * STEPS))
    x = series[:, :STEPS, None].astype(np.float32)  # (n, 20, 1): one feature per step
    y = series[:, STEPS:].astype(np.float32)  # (n, 20): the next 20 values
    return x, y


def train(layer, x, y, x_test, y_test, epochs: int, label: str) -> float:
    model = Sequential([layer, Dense(STEPS)])
    model.summary()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=2)
    mse = model.evaluate(x_test, y_test)
    print(f"{label} test mse: {mse:.4f}")
    return mse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default 15 (8 with --quick)")
    parser.add_argument("--quick", action="store_true", help="half the data, 8 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    epochs = args.epochs if args.epochs is not None else (8 if args.quick else 15)

    tg.set_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x, y = noisy_sines(2000 if args.quick else 4000, rng)
    x_test, y_test = noisy_sines(500 if args.quick else 1000, rng)
    baseline = float(np.mean((np.repeat(x_test[:, -1], STEPS, axis=1) - y_test) ** 2))

    train(SimpleRNN(32, input_shape=(STEPS, 1)), x, y, x_test, y_test, epochs, "SimpleRNN")
    mse = train(LSTM(32, input_shape=(STEPS, 1)), x, y, x_test, y_test, epochs, "LSTM")
    print(f"LSTM test mse: {mse:.4f} (baseline {baseline:.4f})")


if __name__ == "__main__":
    main()
