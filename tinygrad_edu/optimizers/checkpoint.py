"""Optimizer checkpoints as plain data: pure functions between the flat state dict and the arrays
of each parameter's slots. Nothing here knows the Optimizer class: the caller passes the names,
shapes and arrays, and gets arrays back.

Format (``Optimizer.state_dict``): ``"iterations"`` (int), ``"learning_rate"`` (float, absent when
a schedule drives the rate), and one array per slot and parameter, ``"<name>/<slot>/<index>"``,
such as ``"adam/m/0"``. It fits ``np.savez`` as is.

>>> flat = flatten("sgd", [{"velocity": np.zeros(2)}], iterations=3, learning_rate=0.1)
>>> sorted(flat)
['iterations', 'learning_rate', 'sgd/velocity/0']
>>> loaded = unflatten(flat, name="sgd", slot_names=["velocity"], shapes=[(2,)], where="demo")
>>> loaded.iterations, loaded.learning_rate, loaded.slots[0]["velocity"].shape
(3, 0.1, (2,))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_edu import validation as check
from tinygrad_edu.errors import CheckpointError

__all__ = ["Loaded", "flatten", "read", "unflatten"]

_SCALARS = ("iterations", "learning_rate")


@dataclass
class Loaded:
    """A checked checkpoint: the step count, the stored rate (None: keep the current one) and,
    per parameter, ``{slot name: array}`` (arrays as stored: the caller casts and copies)."""

    iterations: int
    learning_rate: float | None
    slots: list[dict[str, np.ndarray]]


def flatten(
    name: str,
    slots: Sequence[Mapping[str, np.ndarray]],
    iterations: int,
    learning_rate: float | None,
) -> dict[str, Any]:
    """The flat state dict of ``slots[i]`` (parameter ``i``'s ``{slot: array}``); copies."""
    flat: dict[str, Any] = {"iterations": int(iterations)}
    if learning_rate is not None:
        flat["learning_rate"] = float(learning_rate)
    for i, arrays in enumerate(slots):
        flat.update({f"{name}/{slot}/{i}": array.copy() for slot, array in arrays.items()})
    return flat


def read(state: Mapping[str, Any], where: str) -> tuple[dict[str, Any], int]:
    """A plain dict copy of ``state`` (a dict or an ``np.load`` file) and its iteration count."""
    try:
        state = {str(k): state[k] for k in state}
        count = np.asarray(state["iterations"])
        iterations = int(count)
        if iterations < 0 or iterations != float(count):
            raise ValueError
    except (AttributeError, KeyError, TypeError, ValueError):
        raise CheckpointError(
            where=where,
            expected='a dict from state_dict() with an "iterations" count >= 0',
            got=repr(state)[:80],
            fix="pass the dict that opt.state_dict() returned",
        ) from None
    return state, iterations


def unflatten(
    state: Mapping[str, Any],
    *,
    name: str,
    slot_names: Sequence[str],
    shapes: Sequence[tuple[int, ...]],
    where: str,
    keep_rate: bool = False,
) -> Loaded:
    """Check ``state`` against the slots ``name`` keeps for parameters of ``shapes`` (every key
    present, none unexpected, shapes equal, values finite, a usable rate) and return its arrays.
    ``keep_rate``: ignore a stored rate (the optimizer follows a schedule)."""
    state, iterations = read(state, where)
    expected = {
        f"{name}/{slot}/{i}": shape for i, shape in enumerate(shapes) for slot in slot_names
    }
    given = set(state) - set(_SCALARS)
    missing, unexpected = sorted(set(expected) - given), sorted(given - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            where=where,
            expected=f"{len(expected)} state arrays for {len(shapes)} parameters"
            + (f" ({', '.join(sorted(expected)[:3])}, ...)" if expected else ""),
            got=f"missing {missing[:3]}, unexpected {unexpected[:3]}",
            fix=_mismatch_fix(name, unexpected),
        )
    arrays = {key: np.asarray(state[key]) for key in expected}
    for key, shape in expected.items():
        _check_array(key, arrays[key], shape, where)
    rate = None
    if "learning_rate" in state and not keep_rate:
        stored = np.asarray(state["learning_rate"])  # np.load gives a 0-d array
        rate = check.positive_real(
            "learning_rate",
            stored.item() if stored.ndim == 0 else stored,
            where,
            "opt.load_state_dict(opt.state_dict())",
        )
    slots = [
        {slot: arrays[f"{name}/{slot}/{i}"] for slot in slot_names} for i in range(len(shapes))
    ]
    return Loaded(iterations, rate, slots)


def _check_array(key: str, array: np.ndarray, shape: tuple[int, ...], where: str) -> None:
    if array.shape != shape:
        raise CheckpointError(
            where=where,
            expected=f"{key!r} of shape {shape}",
            got=f"shape {array.shape}",
            fix="the state belongs to a model with other layer sizes; build the same "
            "architecture, or continue without loading the optimizer state",
        )
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise CheckpointError(
            where=where,
            expected=f"finite values in {key!r}",
            got="NaN/inf values (the state was saved from a run that diverged)",
            fix="load an earlier checkpoint, or continue without the optimizer state "
            "(a new optimizer starts from zero moments)",
        )


def _mismatch_fix(name: str, unexpected: list[str]) -> str:
    other = {key.split("/")[0] for key in unexpected} - {name}
    if other:
        return (
            f"the state was saved by another optimizer ({', '.join(sorted(other))}), not by "
            f"one named {name!r}; create the same kind of optimizer (and name) to load it"
        )
    return (
        "the state was saved for another model or optimizer setting (momentum, amsgrad, "
        "centered, ...); use the same ones, or continue without loading the state"
    )
