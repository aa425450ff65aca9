"""``python -m tinygrad_edu gradcheck``: float64 gradient checks of every layer and op, as a table
(exit code 1 if any fails); the options are capped (``GRADCHECK_LIMITS``, ``MAX_SEED``).

Each case (see ``tinygrad_edu.testing.catalog``) runs for a few random sizes. For every checked
tensor (an op's inputs; a layer's input and trainable weights) the analytic gradient of
``L = sum(out * r)`` (``r`` random) is compared with central differences on up to
``max_elements`` sampled elements. An element passes when
``|analytic - numeric| <= atol + rtol * |numeric|`` (``tinygrad_edu.gradcheck``'s rule); the table
shows the worst absolute error and the worst relative error ``|a - n| / max(|a|, |n|, atol)``.
Layers are also run through ``tinygrad_edu.testing.layers.check_layer`` (shapes, parameter
count, config round trip, gradcheck), and fail if it does.
"""

from __future__ import annotations

import argparse
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from .._rng import set_seed
from ..errors import suggest
from ..tensor import Tensor, no_grad
from .common import EXIT_FAILED, EXIT_OK, reject

ATOL, RTOL, EPS = 1e-5, 1e-3, 1e-6
#: caps of the gradcheck options (their work grows with each)
GRADCHECK_LIMITS = {"units": 1024, "trials": 100, "max_elements": 100_000}
MAX_SEED = 2**32 - 1


@dataclass
class Row:
    """One line of the table."""

    kind: str  # "op" or "layer"
    name: str
    shapes: str
    max_abs: float
    max_rel: float
    passed: bool
    note: str = ""


def measure(
    forward: Callable[[], Tensor],
    leaves: Sequence[Tensor],
    *,
    seed: int = 0,
    max_elements: int = 50,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
) -> Tuple[float, float, bool]:
    """(max abs error, max rel error, passed) of ``forward``'s gradients w.r.t. ``leaves``.

    ``leaves`` are float64 Tensors that ``forward()`` reads; their ``.data`` is perturbed in place
    (and restored), so the forward must use these very tensors.
    """
    rng = np.random.default_rng(seed)
    for leaf in leaves:
        leaf.grad = None
    out = forward()
    r = rng.standard_normal(out.shape)
    if out.requires_grad:
        out.backward(r.astype(out.dtype))
    worst_abs, worst_rel, passed = 0.0, 0.0, True
    for leaf in leaves:
        analytic = np.zeros(leaf.shape) if leaf.grad is None else np.asarray(leaf.grad, float)
        flat = leaf.data.flat  # writes go to the leaf's own array
        picks = (
            np.arange(leaf.size)
            if leaf.size <= max_elements
            else rng.choice(leaf.size, size=max_elements, replace=False)
        )
        for i in picks:
            orig = flat[i]
            sides = []
            with no_grad():
                for step in (eps, -eps):
                    flat[i] = orig + step
                    sides.append(float(np.sum(np.asarray(forward().data, float) * r)))
            flat[i] = orig
            numeric, a = (sides[0] - sides[1]) / (2 * eps), float(analytic.flat[i])
            err = abs(a - numeric)
            if not err <= atol + rtol * abs(numeric):  # also catches NaN
                passed = False
            rel = err / max(abs(a), abs(numeric), atol)
            worst_abs, worst_rel = max(worst_abs, err), max(worst_rel, rel)
            if np.isnan(err):
                worst_abs = worst_rel = float("nan")
    for leaf in leaves:
        leaf.grad = None
    return worst_abs, worst_rel, passed


def _compact(shape: Sequence[int]) -> str:
    return "(" + ",".join(str(int(d)) for d in shape) + ")"


def _rng(seed: int, name: str, trial: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), trial])


def run_op_case(case: Any, trial: int = 0, seed: int = 0, max_elements: int = 50) -> Row:
    """Check one ``OpCase`` at one random size."""
    arrays = case.draw(_rng(seed, case.name, trial))
    shapes = " ".join(_compact(a.shape) for a in arrays)
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    try:
        err_abs, err_rel, ok = measure(
            lambda: case.fn(*leaves), leaves, seed=seed + trial, max_elements=max_elements
        )
    except Exception as exc:  # noqa: BLE001 - a crash is a failed check, reported in the table
        return Row("op", case.name, shapes, float("nan"), float("nan"), False, _first_line(exc))
    return Row("op", case.name, shapes, err_abs, err_rel, ok)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _contract(layer: Any, shape: Tuple[int, ...], seed: int, training: bool) -> str:
    """check_layer's verdict: "" when it passes (or is not available), else the reason."""
    try:
        from ..testing.layers import check_layer
    except ImportError:
        return ""
    try:
        check_layer(layer, shape, seed=seed, training=training)
    except AssertionError as exc:
        return "check_layer: " + _first_line(exc)
    return ""


