"""Time one training step (forward + backward) of a small convnet: ours vs numpy vs torch.

Model: ``Conv2D(32, 3x3, valid, relu) -> Flatten -> Dense(10)`` on 28x28x1 images at batch 64,
sparse categorical cross-entropy from logits. Contenders: our fused path (the default: one im2col
GEMM op), our reference path (``fused=False``: the convolution composed from Tensor ops), a
hand-written numpy im2col step (written here; checked equal to ours on one batch before anything
is timed), and torch (``harness.threads()`` intra-op threads) when importable. Timing follows
``harness``: ``BENCH_THREADS`` BLAS threads (default 2), rounds that interleave the contenders,
medians. ``bench_rows`` gives ``run_all`` its row (target: ours <= 1.0x torch); run directly, it
prints the medians and the ratios to torch (or, without torch, to the numpy step) as a markdown
table. Nothing here asserts on time.

Usage: python benchmarks/bench_conv.py [--quick] [--repeats 31] [--batch 64] [--filters 32]
[--keep-openblas-env]   (``BENCH_THREADS=1`` in front compares single-threaded BLAS)
Takes about 10-20 s (--quick: a few seconds; its times mean nothing). Expected last line: the
torch row of the table (or the numpy row without torch).
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
from tinygrad_edu.layers import Conv2D, Dense, Flatten
from tinygrad_edu.losses import sparse_categorical_crossentropy
from tinygrad_edu.optimizers import SGD

Step = Callable[[], None]
OURS, REFERENCE, NUMPY, TORCH = "ours (fused)", "ours (reference)", "numpy im2col", "torch"
REPLAY = "ours (replay)"


class Ours:
    """Our layers; ``grads()`` runs one step and returns [conv kernel, conv bias, dense kernel,
    dense bias] gradients."""

    def __init__(self, fused: bool, x: np.ndarray, y: np.ndarray, filters: int) -> None:
        self.conv = Conv2D(filters, (3, 3), activation="relu", fused=fused)
        self.flat, self.dense = Flatten(), Dense(10)
        self.x, self.y = Tensor(x), y
        self.dense(self.flat(self.conv(self.x)))  # build
        self.params = self.conv.parameters() + self.dense.parameters()

    def grads(self) -> list[np.ndarray]:
        logits = self.dense(self.flat(self.conv(self.x)))
        sparse_categorical_crossentropy(self.y, logits, from_logits=True).backward()
        out = [p.grad for p in self.params]
        for p in self.params:
            p.grad = None
        return out

    def step(self) -> None:
        self.grads()

    def replayed(self, jit: Callable[..., Any]) -> Step:
        """The same step through ``jit`` (issue 15's replay: the convolution, pooling-free
        here, replays through its own Function): forward, loss, backward, and the optimizer
        only forgets the gradients (``zero_grad``), as ``step`` does by hand."""
        opt = SGD(self.params)

        def step(x: np.ndarray, y: np.ndarray) -> Any:
            logits = self.dense(self.flat(self.conv(x)))
            loss = sparse_categorical_crossentropy(y, logits, from_logits=True)
            loss.backward()
            opt.zero_grad()
            return loss

        jitted, x = jit(step), self.x.numpy()
        return lambda: jitted(x, self.y)


def numpy_grads(x: np.ndarray, y: np.ndarray, weights: list[np.ndarray]) -> list[np.ndarray]:
    """The same step by hand: im2col, one GEMM, relu, dense, softmax cross-entropy, backward."""
    kernel, kbias, dense_w, dense_b = weights
    kh, kw, c, f = kernel.shape
    b = x.shape[0]
    patches = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    oh, ow = patches.shape[1:3]
    cols = patches.transpose(0, 1, 2, 4, 5, 3).reshape(b * oh * ow, kh * kw * c)
    z = cols @ kernel.reshape(-1, f) + kbias
    a = np.maximum(z, 0)
    flat = a.reshape(b, -1)
    logits = flat @ dense_w + dense_b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(b), y] -= 1  # d(mean CE)/d(logits) = (softmax - onehot) / B
    dlogits = p / b
    dz = (dlogits @ dense_w.T).reshape(z.shape) * (z > 0)
    return [
        (cols.T @ dz).reshape(kernel.shape),
        dz.sum(axis=0),
        flat.T @ dlogits,
        dlogits.sum(axis=0),
    ]


def torch_step(torch, x: np.ndarray, y: np.ndarray, filters: int) -> Step:
    """The same step with torch.nn (channels-first copy of the images)."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(x.shape[3], filters, 3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.LazyLinear(10),
    )
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y.astype(np.int64))
    model(xt)  # materialize the lazy layer

    def step() -> None:
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        for p in model.parameters():
            p.grad = None

    return step


