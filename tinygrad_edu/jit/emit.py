"""The text of a tape as it is written: named buffers and constants, numbered numpy lines, each
labelled by phase (forward, loss, backward, update) and layer.

>>> e = Emit()
>>> a = e.buf((2, 3), np.float32)
>>> e.phase, e.label = "forward", "dense"
>>> e.line(f"np.multiply({a}, 2, out={a})")
>>> print(e.listing())
  1 forward  dense         np.multiply(b1, 2, out=b1)
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: what a replay returns when a guard fails: the caller runs the step eagerly instead
MISS = object()


class Emit:
    """Names (``b`` buffers, ``c`` constants, ``v`` views, ``x`` inputs, ``w`` weights, ``f``/``v``
    replayed Functions and their values, ``g`` gradients) and the lines that use them."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"np": np, "MISS": MISS}
        self.prologue: list[str] = []  #: reading inputs and weights, converting inputs
        self.guards: list[str] = []  #: conditions; any True -> MISS
        self.body: list[tuple[str, str, str]] = []  #: (phase, label, code)
        self.epilogue: list[str] = []  #: gradients handed back, the result
        self.arrays: dict[str, np.ndarray] = {}  #: buffer name -> buffer
        self.phase, self.label = "forward", ""
        self._n = self._guard_n = 0

    def reserve(self, n: int) -> None:
        """Numbers below ``n`` are taken (the inputs' names)."""
        self._n = max(self._n, n)

    def name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def buf(self, shape: Any, dtype: Any) -> str:
        """A preallocated buffer (reused by every replay of the tape)."""
        name = self.name("b")
        self.ns[name] = self.arrays[name] = np.empty(tuple(shape), dtype)
        return name

    def const(self, value: Any, prefix: str = "c") -> str:
        name = self.name(prefix)
        self.ns[name] = value
        return name

    def guard_const(self, value: Any) -> str:
        """A constant of a guard (``n1``, ``n2``, ...: numbered apart from the tape's names, so
        the printed tape does not change with the layers' guards)."""
        self._guard_n += 1
        name = f"n{self._guard_n}"
        self.ns[name] = value
        return name

    def view(self, of: str, value: np.ndarray) -> str:
        """A view of buffer ``of`` made once (the buffer never moves)."""
        name = self.name("v")
        self.ns[name] = value
        return name

    def array(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def flat(self, name: str) -> str:
        """The 1-d view of ``name``: made once for a buffer, per replay for anything else."""
        if name in self.arrays:
            return self.view(name, self.arrays[name].reshape(-1))
        return f"{name}.reshape(-1)"

    def line(self, code: str) -> None:
        self.body.append((self.phase, self.label, code))

    def source(self) -> str:
        """The replay function: ``replay(R, A)`` with R the step's arguments, A their arrays."""
        out = ["def replay(R, A):"]
        out += [f"    {line}" for line in self.prologue]
        out += [f"    if {cond}:\n        return MISS" for cond in self.guards]
        out += [f"    {code}" for _, _, code in self.body]
        out += [f"    {line}" for line in self.epilogue]
        return "\n".join(out) + "\n"

    def listing(self) -> str:
        """The numbered numpy lines, each with its phase and layer."""
        rows = [
            f"{k:3d} {phase:<8} {label:<13} {code}"
            for k, (phase, label, code) in enumerate(self.body, 1)
        ]
        return "\n".join(rows)


__all__ = ["MISS", "Emit"]
