"""What the commands share: exit codes, the errors of pasted model text, and refusing an option
with one message."""

from __future__ import annotations

from typing import Callable

from ..errors import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_REJECTED, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141  # as a shell reports SIGINT/SIGPIPE


class OptionError(ValueError):
    """A command-line option outside what the command accepts (message = what to pass)."""


class ModelTextError(ConfigError):
    """The pasted model text uses something other than layer calls with literal arguments."""


class FunctionalModelError(ModelTextError):
    """The pasted text builds its model with the Keras functional API (``Input``, layers called
    on tensors, ``Model(inputs, outputs)``) or by subclassing ``Model``: not available yet."""


def reject(message: str, print_fn: Callable[[str], None]) -> int:
    """Print why the input was refused; the exit code that says so."""
    print_fn(message)
    return EXIT_REJECTED


__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "FunctionalModelError",
    "ModelTextError",
    "OptionError",
    "reject",
]
