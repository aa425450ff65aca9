"""``layer.algebra()``: what a layer computes, as data the summary, the trace and the CLI render.

An ``Algebra`` holds the layer's input and output shapes (batch axis ``None``), the expression of
the summary's algebra column as text pieces and ``Operand`` s (a shape with its role: ``"input"``,
``"kernel"``, ``"bias"``, ``"recurrent_kernel"``, ...), the activation applied last, and the
parameter count as a ``Count`` (the terms of its formula). Rendering joins the pieces, writing the
batch axis as ``B`` or as the real batch size - nothing is ever parsed back out of a string.

>>> x, w, b = Operand("input", (None, 784)), Operand("kernel", (784, 32)), Operand("bias", (32,))
>>> dense = matmul((None, 784), [(x, w), (b,)], (None, 32), activation="relu")
>>> dense.text()
'[B,784] @ [784,32] + [32] -> [B,32]; relu'
>>> dense.text(batch=8)
'[8,784] @ [784,32] + [32] -> [8,32]; relu'
>>> dense.count_text(), dense.count.total
('784*32 + 32 = 25,120', 25120)
>>> [(op.role, op.shape) for op in dense.weights]
[('kernel', (784, 32)), ('bias', (32,))]

A dimension may be a product, written with its factors (im2col's rows: the batch times every
output pixel); a bracket holding a product separates its axes with ", " to keep them apart:

>>> Operand("patches", ((None, 26, 26), (3, 3, 1))).text()
'[B*26*26, 3*3*1]'
>>> Operand("patches", ((None, 26, 26), (3, 3, 1))).sizes(batch=2)
(1352, 9)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Tuple, Union

from .. import validation as check
from .._shapes import fmt_count
from ..errors import ConfigError

#: one axis: an int, None (the batch axis when first, else a size not known yet) or a product
Dim = Union[None, int, Tuple[Optional[int], ...]]

#: roles of operands that hold data, not weights (every other role names a weight)
DATA_ROLES = ("input", "output", "result", "patches", "step_input", "state", "gates")


def _dim_text(dim: Dim, first: bool, batch: str) -> str:
    """One axis: the batch symbol for a leading None, "?" for a size not known, factors joined."""
    factors = dim if isinstance(dim, tuple) else (dim,)
    return "*".join(
        (batch if first and i == 0 else "?") if d is None else str(d) for i, d in enumerate(factors)
    )


def _valid_dim(dim: Any) -> bool:
    factors = dim if isinstance(dim, tuple) else (dim,)
    return len(factors) > 0 and all(d is None or (check.is_int(d) and d >= 0) for d in factors)


@dataclass(frozen=True)
class Operand:
    """A shape in an algebra expression and its role: ``Operand("kernel", (784, 32))``.

    ``shape``: the axes, batch axis first as ``None`` for data; an axis may be a product given as
    a tuple of factors. ``role``: ``"input"``, ``"output"``, ``"kernel"``, ``"bias"``, ... (see
    ``DATA_ROLES``; every other role is a weight).
    """

    role: str
    shape: Tuple[Dim, ...]

    def __post_init__(self) -> None:
        shape = tuple(self.shape) if isinstance(self.shape, (tuple, list)) else None
        if not isinstance(self.role, str) or shape is None or not all(map(_valid_dim, shape)):
            raise ConfigError(
                where="Operand",
                expected="a role as str and a shape as a tuple of sizes (None for the batch "
                "axis, a tuple of factors for a product)",
                got=f"{self.role!r}, {self.shape!r}",
                fix='Operand("kernel", (784, 32))',
            )
        object.__setattr__(self, "shape", shape)

    @property
    def is_weight(self) -> bool:
        return self.role not in DATA_ROLES

    def text(self, batch: str = "B") -> str:
        """``[B,784]``; a product axis prints its factors, ``[B*26*26, 3*3*1]``."""
        sep = ", " if any(isinstance(d, tuple) for d in self.shape) else ","
        return "[" + sep.join(_dim_text(d, i == 0, batch) for i, d in enumerate(self.shape)) + "]"

    def factors(self) -> Tuple[Optional[int], ...]:
        """Every factor in order: a weight's real shape (``[3*3*1, 32]`` -> (3, 3, 1, 32))."""
        return tuple(f for d in self.shape for f in (d if isinstance(d, tuple) else (d,)))

    def sizes(self, batch: Optional[int] = None) -> Tuple[Optional[int], ...]:
        """The shape as numbers: products multiplied, the batch axis ``batch`` (None: unknown)."""
        out = []
        for i, dim in enumerate(self.shape):
            factors = list(dim) if isinstance(dim, tuple) else [dim]
            if i == 0 and factors[0] is None:
                factors[0] = batch
            out.append(None if None in factors else math.prod(factors))
        return tuple(out)