def contenders(batch: int = 64, filters: int = 32, seed: int = 0) -> dict[str, Step]:
    """The step of every contender, after checking that ours (both paths) and the numpy step
    compute the same gradients on the batch they will be timed on."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    fused, reference = Ours(True, x, y, filters), Ours(False, x, y, filters)
    reference.conv.set_weights(fused.conv.get_weights())
    reference.dense.set_weights(fused.dense.get_weights())
    weights = [p.data for p in fused.params]
    by_hand = numpy_grads(x, y, weights)
    for name, got in ((OURS, fused.grads()), (REFERENCE, reference.grads())):
        for g, want in zip(got, by_hand):  # same numbers before comparing speed
            np.testing.assert_allclose(g, want, rtol=1e-3, atol=1e-5, err_msg=name)
    steps: dict[str, Step] = {
        OURS: fused.step,
        REFERENCE: reference.step,
        NUMPY: lambda: numpy_grads(x, y, weights),
    }
    jit = harness.replay_jit()
    if jit is not None:
        replay = Ours(True, x, y, filters)
        for theirs, mine in ((fused.conv, replay.conv), (fused.dense, replay.dense)):
            mine.set_weights(theirs.get_weights())
        logits = fused.dense(fused.flat(fused.conv(x)))
        eager_loss = sparse_categorical_crossentropy(y, logits, from_logits=True)
        steps[REPLAY] = replay.replayed(jit)
        for _ in range(3):  # eager, capture, replay: the replayed loss is eager's, bit for bit
            loss = steps[REPLAY]()
        assert np.array_equal(loss.numpy(), eager_loss.numpy()), "replayed Conv2D step differs"
    torch = harness.torch_module()
    if torch is not None:
        steps[TORCH] = torch_step(torch, x, y, filters)
    return steps


def time_paths(
    batch: int = 64, filters: int = 32, repeats: int = 31, quick: bool = False
) -> tuple[dict[str, harness.Timing], dict[str, float]]:
    """``{contender: Timing}`` (ms per step) from ``harness.interleaved``, and the minor page
    faults per step of our fused and replayed steps, measured in a fresh process."""
    steps = contenders(batch, filters)
    if quick:
        timings = harness.interleaved(
            steps, repeats=3, warmup=1, min_block_ms=0.0, switch_settle_ms=20
        )
    else:
        timings = harness.interleaved(steps, repeats=repeats)
    faults = harness.run_in_subprocess("bench_conv", "faults_child", batch, filters)
    return timings, faults


def faults_child(batch: int = 64, filters: int = 32) -> dict[str, float]:
    """In a fresh process (``harness.run_in_subprocess``): the median minor page faults per step
    of our fused step and of its replay (after the warm-up calls that capture it)."""
    rng = np.random.default_rng(0)
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    faults = {OURS: harness.minor_faults_per_step(Ours(True, x, y, filters).step)}
    jit = harness.replay_jit()
    if jit is not None:
        replay = Ours(True, x, y, filters).replayed(jit)
        faults[REPLAY] = harness.minor_faults_per_step(replay)
    return faults


def bench_rows(quick: bool = False, repeats: int = 31, **sizes: int) -> list[harness.Row]:
    """Rows for ``run_all``: our fused step and our replayed step (n/a without the jit) against
    torch (target <= 1.0x) and numpy, with their minor page faults per step."""
    timings, faults = time_paths(repeats=repeats, quick=quick, **sizes)
    ms = {name: t.median for name, t in timings.items()}
    spread = {name: round(t.spread, 3) for name, t in timings.items()}
    fused_note = f"our reference path {harness.fmt_ms(ms[REFERENCE])} ms"
    replay_note = "replay/eager fused " + harness.fmt_ratio(harness.ratio(ms.get(REPLAY), ms[OURS]))
    rows = []
    for label, name, note in (("ours: fused", OURS, fused_note), ("replay", REPLAY, replay_note)):
        if name in faults:
            note += f"; {faults[name]:.0f} minor page faults/step"
        rows.append(
            harness.Row(
                f"Conv2D training step ({label})",
                ms.get(name),
                numpy_ms=ms[NUMPY],
                torch_ms=ms.get(TORCH),
                against="torch",
                limit=1.0,
                group="conv",
                note=note,
                extra={"key": f"conv-Conv2D-{name}", "spread": spread, "faults": faults},
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Print the table; returns ``{contender: median ms}``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke run")
    parser.add_argument("--repeats", type=int, default=31, help="interleaved rounds")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--filters", type=int, default=32)
    harness.add_openblas_flag(parser)
    args = parser.parse_args(argv)
    timings, faults = time_paths(args.batch, args.filters, args.repeats, args.quick)
    ms = {name: t.median for name, t in timings.items()}
    base_name = TORCH if TORCH in ms else NUMPY
    print(
        f"Conv2D({args.filters}, 3x3, relu) -> Flatten -> Dense(10), 28x28x1, batch "
        f"{args.batch}: median ms per training step, float32, {harness.blas_text()}\n"
    )
    print(f"| path | ms / step | x {base_name} |")
    print("|---|---:|---:|")
    for name in (OURS, REPLAY, REFERENCE, NUMPY, TORCH):
        if name in ms:
            print(f"| {name} | {ms[name]:.2f} | {ms[name] / ms[base_name]:.2f}x |")
    print(f"\nminor page faults per step: {faults}")
    return ms


if __name__ == "__main__":
    harness.reexec_without_openblas_env()
    main()
