"""What a replayed step (``tinygrad_edu.jit``) must check about a layer before it replays it.

A replay runs the numpy calls recorded at the capture without running the layer's ``call``, so
anything ``call`` reads from the layer's attributes is frozen at its captured value unless a
guard re-reads it: ``model.layers[-1].activation = None`` (Keras' way to get logits), an
``Activation`` layer's function swapped, ``layer.kernel`` replaced by a new Tensor (PyTorch's
``fc.weight = Parameter(...)``), a number setting such as ``epsilon`` changed. ``watch(layer)``,
called by ``Layer.__call__`` only while a step is being captured, registers guards that re-read
them at every replay (``tinygrad_edu.jit.step`` does the same for the models a step can see): a
change sends that call back to eager (and a new capture).

Read are the layer's own attributes (``vars(layer)``): functions, layers and weights by
identity, public settings (``bool``, ``int``, ``float``, ``str``, ``None``) by value, and the
settings of the configurable objects it holds (``kernel_regularizer.l2``). Private bookkeeping
that changes at every call (the last input shape) is left out.

>>> from tinygrad_edu.layers import Dense
>>> layer = Dense(3, "relu")
>>> layer.build((None, 2))
>>> before = reads(layer, *attribute_names(layer))()
>>> layer.activation = None
>>> reads(layer, *attribute_names(layer))() == before
False
"""

from __future__ import annotations

from typing import Any, Callable

from .. import capture_hooks
from ..capture_hooks import recorder  # Layer.__call__ asks it: is a step being captured?

#: settings compared by value (anything else public and not callable is left alone)
SETTINGS = (bool, int, float, str, type(None))


class Reads:
    """The objects a layer's call reads (compared by identity) and its settings (by value)."""

    __slots__ = ("objects", "values")

    def __init__(self, objects: tuple, values: tuple) -> None:
        self.objects, self.values = objects, values

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Reads)
            and len(self.objects) == len(other.objects)
            and all(a is b for a, b in zip(self.objects, other.objects))
            and self.values == other.values
        )

    __hash__ = None  # type: ignore[assignment] - compared, never hashed

    def __repr__(self) -> str:
        return f"Reads({len(self.objects)} objects, settings {self.values!r})"


def attribute_names(layer: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names compared by identity, names compared by value) among ``vars(layer)``."""
    same, equal = [], []
    weights = getattr(layer, "_weights", ())  # a Model's weights are its layers' (guarded there)
    for name, value in vars(layer).items():
        if callable(value) or any(value is w for w in weights):
            same.append(name)
        elif not name.startswith("_") and type(value) in SETTINGS:
            equal.append(name)
    return tuple(same), tuple(equal)


class Reader:
    """``reader()`` gives what ``layer`` holds now under the ``same`` and ``equal`` names; a
    missing attribute reads as the class ``Reads`` (never equal to anything the layer held)."""

    def __init__(self, layer: Any, same: tuple[str, ...], equal: tuple[str, ...]) -> None:
        self.attributes, self.same, self.equal = vars(layer), same, equal

    def __call__(self) -> Reads:
        get = self.attributes.get
        return Reads(
            tuple([get(n, Reads) for n in self.same]), tuple([get(n, Reads) for n in self.equal])
        )

    def condition(self, const: Callable[[Any], str], value: Reads) -> str:
        """The guard as one Python expression for a generated replay, true when anything
        differs from ``value``; ``const(obj)`` names an object in the replay's namespace."""
        d = const(self.attributes)
        checks = [f"{d}.get({n!r}) is not {const(o)}" for n, o in zip(self.same, value.objects)]
        checks += [f"{d}.get({n!r}, {d}) != {const(v)}" for n, v in zip(self.equal, value.values)]
        return " or ".join(checks) or "False"


def reads(layer: Any, same: tuple[str, ...], equal: tuple[str, ...]) -> Reader:
    """The reader of ``layer``'s attributes under those names."""
    return Reader(layer, same, equal)


def readers(layer: Any) -> list[Reader]:
    """The readers of ``layer`` and of the configurable objects it holds (a regularizer's
    ``l2``, a loss's ``from_logits``: objects with ``get_config`` that are not layers)."""
    found = [reads(layer, *attribute_names(layer))]
    for value in vars(layer).values():
        if callable(value) and hasattr(value, "get_config") and not hasattr(value, "_weights"):
            settings = attribute_names(value)[1] if hasattr(value, "__dict__") else ()
            if settings:
                found.append(reads(value, (), settings))
    return found


def watch(layer: Any) -> None:
    """Guard the captured step on what ``layer`` reads (see the module docstring)."""
    for reader in readers(layer):
        capture_hooks.guard(reader, layer.name)


__all__ = [
    "SETTINGS",
    "Reader",
    "Reads",
    "attribute_names",
    "readers",
    "reads",
    "recorder",
    "watch",
]
