"""``LayerNormalization`` (Keras semantics): each sample normalized over its own features.

Unlike ``BatchNormalization`` the statistics are per sample, over ``axis`` (the last by
default), so training and inference compute the same thing and there are no moving averages::

    mean = mean of x over axis,   var = mean of (x - mean)^2 over axis   (biased, as Keras)
    out  = gamma * (x - mean) / sqrt(var + epsilon) + beta               gamma, beta: [features]

Composed from Tensor ops (mean, sqrt, ...): autodiff gives the gradient through the statistics.

>>> import numpy as np
>>> ln = LayerNormalization()
>>> ln(np.arange(6.0).reshape(2, 3)).shape
(2, 3)
>>> ln.count_params()
6
"""

from __future__ import annotations

from typing import Any

from .. import validation as check
from ..errors import ShapeError
from ..tensor import Tensor
from .algebra import Algebra, Count, shape_map
from .base import Layer, Shape
from .gamma_beta import GammaBetaOptions


class LayerNormalization(GammaBetaOptions, Layer):
    """``out = gamma * (x - mean) / sqrt(var + epsilon) + beta``, the statistics of each sample
    over ``axis``. Weights ``gamma`` (if ``scale``) then ``beta`` (if ``center``), each
    ``[input_shape[axis]]``: 2 * features parameters by default, all trainable. ``axis`` may
    list several axes (``[-2, -1]``): the statistics then span them all and gamma/beta have their
    sizes."""

    min_ndim = 2  # a batch axis and at least one feature axis

    def __init__(
        self,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        example = self.example(axis=-1)
        if isinstance(axis, (list, tuple)) and axis:  # Keras: several axes, e.g. [-2, -1]
            self.axis = tuple(check.axis("axis", a, self.where, example) for a in axis)
        else:
            self.axis = check.axis("axis", axis, self.where, example)
        self.feature_axis = self.axes[-1]  # the base checks this axis' size after build
        self._set_gamma_beta(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
        )
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None

    @property
    def axes(self) -> tuple:
        """``axis`` as a tuple (an int is one axis)."""
        return self.axis if isinstance(self.axis, tuple) else (self.axis,)

    def _normalized_axes(self, ndim: int) -> tuple:
        """The axes as sorted indices >= 1 of a ``ndim``-d input."""
        for a in self.axes:
            if not -ndim < a < ndim or a % ndim == 0:
                raise ShapeError(
                    where=self.where,
                    expected=f"axis {a} to be a feature axis of a "
                    f"{ndim}-d input (1..{ndim - 1} or -1..{1 - ndim}, not the batch axis)",
                    got=f"axis={self.axis!r}",
                    fix="LayerNormalization(axis=-1)  # normalize over the last axis",
                )
        return tuple(sorted({a % ndim for a in self.axes}))

    def build(self, input_shape: Shape) -> None:
        self.expected_ndim = len(input_shape)
        n = tuple(input_shape[a] for a in self._normalized_axes(len(input_shape)))
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", n, self.gamma_initializer, regularizer=self.gamma_regularizer
            )
        if self.center:
            self.beta = self.add_weight(
                "beta", n, self.beta_initializer, regularizer=self.beta_regularizer
            )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        axis = self._normalized_axes(x.ndim)
        # gamma/beta [sizes of axis] broadcast against x: 1 on every other axis
        features = tuple(x.shape[a] if a in axis else 1 for a in range(x.ndim))
        mean = x.mean(axis=axis, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axis, keepdims=True)
        out = centered / (var + self.epsilon).sqrt()
        if self.gamma is not None:
            out = out * self.gamma.reshape(features)
        if self.beta is not None:
            out = out + self.beta.reshape(features)
        return out

    def algebra(self) -> Algebra:
        n = tuple(self.input_shape[a] for a in self._normalized_axes(len(self.input_shape)))
        formula = ("gamma*" if self.scale else "") + "(x-mean)/sqrt(var+eps)"
        formula += "+beta" if self.center else ""
        note = f"{formula}, per sample over axis {self.axis}"
        count = Count(((self.scale + self.center, *n),) if self.scale or self.center else ())
        return shape_map(self.input_shape, self.output_shape, note=note, count=count)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, **self._gamma_beta_config()}


__all__ = ["LayerNormalization"]