@dataclass(frozen=True)
class Count:
    """A parameter count as its formula: each term's factors multiplied, summed, ``gates`` times.

    >>> Count(((1, 300), (300, 300), (300,)), gates=4).text()
    '4 gates x (1*300 + 300*300 + 300) = 362,400'
    >>> Count(((4, 64),), non_trainable=128).text(), Count().text()
    ('4*64 = 256 (128 non-trainable)', '0')
    """

    terms: Tuple[Tuple[int, ...], ...] = ()
    gates: int = 1
    non_trainable: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(tuple(int(f) for f in t) for t in self.terms))

    @classmethod
    def of(cls, *weights: Operand) -> "Count":
        """The count of weight operands: one term per weight, its factors as given."""
        return cls(tuple(w.factors() for w in weights))

    @property
    def total(self) -> int:
        return self.gates * sum(math.prod(t) for t in self.terms)

    def text(self) -> str:
        """``784*32 + 32 = 25,120`` (the summary's count column)."""
        if not self.terms:
            return "0"
        formula = " + ".join("*".join(map(str, t)) or "1" for t in self.terms)
        if self.gates > 1:
            formula = f"{self.gates} gates x ({formula})"
        text = f"{formula} = {fmt_count(self.total)}"
        return text + (
            f" ({fmt_count(self.non_trainable)} non-trainable)" if self.non_trainable else ""
        )


Piece = Union[str, Operand]


@dataclass(frozen=True)
class Algebra:
    """What a layer computes: ``input``/``output`` shapes (the layer's, batch axis None; a list
    of shapes for several outputs), the ``expression`` the algebra column prints (text pieces and
    ``Operand`` s), the ``activation`` applied last (its name, or None) and the parameter ``count``.
    """

    input: Any
    output: Any
    expression: Tuple[Piece, ...]
    activation: Optional[str] = None
    count: Count = field(default_factory=Count)

    def __post_init__(self) -> None:
        pieces = tuple(self.expression) if isinstance(self.expression, (tuple, list)) else None
        if pieces is None or not all(isinstance(p, (str, Operand)) for p in pieces):
            raise ConfigError(
                where="Algebra",
                expected="expression as a tuple of str and Operand pieces",
                got=check.describe(self.expression),
                fix='Algebra(shape, shape, (Operand("input", shape), " -> ", '
                'Operand("output", shape)))',
            )
        object.__setattr__(self, "expression", pieces)

    @property
    def operands(self) -> Tuple[Operand, ...]:
        return tuple(p for p in self.expression if isinstance(p, Operand))

    @property
    def weights(self) -> Tuple[Operand, ...]:
        """The weight operands, in the order the expression shows them."""
        return tuple(op for op in self.operands if op.is_weight)

    def text(self, batch: Optional[int] = None) -> str:
        """The algebra column: the batch axis as ``B``, or as ``batch`` when given."""
        if batch is not None and not (check.is_int(batch) and batch >= 0):
            check.refuse(
                "batch",
                batch,
                "Algebra.text",
                "an int >= 0 (or None for B)",
                "layer.algebra().text(batch=32)",
            )
        symbol = "B" if batch is None else str(int(batch))
        body = "".join(p if isinstance(p, str) else p.text(symbol) for p in self.expression)
        return body + (f"; {self.activation}" if self.activation else "")

    def count_text(self) -> str:
        """The count column: ``784*32 + 32 = 25,120``."""
        return self.count.text()

    def shown_input(self, batch: Optional[int] = None) -> Optional[Tuple[Optional[int], ...]]:
        """The sizes of the input shape the expression starts from (None: it starts elsewhere)."""
        ops = self.operands
        return ops[0].sizes(batch) if ops and ops[0].role == "input" else None

    def shown_output(self, batch: Optional[int] = None) -> Optional[Tuple[Optional[int], ...]]:
        """The sizes of the output shape the expression ends at (None: it ends elsewhere)."""
        ops = self.operands
        return ops[-1].sizes(batch) if ops and ops[-1].role == "output" else None


