"""Lockstep twins: an eager model and its replayed copy take the same batches and must stay
byte-equal after every step.

A *twin* is one model with its optimizer and a way to take a step. Two twins start as deep copies
of each other (``copy.deepcopy`` of the model and its optimizer together, so the optimizer still
updates that model's very tensors); one steps eagerly, the other through ``tinygrad_edu.jit`` (or
``compile(..., jit_compile=True)``). After every step ``assert_lockstep`` compares, by bytes
(``tobytes`` plus shape and dtype, so ``-0.0`` vs ``0.0`` or float32 vs float64 counts):

- what the step returned (loss, outputs, the metrics dict of ``train_on_batch``),
- every weight of the model, moving statistics included (``model.weights``),
- every optimizer slot (``optimizer.state_arrays()``) and ``optimizer.iterations``,
- the state of every random generator a layer holds (Dropout's ``_rng``: its
  ``bit_generator.state``), so a replayed mask draws the same stream as eager.

``assert_replayed`` makes sure the jitted twin really replayed: a test that only ever ran
eagerly would compare eager with eager and prove nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tinygrad_edu import Tensor

Fingerprint = tuple[tuple[int, ...], str, bytes]


# ---------------------------------------------------------------------------- byte fingerprints
def fingerprint(value: Any) -> Any:
    """``value`` as something ``==`` compares bit for bit: arrays (and Tensors) become
    ``(shape, dtype, bytes)``, floats their 8 bytes (so -0.0 != 0.0 and NaN == NaN), containers
    recursively; anything else stays as it is."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return (array.shape, array.dtype.str, array.tobytes())
    if isinstance(value, (float, np.floating)):
        return ("float", np.float64(value).tobytes())
    if isinstance(value, dict):
        return {k: fingerprint(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [fingerprint(v) for v in value]
    return value


def layers_of(model: Any) -> list[Any]:
    """Every layer inside ``model``, wrapped and nested ones included, depth first."""
    found: list[Any] = []
    todo = list(getattr(model, "layers", ()))
    while todo:
        layer = todo.pop(0)
        if any(layer is seen for seen in found):
            continue
        found.append(layer)
        for attr in vars(layer).values():
            if hasattr(attr, "weights") and hasattr(attr, "call") and attr is not model:
                todo.append(attr)
            elif isinstance(attr, (list, tuple)):
                todo.extend(a for a in attr if hasattr(a, "weights") and hasattr(a, "call"))
    return found


def generator_states(model: Any) -> dict[str, Any]:
    """``{"<layer>.<attribute>": bit generator state}`` of every numpy Generator a layer holds."""
    states = {}
    for layer in layers_of(model):
        for attr, value in vars(layer).items():
            if isinstance(value, np.random.Generator):
                states[f"{layer.name}.{attr}"] = copy.deepcopy(value.bit_generator.state)
    return states


def state_of(model: Any, optimizer: Any) -> dict[str, Any]:
    """Everything a training step may change, as fingerprints (see the module docstring)."""
    return {
        "weights": {f"{i}:{w.name}": fingerprint(w._data) for i, w in enumerate(model.weights)},
        "slots": [fingerprint(a) for a in optimizer.state_arrays()] if optimizer else [],
        "iterations": getattr(optimizer, "iterations", None),
        "generators": generator_states(model),
    }


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """A readable path to the first place two fingerprints differ, or None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            found = first_difference(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if a == b:
        return None
    if isinstance(a, tuple) and len(a) == 3 and isinstance(a[2], bytes) and a[:2] == b[:2]:
        return f"{path}: {_byte_diff(a, b)}"
    return f"{path}: {str(a)[:80]} vs {str(b)[:80]}"


def _byte_diff(a: tuple, b: tuple) -> str:
    """How two same-shaped arrays' fingerprints differ: elements whose bytes differ (-0.0 vs 0.0
    counts), the largest numeric difference, the first differing element."""
    shape, dtype = a[0], np.dtype(a[1])
    size = int(np.prod(shape, dtype=np.int64))
    rows = (max(size, 1), -1)
    differ = np.frombuffer(a[2], np.uint8).reshape(rows) != np.frombuffer(b[2], np.uint8).reshape(
        rows
    )
    differ = differ.any(axis=1)[:size]
    x, y = np.frombuffer(a[2], dtype), np.frombuffer(b[2], dtype)
    diff = np.abs(x.astype(np.float64) - y.astype(np.float64)) if dtype.kind in "fiub" else x != y
    first = int(np.argmax(differ)) if size else 0
    return (
        f"bytes differ ({int(differ.sum())} of {size}, max |diff| "
        f"{float(np.max(diff)) if size else 0:.3g}, first at flat index {first})"
    )


# ---------------------------------------------------------------------------- the twins
@dataclass
class Twin:
    """One model, its optimizer, and ``step(x, y)`` taking one training step on it."""

    model: Any
    optimizer: Any
    step: Callable[..., Any]

    def state(self) -> dict[str, Any]:
        return state_of(self.model, self.optimizer)


def loop_step(model: Any, optimizer: Any, loss_fn: Callable[..., Tensor]) -> Callable:
    """The PyTorch-style step a user writes: forward, loss, backward, update, forget grads.
    Returns ``(output, loss)`` as Tensors, so the jit's copies are compared too."""

    def step(x: Any, y: Any) -> tuple[Tensor, Tensor]:
        out = model(x, training=True)
        loss = loss_fn(y, out)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return out, loss

    return step


def loop_twins(
    model: Any, optimizer: Any, loss_fn: Callable[..., Tensor], jit: Callable
) -> tuple[Twin, Twin]:
    """(eager twin, jitted twin) of a PyTorch-style loop: the second is a deep copy of
    ``(model, optimizer)`` stepping through ``jit(loop_step(...))``."""
    model2, optimizer2 = copy.deepcopy((model, optimizer))
    eager = Twin(model, optimizer, loop_step(model, optimizer, loss_fn))
    jitted = Twin(model2, optimizer2, jit(loop_step(model2, optimizer2, loss_fn)))
    return eager, jitted


def assert_lockstep(eager: Twin, jitted: Twin, returned: tuple[Any, Any], where: str) -> None:
    """Raise AssertionError naming the first difference between the twins after a step
    (``returned`` = what each twin's step returned)."""
    found = first_difference(fingerprint(returned[0]), fingerprint(returned[1]), "returned")
    found = found or first_difference(eager.state(), jitted.state(), "state")
    assert found is None, f"{where}: the replayed twin diverged from eager at {found}"


def run_lockstep(
    eager: Twin,
    jitted: Twin,
    batches: Iterable[tuple[Any, ...]],
    between: Callable[[int, Twin], Any] | None = None,
) -> int:
    """Step both twins through ``batches`` and compare after each step; ``between(i, twin)``
    runs on each twin after step ``i`` (change the learning rate, evaluate, ...) and what it
    returns is compared too. Returns the number of steps."""
    assert_lockstep(eager, jitted, (None, None), "before the first step")
    n = 0
    for n, batch in enumerate(batches, 1):
        returned = (eager.step(*batch), jitted.step(*batch))
        assert_lockstep(eager, jitted, returned, f"step {n} (batch {len(batch[0])})")
        if between is not None:
            extra = (between(n, eager), between(n, jitted))
            assert_lockstep(eager, jitted, extra, f"after step {n}'s in-between call")
    return n


def jit_step_of(twin: Twin) -> Any:
    """The JitStep behind a twin: its ``step`` (loop family) or ``model.train_function``."""
    step = twin.step
    return step if hasattr(step, "stats") else twin.model.train_function


def assert_replayed(twin: Twin, at_least: int = 1) -> None:
    """The jitted twin really replayed (at least ``at_least`` steps) and its last step was a
    replay: a twin that silently ran eagerly would prove nothing."""
    step = jit_step_of(twin)
    assert step is not None, "no JitStep: the twin was not jitted"
    assert step.stats.get("replay", 0) >= at_least, f"too few replays: {step.stats}"
    assert step.last_mode == "replay", f"last step ran as {step.last_mode!r}: {step.stats}"


def ragged_batches(
    x: np.ndarray, y: np.ndarray, sizes: Iterable[int]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Consecutive slices of ``(x, y)`` of the given sizes, wrapping around."""
    out, start = [], 0
    for size in sizes:
        idx = np.arange(start, start + size) % len(x)
        out.append((x[idx], y[idx]))
        start += size
    return out
