"""Check that the synthetic digits are MNIST-like in difficulty (a helper script, not a test).

Generates the full 60k/10k set with ``load_synthetic_digits`` (timed), then trains, in plain numpy:

* a 784-128-10 ReLU MLP (softmax cross-entropy, Adam, minibatch 128), and
* a linear softmax classifier (multinomial logistic regression, Adam with a decaying step),

and prints both test accuracies. Targets: MLP >= 97%, linear at least 3 points lower (about 88-93%),
generation of 70,000 images well under 15 s on 2 cores. Takes about a minute.

Usage: python benchmarks/check_digits_separability.py [--seed 0] [--mlp-epochs 8]
Expected last line: ``OK: mlp 0.98.. linear 0.9... gap ... generation ...s``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu.datasets import batches, load_synthetic_digits


def softmax_xent_grad(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d(mean cross-entropy)/d(logits) for integer labels: (softmax - onehot) / B."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


class Adam:
    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray], b1=0.9, b2=0.999, eps=1e-7) -> None:
        self.t += 1
        a = self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m += (1 - b1) * (g - m)
            v += (1 - b2) * (g * g - v)
            p -= a * m / (np.sqrt(v) + eps)


def train_mlp(x, y, xt, yt, epochs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    w1 = (rng.normal(0, 1, (784, 128)) * np.sqrt(2 / 784)).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.normal(0, 1, (128, 10)) * np.sqrt(1 / 128)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    opt = Adam([w1, b1, w2, b2], lr=1e-3)
    for epoch in range(epochs):
        opt.lr = 1e-3 * (0.5 ** (epoch // max(1, epochs // 3)))
        for xb, yb in batches(x, y, 128, seed=seed * 1000 + epoch):
            h = xb @ w1 + b1
            a = np.maximum(h, 0)
            g = softmax_xent_grad(a @ w2 + b2, yb)
            gh = (g @ w2.T) * (h > 0)
            opt.step([xb.T @ gh, gh.sum(0), a.T @ g, g.sum(0)])
        acc = np.mean((np.maximum(xt @ w1 + b1, 0) @ w2 + b2).argmax(1) == yt)
        print(f"  mlp epoch {epoch + 1}: test acc {acc:.4f}", flush=True)
    return float(acc)


def train_linear(x, y, xt, yt, epochs: int, seed: int) -> float:
    w = np.zeros((784, 10), np.float32)
    b = np.zeros(10, np.float32)
    opt = Adam([w, b], lr=3e-3)
    for epoch in range(epochs):
        opt.lr = 3e-3 * (0.5 ** (epoch // max(1, epochs // 4)))
        for xb, yb in batches(x, y, 128, seed=seed * 1000 + epoch):
            g = softmax_xent_grad(xb @ w + b, yb)
            opt.step([xb.T @ g + 1e-5 * w, g.sum(0)])
        train_acc = np.mean((x @ w + b).argmax(1) == y)
        acc = np.mean((xt @ w + b).argmax(1) == yt)
        print(
            f"  linear epoch {epoch + 1}: train acc {train_acc:.4f} test acc {acc:.4f}", flush=True
        )
    return float(acc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-train", type=int, default=60000)
    ap.add_argument("--n-test", type=int, default=10000)
    ap.add_argument("--mlp-epochs", type=int, default=8)
    ap.add_argument("--linear-epochs", type=int, default=12)
    args = ap.parse_args()

    t0 = time.perf_counter()
    (x, y), (xt, yt) = load_synthetic_digits(args.n_train, args.n_test, seed=args.seed)
    gen = time.perf_counter() - t0
    print(
        f"generated {len(x) + len(xt)} images in {gen:.2f} s "
        f"(label counts {np.bincount(y, minlength=10).tolist()})",
        flush=True,
    )
    x = x.reshape(len(x), -1).astype(np.float32) / 255
    xt = xt.reshape(len(xt), -1).astype(np.float32) / 255
    y, yt = y.astype(np.int64), yt.astype(np.int64)

    mlp = train_mlp(x, y, xt, yt, args.mlp_epochs, args.seed)
    lin = train_linear(x, y, xt, yt, args.linear_epochs, args.seed)
    gap = mlp - lin
    ok = mlp >= 0.97 and gap >= 0.03 and gen < 15.0
    print(
        f"{'OK' if ok else 'FAIL'}: mlp {mlp:.4f} linear {lin:.4f} gap {gap * 100:.1f} points "
        f"generation {gen:.2f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
