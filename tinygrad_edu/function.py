"""The op contract: one ``Function`` subclass per op, forward and backward side by side.

``forward(*arrays, **params)`` takes numpy arrays (one per tensor input) and non-tensor parameters as
keyword arguments, and returns one numpy array. It may save what backward needs on ``self``.

``backward(grad)`` receives dL/d(out) (shaped like the output) and returns one gradient per tensor
input, in forward's order: an array, or ``None`` for an input that needs none. A gradient may have
the *broadcast* shape of its input: the engine (``Tensor.backward``) un-broadcasts and accumulates,
in one place, and raises ``GradientShapeError`` naming the op if a shape cannot be reconciled.

``self.needs_input_grad`` (a tuple of bools, one per input) is set before ``forward`` runs, so an op
can skip saving or computing what no gradient will use.

Example - the whole of multiplication::

    class Mul(Function):
        '''out = a * b.   d(out)/da = b,   d(out)/db = a.'''
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b
        def backward(self, grad):
            return grad * self.b, grad * self.a
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

Grad = Optional[np.ndarray]


class Function:
    """Base class of every op. Subclasses implement ``forward`` and ``backward``.

    An op that borrows reusable work buffers (``tinygrad_edu.workspace``) overrides ``release``
    to give them back; the engine calls it exactly when the op is done with them: right after
    ``forward`` when no graph is recorded, after ``backward`` when the graph is freed. Arrays an
    op returns (its output, its gradients) must never be views of such buffers.
    """

    #: What the op needs of its input shapes, used in the ``ShapeError`` when numpy rejects them.
    shape_rule: str = "shapes this op accepts"
    needs_input_grad: Tuple[bool, ...] = ()
    parents: Tuple[Any, ...] = ()
    #: True when the subclass overrides ``release`` (set for each subclass, read by the engine)
    releases: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.releases = cls.release is not Function.release

    def release(self) -> None:
        """Give back work buffers (called by the engine; the default op borrows none)."""

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad: np.ndarray) -> Union[Grad, Tuple[Grad, ...]]:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    @property
    def name(self) -> str:
        return type(self).__name__


class BinaryBroadcast(Function):
    """Marker base for elementwise ops of two inputs that follow numpy broadcasting."""

    shape_rule = "broadcast-compatible shapes (each trailing axis equal, or 1 in one of them)"


__all__ = ["Function", "BinaryBroadcast", "Grad"]
