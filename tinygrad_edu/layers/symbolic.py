"""Symbolic tensors: what ``layer(inputs)`` returns when ``inputs`` come from ``Input(...)``.

Calling a layer on a symbolic tensor (or on the ``InputLayer`` that ``Input(shape=...)`` returns)
runs no numbers: it builds the layer for the input shape and returns a ``SymbolicTensor`` that
carries the output shape (batch axis ``None``), the layer and the inputs it was called on. A
functional ``Model(inputs, outputs)`` walks these links back from its outputs to get the graph.

>>> from tinygrad_edu.layers import Dense, Input
>>> inputs = Input(shape=(784,), name="pixels")
>>> h = Dense(64, activation="relu", name="hidden")(inputs)
>>> h
<SymbolicTensor shape=(None, 64) from layer 'hidden'>
>>> h.layer.built, [source_name(n) for n in h.inputs]
(True, ['pixels'])
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from .._shapes import fmt_shape
from ..errors import ConfigError

Shape = Tuple[Optional[int], ...]


class SymbolicTensor:
    """The output of a layer called on symbolic inputs: a ``shape`` (batch axis None), the
    ``layer`` that made it and its ``inputs`` (symbolic tensors or ``InputLayer`` s);
    ``as_list`` says whether the layer was called on a list (a merge layer) or one tensor."""

    def __init__(self, shape: Shape, layer: Any, inputs: List[Any], as_list: bool) -> None:
        self.shape = tuple(shape)
        self.layer = layer
        self.inputs = list(inputs)
        self.as_list = as_list

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        return self.layer.name

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape} from layer '{self.layer.name}'>"

    def _no_arithmetic(self, *_: Any) -> Any:
        raise ConfigError(
            where=f"the symbolic tensor of layer '{self.layer.name}'",
            expected="layers called on symbolic tensors (they hold a shape, not numbers)",
            got="Tensor arithmetic on a symbolic tensor",
            fix="use a merge layer: from tinygrad_edu.layers import Add; y = Add()([a, b])",
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_arithmetic
    __matmul__ = __truediv__ = __neg__ = _no_arithmetic

    def _not_a_sequence(self, *_: Any) -> Any:
        """``seq, h, c = LSTM(8, return_state=True)(x)`` or ``y[0]``: refused, never a raw
        TypeError (picking one output of a layer inside a graph is not implemented here)."""
        several = isinstance(self.shape[0], tuple)  # return_state, merge_mode=None: shapes
        raise ConfigError(
            where=f"the symbolic tensor of layer '{self.layer.name}'",
            expected="one output per layer inside a functional graph (no unpacking or indexing)",
            got=f"{len(self.shape)} outputs unpacked or indexed" if several else "indexing",
            fix="keep the layer's outputs together as model outputs - Model(inputs, outputs=y) "
            "returns each as an array - or build the layer with return_state=False (a "
            "Bidirectional with merge_mode='concat') to use its output in the graph"
            if several
            else "use layers on symbolic tensors: Flatten(), Reshape(...), or a Dense(...)",
        )

    __iter__ = __getitem__ = _not_a_sequence


def is_source(x: Any) -> bool:
    """An ``InputLayer`` (what ``Input(shape=...)`` returns): a source of the graph."""
    return getattr(x, "is_input", False) and hasattr(x, "_declared_input_shape")


def is_node(x: Any) -> bool:
    return isinstance(x, SymbolicTensor) or is_source(x)


def is_symbolic(x: Any) -> bool:
    """True for a symbolic tensor, an ``InputLayer``, or a list/tuple holding one."""
    if isinstance(x, (list, tuple)):
        return any(is_node(item) for item in x)
    return is_node(x)


def shape_of(node: Any) -> Shape:
    """A node's shape, batch axis None."""
    if isinstance(node, SymbolicTensor):
        return node.shape
    return (None, *node._declared_input_shape[1:])


def source_name(node: Any) -> str:
    """The name of the layer that made ``node`` (the ``InputLayer``'s own name for a source)."""
    return node.layer.name if isinstance(node, SymbolicTensor) else node.name


def symbolic_call(layer: Any, x: Any) -> SymbolicTensor:
    """``layer(x)`` on symbolic ``x``: build ``layer`` (or check a built one accepts the shape,
    for a shared layer) and return its output as a ``SymbolicTensor``."""
    as_list = isinstance(x, (list, tuple))
    nodes = list(x) if as_list else [x]
    for node in nodes:
        if not is_node(node):
            raise ConfigError(
                where=layer.where,
                expected="every input symbolic (from Input(...) or another layer's output)",
                got=f"a mix of symbolic tensors and {type(node).__name__}",
                fix="make each input an Input: a = Input(shape=(8,)); b = Input(shape=(8,))",
            )
    shapes = [shape_of(node) for node in nodes]
    out_shape = layer.build_for(shapes if as_list else shapes[0])
    return SymbolicTensor(out_shape, layer, nodes, as_list)


def describe_shapes(shapes: List[Shape]) -> str:
    """``(batch, 64) and (batch, 32)``: the shapes of a merge's inputs, for errors."""
    return " and ".join(fmt_shape(s, "batch") for s in shapes)


__all__ = [
    "SymbolicTensor",
    "describe_shapes",
    "is_node",
    "is_source",
    "is_symbolic",
    "shape_of",
    "source_name",
    "symbolic_call",
]
