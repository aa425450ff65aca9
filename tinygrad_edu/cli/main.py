"""The command line: ``python -m tinygrad_edu explain "..."`` and ``... gradcheck``.

explain: paste a Keras model definition (it is parsed, never executed) and see Keras' summary
with the algebra column; ``--batch N`` also traces a random batch of N through it.

    python -m tinygrad_edu explain "Sequential([LSTM(300, input_shape=(20,1)), Dense(20)])"
    python -m tinygrad_edu explain "[Dense(32, activation='relu'), Dense(10)]" --input-shape 784

gradcheck: float64 gradient checks of every layer and op over a few random sizes (a table;
exit code 1 if any fails).

    python -m tinygrad_edu gradcheck
    python -m tinygrad_edu gradcheck --layer Dense --units 300 --seed 1

Exit codes: 0 success, 1 a gradient check failed, 2 rejected input (bad model text or options).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Optional, Sequence

import numpy as np

from ..errors import TinygradEduError, suggest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_edu",
        description="tinygrad_edu teaching tools: explain a Keras model, check gradients.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{explain,gradcheck}")
    sub.required = True
    ex = sub.add_parser(
        "explain",
        help="summary + algebra of a pasted Keras model",
        description="Print the summary (with the algebra column) of a pasted "
        "Keras Sequential model. The text is parsed, never executed: only layer "
        "calls with literal arguments are accepted.",
    )
    ex.add_argument(
        "model",
        help='e.g. "Sequential([LSTM(300, input_shape=(20,1)), Dense(20)])"'
        " (use - to read it from stdin)",
    )
    ex.add_argument(
        "--input-shape",
        default=None,
        help="input shape without the batch axis, e.g. 28,28,1 (when the first "
        "layer has no input_shape)",
    )
    ex.add_argument(
        "--batch",
        type=int,
        default=None,
        help="also trace a random batch of this size through the model",
    )
    gc = sub.add_parser(
        "gradcheck",
        help="float64 gradient check of layers and ops",
        description="Check every layer's and op's backward against central "
        "differences in float64, over a few random sizes.",
    )
    gc.add_argument(
        "--layer",
        action="append",
        default=[],
        help="check only this layer class (repeatable), e.g. Dense",
    )
    gc.add_argument(
        "--op",
        action="append",
        default=[],
        help="check only this op case (repeatable), e.g. matmul",
    )
    gc.add_argument(
        "--units",
        type=int,
        default=None,
        help="units/filters for the layers that have them (default: random)",
    )
    gc.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    gc.add_argument("--trials", type=int, default=2, help="random sizes per case (default 2)")
    gc.add_argument(
        "--max-elements",
        type=int,
        default=50,
        help="elements sampled per checked tensor (default 50)",
    )
    gc.add_argument("--list", action="store_true", help="list the case names and exit")
    return parser


def _fail(message: str, print_fn: Callable[[str], None]) -> int:
    print_fn(message)
    return 2


def _parse_shape(text: str) -> tuple:
    parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
    shape = tuple(int(p) for p in parts)
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(text)
    return shape


def cmd_explain(
    args: argparse.Namespace, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    from ..models import Sequential
    from .parse import ModelTextError, build_model, parse_model_text

    text = sys.stdin.read() if args.model == "-" else args.model
    try:
        model = build_model(parse_model_text(text))
    except ModelTextError as exc:
        return _fail(f"rejected: {exc}", err)
    except TinygradEduError as exc:
        return _fail(str(exc), err)
    assert isinstance(model, Sequential)
    try:
        if args.input_shape is not None:
            try:
                shape = _parse_shape(args.input_shape)
            except ValueError:
                return _fail(
                    f"--input-shape {args.input_shape!r}: expected positive integers "
                    "separated by commas, e.g. 28,28,1",
                    err,
                )
            model.build((None, *shape))
        model.summary(print_fn=out)
        if args.batch is not None:
            if args.batch < 1:
                return _fail("--batch must be at least 1", err)
            if not model.built:
                return _fail(
                    "--batch needs the input shape: give the first layer "
                    "input_shape=(...) or pass --input-shape",
                    err,
                )
            from ..explain import trace

            out("")
            x = np.random.default_rng(0).standard_normal((args.batch, *model.input_shape[1:]))
            trace(model, x, print_fn=out)
    except TinygradEduError as exc:
        return _fail(str(exc), err)
    return 0


def cmd_gradcheck(
    args: argparse.Namespace, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    from .. import set_seed
    from ..testing import catalog
    from .gradcheck_cmd import format_table, run_layer_case, run_op_case

    if args.list:
        out("layers: " + ", ".join(c.name for c in catalog.layer_cases()))
        out("ops: " + ", ".join(c.name for c in catalog.op_cases()))
        return 0
    if args.trials < 1 or args.max_elements < 1 or (args.units is not None and args.units < 1):
        return _fail("--trials, --max-elements and --units must be at least 1", err)
    layers, ops = catalog.layer_cases(), catalog.op_cases()
    if args.layer or args.op:
        layers = []
        for name in args.layer:
            case = catalog.find_layer_case(name)
            if case is None:
                return _fail(
                    f"unknown layer {name!r}: "
                    + suggest(name, [c.name for c in catalog.layer_cases()]),
                    err,
                )
            layers.append(case)
        ops = []
        for name in args.op:
            case = catalog.find_op_case(name)
            if case is None:
                return _fail(
                    f"unknown op case {name!r}: "
                    + suggest(name, [c.name for c in catalog.op_cases()]),
                    err,
                )
            ops.append(case)
    set_seed(args.seed)
    start = time.perf_counter()
    rows = []
    for case in layers:
        if args.units is not None and not case.has_units and args.layer:
            out(f"note: {case.name} has no units/filters; --units ignored")
        for trial in range(args.trials):
            rows.append(run_layer_case(case, trial, args.seed, args.units, args.max_elements))
    for case in ops:
        for trial in range(args.trials):
            rows.append(run_op_case(case, trial, args.seed, args.max_elements))
    out(format_table(rows))
    out(f"({time.perf_counter() - start:.1f} s, seed {args.seed})")
    return 0 if all(r.passed for r in rows) else 1


def main(argv: Optional[Sequence[str]] = None, print_fn: Callable[[str], None] = print) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))

    def err(message: str) -> None:
        if print_fn is print:
            print(message, file=sys.stderr)
        else:
            print_fn(message)

    if args.command == "explain":
        return cmd_explain(args, print_fn, err)
    return cmd_gradcheck(args, print_fn, err)


__all__ = ["main", "cmd_explain", "cmd_gradcheck"]
