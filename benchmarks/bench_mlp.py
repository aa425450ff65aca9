"""Time one MLP training step (forward + backward + SGD update): ours eager and replayed vs
numpy by hand, the numpy floor and PyTorch.

Workloads (float32, 2 BLAS threads, ReLU hidden layers, SGD lr 0.01 with in-place updates):
softmax + sparse categorical cross-entropy on MLP 784-32-10 at batch 32 and 256, 784-128-64-10
at batch 64 and 512, 20-64-64-10 with Dropout(0.5) after each hidden layer at batch 32; and the
micrograd-sized regressor 20-16-16-1 at batch 16 (linear output, mean squared error).

Contenders, timed in interleaved rounds in the same process (median ms per step, see
``harness.interleaved``):

- ours, the PyTorch-style loop a user writes: ``out = model(x, training=True)``,
  ``loss = losses.sparse_categorical_crossentropy(y, out)``, ``loss.backward()``, ``opt.step()``,
  ``opt.zero_grad()`` - the model ends in ``Dense(10, activation="softmax")``, so the loss takes
  the fused softmax-CE path from the logits;
- ours, ``model.train_on_batch(x, y)`` (Keras path, same model and optimizer);
- ours replayed: the same loop step through ``tinygrad_edu.jit`` (``(replay)`` rows), and
  ``train_on_batch`` after ``compile(..., jit_compile=True)``; timed after the warm-up calls
  that capture the tape (a row says so when the step did not replay);
- numpy: ``NumpyMLP`` (numpy_mlp.py), the same math written by hand, and the numpy floor
  ``FloorMLP`` (numpy_floor.py), the fewest preallocated numpy calls for the same step; both
  checked equal to ours on one batch (loss, output, updated weights; every gradient for
  ``NumpyMLP``) before anything is timed - dropout masks drawn the same way at the same rate;
- torch (when importable): ``nn.Sequential`` of ``Linear``/``ReLU``/``Dropout``,
  ``CrossEntropyLoss``/``MSELoss``, ``torch.optim.SGD``, same initial weights, 2 threads.

Targets: eager ours <= 1.15x numpy (<= 1.10x at batch 512, <= 1.3x with dropout); replayed
<= 1.0x numpy and <= 1.15x the floor. Nothing asserts on time; the table is the result.

Usage: python benchmarks/bench_mlp.py [--quick] [--only SUBSTRING] [--repeats 31]
[--keep-openblas-env]   (run directly, it re-executes itself without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, see ``harness.reexec_without_openblas_env``)
Takes about 1-2 min (a few seconds with --quick). Expected last line: the table row of the
20-16-16-1 workload (train_on_batch, jit_compile).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # first: pins the BLAS threads before numpy loads
import numpy as np
from numpy_floor import FloorMLP
from numpy_mlp import LR, NumpyMLP
from torch_mlp import check_torch, torch_model, torch_step

from tinygrad_edu import losses, set_seed
from tinygrad_edu.layers import Dense, Dropout
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import SGD

jit = harness.replay_jit()  # issue 15's replay mode; None (rows n/a) where it is missing
Batch = tuple[np.ndarray, np.ndarray]
SPARSE_CE = losses.sparse_categorical_crossentropy


@dataclass(frozen=True)
class MLPSpec:
    """An MLP ``sizes[0] -> ... -> sizes[-1]`` trained at ``batch``; ``dropout`` after each
    hidden layer when > 0; ``limit`` is the target ratio eager ours/numpy; ``loss`` is
    ``"sparse_ce"`` (softmax output) or ``"mse"`` (linear output)."""

    sizes: tuple[int, ...]
    batch: int
    dropout: float = 0.0
    limit: float = 1.15
    loss: str = "sparse_ce"

    @property
    def loss_fn(self) -> Callable[..., Any]:
        return losses.mean_squared_error if self.loss == "mse" else SPARSE_CE

    @property
    def keras_loss(self) -> str:
        return "mse" if self.loss == "mse" else "sparse_categorical_crossentropy"

    @property
    def key(self) -> str:
        drop = "-dropout" if self.dropout else ""
        return f"mlp-{'-'.join(map(str, self.sizes))}{drop}-b{self.batch}"

    @property
    def name(self) -> str:
        drop = f" + Dropout({self.dropout:g})" if self.dropout else ""
        return f"MLP {'-'.join(map(str, self.sizes))}{drop}, batch {self.batch}"


WORKLOADS: tuple[MLPSpec, ...] = (
    MLPSpec((784, 32, 10), 32),
    MLPSpec((784, 32, 10), 256),
    MLPSpec((784, 128, 64, 10), 64),
    MLPSpec((784, 128, 64, 10), 512, limit=1.10),
    MLPSpec((20, 64, 64, 10), 32, dropout=0.5, limit=1.3),
    MLPSpec((20, 16, 16, 1), 16, loss="mse"),
)
#: replayed rows: <= REPLAY_LIMIT x numpy by hand and <= FLOOR_LIMIT x the numpy floor
REPLAY_LIMIT, FLOOR_LIMIT = 1.0, 1.15


def make_batches(spec: MLPSpec, n_batches: int = 4, seed: int = 0) -> list[Batch]:
    """A small pool of float32 batches (pixel-like [0, 1) for 784 inputs, N(0, 1) otherwise) with
    int64 labels (float32 targets of shape [B, 1] for MSE); every contender cycles through the
    same pool."""
    rng = np.random.default_rng(seed)
    shape = (spec.batch, spec.sizes[0])
    pool = []
    for _ in range(n_batches):
        x = (
            rng.random(shape, dtype=np.float32)
            if spec.sizes[0] == 784
            else rng.standard_normal(shape, dtype=np.float32)
        )
        if spec.loss == "mse":
            y = rng.standard_normal((spec.batch, spec.sizes[-1]), dtype=np.float32)
        else:
            y = rng.integers(0, spec.sizes[-1], spec.batch)
        pool.append((x, y))
    return pool


def cycle(pool: Sequence[Any]) -> Callable[[], Any]:
    state = {"i": 0}

    def nxt() -> Any:
        state["i"] = (state["i"] + 1) % len(pool)
        return pool[state["i"]]

    return nxt


# ---------------------------------------------------------------------------- ours
def build_ours(spec: MLPSpec, seed: int = 0) -> Sequential:
    """``Dense(h, relu) [-> Dropout] ... -> Dense(classes, softmax)`` (linear for MSE)."""
    set_seed(seed)
    layers: list[Any] = []
    for i, units in enumerate(spec.sizes[1:-1]):
        kwargs = {"input_shape": (spec.sizes[0],)} if i == 0 else {}
        layers.append(Dense(units, activation="relu", **kwargs))
        if spec.dropout:
            layers.append(Dropout(spec.dropout))
    layers.append(Dense(spec.sizes[-1], activation=None if spec.loss == "mse" else "softmax"))
    return Sequential(layers)


def ours_loop_step(
    model: Sequential, loss_fn: Callable[..., Any] = SPARSE_CE
) -> Callable[[np.ndarray, np.ndarray], Any]:
    """The PyTorch-style step on our objects, exactly as a user writes it."""
    opt = SGD(model.parameters(), learning_rate=LR)

    def step(x: np.ndarray, y: np.ndarray) -> Any:
        out = model(x, training=True)
        loss = loss_fn(y, out)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return out, loss

    return step


def ours_train_on_batch(
    model: Sequential, loss: str = "sparse_categorical_crossentropy", **jit_compile: bool
) -> Callable[[np.ndarray, np.ndarray], Any]:
    model.compile(optimizer=SGD(learning_rate=LR), loss=loss, **jit_compile)
    return model.train_on_batch


def replayed(spec: MLPSpec, weights: Sequence[np.ndarray]) -> dict[str, Callable[..., Any]]:
    """The replayed contenders (``{}`` without ``tinygrad_edu.jit``): the loop step through
    ``jit`` and ``train_on_batch`` under ``compile(..., jit_compile=True)``, when it exists."""
    if jit is None:
        return {}
    steps: dict[str, Callable[..., Any]] = {}
    models = []
    for _ in range(2):
        models.append(build_ours(spec))
        models[-1].set_weights(weights)
    steps["replay"] = jit(ours_loop_step(models[0], spec.loss_fn))
    try:
        steps["tob_jit"] = ours_train_on_batch(models[1], spec.keras_loss, jit_compile=True)
    except TypeError:  # compile(jit_compile=...) not there yet
        pass
    return steps


# ---------------------------------------------------------------------------- honesty check
def check_references(spec: MLPSpec, seed: int = 0) -> dict[str, float]:
    """One batch through ours, the numpy reference, the numpy floor (and torch without dropout):
    raise ``AssertionError`` unless loss, output, every gradient (the floor: lr x gradient, what
    it subtracts) and the updated weights agree. Returns the largest absolute differences."""
    model = build_ours(spec, seed)
    rngs = [layer._rng for layer in model.layers if isinstance(layer, Dropout)]
    ref = NumpyMLP(model.get_weights(), spec.dropout, copy.deepcopy(rngs), loss=spec.loss)
    floor = FloorMLP(
        model.get_weights(), spec.batch, spec.dropout, copy.deepcopy(rngs), loss=spec.loss
    )
    x, y = make_batches(spec, 1, seed)[0]
    params = model.parameters()
    opt = SGD(params, learning_rate=LR)
    out = model(x, training=True)
    loss = spec.loss_fn(y, out)
    loss.backward()
    grads = [p.grad.copy() for p in params]
    opt.step()
    opt.zero_grad()
    ours = harness.StepResult(float(loss.data), out.data, grads, [p.data for p in params])
    r_loss, r_out, r_grads = ref.forward_backward(x, y)
    for param, grad in zip(ref.params, r_grads):
        param -= ref.lr * grad
    what = f"{spec.key} numpy reference"
    diffs = harness.check_same_step(
        ours, harness.StepResult(r_loss, r_out, r_grads, ref.params), what=what
    )
    floor.keep_output = True
    f_loss = floor.step(x, y)
    ours_scaled = harness.StepResult(
        ours.loss, ours.output, [g * np.float32(LR) for g in grads], ours.params_after
    )
    floor_result = harness.StepResult(f_loss, floor.out, floor.grads_scaled(), floor.params)
    diffs.update(
        (f"floor {k}", v)
        for k, v in harness.check_same_step(
            ours_scaled, floor_result, what=f"{spec.key} numpy floor"
        ).items()
    )
    torch = harness.torch_module()
    if torch is not None and not spec.dropout:
        weights = build_ours(spec, seed).get_weights()
        diffs.update(check_torch(torch, spec, weights, x, y, ours))
    return diffs


# ---------------------------------------------------------------------------- timing
ROWS = (  # contender -> (row label, replayed?)
    ("loop", "loop", False),
    ("tob", "train_on_batch", False),
    ("replay", "replay", True),
    ("tob_jit", "train_on_batch, jit_compile", True),
)


def bench_workload(
    spec: MLPSpec, quick: bool = False, repeats: int | None = None, seed: int = 0
) -> list[harness.Row]:
    """Four rows: our loop, our train_on_batch, both replayed (n/a without the jit), each with
    the numpy, floor and torch medians."""
    diffs = check_references(spec, seed)
    pool = make_batches(spec, 4, seed)
    loop_model = build_ours(spec, seed)
    weights = loop_model.get_weights()
    tob_model = build_ours(spec, seed)
    tob_model.set_weights(weights)
    steps: dict[str, Callable[..., Any]] = {
        "loop": ours_loop_step(loop_model, spec.loss_fn),
        "tob": ours_train_on_batch(tob_model, spec.keras_loss),
        "numpy": NumpyMLP(weights, spec.dropout, loss=spec.loss).step,
        "floor": FloorMLP(weights, spec.batch, spec.dropout, loss=spec.loss).step,
        **replayed(spec, weights),
    }
    torch = harness.torch_module()
    if torch is not None:
        steps["torch"] = torch_step(torch_model(spec, weights), spec)
    contenders = {}
    for name, step in steps.items():
        batches = pool
        if name == "torch":
            batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in pool]
        nxt = cycle(batches)
        contenders[name] = lambda step=step, nxt=nxt: step(*nxt())
    if quick:
        timings = harness.interleaved(
            contenders, repeats=repeats or 3, warmup=3, min_block_ms=0.5, switch_settle_ms=20
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
    rows = []
    for name, label, is_replay in ROWS:
        mode = harness.last_mode(steps[name]) if name in steps and is_replay else "replay"
        rows.append(
            harness.Row(
                f"{spec.name} ({label})",
                med.get(name),
                med["numpy"],
                med.get("torch"),
                limit=REPLAY_LIMIT if is_replay else spec.limit,
                floor_ms=med["floor"],
                floor_limit=FLOOR_LIMIT if is_replay else None,
                group="mlp",
                note="" if mode == "replay" else f"ran as {mode}, not replayed",
                extra=dict(extra, key=f"{spec.key}-{name}", mode=mode),
            )
        )
    return rows


def select(only: str | None = None) -> list[MLPSpec]:
    """Workloads whose key contains ``only`` (all when None or when ``only`` names the group)."""
    if not only or only.lower() in ("mlp", "mlps"):
        return list(WORKLOADS)
    return [s for s in WORKLOADS if only.lower() in s.key]


def bench_rows(
    quick: bool = False, only: str | None = None, repeats: int | None = None
) -> list[harness.Row]:
    return [row for spec in select(only) for row in bench_workload(spec, quick, repeats)]


def main(argv: Sequence[str] | None = None) -> None:
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
