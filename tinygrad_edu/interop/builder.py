"""What ``from_torch`` builds as it reads the modules: our layers so far, the shape after them,
and the one layer still open to a change (an activation or a padding folding into it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, ShapeError, TinygradEduError
from ..layers.base import Layer, Shape

WHERE = "interop.from_torch"


@dataclass
class Spec:
    """One of our layers, before it is made: made when the next module shows it is complete
    (an activation after a Linear folds into its ``activation``; a ZeroPad2d before a Conv2d that
    is exactly Keras' ``"same"`` folds into its ``padding``)."""

    cls: type
    kwargs: dict[str, Any]
    weights: list[np.ndarray] = field(default_factory=list)
    where: str = WHERE
    takes_activation: bool = False  # a Dense/Conv2D whose activation is still linear


class Builder:
    """Our layers so far, the shape after them (our layout, batch axis None), and ``permuted``:
    None, or the dims (``to_torch``'s ``Permute``) by which torch's tensor views ours - (0, 3, 1, 2)
    for our (B, H, W, C) images seen as NCHW, (0, 2, 1) for our (B, T, F) seen as (B, F, T). Either
    way our last axis is torch's dim 1."""

    def __init__(self, input_shape: Shape, dtype: Any) -> None:
        self.input_shape, self.dtype = input_shape, dtype
        self.layers: list[Layer] = []
        self.pending: Spec | None = None
        self.shape_before_pending: Shape = input_shape
        self.permuted: tuple[int, ...] | None = None
        self.closed_by: str | None = None  # a bare nn.RNN/LSTM/GRU: its tuple ends the model

    @property
    def shape(self) -> Shape:
        """The shape after every module so far (makes the pending layer)."""
        self.flush()
        return self.shape_before_pending

    @property
    def data_format(self) -> str:
        """Where our image layers keep their channels: torch's (first) unless permuted."""
        return "channels_last" if self.permuted else "channels_first"

    def ndim(self) -> int:
        """The rank after every module so far (a Dense/Conv2D keeps its input's rank)."""
        if self.pending is not None and self.pending.takes_activation:
            return len(self.shape_before_pending)
        return len(self.shape)

    def require_own_layout(self, where: str) -> None:
        """Refuse a module that works on torch's last axis while torch views our array permuted."""
        if self.permuted:
            raise ConfigError(
                where=where,
                expected="this module after the Permute back (as to_torch writes it): it works "
                "on the last axis of torch's tensor, which is not our last axis here",
                got=f"torch's tensor permuted by {self.permuted}",
                fix="from_torch(to_torch(model), input_shape=model.input_shape[1:])",
            )

    def add(self, spec: Spec) -> None:
        self.flush()
        self.pending = spec

    def fold_activation(self, name: str) -> bool:
        """Give the pending Dense/Conv2D the activation ``name``; False if there is none."""
        if self.pending is None or not self.pending.takes_activation:
            return False
        self.pending.kwargs["activation"] = name
        self.pending.takes_activation = False
        return True

    def flush(self) -> None:
        """Make the pending layer: build it for the current shape and give it its weights."""
        spec, self.pending = self.pending, None
        if spec is None:
            return
        kwargs = dict(spec.kwargs)
        if not self.layers:
            kwargs["input_shape"] = self.input_shape[1:]
        if self.dtype != np.float32:
            kwargs["dtype"] = np.dtype(self.dtype).name
        try:
            layer = spec.cls(**kwargs)
            self.shape_before_pending = layer.build_for(self.shape_before_pending)
            if spec.weights:
                layer.set_weights(spec.weights)
        except TinygradEduError as err:  # say which torch module it came from
            raise type(err)(
                err.message,
                where=f"{spec.where} -> {err.where}",
                expected=err.expected,
                got=err.got,
                fix=err.fix,
            ) from err
        self.layers.append(layer)

    def finish(self) -> list[Layer]:
        self.flush()
        if not self.layers:
            raise ConfigError(
                where=WHERE,
                expected="at least one module with a layer (not only Identity/Permute)",
                got="no layer",
                fix="from_torch(torch.nn.Sequential(torch.nn.Linear(4, 3)), input_shape=(4,))",
            )
        return self.layers


# ---------------------------------------------------------------------- checks
def require(module: Any, where: str, option: str, supported: Sequence[Any], fix: str) -> None:
    """Refuse ``module`` unless its ``option`` is one of ``supported``."""
    value = getattr(module, option)
    if value not in supported:
        raise ConfigError(
            where=where,
            expected=f"{option} in {tuple(supported)} (what tinygrad_edu's layer computes)",
            got=f"{option}={value!r}",
            fix=fix,
        )


def require_rank(where: str, shape: tuple, ranks: Sequence[int], what: str) -> None:
    if len(shape) not in ranks:
        raise ShapeError(
            where=where,
            expected=f"an input of rank {' or '.join(map(str, ranks))} ({what})",
            got=f"shape {shape} (batch axis None)",
            fix="pass input_shape without the batch axis, e.g. from_torch(net, (1, 28, 28))",
        )


def require_size(where: str, option: str, value: int, size: int, fix: str) -> None:
    if value != size:
        raise ShapeError(
            where=where,
            expected=f"{option} = {size}, the input's feature size here",
            got=f"{option}={value}",
            fix=fix,
        )


def array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def channels(builder: Builder, where: str) -> int:
    shape = builder.shape
    require_rank(where, shape, (4,), "images (C, H, W)")
    return shape[-1] if builder.permuted else shape[1]


__all__ = [
    "WHERE",
    "Builder",
    "Spec",
    "array",
    "channels",
    "pair",
    "require",
    "require_rank",
    "require_size",
]