def _outputs(output: Any) -> Tuple[Piece, ...]:
    """One output operand, or several joined by ", " (a layer with several outputs)."""
    shapes = output if output and isinstance(output[0], (tuple, list)) else [output]
    pieces: list = []
    for shape in shapes:
        pieces += [", ", Operand("output", shape)] if pieces else [Operand("output", shape)]
    return tuple(pieces)


def sum_of_products(products: Sequence[Sequence[Operand]]) -> Tuple[Piece, ...]:
    """``[(x, W), (b,)]`` -> the pieces of ``x @ W + b``."""
    pieces: list = []
    for term in products:
        if pieces:
            pieces.append(" + ")
        for i, op in enumerate(term):
            pieces += [" @ ", op] if i else [op]
    return tuple(pieces)


def shape_map(
    input: Any,
    output: Any,
    lead: str = "",
    note: str = "",
    activation: Optional[str] = None,
    count: Optional[Count] = None,
) -> Algebra:
    """``{lead}[in] -> [out]; {note}``: a layer that rearranges, pools, normalizes or activates.

    >>> shape_map((None, 26, 26, 32), (None, 13, 13, 32), lead="max over 2x2 windows: ").text()
    'max over 2x2 windows: [B,26,26,32] -> [B,13,13,32]'
    """
    pieces = ((lead,) if lead else ()) + (Operand("input", input), " -> ") + _outputs(output)
    pieces += (f"; {note}",) if note else ()
    return Algebra(input, output, pieces, activation, count or Count())


def matmul(
    input: Any,
    products: Sequence[Sequence[Operand]],
    output: Any,
    lead: str = "",
    activation: Optional[str] = None,
    count: Optional[Count] = None,
    result: Any = None,
) -> Algebra:
    """``{lead}x @ W + b -> [out]; activation``; the count defaults to the weights' factors.

    ``result``: the shape the products give when the activation changes it (glu halves the last
    axis); it is shown in place of the output, as a ``"result"``.
    """
    same = result is None or tuple(result) == tuple(output)
    shown = _outputs(output) if same else (Operand("result", result),)
    pieces = ((lead,) if lead else ()) + sum_of_products(products) + (" -> ",) + shown
    weights = [op for term in products for op in term if op.is_weight]
    return Algebra(input, output, pieces, activation, count or Count.of(*weights))


def algebra_of(layer: Any) -> Algebra:
    """``layer.algebra()``, refused with a teaching error when it is not an ``Algebra``."""
    algebra = layer.algebra()
    if not isinstance(algebra, Algebra):
        raise ConfigError(
            where=f"{type(layer).__name__}.algebra()",
            expected="an Algebra (tinygrad_edu.layers.algebra)",
            got=check.describe(algebra),
            fix="return shape_map(self.input_shape, self.output_shape) "
            "(from tinygrad_edu.layers.algebra import shape_map)",
        )
    return algebra


__all__ = [
    "DATA_ROLES",
    "Algebra",
    "Count",
    "Operand",
    "algebra_of",
    "matmul",
    "shape_map",
    "sum_of_products",
]
