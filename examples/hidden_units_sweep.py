"""How many hidden units? Choose on a validation split over several seeds, then test once.

What it shows: the method, not just a number. 784-u-10 MLPs for u = 4, 16, 64, 256 are trained
on the built-in MNIST-like digits, each from several seeds (the seed changes the initial weights
and the shuffling; the data and its split stay fixed):

1. the training images are split into a training part and a validation part; every model is
   scored on the validation part only, and the table shows each setting's validation accuracy
   as mean +/- std over the seeds (the sample std, ddof=1; one seed would show noise as if it
   were a difference, and 3 seeds give only a rough std - ``--seeds 5`` a better one);
2. the setting with the best validation mean is the candidate; a smaller setting whose
   mean +/- std interval overlaps the candidate's is "within noise" of it, and then the smallest
   such setting is chosen (same accuracy as far as we can tell, fewer parameters);
3. the test set is used once, after the choice, for the chosen setting only - choosing on the
   test set would make its score an optimistic estimate.

The square-root rule of thumb (sqrt(784) = 28 units) is a starting point, not an answer: pass
``--units 4 16 28 64 256`` to put it in the table. ``--plot sweep.png`` draws validation accuracy
against units with error bars (needs matplotlib; without it the plot is skipped with a note).

Runtime: on a 2-core machine, ~13 s by default, ~1 s with --quick (12,000 + 3,000 images, 4 epochs,
4 settings x 3 seeds = 12 models; --quick: 2,000 + 500 images, 2 epochs, 3 x 3 models). Measured as
CPU time with one BLAS thread (about the wall time on an idle machine); at load ~10 (other jobs
running) the wall time was ~52 s and ~5 s.
Expected last line (default settings): ``test accuracy: 0.9700 +/- 0.0022 (chosen: 256 units, 3 seed
models, 5,000 test images, measured once after the choice)``; --quick chooses 64 units.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_synthetic_digits
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential

UNITS = (4, 16, 64, 256)
QUICK_UNITS = (4, 16, 64)


def load(args: argparse.Namespace):
    """Train / validation / test arrays; the validation part is a seeded random 20% of train."""
    n_pool = args.n_train + args.n_val
    (x_pool, y_pool), (x_test, y_test) = load_synthetic_digits(n_pool, args.n_test, seed=args.seed)
    x_pool = x_pool.reshape(n_pool, 784).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255
    order = np.random.default_rng(args.seed).permutation(n_pool)
    train, val = order[: args.n_train], order[args.n_train :]
    return (x_pool[train], y_pool[train]), (x_pool[val], y_pool[val]), (x_test, y_test)


def train(units: int, seed: int, x: np.ndarray, y: np.ndarray, args) -> Sequential:
    """One 784-units-10 MLP: the seed fixes its initial weights and its shuffling."""
    tg.set_seed(seed)
    model = Sequential(
        [Dense(units, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, seed=seed)
    return model


def within_noise(row: dict, best: dict) -> bool:
    """The mean +/- std intervals of the two settings overlap."""
    return abs(row["mean"] - best["mean"]) <= row["std"] + best["std"]


def choose(rows: list[dict]) -> tuple:
    """(best, chosen): the best validation mean, and the smallest setting within noise of it."""
    best = max(rows, key=lambda r: r["mean"])
    chosen = min((r for r in rows if within_noise(r, best)), key=lambda r: r["params"])
    return best, chosen


def print_table(rows: list[dict], best: dict, chosen: dict, n_seeds: int) -> None:
    print(
        f"| hidden units | params | validation accuracy, mean +/- std ({n_seeds} seeds) | "
        "per seed | note |"
    )
    print("|---:|---:|---:|---|---|")
    for row in rows:
        notes = []
        if row is best:
            notes.append("best validation mean")
        elif within_noise(row, best):
            notes.append("within noise of the best")
        if row is chosen:
            notes.append("CHOSEN")
        per_seed = " ".join(f"{a:.4f}" for a in row["scores"])
        print(
            f"| {row['units']} | {row['params']:,} | {row['mean']:.4f} +/- {row['std']:.4f} | "
            f"{per_seed} | {'; '.join(notes)} |"
        )


def explain_choice(best: dict, chosen: dict) -> None:
    if chosen is best:
        print(
            f"choice: {chosen['units']} units - the best validation mean, and no smaller "
            "setting is within noise of it (their mean +/- std intervals do not overlap)."
        )
        return
    gap, noise = best["mean"] - chosen["mean"], best["std"] + chosen["std"]
    print(
        f"choice: {chosen['units']} units. {best['units']} units has the best validation mean "
        f"({best['mean']:.4f}), but {chosen['units']} units is within noise of it "
        f"({best['mean']:.4f} - {chosen['mean']:.4f} = {gap:.4f} <= {best['std']:.4f} + "
        f"{chosen['std']:.4f} = {noise:.4f}: the mean +/- std intervals overlap), and it has "
        f"fewer parameters ({chosen['params']:,} vs {best['params']:,}): prefer the smaller."
    )


def maybe_plot(path: str, rows: list[dict], chosen: dict) -> None:
    """Validation accuracy vs units with +/- std error bars (matplotlib's Agg canvas, no window)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print('plot skipped: matplotlib is not installed (pip install "tinygrad_edu[plot]")')
        return
    fig = Figure(figsize=(6.5, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    units = [r["units"] for r in rows]
    ax.errorbar(
        units,
        [r["mean"] for r in rows],
        yerr=[r["std"] for r in rows],
        fmt="-o",
        capsize=4,
        label="validation accuracy, mean +/- std over seeds",
    )
    ax.plot(
        [chosen["units"]],
        [chosen["mean"]],
        "s",
        markersize=10,
        fillstyle="none",
        label=f"chosen: {chosen['units']} units",
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(units, [str(u) for u in units])
    ax.set_xlabel("hidden units (784-u-10 MLP)")
    ax.set_ylabel("validation accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    print(f"plot saved to {path}")


def sweep(units_list: Sequence[int], seeds: Sequence[int], data, args) -> list[dict]:
    """Train every (units, seed); score on validation only. Keeps the models for the test."""
    (x_train, y_train), (x_val, y_val), _ = data
    rows = []
    for units in units_list:
        models = [train(units, seed, x_train, y_train, args) for seed in seeds]
        scores = [float(m.evaluate(x_val, y_val)[1]) for m in models]
        rows.append(
            {
                "units": units,
                "params": models[0].count_params(),
                "models": models,
                "scores": scores,
                "mean": float(np.mean(scores)),
                "std": float(np.std(scores, ddof=1)),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 + 500 images, 2 epochs")
    parser.add_argument("--seed", type=int, default=0, help="data split and first model seed")
    parser.add_argument("--seeds", type=int, default=3, help="models per setting (>= 2)")
    parser.add_argument("--units", type=int, nargs="+", default=None, help="settings to compare")
    parser.add_argument("--epochs", type=int, default=None, help="default 4 (2 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--plot", default=None, metavar="PATH.png", help="save the error bars")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be >= 2: a std needs at least two runs")
    args.epochs = args.epochs if args.epochs is not None else (2 if args.quick else 4)
    args.n_train, args.n_val, args.n_test = (2000, 500, 500) if args.quick else (12000, 3000, 5000)
    units_list = args.units or (QUICK_UNITS if args.quick else UNITS)
    seeds = [args.seed + k for k in range(args.seeds)]

    start = time.perf_counter()
    print(
        f"generating {args.n_train + args.n_val:,} training and {args.n_test:,} test images...",
        flush=True,
    )
    data = load(args)
    print(
        f"data: {args.n_train:,} to train, {args.n_val:,} to validate (a seeded random split of "
        f"the training images), {args.n_test:,} to test once at the end; {args.epochs} epochs, "
        f"Adam, batch size {args.batch_size}, seeds {seeds}"
    )
    print(
        f"training {len(units_list)} settings x {len(seeds)} seeds = "
        f"{len(units_list) * len(seeds)} models...",
        flush=True,
    )
    rows = sweep(units_list, seeds, data, args)
    best, chosen = choose(rows)
    print()
    print("## Validation accuracy vs hidden units (784-u-10)")
    print()
    print_table(rows, best, chosen, len(seeds))
    print()
    explain_choice(best, chosen)
    if args.plot:
        maybe_plot(args.plot, rows, chosen)
    x_test, y_test = data[2]
    test = [float(m.evaluate(x_test, y_test)[1]) for m in chosen["models"]]
    print(f"(total time {time.perf_counter() - start:.1f} s)")
    print(
        f"test accuracy: {np.mean(test):.4f} +/- {np.std(test, ddof=1):.4f} (chosen: "
        f"{chosen['units']} units, {len(test)} seed models, {args.n_test:,} test images, "
        "measured once after the choice)"
    )


if __name__ == "__main__":
    main()
