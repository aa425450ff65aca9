"""``BatchNormalization``: normalize each feature with batch statistics (training) or with running
averages of them (inference), then scale and shift.

Composed from Tensor ops (mean, var, sqrt, ...), so autodiff gives the gradient through the batch
statistics too.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from .. import capture_hooks
from .. import initializers as _initializers
from .. import validation as check
from ..errors import ShapeError
from ..tensor import Tensor
from .algebra import Algebra, Count, shape_map
from .base import Layer, Shape
from .gamma_beta import GammaBetaOptions


class BatchNormalization(GammaBetaOptions, Layer):
    """``out = gamma * (x - mean) / sqrt(var + epsilon) + beta``, per feature on ``axis``.

    Training (``training=True``): ``mean``/``var`` are the batch's, over every axis but ``axis``
    (biased variance, dividing by N), and the running averages move towards them:
    ``moving = moving * momentum + batch * (1 - momentum)``.
    Inference: ``mean``/``var`` are ``moving_mean``/``moving_variance``. As in Keras, a layer with
    ``trainable=False`` always runs in inference mode (frozen statistics, e.g. fine-tuning).

    Shapes: ``[B, F] -> [B, F]``, ``[B, H, W, C] -> [B, H, W, C]`` (``axis=1`` for channels_first).
    Weights (Keras order): ``gamma (F,)``, ``beta (F,)``, ``moving_mean (F,)``,
    ``moving_variance (F,)``; the last two are non-trainable, so ``4F`` params, ``2F`` trainable.

    >>> bn = BatchNormalization()
    >>> bn.build_for((None, 64))
    (None, 64)
    >>> bn.count_params(), sum(w.size for w in bn.non_trainable_weights)
    (256, 128)
    """

    min_ndim = 2  # a batch axis and at least one feature axis

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.axis = check.axis("axis", axis, self.where, self.example(axis=1))
        self.feature_axis = self.axis  # the base checks this axis' size after build
        self.momentum = check.fraction(
            "momentum", momentum, self.where, self.example(momentum=0.99)
        )
        self._set_gamma_beta(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
        )
        self.moving_mean_initializer = _initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = _initializers.get(moving_variance_initializer)

    def build(self, input_shape: Shape) -> None:
        ndim = len(input_shape)
        if not -ndim < self.axis < ndim or self.axis % ndim == 0:
            raise ShapeError(
                where=self.where,
                expected=f"axis {self.axis} to be a feature axis of a "
                f"{ndim}-d input (1..{ndim - 1} or -1..{1 - ndim}, not the batch axis)",
                got=f"input shape {tuple(input_shape)}",
                fix="axis=-1 for channels_last data, axis=1 for channels_first",
            )
        self.expected_ndim = ndim  # statistics per feature of this rank only
        n = (input_shape[self.axis],)
        self.gamma = (
            self.add_weight("gamma", n, self.gamma_initializer, regularizer=self.gamma_regularizer)
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight("beta", n, self.beta_initializer, regularizer=self.beta_regularizer)
            if self.center
            else None
        )
        self.moving_mean = self.add_weight(
            "moving_mean", n, self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", n, self.moving_variance_initializer, trainable=False
        )

    def _axes(self, ndim: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
        """(the axes statistics reduce over, the shape that broadcasts a (F,) vector on axis)."""
        feature = self.axis % ndim
        reduce_axes = tuple(a for a in range(ndim) if a != feature)
        shape = tuple(-1 if a == feature else 1 for a in range(ndim))
        return reduce_axes, shape

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        # a captured step (tinygrad_edu.jit) replays only while these settings stay the same
        capture_hooks.guard(self._settings, self.name)
        reduce_axes, bshape = self._axes(x.ndim)
        if training and self.trainable and x.shape[0] > 0:  # an empty batch has no statistics
            mean = x.mean(axis=reduce_axes, keepdims=True)
            var = x.var(axis=reduce_axes, keepdims=True)  # biased (ddof=0), as Keras
            # a stateful update outside the graph: a replayed step repeats it on its statistics
            capture_hooks.stateful_call(
                self._update_moving,
                (mean._data.reshape(-1), var._data.reshape(-1)),
                self.name,
            )
        else:
            mean = self.moving_mean.reshape(bshape)
            var = self.moving_variance.reshape(bshape)
        out = (x - mean) / (var + self.epsilon).sqrt()
        if self.gamma is not None:
            out = out * self.gamma.reshape(bshape)
        if self.beta is not None:
            out = out + self.beta.reshape(bshape)
        return out

    def _settings(self) -> Tuple[bool, bool, float, float]:
        return self.training, self.trainable, self.momentum, self.epsilon

    def _update_moving(self, batch_mean: np.ndarray, batch_var: np.ndarray) -> None:
        """moving = moving * momentum + batch * (1 - momentum), in place (outside the graph),
        counted as an in-place write (a graph that saved the old statistics refuses backward)."""
        for moving, batch in ((self.moving_mean, batch_mean), (self.moving_variance, batch_var)):
            array = moving._data
            np.multiply(array, self.momentum, out=array)
            array += batch * (1 - self.momentum)
            moving._bump_version()

    def algebra(self) -> Algebra:
        n = self.input_shape[self.axis]
        formula = ("gamma*" if self.scale else "") + "(x-mean)/sqrt(var+eps)"
        formula += "+beta" if self.center else ""
        count = Count(((2 + self.scale + self.center, n),), non_trainable=2 * n)
        return shape_map(self.input_shape, self.output_shape, note=formula, count=count)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            **self._gamma_beta_config(),
            "moving_mean_initializer": _initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _initializers.serialize(
                self.moving_variance_initializer
            ),
        }


__all__ = ["BatchNormalization"]
