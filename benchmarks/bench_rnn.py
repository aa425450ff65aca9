"""Time one training step (forward + backward) of a small recurrent regressor, ours vs torch.

Model: ``RNN(128)`` over 20 steps of 1 feature at batch 64 -> ``Dense(20)``, MSE loss, for
``LSTM`` and ``SimpleRNN``. Rows: our fused path (the default), our reference path (a Python loop
of Tensor ops, ``fused=False``), and ``torch.nn.LSTM`` / ``torch.nn.RNN`` (batch_first=True,
2 threads) when torch is importable. Prints the median milliseconds per step and ratios to torch
(or, without torch, to our fused path) as a markdown table. Nothing here asserts on time.

Usage: python benchmarks/bench_rnn.py [--repeats 30] [--batch 64] [--steps 20] [--units 128]
Takes about 10-20 s. Expected last line: the SimpleRNN reference row of the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.layers import LSTM, SimpleRNN  # noqa: E402

try:
    from tinygrad_edu.layers import Dense  # noqa: E402
except ImportError:  # Dense not written yet: the head is then plain Tensor ops
    Dense = None


def median_ms(step: Callable[[], None], repeats: int) -> float:
    for _ in range(3):  # warm-up: BLAS threads, allocator
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def ours(cls: type, fused: bool, x: np.ndarray, y: np.ndarray, units: int) -> Callable[[], None]:
    rnn = cls(units, fused=fused)
    head = Dense(y.shape[1]) if Dense is not None else None
    w = Tensor(np.random.default_rng(1).normal(0, 0.1, (units, y.shape[1])), requires_grad=True)
    b = Tensor(np.zeros(y.shape[1]), requires_grad=True)
    xt, yt = Tensor(x), Tensor(y)

    def step() -> None:
        h = rnn(xt)
        pred = head(h) if head is not None else h @ w + b
        loss = ((pred - yt) ** 2).mean()
        loss.backward()
        for p in rnn.parameters() + (head.parameters() if head is not None else [w, b]):
            p.grad = None

    return step


def torch_step(kind: str, x: np.ndarray, y: np.ndarray, units: int) -> Callable[[], None]:
    import torch

    torch.set_num_threads(2)
    cls = torch.nn.LSTM if kind == "LSTM" else torch.nn.RNN
    rnn = cls(x.shape[2], units, batch_first=True)
    head = torch.nn.Linear(units, y.shape[1])
    params = list(rnn.parameters()) + list(head.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        out, _ = rnn(xt)
        loss = torch.nn.functional.mse_loss(head(out[:, -1]), yt)
        loss.backward()
        for p in params:
            p.grad = None

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--units", type=int, default=128)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, args.steps, 1)).astype(np.float32)
    y = rng.standard_normal((args.batch, 20)).astype(np.float32)
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False

    print(f"training step: RNN({args.units}) over {args.steps} steps of 1 feature, batch "
          f"{args.batch} -> Dense(20), MSE (median of {args.repeats})\n")
    base = "torch" if have_torch else "ours (fused)"
    print(f"| layer | implementation | ms / step | ratio to {base} |")
    print("|---|---|---:|---:|")
    for name, cls in (("LSTM", LSTM), ("SimpleRNN", SimpleRNN)):
        rows: Dict[str, float] = {}
        if have_torch:
            rows["torch"] = median_ms(torch_step(name, x, y, args.units), args.repeats)
        rows["ours (fused)"] = median_ms(ours(cls, True, x, y, args.units), args.repeats)
        rows["ours (reference)"] = median_ms(ours(cls, False, x, y, args.units), args.repeats)
        for impl, ms in rows.items():
            print(f"| {name} | {impl} | {ms:.2f} | {ms / rows[base]:.2f}x |")


if __name__ == "__main__":
    main()
