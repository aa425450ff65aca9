"""The options BatchNormalization and LayerNormalization share: the normalized value
``x_hat = (x - mean) / sqrt(var + epsilon)`` becomes ``gamma * x_hat + beta``, with ``scale``
(learn gamma) and ``center`` (learn beta), their initializers and regularizers - checked and
stored once here, and given back in ``get_config`` the same way."""

from __future__ import annotations

from typing import Any, Dict

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .. import validation as check


class GammaBetaOptions:
    """Mixed into a normalization ``Layer`` (it uses the layer's ``where`` and ``example``)."""

    def _set_gamma_beta(
        self,
        epsilon: Any,
        center: Any,
        scale: Any,
        beta_initializer: Any,
        gamma_initializer: Any,
        beta_regularizer: Any,
        gamma_regularizer: Any,
    ) -> None:
        where, example = self.where, self.example  # type: ignore[attr-defined]
        self.epsilon = check.positive_real("epsilon", epsilon, where, example(epsilon=1e-3))
        self.center = check.flag("center", center, where, example(center=False))
        self.scale = check.flag("scale", scale, where, example(scale=False))
        self.beta_initializer = _initializers.get(beta_initializer)
        self.gamma_initializer = _initializers.get(gamma_initializer)
        self.beta_regularizer = _regularizers.get(beta_regularizer)
        self.gamma_regularizer = _regularizers.get(gamma_regularizer)

    def _gamma_beta_config(self) -> Dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _initializers.serialize(self.beta_initializer),
            "gamma_initializer": _initializers.serialize(self.gamma_initializer),
            "beta_regularizer": self.beta_regularizer,
            "gamma_regularizer": self.gamma_regularizer,
        }


__all__ = ["GammaBetaOptions"]
