"""Time one MLP training step (forward + backward + SGD update): ours vs numpy vs PyTorch.

Workloads (float32, 2 BLAS threads, ReLU hidden layers, softmax + sparse categorical
cross-entropy, SGD lr 0.01 with in-place updates): MLP 784-32-10 at batch 32 and 256,
784-128-64-10 at batch 64 and 512, 20-64-64-10 with Dropout(0.5) after each hidden layer at
batch 32.

Contenders, timed in interleaved rounds in the same process (median ms per step, see
``harness.interleaved``):

- ours, the PyTorch-style loop a user writes: ``out = model(x, training=True)``,
  ``loss = losses.sparse_categorical_crossentropy(y, out)``, ``loss.backward()``, ``opt.step()``,
  ``opt.zero_grad()`` - the model ends in ``Dense(10, activation="softmax")``, so the loss takes
  the fused softmax-CE path from the logits;
- ours, ``model.train_on_batch(x, y)`` (Keras path, same model and optimizer);
- numpy: ``NumpyMLP``, the same math written by hand (forward, hand-derived backward, in-place
  SGD), checked equal to ours on one batch (loss, output, every gradient, updated weights) before
  anything is timed - dropout masks drawn the same way at the same rate;
- torch (when importable): ``nn.Sequential`` of ``Linear``/``ReLU``/``Dropout``,
  ``CrossEntropyLoss``, ``torch.optim.SGD``, same initial weights, 2 intra-op threads.

Targets: ours <= 1.15x numpy (<= 1.10x at batch 512, <= 1.3x with dropout). Nothing asserts on
time; the table is the result.

Usage: python benchmarks/bench_mlp.py [--quick] [--only SUBSTRING] [--repeats 31]
[--keep-openblas-env]   (run directly, it re-executes itself without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, see ``harness.reexec_without_openblas_env``)
Takes about 30-60 s (a few seconds with --quick). Expected last line: the table row of the
dropout workload (train_on_batch).
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402  (first: pins the BLAS threads before numpy loads)
import numpy as np  # noqa: E402

from tinygrad_edu import losses, set_seed  # noqa: E402
from tinygrad_edu.layers import Dense, Dropout  # noqa: E402
from tinygrad_edu.models import Sequential  # noqa: E402
from tinygrad_edu.optimizers import SGD  # noqa: E402

LR = 0.01
Batch = Tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class MLPSpec:
    """An MLP ``sizes[0] -> ... -> sizes[-1]`` trained at ``batch``; ``dropout`` after each
    hidden layer when > 0; ``limit`` is the target ratio ours/numpy."""

    sizes: Tuple[int, ...]
    batch: int
    dropout: float = 0.0
    limit: float = 1.15

    @property
    def key(self) -> str:
        drop = "-dropout" if self.dropout else ""
        return f"mlp-{'-'.join(map(str, self.sizes))}{drop}-b{self.batch}"

    @property
    def name(self) -> str:
        drop = f" + Dropout({self.dropout:g})" if self.dropout else ""
        return f"MLP {'-'.join(map(str, self.sizes))}{drop}, batch {self.batch}"


WORKLOADS: Tuple[MLPSpec, ...] = (
    MLPSpec((784, 32, 10), 32),
    MLPSpec((784, 32, 10), 256),
    MLPSpec((784, 128, 64, 10), 64),
    MLPSpec((784, 128, 64, 10), 512, limit=1.10),
    MLPSpec((20, 64, 64, 10), 32, dropout=0.5, limit=1.3),
)


def make_batches(spec: MLPSpec, n_batches: int = 4, seed: int = 0) -> List[Batch]:
    """A small pool of float32 batches (pixel-like [0, 1) for 784 inputs, N(0, 1) otherwise) with
    int64 labels; every contender cycles through the same pool."""
    rng = np.random.default_rng(seed)
    shape = (spec.batch, spec.sizes[0])
    pool = []
    for _ in range(n_batches):
        x = (
            rng.random(shape, dtype=np.float32)
            if spec.sizes[0] == 784
            else rng.standard_normal(shape, dtype=np.float32)
        )
        pool.append((x, rng.integers(0, spec.sizes[-1], spec.batch)))
    return pool


def cycle(pool: Sequence[Any]) -> Callable[[], Any]:
    state = {"i": 0}

    def nxt() -> Any:
        state["i"] = (state["i"] + 1) % len(pool)
        return pool[state["i"]]

    return nxt


# ---------------------------------------------------------------------------- ours
def build_ours(spec: MLPSpec, seed: int = 0) -> Sequential:
    """``Dense(h, relu) [-> Dropout] ... -> Dense(classes, softmax)``, built at once."""
    set_seed(seed)
    layers: List[Any] = []
    for i, units in enumerate(spec.sizes[1:-1]):
        kwargs = {"input_shape": (spec.sizes[0],)} if i == 0 else {}
        layers.append(Dense(units, activation="relu", **kwargs))
        if spec.dropout:
            layers.append(Dropout(spec.dropout))
    layers.append(Dense(spec.sizes[-1], activation="softmax"))
    return Sequential(layers)


def ours_loop_step(model: Sequential) -> Callable[[np.ndarray, np.ndarray], Any]:
    """The PyTorch-style step on our objects, exactly as a user writes it."""
    opt = SGD(model.parameters(), learning_rate=LR)

    def step(x: np.ndarray, y: np.ndarray) -> Any:
        out = model(x, training=True)
        loss = losses.sparse_categorical_crossentropy(y, out)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return out, loss

    return step


def ours_train_on_batch(model: Sequential) -> Callable[[np.ndarray, np.ndarray], Any]:
    model.compile(optimizer=SGD(learning_rate=LR), loss="sparse_categorical_crossentropy")
    return model.train_on_batch


# ---------------------------------------------------------------------------- numpy reference
class NumpyMLP:
    """The same training step written by hand in numpy (float32 throughout).

    Forward, hidden layer l:  h_l = a_{l-1} @ W_l + b_l,   a_l = max(h_l, 0) [* mask_l]
    Output:                   z = a @ W + b,   log p = (z - max z) - log sum exp(z - max z),
                              loss = mean_b(-log p[b, y_b])
    Backward (B rows):        dz = (p - onehot(y)) / B,   dW = a^T dz,   db = sum_b dz,
                              da = dz W^T [* mask],   dh = da * [h > 0]
    SGD, in place:            W -= lr * dW

    ``mask_l`` = (u >= rate) / (1 - rate) with u ~ U[0, 1) of a's shape, from ``rngs[l]``.
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        dropout: float = 0.0,
        rngs: Optional[Sequence[np.random.Generator]] = None,
        lr: float = LR,
    ) -> None:
        self.params = [np.array(w, dtype=np.float32) for w in weights]  # W1, b1, W2, b2, ...
        self.dropout, self.lr = dropout, lr
        n_hidden = len(self.params) // 2 - 1
        self.rngs = (
            list(rngs)
            if rngs is not None
            else [np.random.default_rng(100 + i) for i in range(n_hidden)]
        )

    def forward_backward(
        self, x: np.ndarray, y: np.ndarray
    ) -> Tuple[float, np.ndarray, List[np.ndarray]]:
        """(loss, softmax output, gradients in parameter order)."""
        ws, bs = self.params[0::2], self.params[1::2]
        acts, pre, masks = [x], [], []
        for i, (w, b) in enumerate(zip(ws[:-1], bs[:-1])):
            h = acts[-1] @ w + b
            a = np.maximum(h, 0)
            if self.dropout:
                keep = self.rngs[i].random(a.shape) >= self.dropout
                mask = keep.astype(np.float32) / np.float32(1 - self.dropout)
                a = a * mask
                masks.append(mask)
            pre.append(h)
            acts.append(a)
        z = acts[-1] @ ws[-1] + bs[-1]
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(y))
        loss = -log_p[rows, y].mean()

        p = np.exp(log_p)
        dz = p.copy()
        dz[rows, y] -= 1
        dz /= np.float32(len(y))
        grads: List[np.ndarray] = []
        for i in range(len(ws) - 1, -1, -1):
            grads[:0] = [acts[i].T @ dz, dz.sum(axis=0)]
            if i == 0:
                break
            da = dz @ ws[i].T
            if self.dropout:
                da = da * masks[i - 1]
            dz = da * (pre[i - 1] > 0)
        return float(loss), p, grads

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss, _, grads = self.forward_backward(x, y)
        for param, grad in zip(self.params, grads):
            param -= self.lr * grad
        return loss


