"""Merge layers (Keras' names and semantics): called on a LIST of inputs, they return one output.

``Add``, ``Subtract`` (two inputs), ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` combine
their inputs element by element (same shapes; an axis of size 1 broadcasts, as in Keras);
``Concatenate(axis=-1)`` joins them along ``axis``; ``Dot(axes)`` contracts two inputs along
``axes`` (per sample: a batched matrix product). None has weights. Shapes are checked when the
layer is built - on a symbolic graph that is before any data - and an error names every
input's shape and the fix.

>>> import numpy as np
>>> a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
>>> Add()([a, b]).data[0].tolist(), Concatenate()([a, b]).shape
([3.0, 3.0, 3.0], (2, 6))
>>> Dot(axes=1)([a, b]).data.ravel().tolist()
[6.0, 6.0]
>>> merge = Add(); _ = merge([a, b]); merge.algebra().text()
'[B,3] + [B,3] -> [B,3]'
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import functional as F
from .. import validation as check
from ..errors import ConfigError, ShapeError
from ..tensor import Tensor
from .algebra import Algebra, Count, Operand
from .base import Layer
from .symbolic import describe_shapes, is_symbolic, symbolic_call

Shape = Tuple[Optional[int], ...]


class Merge(Layer):
    """The base of the merge layers: ``layer([x1, x2, ...])``. A subclass sets ``symbol`` and
    ``n_inputs`` (None: two or more), and defines ``merge(tensors)`` and ``merged_shape(shapes)``
    (checks the shapes agree and returns the output shape)."""

    feature_axis = None
    n_inputs: Optional[int] = None
    symbol = "+"

    def __call__(self, inputs: Any, training: Optional[bool] = None) -> Any:
        if is_symbolic(inputs):
            return symbolic_call(self, inputs)
        tensors = self._tensors(inputs)
        self.build([(None, *t.shape[1:]) for t in tensors])  # a built layer only checks
        sizes = {t.shape[0] for t in tensors}
        if len(sizes) > 1:
            raise ShapeError(
                where=self.where,
                expected="inputs with the same batch size",
                got=" and ".join(str(t.shape) for t in tensors),
                fix="slice every input with the same rows, e.g. [a[:32], b[:32]]",
            )
        return self.merge(tensors)

    def _tensors(self, inputs: Any) -> List[Tensor]:
        if not isinstance(inputs, (list, tuple)):
            raise ConfigError(
                where=self.where,
                expected="a list of inputs",
                got=type(inputs).__name__,
                fix=f"{type(self).__name__}()([a, b])",
            )
        return [self._to_tensor(x) for x in inputs]

    # the build protocol sees a list of shapes (Layer's checks are for one shape)
    def _checked_build_shape(self, input_shape: Any, method: str) -> List[Shape]:
        want = "2" if self.n_inputs == 2 else "2 or more"
        fix = f"{type(self).__name__}()([a, b])"
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(s, (list, tuple)) for s in input_shape
        ):
            check.refuse(
                "input_shape",
                input_shape,
                f"{self.where}.{method}",
                f"a list of {want} shapes",
                fix,
            )
        if len(input_shape) < 2 or (
            self.n_inputs is not None and len(input_shape) != self.n_inputs
        ):
            raise ConfigError(
                where=self.where,
                expected=f"a list of {want} inputs",
                got=f"{len(input_shape)} input(s)",
                fix=fix,
            )
        shapes = [check.shape("input_shape", s, f"{self.where}.{method}", fix) for s in input_shape]
        return [(None, *s[1:]) for s in shapes]

    def check_input(self, shapes: Sequence[Shape]) -> None:
        self.merged_shape(list(shapes))

    def _mismatch(self, shapes: List[Shape], expected: str, fix: str) -> ShapeError:
        return ShapeError(
            where=self.where,
            expected=expected,
            got=f"inputs of shapes {describe_shapes(shapes)}",
            fix=fix,
        )

    def merged_shape(self, shapes: List[Shape]) -> Shape:
        """Element-wise: same rank, and on every axis the same size or 1 (which broadcasts)."""
        out = list(shapes[0])
        for shape in shapes[1:]:
            if len(shape) != len(out) or any(
                a is not None and b is not None and a != b and 1 not in (a, b)
                for a, b in zip(out[1:], shape[1:])
            ):
                size = max((s[-1] for s in shapes if s[-1] is not None), default=1)
                raise self._mismatch(
                    shapes,
                    f"inputs of the same shape for {type(self).__name__} (or size 1 to broadcast)",
                    f"give both branches the same size, e.g. end each with Dense({size}), "
                    "or use Concatenate() to join different sizes",
                )
            out[1:] = [a if b in (1, None) else b for a, b in zip(out[1:], shape[1:])]
        return tuple(out)

    def merge(self, tensors: List[Tensor]) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.merge")

    def algebra(self) -> Algebra:
        """``[B,64] + [B,64] -> [B,64]``: no parameters."""
        pieces: list = []
        for shape in self.input_shape:
            pieces += (
                [f" {self.symbol} ", Operand("input", shape)]
                if pieces
                else [Operand("input", shape)]
            )
        pieces += [" -> ", Operand("output", self.output_shape)]
        return Algebra(list(self.input_shape), self.output_shape, tuple(pieces), None, Count())


def _merge_output_shape(self: Merge, input_shape: Any) -> Shape:
    return self.merged_shape([tuple(s) for s in input_shape])


# set after the class so that Layer's one-shape check of compute_output_shape is not wrapped on
Merge.compute_output_shape = _merge_output_shape


class Add(Merge):
    """``x1 + x2 + ...``"""

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return functools.reduce(lambda a, b: a + b, tensors)


class Subtract(Merge):
    """``x1 - x2`` (exactly two inputs)."""

    n_inputs = 2
    symbol = "-"

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return tensors[0] - tensors[1]


class Multiply(Merge):
    """``x1 * x2 * ...`` element by element."""

    symbol = "*"

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return functools.reduce(lambda a, b: a * b, tensors)


class Average(Merge):
    """``(x1 + ... + xn) / n``"""

    symbol = "avg"

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return functools.reduce(lambda a, b: a + b, tensors) / len(tensors)  # as Keras


class Maximum(Merge):
    """``max(x1, x2, ...)`` element by element (ties share the gradient)."""

    symbol = "max"

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return functools.reduce(F.maximum, tensors)


class Minimum(Merge):
    """``min(x1, x2, ...)`` element by element (ties share the gradient)."""

    symbol = "min"

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return functools.reduce(F.minimum, tensors)


class Concatenate(Merge):
    """Join the inputs along ``axis`` (default -1); every other axis must agree."""

    symbol = ","
    example_args: Dict[str, Any] = {}

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = check.axis("axis", axis, "Concatenate()", "Concatenate(axis=-1)")

    def merged_shape(self, shapes: List[Shape]) -> Shape:
        rank = len(shapes[0])
        axis = self.axis + rank if self.axis < 0 else self.axis
        others = [tuple(d for i, d in enumerate(s) if i not in (0, axis)) for s in shapes]
        if not 0 < axis < rank or any(len(s) != rank for s in shapes) or len(set(others)) > 1:
            raise self._mismatch(
                shapes,
                f"inputs that agree on every axis but axis {self.axis} (batch axis excluded)",
                "reshape or Flatten() the inputs so only the joined axis differs, "
                "e.g. Concatenate(axis=-1)([Flatten()(a), Flatten()(b)])",
            )
        joined = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in joined else sum(joined)
        return tuple(out)

    def merge(self, tensors: List[Tensor]) -> Tensor:
        return F.concatenate(tensors, axis=self.axis)

    def algebra(self) -> Algebra:
        """``concat([B,64], [B,32], axis=-1) -> [B,96]``"""
        pieces: list = ["concat("]
        for i, shape in enumerate(self.input_shape):
            pieces += [", "] * bool(i) + [Operand("input", shape)]
        pieces += [f", axis={self.axis}) -> ", Operand("output", self.output_shape)]
        return Algebra(list(self.input_shape), self.output_shape, tuple(pieces), None, Count())

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """The dot product of two inputs along ``axes`` (an int or a pair; batch axis is 0).

    Rank 2: ``[B,n] . [B,n] -> [B,1]``; rank 3: per sample, the matrix product that contracts
    ``axes`` - ``[B,n,k] . [B,k,m] -> [B,n,m]`` for ``axes=(2, 1)``. ``normalize=True`` divides
    each input by its L2 norm along its axis first (cosine similarity).
    """

    n_inputs = 2
    symbol = "."
    example_args = {"axes": 1}

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pair = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if len(pair) != 2 or not all(check.is_int(a) for a in pair):
            check.refuse("axes", axes, "Dot()", "an int or a pair of ints", "Dot(axes=1)")
        self.axes = tuple(int(a) for a in pair)
        self.normalize = check.flag("normalize", normalize, "Dot()", "Dot(axes=1, normalize=True)")

    def _axes_for(self, shapes: List[Shape]) -> Tuple[int, int]:
        return tuple(a + len(s) if a < 0 else a for a, s in zip(self.axes, shapes))

    def merged_shape(self, shapes: List[Shape]) -> Shape:
        ax = self._axes_for(shapes)
        ranks = {len(s) for s in shapes}
        ok = ranks <= {2, 3} and len(ranks) == 1 and all(0 < a < len(s) for a, s in zip(ax, shapes))
        if not ok or shapes[0][ax[0]] != shapes[1][ax[1]]:
            raise self._mismatch(
                shapes,
                f"two inputs of rank 2 or 3 with the same size on axes {self.axes}",
                "contract axes of equal size, e.g. Dot(axes=1)([a, b]) with a and b of shape "
                "(batch, 64)",
            )
        if len(shapes[0]) == 2:
            return (None, 1)
        rest = [d for i, d in enumerate(shapes[0][1:], 1) if i != ax[0]]
        rest += [d for i, d in enumerate(shapes[1][1:], 1) if i != ax[1]]
        return (None, *rest)

    def merge(self, tensors: List[Tensor]) -> Tensor:
        a, b = tensors
        ax = self._axes_for([a.shape, b.shape])
        if self.normalize:
            a, b = (
                t / (t * t).sum(axis=i, keepdims=True).maximum(1e-12).sqrt()
                for t, i in zip((a, b), ax)
            )
        if a.ndim == 2:
            return (a * b).sum(axis=1, keepdims=True)
        a = a if ax[0] == 2 else a.transpose(0, 2, 1)  # the contracted axis last in a ...
        b = b if ax[1] == 1 else b.transpose(0, 2, 1)  # ... and first (after the batch) in b
        return a @ b

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "axes": list(self.axes), "normalize": self.normalize}


__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Merge",
    "Minimum",
    "Multiply",
    "Subtract",
]
