"""Time one training step (forward + backward) of a small convnet: ours vs numpy vs torch.

Model: ``Conv2D(32, 3x3, valid, relu) -> Flatten -> Dense(10)`` on 28x28x1 images at batch 64,
sparse categorical cross-entropy from logits. Rows: our fused path (the default: one im2col GEMM
op), our reference path (``fused=False``: the convolution composed from Tensor ops), a
hand-written numpy im2col step (written here; checked equal to ours on one batch before timing),
and torch (``torch.set_num_threads(2)``) when importable. Prints the median milliseconds per step
and the ratios to torch (or, without torch, to the numpy step) as a markdown table.
Nothing here asserts on time.

Usage: python benchmarks/bench_conv.py [--repeats 30] [--batch 64] [--filters 32]
(``OPENBLAS_NUM_THREADS=1`` in front compares single-threaded BLAS; on 2 busy cores it is often
the faster setting for GEMMs this small.)
Takes about 5-15 s. Expected last line: the torch row of the table (or the numpy row without
torch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.layers import Conv2D, Dense, Flatten  # noqa: E402
from tinygrad_edu.losses import sparse_categorical_crossentropy  # noqa: E402

Step = Callable[[], None]


def median_ms(steps: Dict[str, Step], repeats: int, blocks: int = 3) -> Dict[str, float]:
    """Median ms per step of each path. The paths take turns in ``blocks`` blocks of consecutive
    steps: turns spread bursts of outside load over all paths, and consecutive steps keep one
    library's idle worker threads (BLAS, OpenMP spin-waiting) from slowing the next one's."""
    times: Dict[str, List[float]] = {name: [] for name in steps}
    per_block = max(1, -(-repeats // blocks))
    for _ in range(blocks):
        for name, step in steps.items():
            for i in range(per_block + 2):  # 2 warm-up steps: threads wake, allocator warms
                start = time.perf_counter()
                step()
                if i >= 2:
                    times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(t) for name, t in times.items()}


class Ours:
    """Our layers; ``grads()`` runs one step and returns [conv kernel, conv bias, dense kernel,
    dense bias] gradients."""

    def __init__(self, fused: bool, x: np.ndarray, y: np.ndarray, filters: int) -> None:
        self.conv = Conv2D(filters, (3, 3), activation="relu", fused=fused)
        self.flat, self.dense = Flatten(), Dense(10)
        self.x, self.y = Tensor(x), y
        self.dense(self.flat(self.conv(self.x)))  # build
        self.params = self.conv.parameters() + self.dense.parameters()

    def grads(self) -> List[np.ndarray]:
        logits = self.dense(self.flat(self.conv(self.x)))
        sparse_categorical_crossentropy(self.y, logits, from_logits=True).backward()
        out = [p.grad for p in self.params]
        for p in self.params:
            p.grad = None
        return out

    def step(self) -> None:
        self.grads()


def numpy_grads(x: np.ndarray, y: np.ndarray, weights: List[np.ndarray]) -> List[np.ndarray]:
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
    return [(cols.T @ dz).reshape(kernel.shape), dz.sum(axis=0), flat.T @ dlogits,
            dlogits.sum(axis=0)]


def torch_step(x: np.ndarray, y: np.ndarray, filters: int) -> Step:
    import torch

    torch.set_num_threads(2)
    model = torch.nn.Sequential(torch.nn.Conv2d(x.shape[3], filters, 3), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.LazyLinear(10))
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y.astype(np.int64))
    model(xt)  # materialize the lazy layer

    def step() -> None:
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        for p in model.parameters():
            p.grad = None

    return step


def main(argv=None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)

    fused, reference = Ours(True, x, y, args.filters), Ours(False, x, y, args.filters)
    reference.conv.set_weights(fused.conv.get_weights())
    reference.dense.set_weights(fused.dense.get_weights())
    weights = [p.data for p in fused.params]
    by_hand = numpy_grads(x, y, weights)
    for name, got in (("fused", fused.grads()), ("reference", reference.grads())):
        for g, want in zip(got, by_hand):  # same numbers before comparing speed
            np.testing.assert_allclose(g, want, rtol=1e-3, atol=1e-5, err_msg=name)

    steps: Dict[str, Step] = {
        "tinygrad_edu fused (im2col op)": fused.step,
        "tinygrad_edu reference (Tensor ops)": reference.step,
        "numpy im2col by hand": lambda: numpy_grads(x, y, weights),
    }
    try:
        steps["torch (2 threads)"] = torch_step(x, y, args.filters)
    except ImportError:
        pass
    rows: List[Tuple[str, float]] = list(median_ms(steps, args.repeats).items())
    base_name, base = rows[-1]  # torch, or the numpy step without torch
    print(f"Conv2D({args.filters}, 3x3, relu) -> Flatten -> Dense(10), 28x28x1, "
          f"batch {args.batch}: median of {args.repeats} training steps\n")
    print(f"| path | ms / step | x {base_name.split()[0]} |")
    print("|---|---:|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.2f} | {ms / base:.2f} |")
    return dict(rows)


if __name__ == "__main__":
    main()
