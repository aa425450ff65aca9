"""What a benchmark produces: result rows, the markdown table, and the check that a numpy
reference computes what ours computes (``check_same_step``). ``harness`` re-exports all of it.

A row holds our median and the contenders' (numpy by hand, the numpy floor, torch); its ratios
are ours over each, and its target is one ratio (``against``) with an optional second limit
against the floor (``floor_limit``): the row meets its target only when both hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Row:
    """One line of the results table.

    ``ours_ms``/``numpy_ms``/``torch_ms``: median milliseconds per step (None: not measured).
    The target is ``ours / <against> <= limit`` where ``against`` is ``"numpy"``, ``"torch"``,
    or ``"custom"`` - then ``custom_ratio`` is the measured ratio and ``target`` says against what
    (rows such as "fit epoch vs sum of its steps" or peak RSS use this). ``unit`` is how ``ours``
    is shown (``"ms"`` or ``"MB"``).
    """

    workload: str
    ours_ms: float | None
    numpy_ms: float | None = None
    torch_ms: float | None = None
    against: str = "numpy"
    limit: float | None = None
    target: str = ""
    custom_ratio: float | None = None
    unit: str = "ms"
    group: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    floor_ms: float | None = None
    floor_limit: float | None = None

    @property
    def ratio_floor(self) -> float | None:
        """Ours over the numpy floor (the fewest preallocated numpy calls for the same step)."""
        return ratio(self.ours_ms, self.floor_ms)

    @property
    def ratio_numpy(self) -> float | None:
        return ratio(self.ours_ms, self.numpy_ms)

    @property
    def ratio_torch(self) -> float | None:
        return ratio(self.ours_ms, self.torch_ms)

    @property
    def ratio(self) -> float | None:
        """The ratio the target is about."""
        return {"numpy": self.ratio_numpy, "torch": self.ratio_torch}.get(
            self.against, self.custom_ratio
        )

    @property
    def met(self) -> bool | None:
        if self.limit is None or self.ratio is None:
            return None
        if self.floor_limit is not None:
            if self.ratio_floor is None:
                return None
            return self.ratio <= self.limit and self.ratio_floor <= self.floor_limit
        return self.ratio <= self.limit

    def target_text(self) -> str:
        if self.target:
            return self.target
        if self.limit is None:
            return ""
        floor = "" if self.floor_limit is None else f", <= {self.floor_limit:g}x floor"
        return f"<= {self.limit:g}x {self.against}{floor}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "ours": self.ours_ms,
            "numpy_ms": self.numpy_ms,
            "torch_ms": self.torch_ms,
            "ratio_numpy": self.ratio_numpy,
            "ratio_torch": self.ratio_torch,
            "floor_ms": self.floor_ms,
            "ratio_floor": self.ratio_floor,
            "target": self.target_text(),
            "ratio": self.ratio,
            "met": self.met,
            "unit": self.unit,
            "note": self.note,
            **self.extra,
        }


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0 or not math.isfinite(a) or not math.isfinite(b):
        return None
    return a / b


def fmt_ms(value: float | None) -> str:
    """3 significant digits, never scientific: 0.0512, 0.512, 5.12, 51.2, 512, 5120."""
    if value is None or not math.isfinite(value):
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    digits = max(0, 2 - math.floor(math.log10(max(abs(value), 1e-9))))
    return f"{value:.{min(digits, 4)}f}"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def fmt_met(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "**NO**")


HEADER = (
    "workload",
    "ours",
    "numpy",
    "floor",
    "torch",
    "ours/numpy",
    "ours/floor",
    "ours/torch",
    "target",
    "met",
)


def render_table(rows: Sequence[Row]) -> str:
    """The rows as one markdown table (times in ms unless the row's unit says otherwise)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|" + "---:|" * 7 + "---|:---:|"]
    for row in rows:
        ours = fmt_ms(row.ours_ms) + (
            "" if row.unit == "ms" or row.ours_ms is None else f" {row.unit}"
        )
        target = row.target_text()
        if row.against not in ("numpy", "torch") and row.custom_ratio is not None:
            target += f": {row.custom_ratio:.2f}x"
        if row.note:
            target += f" ({row.note})"
        cells = (
            row.workload,
            ours,
            fmt_ms(row.numpy_ms),
            fmt_ms(row.floor_ms),
            fmt_ms(row.torch_ms),
            fmt_ratio(row.ratio_numpy),
            fmt_ratio(row.ratio_floor),
            fmt_ratio(row.ratio_torch),
            target,
            fmt_met(row.met),
        )
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- honesty check
@dataclass
class StepResult:
    """What one training step produced: the loss, the model output, and the gradient of every
    parameter (in Keras order), optionally the parameters after the update."""

    loss: float
    output: np.ndarray
    grads: list[np.ndarray]
    params_after: list[np.ndarray] | None = None


def check_same_step(
    ours: StepResult, ref: StepResult, rtol: float = 1e-4, atol: float = 1e-6, what: str = "step"
) -> dict[str, float]:
    """Raise ``AssertionError`` unless ``ref`` equals ``ours`` (float32 tolerances: each array is
    compared with ``atol`` scaled by its largest magnitude). Returns the largest absolute
    difference of each part, for the record."""
    pairs = [
        ("loss", np.float64(ours.loss), np.float64(ref.loss)),
        ("output", ours.output, ref.output),
    ]
    if len(ours.grads) != len(ref.grads):
        raise AssertionError(f"{what}: {len(ours.grads)} gradients vs {len(ref.grads)}")
    pairs += [(f"grad[{i}]", a, b) for i, (a, b) in enumerate(zip(ours.grads, ref.grads))]
    if ours.params_after is not None and ref.params_after is not None:
        pairs += [
            (f"param_after[{i}]", a, b)
            for i, (a, b) in enumerate(zip(ours.params_after, ref.params_after))
        ]
    diffs: dict[str, float] = {}
    for name, a, b in pairs:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise AssertionError(f"{what}: {name} shapes differ: {a.shape} vs {b.shape}")
        scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
        np.testing.assert_allclose(
            a, b, rtol=rtol, atol=atol * scale, err_msg=f"{what}: {name} differs from the reference"
        )
        diffs[name] = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
    return diffs
