"""Library settings: whether layers use their fused ops, and the default image data format.

Layers with a fused op (``Dense``, ``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``,
``SimpleRNN``, ``LSTM``, ``GRU``) can also run a reference form made of plain Tensor ops, slower
but easy to step through. Which one a layer runs follows one rule, checked at every call:

- ``fused=True`` or ``fused=False`` given to the layer always wins;
- ``fused=None`` (the default) follows the setting: ``is_fused_enabled()``, True unless changed.

The setting lives in a context variable, like grad mode: each thread (and each asyncio task) has
its own, so ``with config.fused(False):`` in one thread never changes the path another thread's
layers take.

>>> from tinygrad_edu import config
>>> with config.fused(False):
...     config.is_fused_enabled()
False
>>> config.is_fused_enabled()
True

The image data format (Keras' ``image_data_format``) is what image layers (``Conv2D``, the
poolings, ``Flatten``) built with ``data_format=None`` use: ``"channels_last"`` (images
``(batch, height, width, channels)``) unless set. Ported Theano-ordered code (Keras 1's
``dim_ordering='th'``) sets it once, before building the model:

>>> config.image_data_format()
'channels_last'
>>> with config.data_format("channels_first"):
...     config.image_data_format()
'channels_first'

Both settings live in context variables, not in module globals: the standard forbids
process-global mutable state one thread can change under another, so a setting made in one thread
(or asyncio task) - ``set_image_data_format`` included - never changes what another one builds.
A layer reads the data format once, when it is made; changing the setting later does not change
layers that exist.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Dict, Optional

from . import validation as check

#: True where layers with ``fused=None`` run their fused op (the default).
_fused_enabled: ContextVar[bool] = ContextVar("tinygrad_edu_fused_enabled", default=True)

#: the layout image layers with ``data_format=None`` take (Keras' default: channels_last).
_image_data_format: ContextVar[str] = ContextVar(
    "tinygrad_edu_image_data_format", default="channels_last"
)
IMAGE_DATA_FORMATS = ("channels_last", "channels_first")


def _checked(enabled: Any, function: str) -> bool:
    return check.flag("enabled", enabled, f"config.{function}()", f"config.{function}(False)")


class _Scoped:
    """A context manager that sets ``variable`` to ``self.value`` inside the block and restores
    the previous value on exit (nestable; one object can be entered again)."""

    variable: ContextVar

    def __init__(self, value: Any) -> None:
        self.value = value
        self._tokens: list = []

    def __enter__(self) -> Any:
        self._tokens.append(self.variable.set(self.value))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.variable.reset(self._tokens.pop())


class fused(_Scoped):
    """Context manager: layers with ``fused=None`` run the fused op (True) or the reference
    form (False) inside the block; the previous setting comes back on exit. Nestable, reusable.

    >>> from tinygrad_edu import config
    >>> with config.fused(False):
    ...     with config.fused(True):
    ...         config.is_fused_enabled()
    True
    """

    variable = _fused_enabled

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = _checked(enabled, "fused")
        super().__init__(self.enabled)


def set_fused(enabled: bool) -> None:
    """Set the setting for the rest of the current context (this thread or async task) only;
    other threads keep theirs. Prefer ``with config.fused(...):``, which also restores it."""
    _fused_enabled.set(_checked(enabled, "set_fused"))


def is_fused_enabled() -> bool:
    """The setting in this thread / async task: True when layers with ``fused=None`` fuse."""
    return _fused_enabled.get()


def use_fused(layer_choice: Optional[bool]) -> bool:
    """The rule: a layer's explicit ``fused=True/False`` wins; ``None`` follows the setting."""
    return _fused_enabled.get() if layer_choice is None else layer_choice  # is_fused_enabled()


def fused_config(layer_choice: Optional[bool]) -> Dict[str, bool]:
    """A layer's ``get_config`` entry: ``{"fused": ...}`` only when it was given explicitly."""
    return {} if layer_choice is None else {"fused": layer_choice}


def _checked_format(value: Any, function: str) -> str:
    example = f"config.{function}('channels_first')"
    return check.choice("data_format", value, IMAGE_DATA_FORMATS, f"config.{function}()", example)


def image_data_format() -> str:
    """Keras' name: ``"channels_last"`` or ``"channels_first"``, the layout image layers made
    with ``data_format=None`` take, in this thread / async task."""
    return _image_data_format.get()


def set_image_data_format(data_format: str) -> None:
    """Keras' name: set the default image layout for the rest of the current context (this
    thread or async task) only; other threads keep theirs. ``with config.data_format(...):``
    also restores it. Ported Theano-ordered code calls ``set_image_data_format("channels_first")``
    before building its model."""
    _image_data_format.set(_checked_format(data_format, "set_image_data_format"))


class data_format(_Scoped):
    """Context manager: image layers made inside the block with ``data_format=None`` take
    ``data_format`` ("channels_last" or "channels_first"); the previous setting comes back on exit.

    >>> from tinygrad_edu import config
    >>> from tinygrad_edu.layers import Conv2D
    >>> with config.data_format("channels_first"):
    ...     Conv2D(8, 3).data_format
    'channels_first'
    """

    variable = _image_data_format

    def __init__(self, data_format: str) -> None:
        self.data_format = _checked_format(data_format, "data_format")
        super().__init__(self.data_format)


__all__ = [
    "fused",
    "set_fused",
    "is_fused_enabled",
    "use_fused",
    "image_data_format",
    "set_image_data_format",
    "data_format",
]
