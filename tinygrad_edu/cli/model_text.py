"""What ``read_model_text`` returns (``ModelText``: the layers, and how the text was read), and
the size limits it reads text within."""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

from .common import ModelTextError

LayerSpec = tuple[str, tuple[Any, ...], dict[str, Any]]

ALLOWED = (
    "Allowed: Sequential([Layer(...), ...]) or [Layer(...), ...] or one Layer(...), or model = "
    "Sequential() then model.add(Layer(...)) lines; layer arguments must be literals "
    "(numbers, strings, None/True/False, tuples/lists of those), names set to literals, or "
    "activation=tf.nn.relu-style references"
)
#: how a refused statement is described
STATEMENTS = {
    ast.Assign: "an assignment",
    ast.AugAssign: "an assignment",
    ast.For: "a loop",
    ast.While: "a loop",
    ast.If: "an if statement",
    ast.With: "a with block",
    ast.Try: "a try block",
    ast.FunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
}

#: the longest model text read (some 2,000 layer calls with arguments)
MAX_TEXT_CHARS = 100_000
#: the most layers one model text may define
MAX_LAYERS = 1_000


class ModelText(NamedTuple):
    """What ``read_model_text`` found: the layers, what it skipped, and how it read them."""

    specs: list[LayerSpec]
    skipped: list[tuple[str, int]]  # (what, line), in text order
    wrapped: str | None = None  # a lone layer call, explained as Sequential([it])
    input_shape: tuple | None = None  # from model.build((None, ...)), without the batch
    data_format: str | None = None  # from K.set_image_dim_ordering('th') / set_image_data_format

    def note(self) -> str | None:
        """One line saying how the text was read (None when it was just a model)."""
        parts = [f"explained as Sequential([{self.wrapped}])"] if self.wrapped else []
        if self.skipped:
            lines: dict[str, list[int]] = {}
            for what, line in self.skipped:
                lines.setdefault(what, []).append(line)
            listed = ", ".join(f"{what} ({_line_ranges(ns)})" for what, ns in lines.items())
            parts.append(f"read only the model definition; skipped: {listed}")
        return "note: " + "; ".join(parts) if parts else None


def _line_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> 'lines 1-3, 7'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        elif not runs or n != runs[-1][1]:
            runs.append([n, n])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
    return ("line " if len(runs) == 1 and runs[0][0] == runs[0][1] else "lines ") + text


def check_text_size(text: Any) -> str:
    """``text`` if it is a str of at most ``MAX_TEXT_CHARS`` characters, else ModelTextError."""
    if not isinstance(text, str):
        raise ModelTextError(
            where="model text",
            expected="a str",
            got=type(text).__name__,
            fix="pass the model definition as text",
        )
    if len(text) > MAX_TEXT_CHARS:
        raise ModelTextError(
            where="model text",
            expected=f"at most {MAX_TEXT_CHARS:,} characters",
            got=f"{len(text):,} characters",
            fix="explain a smaller model (fewer or shorter layer calls)",
        )
    return text


__all__ = [
    "ALLOWED",
    "MAX_LAYERS",
    "MAX_TEXT_CHARS",
    "STATEMENTS",
    "LayerSpec",
    "ModelText",
    "check_text_size",
]
