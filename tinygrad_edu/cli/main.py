"""The command line: ``python -m tinygrad_edu explain "..."`` and ``... gradcheck``.

explain: paste a Keras model definition - or a whole tutorial script: it is read, never run, and
the lines that do not define the model are skipped with one note - and see Keras' summary with
the algebra column; ``--batch N`` also traces a random batch of N through it.

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
traceback. The commands live in ``explain_cmd`` and ``gradcheck_cmd``; this module parses the
command line and turns interrupts, closed pipes and bugs into exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable

from ..errors import ConfigError
from .common import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED
from .explain_cmd import MAX_TRACE_PARAMS, cmd_explain
from .gradcheck_cmd import cmd_gradcheck


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
        "Keras Sequential model, or of the model a pasted script defines. The text is "
        "read, never run: imports, compile/fit/summary and print lines are skipped (one "
        "note lists them); layer arguments must be literals or names set to literals.",
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


def _checked_argv(argv: Any) -> list[str]:
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


def main(argv: Sequence[str] | None = None, print_fn: Callable[[str], None] = print) -> int:
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


def run(argv: Sequence[str] | None = None) -> int:
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
    except Exception as exc:  # the last resort of the command line
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


__all__ = ["EXIT_BROKEN_PIPE", "MAX_TRACE_PARAMS", "cmd_explain", "cmd_gradcheck", "main", "run"]