# ---------------------------------------------------------------------------- torch
def torch_model(spec: MLPSpec, weights: Sequence[np.ndarray]) -> Any:
    """The same MLP in torch (logits out; CrossEntropyLoss applies the softmax), our weights."""
    torch = harness.torch_module()
    layers: List[Any] = []
    n_layers = len(spec.sizes) - 1
    for i in range(n_layers):
        lin = torch.nn.Linear(spec.sizes[i], spec.sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights[2 * i].T)))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers.append(lin)
        if i < n_layers - 1:
            layers.append(torch.nn.ReLU())
            if spec.dropout:
                layers.append(torch.nn.Dropout(spec.dropout))
    return torch.nn.Sequential(*layers).train()


def torch_step(model: Any) -> Callable[[Any, Any], Any]:
    torch = harness.torch_module()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x: Any, y: Any) -> Any:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return out, loss

    return step


# ---------------------------------------------------------------------------- honesty check
def check_references(spec: MLPSpec, seed: int = 0) -> Dict[str, float]:
    """One batch through ours, the numpy reference (and torch without dropout): raise
    ``AssertionError`` unless loss, output, every gradient and the updated weights agree.
    Returns the largest absolute differences."""
    model = build_ours(spec, seed)
    ref = NumpyMLP(
        model.get_weights(),
        spec.dropout,
        rngs=[copy.deepcopy(layer._rng) for layer in model.layers if isinstance(layer, Dropout)],
    )
    x, y = make_batches(spec, 1, seed)[0]
    params = model.parameters()
    opt = SGD(params, learning_rate=LR)
    out = model(x, training=True)
    loss = losses.sparse_categorical_crossentropy(y, out)
    loss.backward()
    grads = [p.grad.copy() for p in params]
    opt.step()
    opt.zero_grad()
    ours = harness.StepResult(float(loss.data), out.data, grads, [p.data for p in params])
    r_loss, r_out, r_grads = ref.forward_backward(x, y)
    for param, grad in zip(ref.params, r_grads):
        param -= ref.lr * grad
    diffs = harness.check_same_step(
        ours,
        harness.StepResult(r_loss, r_out, r_grads, ref.params),
        what=f"{spec.key} numpy reference",
    )
    torch = harness.torch_module()
    if torch is not None and not spec.dropout:
        tmodel = torch_model(spec, build_ours(spec, seed).get_weights())
        logits = tmodel(torch.from_numpy(x))
        t_loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        t_loss.backward()
        t_grads = []
        for lin in tmodel:
            if isinstance(lin, torch.nn.Linear):
                t_grads += [lin.weight.grad.numpy().T, lin.bias.grad.numpy()]
        t_out = torch.softmax(logits, dim=1).detach().numpy()
        t = harness.StepResult(t_loss.item(), t_out, t_grads)
        ours_before = harness.StepResult(ours.loss, ours.output, ours.grads)
        diffs.update(
            {
                f"torch {k}": v
                for k, v in harness.check_same_step(
                    ours_before, t, what=f"{spec.key} torch"
                ).items()
            }
        )
    return diffs