def _random_states(layer: Any) -> List[Tuple[np.random.Generator, dict]]:
    return [
        (g, g.bit_generator.state)
        for g in vars(layer).values()
        if isinstance(g, np.random.Generator)
    ]


def run_layer_case(
    case: Any, trial: int = 0, seed: int = 0, units: Optional[int] = None, max_elements: int = 50
) -> Row:
    """Check one ``LayerCase`` at one random size (``units`` for layers that have units)."""
    rng = _rng(seed, case.name, trial)
    try:
        layer, shape = case.make(rng, units if case.has_units else None)
    except Exception as exc:  # noqa: BLE001
        return Row("layer", case.name, "?", float("nan"), float("nan"), False, _first_line(exc))
    shapes = _compact(shape)
    try:
        note = _contract(layer, shape, seed + trial, case.training)
        sample = getattr(layer, "sample_input", None)  # integer ids (Embedding): no gradient
        x = (
            Tensor(sample(shape, rng), dtype="int64")
            if sample
            else Tensor(rng.standard_normal(shape), requires_grad=True)
        )
        if not layer.built:
            layer.build_for((None, *shape[1:]))
        layer.cast(np.float64)
        states = _random_states(layer)

        def forward() -> Tensor:
            for generator, state in states:  # the same dropout mask in every evaluation
                generator.bit_generator.state = state
            return layer(x, training=case.training)

        with no_grad():
            out_shape = forward().shape
        shapes = f"{shapes} -> {_compact(out_shape)}"
        err_abs, err_rel, ok = measure(
            forward,
            [x, *layer.trainable_weights] if x.requires_grad else layer.trainable_weights,
            seed=seed + trial,
            max_elements=max_elements,
        )
    except Exception as exc:  # noqa: BLE001
        return Row("layer", case.name, shapes, float("nan"), float("nan"), False, _first_line(exc))
    return Row("layer", case.name, shapes, err_abs, err_rel, ok and not note, note)


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table, failures' reasons below it, and a one-line verdict."""
    head = ("kind", "name", "shapes", "max abs err", "max rel err", "result")
    cells = [head] + [
        (
            r.kind,
            r.name,
            r.shapes,
            f"{r.max_abs:.2e}",
            f"{r.max_rel:.2e}",
            "PASS" if r.passed else "FAIL",
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for k, c in enumerate(cells):
        lines.append(
            "  ".join(
                v.rjust(w) if 3 <= i <= 4 else v.ljust(w) for i, (v, w) in enumerate(zip(c, widths))
            ).rstrip()
        )
        if k == 0:
            lines.append("-" * len(lines[0]))
    failed = [r for r in rows if not r.passed]
    for r in failed:
        lines.append(
            f"FAIL {r.kind} {r.name} {r.shapes}: "
            + (r.note or "analytic and numeric gradients disagree")
        )
    lines.append(
        f"{len(rows) - len(failed)} passed, {len(failed)} failed "
        f"(float64; an element passes when |analytic - numeric| <= {ATOL:g} + "
        f"{RTOL:g}*|numeric|)"
    )
    return "\n".join(lines)


def cmd_gradcheck(
    args: argparse.Namespace, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    # the only import inside a function: testing needs hypothesis, an optional dependency,
    # and the explain command must run without it
    from ..testing import catalog

    if args.list:
        out("layers: " + ", ".join(c.name for c in catalog.layer_cases()))
        out("ops: " + ", ".join(c.name for c in catalog.op_cases()))
        return EXIT_OK
    problem = _gradcheck_option_problem(args)
    if problem:
        return reject(problem, err)
    layers, ops = catalog.layer_cases(), catalog.op_cases()
    if args.layer or args.op:
        layers = []
        for name in args.layer:
            case = catalog.find_layer_case(name)
            if case is None:
                return reject(
                    f"unknown layer {name!r}: "
                    + suggest(name, [c.name for c in catalog.layer_cases()]),
                    err,
                )
            layers.append(case)
        ops = []
        for name in args.op:
            case = catalog.find_op_case(name)
            if case is None:
                return reject(
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
    return EXIT_OK if all(r.passed for r in rows) else EXIT_FAILED


def _gradcheck_option_problem(args: argparse.Namespace) -> str:
    for option, limit in GRADCHECK_LIMITS.items():
        value = getattr(args, option)
        if value is not None and not 1 <= value <= limit:
            flag = "--" + option.replace("_", "-")
            return f"{flag} must be from 1 to {limit:,} (got {value})"
    if not 0 <= args.seed <= MAX_SEED:
        return f"--seed must be from 0 to {MAX_SEED:,} (got {args.seed})"
    return ""


__all__ = [
    "GRADCHECK_LIMITS",
    "MAX_SEED",
    "Row",
    "cmd_gradcheck",
    "format_table",
    "measure",
    "run_layer_case",
    "run_op_case",
]
