"""Time one training step (forward + backward) of a small recurrent regressor, ours vs torch.

Model: ``RNN(128)`` over 20 steps of 1 feature at batch 64 -> ``Dense(20)``, MSE loss, for
``LSTM`` and ``SimpleRNN``. Contenders: our fused path (the default), our reference path (a Python
loop of Tensor ops, ``fused=False``), and ``torch.nn.LSTM`` / ``torch.nn.RNN`` (batch_first=True,
same thread count) when torch is importable. Timing follows ``harness``: 2 BLAS threads, rounds
that interleave the contenders, medians. Prints a markdown table of ms per step and the ratios to
torch (to our fused path without torch). Nothing here asserts on time.

Usage: python benchmarks/bench_rnn.py [--quick] [--repeats 31] [--batch 64] [--steps 20]
[--keep-openblas-env]   (run directly, it re-executes itself without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, see ``harness.reexec_without_openblas_env``)
Takes about 20-40 s (--quick: a few seconds; its times mean nothing). Expected last line: the
SimpleRNN reference row of the table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.layers import LSTM, Dense, SimpleRNN
from tinygrad_edu.optimizers import SGD

LAYERS = {"LSTM": LSTM, "SimpleRNN": SimpleRNN}


def ours(cls: type, fused: bool, x: np.ndarray, y: np.ndarray, units: int) -> Callable[[], None]:
    """One step of RNN(units) -> Dense -> MSE with our layers (weights are not updated)."""
    rnn, head = cls(units, fused=fused), Dense(y.shape[1])
    xt, yt = Tensor(x), Tensor(y)

    def step() -> None:
        loss = ((head(rnn(xt)) - yt) ** 2).mean()
        loss.backward()
        for p in rnn.parameters() + head.parameters():
            p.grad = None

    return step


def replayed(
    jit: Callable[..., Any], cls: type, x: np.ndarray, y: np.ndarray, units: int
) -> Callable[[], Any]:
    """``ours(cls, True, ...)``'s step through ``jit`` (the recurrent sequence op replays
    through its own Function); an optimizer only forgets the gradients (``zero_grad``).
    Checked before timing: the replayed loss equals the eager loss of the same weights, bytes."""
    rnn, head = cls(units), Dense(y.shape[1])
    opt = SGD()

    def step(xb: np.ndarray, yb: np.ndarray) -> Any:
        loss = ((head(rnn(xb)) - yb) ** 2).mean()
        loss.backward()
        opt.zero_grad()
        return loss

    eager = step(x, y)  # builds the layers; their gradients are forgotten next
    opt.set_params(rnn.parameters() + head.parameters()).zero_grad()
    jitted = jit(step)
    for _ in range(3):  # eager, capture, replay
        loss = jitted(x, y)
    assert np.array_equal(loss.numpy(), eager.numpy()), f"replayed {cls.__name__} step differs"
    return lambda: jitted(x, y)


def theirs(torch, kind: str, x: np.ndarray, y: np.ndarray, units: int) -> Callable[[], None]:
    """The same step with torch.nn (``torch.nn.RNN`` is SimpleRNN: tanh)."""
    rnn = (torch.nn.LSTM if kind == "LSTM" else torch.nn.RNN)(x.shape[2], units, batch_first=True)
    head = torch.nn.Linear(units, y.shape[1])
    params = list(rnn.parameters()) + list(head.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> None:
        out, _ = rnn(xt)
        torch.nn.functional.mse_loss(head(out[:, -1]), yt).backward()
        for p in params:
            p.grad = None

    return step


def time_layer(
    kind: str,
    batch: int = 64,
    steps: int = 20,
    units: int = 128,
    repeats: int = 31,
    quick: bool = False,
) -> dict[str, harness.Timing]:
    """Per-step timings: ``{"torch"?, "ours (fused)", "ours (reference)"}``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, 1)).astype(np.float32)
    y = rng.standard_normal((batch, 20)).astype(np.float32)
    contenders = {
        "ours (fused)": ours(LAYERS[kind], True, x, y, units),
        "ours (reference)": ours(LAYERS[kind], False, x, y, units),
    }
    jit = harness.replay_jit()
    if jit is not None:
        contenders["ours (replay)"] = replayed(jit, LAYERS[kind], x, y, units)
    torch = harness.torch_module()
    if torch is not None:
        contenders = {"torch": theirs(torch, kind, x, y, units), **contenders}
    if quick:
        return harness.interleaved(contenders, repeats=3, warmup=1, min_block_ms=0.0)
    return harness.interleaved(contenders, repeats=repeats)


def bench_rows(
    quick: bool = False, repeats: int = 31, only: str | None = None, **sizes: int
) -> list[harness.Row]:
    """One row per layer (``only``: the layer of that name, any case) for ``run_all``: our fused
    step against torch (target <= 1.0x)."""
    rows = []
    for kind in [k for k in LAYERS if only is None or k.lower() == only.lower()]:
        timings = time_layer(kind, repeats=repeats, quick=quick, **sizes)
        ms = {name: t.median for name, t in timings.items()}
        fused, replay = ms["ours (fused)"], ms.get("ours (replay)")
        notes = (
            f"our reference path {harness.fmt_ms(ms['ours (reference)'])} ms",
            f"replay/eager fused {harness.fmt_ratio(harness.ratio(replay, fused))}",
        )
        for label, ours_ms, note in zip(("ours: fused", "replay"), (fused, replay), notes):
            rows.append(
                harness.Row(
                    f"{kind} training step ({label})",
                    ours_ms,
                    torch_ms=ms.get("torch"),
                    against="torch",
                    limit=1.0,
                    group="rnn",
                    note=note,
                    extra={
                        "key": f"rnn-{kind}" + ("-replay" if label == "replay" else ""),
                        "spread": {name: round(t.spread, 3) for name, t in timings.items()},
                    },
                )
            )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke run")
    parser.add_argument("--repeats", type=int, default=31, help="interleaved rounds")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--units", type=int, default=128)
    harness.add_openblas_flag(parser)
    args = parser.parse_args(argv)
    print(
        f"training step: RNN({args.units}) over {args.steps} steps of 1 feature, batch "
        f"{args.batch} -> Dense(20), MSE; median ms, float32, {harness.blas_text()}\n"
    )
    print("| layer | implementation | ms / step | ratio |")
    print("|---|---|---:|---:|")
    for kind in LAYERS:
        timings = time_layer(kind, args.batch, args.steps, args.units, args.repeats, args.quick)
        ms = {name: t.median for name, t in timings.items()}
        base = ms.get("torch", ms["ours (fused)"])
        for impl, value in ms.items():
            print(f"| {kind} | {impl} | {value:.2f} | {value / base:.2f}x |")


if __name__ == "__main__":
    harness.reexec_without_openblas_env()
    main()
