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

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .. import validation as check
from ..errors import ShapeError
from ..tensor import Tensor
from .algebra import Algebra, Count, shape_map
from .base import Layer, Shape


class LayerNormalization(Layer):
    """``out = gamma * (x - mean) / sqrt(var + epsilon) + beta``, the statistics of each sample
    over ``axis``. Weights ``gamma`` (if ``scale``) then ``beta`` (if ``center``), each
    ``[input_shape[axis]]``: 2 * features parameters by default, all trainable."""

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
        self.axis = check.axis("axis", axis, self.where, self.example(axis=-1))
        self.feature_axis = self.axis  # the base checks this axis' size after build
        self.epsilon = check.positive_real(
            "epsilon", epsilon, self.where, self.example(epsilon=1e-3)
        )
        self.center = check.flag("center", center, self.where, self.example(center=False))
        self.scale = check.flag("scale", scale, self.where, self.example(scale=False))
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None

    def build(self, input_shape: Shape) -> None:
        ndim = len(input_shape)
        if not -ndim < self.axis < ndim or self.axis % ndim == 0:
            raise ShapeError(
                where=self.where,
                expected=f"axis {self.axis} to be a feature axis of a "
                f"{ndim}-d input (1..{ndim - 1} or -1..{1 - ndim}, not the batch axis)",
                got=f"input shape {tuple(input_shape)}",
                fix="LayerNormalization(axis=-1)  # normalize over the last axis",
            )
        self.expected_ndim = ndim
        n = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", n, self.gamma_initializer, regularizer=self.gamma_regularizer
            )
        if self.center:
            self.beta = self.add_weight(
                "beta", n, self.beta_initializer, regularizer=self.beta_regularizer
            )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        axis = self.axis % x.ndim
        features = tuple(-1 if a == axis else 1 for a in range(x.ndim))  # broadcasts [F]
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
        n = self.input_shape[self.axis]
        formula = ("gamma*" if self.scale else "") + "(x-mean)/sqrt(var+eps)"
        formula += "+beta" if self.center else ""
        note = f"{formula}, per sample over axis {self.axis}"
        count = Count(((self.scale + self.center, n),) if self.scale or self.center else ())
        return shape_map(self.input_shape, self.output_shape, note=note, count=count)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "beta_regularizer": self.beta_regularizer,
            "gamma_regularizer": self.gamma_regularizer,
        }


__all__ = ["LayerNormalization"]
