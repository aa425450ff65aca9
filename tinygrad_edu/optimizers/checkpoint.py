"""Optimizer checkpoints: the flat state-dict format, read and checked before anything changes.

Format (see ``Optimizer.state_dict``): ``"iterations"``, ``"learning_rate"`` (when no schedule),
and ``"<optimizer name>/<slot>/<parameter index>"`` arrays such as ``"adam/m/0"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.errors import CheckpointError

if TYPE_CHECKING:  # pragma: no cover
    from tinygrad_edu.optimizers.base import Optimizer

_SCALARS = ("iterations", "learning_rate")


def slot_arrays(opt: Optimizer) -> dict[str, np.ndarray]:
    """``{"<name>/<slot>/<i>": the live state array}`` for every parameter ``i``."""
    return {
        f"{opt.name}/{slot}/{i}": array
        for i, slots in enumerate(opt._state)
        for slot, array in slots.items()
    }


def read(opt: Optimizer, state: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A plain dict copy of ``state`` (a dict or an ``np.load`` file) and its iteration count."""
    try:
        state = {str(k): state[k] for k in state}
        count = np.asarray(state["iterations"])
        iterations = int(count)
        if iterations < 0 or iterations != float(count):
            raise ValueError
    except (AttributeError, KeyError, TypeError, ValueError):
        raise CheckpointError(
            where=f"{opt._where}.load_state_dict",
            expected='a dict from state_dict() with an "iterations" count >= 0',
            got=repr(state)[:80],
            fix="pass the dict that opt.state_dict() returned",
        ) from None
    return state, iterations


def validate(opt: Optimizer, state: dict[str, Any]) -> tuple[dict[str, np.ndarray], float]:
    """Check keys and shapes against ``opt``'s parameters; return the arrays and the rate."""
    where = f"{opt._where}.load_state_dict"
    expected = slot_arrays(opt)
    given = set(state) - set(_SCALARS)
    missing, unexpected = sorted(set(expected) - given), sorted(given - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            where=where,
            expected=f"{len(expected)} state arrays for {len(opt._params)} parameters"
            + (f" ({', '.join(sorted(expected)[:3])}, ...)" if expected else ""),
            got=f"missing {missing[:3]}, unexpected {unexpected[:3]}",
            fix=_mismatch_fix(opt, unexpected),
        )
    arrays = {key: np.asarray(state[key]) for key in expected}
    for key, target in expected.items():
        if arrays[key].shape != target.shape:
            raise CheckpointError(
                where=where,
                expected=f"{key!r} of shape {target.shape}",
                got=f"shape {arrays[key].shape}",
                fix="the state belongs to a model with other layer sizes; build the same "
                "architecture, or continue without loading the optimizer state",
            )
        if arrays[key].dtype.kind in "fc" and not np.isfinite(arrays[key]).all():
            raise CheckpointError(
                where=where,
                expected=f"finite values in {key!r}",
                got="NaN/inf values (the state was saved from a run that diverged)",
                fix="load an earlier checkpoint, or continue without the optimizer state "
                "(a new optimizer starts from zero moments)",
            )
    rate = opt._lr
    if "learning_rate" in state and opt._schedule is None:
        rate = opt._check("learning_rate", np.asarray(state["learning_rate"]), low=0, low_open=True)
    return arrays, rate


def _mismatch_fix(opt: Optimizer, unexpected: list[str]) -> str:
    other = {key.split("/")[0] for key in unexpected} - {opt.name}
    if other:
        return (
            f"the state was saved by another optimizer ({', '.join(sorted(other))}), not "
            f"{type(opt).__name__}; create the same kind of optimizer to load it"
        )
    return (
        "the state was saved for another model or optimizer setting (momentum, amsgrad, "
        "centered, ...); use the same ones, or continue without loading the state"
    )
