"""The input checks every layer runs before numpy can fail, and the hooks that write their fix.

``InputChecks.check_input(shape)`` refuses inputs of the wrong rank or feature size with a
teaching ``ShapeError``. Its "Fix:" line comes from hooks a layer family refines:
``diagnose_rank`` (wrong number of axes) and ``diagnose_features`` (wrong size on the feature
axis). A wrong rank in the layer's own ``input_shape`` is a mistake in the declaration, not in the
data, and gets a fix that rewrites the declaration: ``SimpleRNN(10, input_shape=(3,))`` ->
``SimpleRNN(10, input_shape=(3, 1))``. Mistakes only the whole model reveals (a recurrent layer
fed a last state, a forgotten ``Flatten``) are recognized in ``layers/recognizers.py``.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from .._shapes import fmt_shape
from ..errors import ShapeError
from .arguments import layer_code

Shape = Tuple[Optional[int], ...]


class InputChecks:
    """Mixed into ``Layer``: ``check_input`` and its diagnosis hooks (see the module docstring).

    Reads the layer's ``expected_ndim``/``min_ndim``, ``feature_axis``, ``input_shape`` (once
    built) and ``_declared_input_shape`` (from ``input_shape=``)."""

    def accept_input_shape(self, shape: Tuple[int, ...]) -> None:
        """``check_input(shape)``, skipped when ``shape`` is the one accepted last time (a
        training loop feeds the same batch shape again and again)."""
        if shape != self._accepted_shape:
            self.check_input(shape)
            self._accepted_shape = shape

    def check_input(self, shape: Sequence[Optional[int]]) -> None:
        """Raise a teaching ``ShapeError`` if inputs of ``shape`` cannot go through this layer."""
        shape = tuple(shape)
        want = self.input_shape or self._declared_input_shape
        rank_ok = (
            len(shape) == self.expected_ndim
            if self.expected_ndim is not None
            else len(shape) >= self.min_ndim
        )
        if not rank_ok and self._checking_declaration(shape):
            raise self._declaration_error(shape)
        if not rank_ok:
            raise ShapeError(
                where=self.where,
                expected=f"input shape {self._expected_text(want, len(shape))}",
                got=fmt_shape(shape),
                fix=self.diagnose_rank(shape, want),
            )
        if (
            want is not None
            and self.feature_axis is not None
            and (len(want) == len(shape) or (self.feature_axis < 0 and len(shape) >= 2))
        ):
            ax = self.feature_axis
            if want[ax] is not None and shape[ax] is not None and shape[ax] != want[ax]:
                raise ShapeError(
                    where=self.where,
                    expected=f"input shape {fmt_shape(want, 'batch')} "
                    f"({want[ax]} features on axis {ax})",
                    got=fmt_shape(shape, "batch") if shape[0] is None else str(shape),
                    fix=self.diagnose_features(shape, want),
                )
        if any(d == 0 for d in shape[1:]):
            raise ShapeError(
                where=self.where,
                expected="non-empty axes",
                got=str(shape),
                fix="check how the array was sliced",
            )

    def _expected_text(self, want: Optional[Shape], got_ndim: int) -> str:
        if want is not None:
            return fmt_shape(want, "batch")
        if self.expected_ndim is not None:
            return f"of rank {self.expected_ndim} (batch axis included)"
        return f"of rank >= {self.min_ndim} (batch axis included)"

    # ------------------------------------------------------------------ the declaration
    def _checking_declaration(self, shape: Shape) -> bool:
        """True while the layer checks its own ``input_shape`` (building from it)."""
        return self.input_shape is None and shape == self._declared_input_shape

    def input_axis_names(self) -> Tuple[str, ...]:
        """The axes an input has after the batch axis, for messages: recurrent layers read
        (timesteps, features); image layers say their own."""
        return ("timesteps", "features") if self.expected_ndim == 3 else ()

    def _declaration_error(self, shape: Shape) -> ShapeError:
        """``input_shape`` itself has the wrong number of sizes; one missing is the feature axis
        (size 1 added where this layer reads features: last, or first for channels_first)."""
        sizes, axes = shape[1:], self.input_axis_names()
        need = (self.expected_ndim or self.min_ndim) - 1
        named = f" ({', '.join(axes)})" if axes else ""
        if len(sizes) == need - 1 and axes:
            first = self.feature_axis == 1
            fixed = (1, *sizes) if first else (*sizes, 1)
            missing = axes[0] if first else axes[-1]
            present = ", ".join(a for a in axes if a != missing)
            code = layer_code(self, drop=("input_dim", "batch_input_shape"), input_shape=fixed)
            fix = (
                f"input_shape={sizes} gives the {present} but no {missing} axis - with one "
                f"{missing[:-1]}: {code}, and the data shaped to match: "
                f"x = {'x[:, None]' if first else 'x[..., None]'}"
            )
        else:
            fix = (
                f"give input_shape {need} sizes{named} without the batch axis, e.g. "
                + layer_code(
                    self,
                    drop=("input_dim", "batch_input_shape"),
                    input_shape=self.example_input_shape,
                )
            )
        return ShapeError(
            where=self.where,
            expected=f"input_shape with {need} sizes{named}, the batch axis left out",
            got=f"input_shape={sizes} ({len(sizes)} size{'s' * (len(sizes) != 1)})",
            fix=fix,
        )

    # ------------------------------------------------------------------ the hooks
    def diagnose_rank(self, shape: Shape, want: Optional[Shape]) -> str:
        """The fix for an input of the wrong rank; layers refine it (see the recognizers)."""
        if want is not None and tuple(shape) == tuple(want[1:]):
            return (
                "this looks like one sample without a batch axis - use x[None, ...] or "
                f"x.reshape(1, {', '.join(str(d) for d in shape)})"
            )
        need = self.expected_ndim or self.min_ndim
        return (
            f"{type(self).__name__} needs {need} axes (the first is the batch); "
            "reshape your data or put a Flatten/Reshape layer before it"
        )

    def diagnose_features(self, shape: Shape, want: Shape) -> str:
        ax = self.feature_axis
        return (
            f"the layer was built for {want[ax]} input features but got {shape[ax]}: "
            f"give it data with {want[ax]} features, or change the previous layer / "
            "input_shape so they agree"
        )


__all__ = ["InputChecks"]
