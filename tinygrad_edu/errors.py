"""Error types that teach: each says where it happened, what was expected, what came, and the fix.

Every error carries the fields ``where``, ``expected``, ``got`` and ``fix`` so tests (and tools) can
assert on them without parsing the wording; ``str(err)`` renders them in one consistent format::

    ShapeError in layer 'dense' (Dense): expected input shape (batch, 23), got (23,).
    Fix: this looks like one sample without a batch axis - use x[None, :] or x.reshape(1, 23).
"""

from __future__ import annotations


class TinygradEduError(Exception):
    """Base of every error the library raises on purpose."""

    def __init__(
        self,
        message: str | None = None,
        *,
        where: str | None = None,
        expected: str | None = None,
        got: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.where = where
        self.expected = expected
        self.got = got
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        head = type(self).__name__
        if self.where:
            head += f" in {self.where}"
        parts = []
        if self.expected is not None or self.got is not None:
            parts.append(f"expected {self.expected}, got {self.got}.")
        if self.message:
            parts.append(self.message.rstrip(".") + ".")
        text = head + ": " + " ".join(parts) if parts else head
        if self.fix:
            text += f"\nFix: {self.fix}"
        return text

    def __reduce__(self):  # keep fields when pickled (e.g. across multiprocessing)
        return (_rebuild, (type(self), self.message, self.where, self.expected, self.got, self.fix))


def _rebuild(cls, message, where, expected, got, fix):
    return cls(message, where=where, expected=expected, got=got, fix=fix)


class ShapeError(TinygradEduError, ValueError):
    """An array has the wrong rank or size for the op or layer it was given to."""


class ConfigError(TinygradEduError, ValueError):
    """A hyperparameter or argument is invalid (``units=0``, ``rate=1.5``, unknown name, ...)."""


class DataError(TinygradEduError, ValueError):
    """Training/inference data is unusable (NaN, wrong dtype, label out of range, ...)."""


class NotBuiltError(TinygradEduError, RuntimeError):
    """Something needs a layer's or model's weights before they exist."""


class GradientShapeError(TinygradEduError, RuntimeError):
    """An op's backward returned a gradient whose shape does not match its input."""


class GradcheckError(TinygradEduError, AssertionError):
    """Analytic and numerical gradients disagree beyond the tolerance."""


class TensorIndexError(ShapeError, IndexError):
    """An index is out of range or of the wrong kind; an ``IndexError`` too, so iteration,
    ``list(t)`` and unpacking stop where Python expects."""


class InplaceModificationError(TinygradEduError, RuntimeError):
    """A tensor an op saved for backward was written in place before ``backward()``."""


class CheckpointError(TinygradEduError, OSError):
    """A saved model/weights file is missing, corrupt, or from a different architecture."""


class DivergenceError(TinygradEduError, FloatingPointError):
    """Training diverged: a loss, a gradient or an updated weight became NaN/inf. The step that
    met it was not applied (or was undone), so the weights stay the last finite ones."""


def suggest(name: str, valid) -> str:
    """Return a 'did you mean' hint listing the valid names, closest first."""
    import difflib

    valid = sorted(valid)
    close = difflib.get_close_matches(str(name), valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return hint + "valid names: " + ", ".join(repr(v) for v in valid)


def resolve(identifier, table, where: str, kind: str):
    """``identifier`` looked up by name in ``table`` (case-insensitive), or returned as is when
    callable; anything else raises a ``ConfigError`` listing the valid names, closest first.
    The ``get`` of activations, initializers, regularizers, losses and metrics share it."""
    if isinstance(identifier, str):
        value = table.get(identifier.lower())
        if value is not None:
            return value
    elif callable(identifier):
        return identifier
    raise ConfigError(
        where=where,
        expected=f"{kind} name or a callable",
        got=repr(identifier),
        fix=suggest(str(identifier), table),
    )


__all__ = [
    "TinygradEduError",
    "ShapeError",
    "ConfigError",
    "DataError",
    "NotBuiltError",
    "GradientShapeError",
    "GradcheckError",
    "TensorIndexError",
    "InplaceModificationError",
    "CheckpointError",
    "DivergenceError",
    "suggest",
    "resolve",
]
