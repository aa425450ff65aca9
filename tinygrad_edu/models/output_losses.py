"""Per-output losses of a functional model with several outputs (Keras' ``loss=[...]`` or
``loss={name: ...}``, ``loss_weights``, and per-output ``sample_weight``): what training
minimizes is

    loss = sum_k loss_weights[k] * loss_k        loss_k = sum_i(w_ik * l_k(y_ik, out_ik)) / B

(``w_ik`` = 1 without sample weights: then ``loss_k`` is the plain mean). Each ``loss_k`` of the
last batch is kept in ``terms``: the logs report it as ``<output name>_loss``, as Keras does.

An output may have no loss (``loss=["mse", None]``, or a dict that leaves it out when the model's
outputs are a dict - Keras 3 refuses such a dict for a list of outputs): it adds nothing to the
sum and needs targets only when it has metrics; targets given for it anyway are ignored, as
Keras ignores them. Targets are checked against each output's loss (labels in range, shapes)
when they are packed - before fit's first step - and an error names the output.

The targets travel through ``fit``'s batching as one array of rows: each output's targets
flattened, side by side (as the inputs are), then one sample-weight column per output. ``split``
turns a batch of those rows back into one target array per output, of the shapes they were given
in, and the weights. The shapes are recorded by the first ``pack`` after ``begin()`` (each entry
point of the model calls it); data packed later in the same call must have the same shapes, so a
batch is never split with another's layout.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> both = OutputLosses(["mse", "mae"], [1.0, 0.5], ["a", "b"])
>>> y = both.pack([np.zeros((2, 1)), np.ones((2, 1))], "fit")
>>> y.shape                                       # a's target, b's target, a's and b's weights
(2, 4)
>>> float(both(y, [Tensor(np.ones((2, 1))), Tensor(np.ones((2, 1)))]).data), both.terms
(1.0, [1.0, 0.0])
>>> only_a = OutputLosses(["mse", None], None, ["a", "b"])
>>> only_a.pack({"a": np.zeros((2, 1))}, "fit").shape       # a's target, a's and b's weights
(2, 3)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import losses as _losses
from .. import validation as check
from .._shapes import as_numeric_array
from ..errors import ConfigError, DataError, ShapeError
from ..tensor import Tensor, no_grad
from .weighting import batch_weights, checked_sample_weight, weighted_loss


def per_output(
    value: Any, names: Sequence[str], what: str, default: Any, where: Optional[str] = None
) -> List[Any]:
    """One entry per output from a single value, a list in output order or a dict by name."""
    where = where or f"compile({what}=...)"
    example = f"{what}={{{', '.join(repr(n) + ': ...' for n in names)}}}"
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names), key=str)
        if unknown:
            raise ConfigError(
                where=where,
                expected=f"output names {list(names)}",
                got=f"{unknown}",
                fix=example,
            )
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ConfigError(
                where=where,
                expected=f"one entry per output ({len(names)}: {list(names)})",
                got=f"{len(value)} entries",
                fix=example,
            )
        return list(value)
    return [value] * len(names)


class OutputLosses:
    """``sum_k weights[k] * losses[k](y_k, out_k)`` over the outputs named ``names``."""

    name = "loss"

    def __init__(
        self,
        losses: Any,
        weights: Any,
        names: Sequence[str],
        output_shapes: Optional[Sequence[Any]] = None,
        outputs_by_key: bool = True,
    ) -> None:
        self.names = list(names)
        self.by_name = outputs_by_key  # the outputs are a dict (``outputs={...}``)
        self.losses = [
            None if loss is None else _losses.get(loss)
            for loss in _chosen_losses(losses, self.names, outputs_by_key)
        ]
        self.weights = [
            check.real("loss_weights", w, "compile", "loss_weights=[1.0, 0.5]")
            for w in per_output(
                1.0 if weights is None else weights, self.names, "loss_weights", 1.0
            )
        ]
        #: an output needs targets when it has a loss or metrics (output_metrics marks those)
        self.needs_targets = [loss is not None for loss in self.losses]
        self.output_shapes = list(output_shapes or [None] * len(self.names))
        self.metrics: List[List[Any]] = [[] for _ in self.names]  # set by output_metric_fns
        self.target_shapes: Optional[List[tuple]] = None
        self.terms = [0.0] * len(self.names)

    @property
    def first_loss(self) -> Any:
        """The first output's loss that exists (what ``Model.compile`` records as the loss)."""
        return next(loss for loss in self.losses if loss is not None)

    def per_output_settings(self) -> Dict[str, Any]:
        """What ``compile`` was given, per output: the loss objects (None for an output without
        a loss), the loss weights, and the metrics by output name (what saving stores); and
        whether the outputs are a dict."""
        return {
            "by_name": self.by_name,
            "loss": list(self.losses),
            "loss_weights": list(self.weights),
            "metrics": dict(zip(self.names, self.metrics)),
        }

    @property
    def with_loss(self) -> List[int]:
        """The indices of the outputs that have a loss."""
        return [k for k, loss in enumerate(self.losses) if loss is not None]

    # ------------------------------------------------------------------ the data
    def begin(self) -> None:
        """Forget the recorded target shapes: a new call (fit, evaluate, ...) starts."""
        self.target_shapes = None

    def pack(
        self, y: Any, where: str, sample_weight: Any = None, class_weight: Any = None
    ) -> np.ndarray:
        """Targets (a list or a dict by output name; an array for one output) and their sample
        weights as one array of rows."""
        given = self._target_arrays(y, where)
        n = len(next(a for a in given if a is not None))
        weights = self._sample_weights(given, n, sample_weight, class_weight, where)
        self._check_against_outputs(given, where)
        arrays = [np.zeros((n, 0)) if a is None else a for a in given]  # no columns
        shapes = [a.shape[1:] for a in arrays]
        if self.target_shapes is None:
            self.target_shapes = shapes
        elif shapes != self.target_shapes:
            raise DataError(
                where=where,
                expected=f"targets of the shapes given first in this call ({self._shapes()})",
                got=", ".join(f"{n}: {(None, *s)}" for n, s in zip(self.names, shapes)),
                fix="give the targets in one form everywhere (the validation data and every "
                "batch alike), e.g. integer labels everywhere, or one-hot rows everywhere",
            )
        columns = [a.reshape(len(a), -1).astype(np.float64) for a in arrays]
        return np.concatenate([*columns, weights], axis=1)

    def split(self, y: Any) -> Tuple[List[np.ndarray], np.ndarray]:
        """``(one target array per output, weights of shape (B, outputs))`` from packed rows."""
        rows = y._data if isinstance(y, Tensor) else np.asarray(y)
        widths = [int(np.prod(s)) for s in self.target_shapes or []]
        if (
            self.target_shapes is None
            or rows.ndim != 2
            or rows.shape[1] != sum(widths) + len(self.names)
        ):
            raise DataError(
                where="the loss of several outputs",
                expected=f"targets packed by the model ({self._shapes()} and one weight per "
                "output)",
                got=f"an array of shape {rows.shape}",
                fix="pass the targets to the model's fit/evaluate/train_on_batch as a list or a "
                "dict by output name; the model packs them",
            )
        parts, start = [], 0
        for shape, width in zip(self.target_shapes, widths):
            parts.append(rows[:, start : start + width].reshape(len(rows), *shape))
            start += width
        return parts, rows[:, start:]

    def _shapes(self) -> str:
        shapes = self.target_shapes or []
        return ", ".join(f"{n}: {(None, *s)}" for n, s in zip(self.names, shapes)) or "none yet"

    def _target_arrays(self, y: Any, where: str) -> List[Optional[np.ndarray]]:
        """One array per output (None for an output that needs no targets), from a dict by
        output name, a list in output order (None for an output without targets), a list or
        one array for just the outputs that need targets (as Keras takes them)."""
        needed = [n for n, need in zip(self.names, self.needs_targets) if need]
        if isinstance(y, dict):
            unknown = sorted(set(y) - set(self.names), key=str)
            if unknown:
                raise DataError(
                    where=where,
                    expected=f"targets by output name: {needed}",
                    got=f"keys {sorted(y, key=str)}",
                    fix="model.fit(x, {" + ", ".join(f"{n!r}: y_{n}" for n in needed) + "})",
                )
            ys: Any = [y.get(n) for n in self.names]
        elif isinstance(y, (list, tuple)) and (len(self.names) > 1 or _one_array_in_list(y)):
            ys = list(y)
        else:
            ys = [y]
        if len(ys) == len(needed) != len(self.names):  # just the outputs with a loss or metrics
            found = iter(ys)
            ys = [next(found) if need else None for need in self.needs_targets]
        if len(ys) != len(self.names):
            raise DataError(
                where=where,
                expected=f"one target array per output ({self.names}), as a list or a dict",
                got=f"{len(ys)} target array{'s' if len(ys) > 1 else ''}",
                fix="model.fit(x, [" + ", ".join(f"y_{n}" for n in self.names) + "])",
            )
        missing = [
            n for n, a, need in zip(self.names, ys, self.needs_targets) if need and a is None
        ]
        if missing:
            raise DataError(
                where=where,
                expected=f"targets for every output with a loss or metrics: {needed}",
                got=f"none for {missing}",
                fix="model.fit(x, {" + ", ".join(f"{n!r}: y_{n}" for n in needed) + "})",
            )
        arrays = [_rows(a, where) if need else None for a, need in zip(ys, self.needs_targets)]
        lengths = [(n, len(a)) for n, a in zip(self.names, arrays) if a is not None]
        if len({length for _, length in lengths}) > 1:
            raise DataError(
                where=where,
                expected="targets with the same number of samples for every output",
                got=", ".join(f"{n}: {length}" for n, length in lengths),
                fix="give every output one target row per sample",
            )
        return arrays

    def _check_against_outputs(self, arrays: List[Optional[np.ndarray]], where: str) -> None:
        """Each output's loss on its targets and a stand-in output of 0.5s (cheap), so a label
        out of range or a wrong shape is named, with its output, before any step runs."""
        for name, loss, y_k, shape in zip(self.names, self.losses, arrays, self.output_shapes):
            if loss is None or y_k is None or not _known_shape(shape):
                continue
            stand_in = Tensor(np.full((len(y_k), *shape[1:]), 0.5, dtype=np.float32))
            try:
                with no_grad():
                    loss(y_k, stand_in)
            except (DataError, ShapeError) as err:
                raise type(err)(
                    err.message,
                    where=f"{where}, the targets of output {name!r} ({err.where})",
                    expected=err.expected,
                    got=err.got,
                    fix=err.fix,
                ) from None

    def _sample_weights(
        self,
        targets: List[Optional[np.ndarray]],
        n: int,
        sample_weight: Any,
        class_weight: Any,
        where: str,
    ) -> np.ndarray:
        """One weight column per output: Keras takes a list or a dict by output name (every
        output with a loss), or one array used for every output; ``class_weight`` only for one
        output."""
        if class_weight is not None and len(self.names) > 1:
            raise ConfigError(
                where=where,
                expected="class_weight only for a model with a single output (Keras refuses it "
                "too)",
                got=f"class_weight with {len(self.names)} outputs {self.names}",
                fix="weight the samples of one output instead: sample_weight={"
                + f"{self.names[-1]!r}: np.array([class_weight[c] for c in y_{self.names[-1]}])"
                + ", ...}",
            )
        if class_weight is not None:  # one output: its labels pick the weights
            found = [batch_weights(targets[0], sample_weight, class_weight, where)]
        elif isinstance(sample_weight, dict):
            named = [self.names[k] for k in self.with_loss]
            if not set(named) <= set(sample_weight) <= set(self.names):
                raise DataError(
                    where=where,
                    expected=f"one sample_weight array per output with a loss, by name: {named} "
                    "(Keras needs all of them too)",
                    got=f"keys {sorted(sample_weight, key=str)}",
                    fix="sample_weight={" + ", ".join(f"{k!r}: np.ones({n})" for k in named) + "}",
                )
            found: List[Any] = [sample_weight.get(k) for k in self.names]
        elif isinstance(sample_weight, (list, tuple)) and _several_arrays(sample_weight):
            found = per_output(list(sample_weight), self.names, "sample_weight", None, where)
        else:  # one array (or None): the same weights for every output, as Keras
            found = [sample_weight] * len(self.names)
        columns = [
            np.ones(n) if w is None else checked_sample_weight(w, n, f"{where} ({name})")
            for name, w in zip(self.names, found)
        ]
        return np.stack(columns, axis=1)

    # ------------------------------------------------------------------ the loss
    def __call__(self, y: Any, out: Any) -> Tensor:
        targets, weights = self.split(y)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        total = None
        for k, (loss, y_k, out_k) in enumerate(zip(self.losses, targets, outs)):
            if loss is None:  # an output without a loss adds nothing
                continue
            w_k = weights[:, k]
            if (w_k == 1).all():  # the plain mean (the same value; any loss function works)
                term = loss(y_k, out_k)
            else:
                term = weighted_loss(loss, y_k, out_k, w_k, f"output '{self.names[k]}'")
            self.terms[k] = float(term._data)
            term = term * self.weights[k]
            total = term if total is None else total + term
        return total


