"""The build protocol every layer follows, as two wrappers ``Layer`` puts around each subclass's
``build`` and ``compute_output_shape`` (in ``Layer.__init_subclass__``):

- ``build(input_shape)`` validates the shape, builds once (a second call with a compatible shape
  does nothing, an incompatible one is a ``ShapeError``), remembers the shape with the batch axis
  as None, and takes back the weights a failing build had added (``Layer._run_build``);
- ``compute_output_shape(input_shape)`` refuses a malformed or incompatible shape first.

The layer provides ``_building``, ``built``, ``_checked_build_shape``, ``check_input``,
``_run_build``, ``where`` and ``example_input_shape`` (``layers.base.Layer`` does).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .. import validation as check


def building(build: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Wrap a layer's ``build`` in the build protocol (see the module docstring)."""

    @functools.wraps(build)
    def wrapper(self: Any, input_shape: Any) -> None:
        if self._building:  # super().build(...) from inside a subclass's build
            return build(self, input_shape)
        shape = self._checked_build_shape(input_shape, "build")
        if self.built:
            self.check_input(shape)  # compatible: nothing to do; else a ShapeError
            return None
        self._run_build(build, shape)
        return None

    return wrapper


def checked_output_shape(compute: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap ``compute_output_shape``: a malformed or incompatible shape is refused first."""

    @functools.wraps(compute)
    def wrapper(self: Any, input_shape: Any) -> Any:
        sizes = check.shape(
            "input_shape (batch axis first)",
            input_shape,
            f"{self.where}.compute_output_shape",
            f"layer.compute_output_shape((None, {', '.join(map(str, self.example_input_shape))}))",
        )
        self.check_input(sizes)
        return compute(self, sizes)

    return wrapper


__all__ = ["building", "checked_output_shape"]
