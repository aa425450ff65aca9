"""The command line: ``python -m tinygrad_edu explain "..."`` and ``... gradcheck``.

explain: paste a Keras model definition (it is parsed, never executed) and see Keras' summary
with the algebra column; ``--batch N`` also traces a random batch of N through it.

    python -m tinygrad_edu explain "Sequential([LSTM(300, input_shape=(20,1)), Dense(20)])"
    python -m tinygrad_edu explain "[Dense(32, activation='relu'), Dense(10)]" --input-shape 784

gradcheck: float64 gradient checks of every layer and op over a few random sizes (a table;
exit code 1 if any fails).

    python -m tinygrad_edu gradcheck
    python -m tinygrad_edu gradcheck --layer Dense --units 300 --seed 1

Exit codes: 0 success, 1 a gradient check failed, 2 rejected input (bad model text or options),
130 interrupted (Ctrl-C), 141 the reader of the output went away (``| head``), 3 an internal error
(a bug: the message says how to see its traceback).

The work is bounded: the model text and its layer count are capped (see ``cli.parse``), the
summary is computed with weight placeholders (``Dense(10**9)`` costs no memory), a traced batch
is refused when its weights or activations would pass ``MAX_TRACE_PARAMS``/``MAX_TRACE_VALUES``,
and the gradcheck options are capped; every refusal is one message and exit code 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any, Callable, List, Optional, Sequence

import numpy as np

from ..errors import ConfigError, TinygradEduError, suggest

EXIT_OK, EXIT_FAILED, EXIT_REJECTED, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141  # as a shell reports SIGINT/SIGPIPE
#: a traced batch runs real weights: at most this many parameters (200 MB of float32)
MAX_TRACE_PARAMS = 50_000_000
#: ... and at most this many values in one layer's input (times its window) plus output
MAX_TRACE_VALUES = 2**25
MAX_TRACE_BATCH = 4096
MAX_INPUT_RANK = 8
#: caps of the gradcheck options (their work grows with each)
GRADCHECK_LIMITS = {"units": 1024, "trials": 100, "max_elements": 100_000}
MAX_SEED = 2**32 - 1


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
    return EXIT_REJECTED


class OptionError(ValueError):
    """A command-line option outside what the command accepts (message = what to pass)."""


def _parse_shape(text: str) -> tuple:
    parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
    if len(parts) > MAX_INPUT_RANK:
        raise ValueError(text)
    shape = tuple(int(p) for p in parts)
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(text)
    return shape


def _input_shape_option(text: Optional[str]) -> Optional[tuple]:
    if text is None:
        return None
    try:
        return _parse_shape(text)
    except ValueError:
        raise OptionError(
            f"--input-shape {text[:40]!r}: expected up to {MAX_INPUT_RANK} positive integers "
            "separated by commas, e.g. 28,28,1"
        ) from None


def _batch_option(batch: Optional[int]) -> Optional[int]:
    if batch is not None and not 1 <= batch <= MAX_TRACE_BATCH:
        raise OptionError(f"--batch must be from 1 to {MAX_TRACE_BATCH:,} (got {batch})")
    return batch


def _model_text(args: argparse.Namespace) -> str:
    from .parse import MAX_TEXT_CHARS, ModelTextError, check_text_size

    if args.model != "-":
        return check_text_size(args.model)
    if sys.stdin is None:
        raise OptionError("model '-' reads the text from standard input, but there is none")
    try:
        text = sys.stdin.read(MAX_TEXT_CHARS + 1)
    except UnicodeDecodeError:
        raise ModelTextError(
            where="model text (standard input)",
            expected="UTF-8 text",
            got="bytes that are not UTF-8",
            fix="save the model definition as UTF-8 text",
        ) from None
    return check_text_size(text)


def _described_model(specs: Sequence[Any], input_shape: Optional[tuple]) -> Any:
    """The model with weight placeholders: exact shapes and counts, no weight storage."""
    from ..models import Sequential
    from ..summary import weights_without_storage
    from .parse import make_layers

    layers = make_layers(specs)
    with weights_without_storage(layers):
        model = _built(lambda: Sequential(layers), input_shape)
    return model


def _runnable_model(specs: Sequence[Any], input_shape: Optional[tuple]) -> Any:
    from .parse import build_model

    return _built(lambda: build_model(specs), input_shape)


def _built(make: Callable[[], Any], input_shape: Optional[tuple]) -> Any:
    from .parse import LAYER_ARGUMENT_ERRORS, ModelTextError

    try:
        model = make()
        if input_shape is not None:
            model.build((None, *input_shape))
    except TinygradEduError:
        raise
    except LAYER_ARGUMENT_ERRORS as exc:
        raise ModelTextError(
            where="building the model",
            expected="layers whose shapes fit together",
            got=f"{type(exc).__name__}: {str(exc)[:160]}",
            fix="check the layer arguments and the input shape",
        ) from None
    return model


def _check_traceable(model: Any, batch: int) -> tuple:
    """The input shape of a traced batch, after refusing what would take too much memory."""
    from ..summary import weight_elements

    if not model.built:
        raise OptionError(
            "--batch needs the input shape: give the first layer input_shape=(...) or pass "
            "--input-shape"
        )
    sample = tuple(model.input_shape[1:])
    if any(d is None for d in sample):
        raise OptionError(
            f"--batch needs every input size, but the input shape is {sample}: pass "
            "--input-shape with all of them"
        )
    params = weight_elements(model)
    if params > MAX_TRACE_PARAMS:
        raise OptionError(
            f"--batch: the model has {params:,} parameters; a traced batch runs real weights, "
            f"at most {MAX_TRACE_PARAMS:,} - leave out --batch to see only the summary"
        )
    values = batch * max(_layer_values(layer) for layer in model.layers)
    if values > MAX_TRACE_VALUES:
        raise OptionError(
            f"--batch {batch}: a layer would hold {values:,} values (at most "
            f"{MAX_TRACE_VALUES:,}) - use a smaller --batch or input shape"
        )
    return sample


def _layer_values(layer: Any) -> int:
    """Values one sample needs in a layer: its input times its window, plus its output."""
    window = math.prod(getattr(layer, "kernel_size", None) or (1,))
    return _elements(layer.input_shape) * window + _elements(layer.output_shape)


def _elements(shape: Any) -> int:
    if shape and isinstance(shape[0], (tuple, list)):
        return sum(_elements(s) for s in shape)
    return math.prod(int(d) for d in tuple(shape)[1:] if d is not None)


def cmd_explain(
    args: argparse.Namespace, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    from ..explain import trace
    from .parse import ModelTextError, parse_model_text

    try:
        input_shape = _input_shape_option(args.input_shape)
        batch = _batch_option(args.batch)
        specs = parse_model_text(_model_text(args))
        model = _described_model(specs, input_shape)
        sample = _check_traceable(model, batch) if batch is not None else None
    except OptionError as exc:
        return _fail(str(exc), err)
    except ModelTextError as exc:
        return _fail(f"rejected: {exc}", err)
    except TinygradEduError as exc:
        return _fail(str(exc), err)
    model.summary(print_fn=out)
    if batch is None:
        return EXIT_OK
    try:
        runnable = _runnable_model(specs, input_shape)
        x = np.random.default_rng(0).standard_normal((batch, *sample))
        out("")
        trace(runnable, x, print_fn=out)
    except TinygradEduError as exc:
        return _fail(str(exc), err)
    except MemoryError:
        return _fail("--batch: not enough memory to trace this batch; use a smaller one", err)
    return EXIT_OK


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
    problem = _gradcheck_option_problem(args)
    if problem:
        return _fail(problem, err)
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


def _gradcheck_option_problem(args: argparse.Namespace) -> str:
    for option, limit in GRADCHECK_LIMITS.items():
        value = getattr(args, option)
        if value is not None and not 1 <= value <= limit:
            flag = "--" + option.replace("_", "-")
            return f"{flag} must be from 1 to {limit:,} (got {value})"
    if not 0 <= args.seed <= MAX_SEED:
        return f"--seed must be from 0 to {MAX_SEED:,} (got {args.seed})"
    return ""


def _stream_writer(name: str) -> Callable[[str], None]:
    """Print to ``sys.<name>`` as it is at call time; characters the stream cannot encode are
    written as escapes instead of failing."""

    def write(line: str) -> None:
        stream = getattr(sys, name)
        try:
            print(line, file=stream)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "utf-8"
            print(line.encode(encoding, "backslashreplace").decode(encoding), file=stream)

    return write


def _checked_argv(argv: Any) -> List[str]:
    if argv is None:
        return list(sys.argv[1:])
    if isinstance(argv, (str, bytes)) or not all(isinstance(a, str) for a in argv):
        raise ConfigError(
            where="cli.main",
            expected="argv as a list of str",
            got=type(argv).__name__ if isinstance(argv, (str, bytes)) else repr(list(argv))[:80],
            fix='main(["explain", "[Dense(2, input_shape=(3,))]"])',
        )
    return list(argv)


def main(argv: Optional[Sequence[str]] = None, print_fn: Callable[[str], None] = print) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    ``print_fn`` receives every line (errors too) unless it is ``print``: then output goes to
    stdout and errors to stderr. A closed output pipe (``| head``) ends the command quietly with
    exit code 141; Ctrl-C with 130.
    """
    argv = _checked_argv(argv)
    if not callable(print_fn):
        raise ConfigError(
            where="cli.main",
            expected="print_fn as a function of one line",
            got=type(print_fn).__name__,
            fix="main(argv, print_fn=lines.append)",
        )
    args = _parser().parse_args(argv)
    to_console = print_fn is print
    out = _stream_writer("stdout") if to_console else print_fn
    err = _stream_writer("stderr") if to_console else print_fn
    command = cmd_explain if args.command == "explain" else cmd_gradcheck
    try:
        return command(args, out, err)
    except BrokenPipeError:
        if to_console:
            _detach_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        _quietly(err, "interrupted")
        return EXIT_INTERRUPTED


def run(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m tinygrad_edu``: ``main`` that never ends in a traceback. An unexpected error
    (a bug) is one message and exit code 3; ``TINYGRAD_EDU_DEBUG=1`` shows its traceback."""
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _detach_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last resort of the command line
        if os.environ.get("TINYGRAD_EDU_DEBUG"):
            raise
        _quietly(
            _stream_writer("stderr"),
            f"internal error (a bug in tinygrad_edu - please report it): "
            f"{type(exc).__name__}: {str(exc)[:300]}\n"
            "Run again with TINYGRAD_EDU_DEBUG=1 to see the traceback.",
        )
        return EXIT_INTERNAL
    return code


def _detach_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _quietly(write: Callable[[str], None], message: str) -> None:
    try:
        write(message)
    except (BrokenPipeError, OSError, ValueError):
        pass


__all__ = ["main", "run", "cmd_explain", "cmd_gradcheck"]