def _chosen_losses(losses: Any, names: List[str], outputs_by_key: bool) -> List[Any]:
    """One loss (or None) per output; at least one output has a loss. A dict may leave outputs
    out only when the model's outputs are a dict (``outputs={...}``), as in Keras 3."""
    found = per_output(losses, names, "loss", None)
    fix_list = f"loss=['mse', {', '.join(['None'] * (len(names) - 1))}]"
    left_out = [n for n in names if isinstance(losses, dict) and n not in losses]
    if left_out and not outputs_by_key:
        raise ConfigError(
            where="compile(loss=...)",
            expected=f"a loss dict naming every output {names} (Keras 3 refuses a dict that "
            "leaves out outputs given as a list), or a list with None for outputs without a loss",
            got=f"nothing for {left_out}",
            fix=f"{fix_list}  # in output order",
        )
    if all(loss is None for loss in found):
        raise ConfigError(
            where="compile(loss=...)",
            expected="a loss for at least one output",
            got=f"none for {names}",
            fix="loss={" + ", ".join(f"{n!r}: 'mse'" for n in names) + "}",
        )
    return found


def _known_shape(shape: Any) -> bool:
    """An output shape with every size but the batch known."""
    return isinstance(shape, tuple) and all(isinstance(d, int) for d in shape[1:])


def _several_arrays(values: Any) -> bool:
    """A list of arrays (one per output), not one array written as a list of numbers."""
    return bool(values) and all(
        v is None or isinstance(v, (np.ndarray, Tensor, list, tuple)) for v in values
    )


def _one_array_in_list(values: Any) -> bool:
    """``[y]``: the targets of a model with one output given as a list of one array."""
    return len(values) == 1 and isinstance(values[0], (np.ndarray, Tensor))


def _rows(a: Any, where: str) -> np.ndarray:
    arr = a._data if isinstance(a, Tensor) else as_numeric_array(a, where)
    if arr.ndim == 0:
        raise DataError(
            where=where,
            expected="one target per sample for every output",
            got=f"a scalar {arr!r}",
            fix="pass an array of targets per output, e.g. y of shape (n,) or (n, classes)",
        )
    return arr


__all__ = ["OutputLosses", "per_output"]