# ---------------------------------------------------------------------------- timing
def bench_workload(
    spec: MLPSpec, quick: bool = False, repeats: Optional[int] = None, seed: int = 0
) -> List[harness.Row]:
    """Two rows (our loop, our train_on_batch), each with the numpy and torch medians."""
    diffs = check_references(spec, seed)
    pool = make_batches(spec, 4, seed)
    loop_model = build_ours(spec, seed)
    weights = loop_model.get_weights()
    tob_model = build_ours(spec, seed)
    tob_model.set_weights(weights)
    loop, tob = ours_loop_step(loop_model), ours_train_on_batch(tob_model)
    ref = NumpyMLP(weights, spec.dropout)
    nxt = {name: cycle(pool) for name in ("loop", "tob", "numpy", "torch")}
    contenders: Dict[str, Callable[[], Any]] = {
        "loop": lambda: loop(*nxt["loop"]()),
        "tob": lambda: tob(*nxt["tob"]()),
        "numpy": lambda: ref.step(*nxt["numpy"]()),
    }
    torch = harness.torch_module()
    if torch is not None:
        tstep = torch_step(torch_model(spec, weights))
        tpool = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in pool]
        nxt["torch"] = cycle(tpool)
        contenders["torch"] = lambda: tstep(*nxt["torch"]())
    if quick:
        timings = harness.interleaved(
            contenders, repeats=repeats or 3, warmup=2, min_block_ms=0.5, switch_settle_ms=20
        )
    else:
        timings = harness.interleaved(
            contenders, repeats=repeats or 31, warmup=20, min_block_ms=10.0
        )
    med = {k: t.median for k, t in timings.items()}
    extra = {
        "spread": {k: round(t.spread, 3) for k, t in timings.items()},
        "inner": timings["loop"].inner,
        "max_abs_diff_vs_refs": max(diffs.values()),
    }
    return [
        harness.Row(
            f"{spec.name} (loop)",
            med["loop"],
            med["numpy"],
            med.get("torch"),
            limit=spec.limit,
            group="mlp",
            extra=dict(extra, key=spec.key),
        ),
        harness.Row(
            f"{spec.name} (train_on_batch)",
            med["tob"],
            med["numpy"],
            med.get("torch"),
            limit=spec.limit,
            group="mlp",
            extra=dict(extra, key=spec.key + "-tob"),
        ),
    ]


def select(only: Optional[str] = None) -> List[MLPSpec]:
    """Workloads whose key contains ``only`` (all when None or when ``only`` names the group)."""
    if not only or only.lower() in ("mlp", "mlps"):
        return list(WORKLOADS)
    return [s for s in WORKLOADS if only.lower() in s.key]


def bench_rows(
    quick: bool = False, only: Optional[str] = None, repeats: Optional[int] = None
) -> List[harness.Row]:
    return [row for spec in select(only) for row in bench_workload(spec, quick, repeats)]


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of tiny blocks")
    parser.add_argument("--only", default=None, help="substring of a workload key, e.g. b512")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 31)")
    harness.add_openblas_flag(parser)
    args = parser.parse_args(argv)
    print(f"MLP training step, median ms per step, float32, {harness.blas_text()}\n")
    print(harness.render_table(bench_rows(args.quick, args.only, args.repeats)))


if __name__ == "__main__":
    harness.reexec_without_openblas_env()
    main()
