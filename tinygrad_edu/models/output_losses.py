"""Per-output losses of a functional model with several outputs (Keras' ``loss=[...]`` or
``loss={name: ...}`` and ``loss_weights``): what training minimizes is

    loss = sum_k loss_weights[k] * loss_k(y_k, out_k)

The targets travel through ``fit``'s batching as one array of rows (each output's targets
flattened, side by side, as the inputs are); ``OutputLosses`` splits a batch of those rows back
into one target array per output, of the shapes they were given in.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> both = OutputLosses(["mse", "mae"], [1.0, 0.5], ["a", "b"])
>>> y = both.pack([np.zeros((2, 1)), np.ones((2, 1))], "fit")
>>> float(both(y, [Tensor(np.ones((2, 1))), Tensor(np.ones((2, 1)))]).data)
1.0
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from .. import losses as _losses
from .. import validation as check
from .._shapes import as_numeric_array
from ..errors import ConfigError, DataError
from ..tensor import Tensor


def _per_output(value: Any, names: Sequence[str], what: str, default: Any) -> List[Any]:
    """One entry per output from a single value, a list in output order or a dict by name."""
    example = f"{what}={{{', '.join(repr(n) + ': ...' for n in names)}}}"
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ConfigError(
                where=f"compile({what}=...)",
                expected=f"output names {list(names)}",
                got=f"{unknown}",
                fix=example,
            )
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ConfigError(
                where=f"compile({what}=...)",
                expected=f"one entry per output ({len(names)}: {list(names)})",
                got=f"{len(value)} entries",
                fix=example,
            )
        return list(value)
    return [value] * len(names)


class OutputLosses:
    """``sum_k weights[k] * losses[k](y_k, out_k)`` over the outputs named ``names``."""

    name = "loss"

    def __init__(self, losses: Any, weights: Any, names: Sequence[str]) -> None:
        self.names = list(names)
        found = _per_output(losses, self.names, "loss", None)
        if any(loss is None for loss in found):
            missing = [n for n, loss in zip(self.names, found) if loss is None]
            raise ConfigError(
                where="compile(loss=...)",
                expected="a loss for every output",
                got=f"none for {missing}",
                fix="loss={" + ", ".join(f"{n!r}: 'mse'" for n in self.names) + "}",
            )
        self.losses = [_losses.get(loss) for loss in found]
        self.weights = [
            check.real("loss_weights", w, "compile", "loss_weights=[1.0, 0.5]")
            for w in _per_output(
                1.0 if weights is None else weights, self.names, "loss_weights", 1.0
            )
        ]
        self.target_shapes: Optional[List[tuple]] = None

    def pack(self, y: Any, where: str) -> Any:
        """A list (or dict by output name) of target arrays as one array of rows; ``y`` as is
        for one output."""
        if len(self.names) == 1 and not isinstance(y, (list, tuple, dict)):
            return y
        ys = [y[n] for n in self.names] if isinstance(y, dict) else y
        if not isinstance(ys, (list, tuple)) or len(ys) != len(self.names):
            raise DataError(
                where=where,
                expected=f"one target array per output ({self.names}), as a list or a dict",
                got=type(y).__name__ if not isinstance(ys, (list, tuple)) else f"{len(ys)}",
                fix="model.fit(x, [y_" + ", y_".join(self.names) + "])",
            )
        arrays = [as_numeric_array(a, where) for a in ys]
        if len({len(a) for a in arrays}) > 1:
            raise DataError(
                where=where,
                expected="targets with the same number of samples for every output",
                got=", ".join(str(len(a)) for a in arrays),
                fix="give every output one target row per sample",
            )
        self.target_shapes = [a.shape[1:] for a in arrays]
        return np.concatenate([a.reshape(len(a), -1).astype(np.float64) for a in arrays], axis=1)

    def split(self, y: Any) -> List[Any]:
        if len(self.names) == 1 and self.target_shapes is None:
            return [y]
        rows = y._data if isinstance(y, Tensor) else np.asarray(y)
        parts, start = [], 0
        for shape in self.target_shapes:
            stop = start + int(np.prod(shape))
            parts.append(rows[:, start:stop].reshape(len(rows), *shape))
            start = stop
        return parts

    def __call__(self, y: Any, out: Any) -> Tensor:
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        total = None
        for loss, w, y_k, out_k in zip(self.losses, self.weights, self.split(y), outs):
            term = loss(y_k, out_k) * w
            total = term if total is None else total + term
        return total


__all__ = ["OutputLosses"]
