"""What Dense and Conv2D share: an activation, a ``kernel`` and an optional ``bias``, with their
initializers and regularizers - one place for the arguments, the weights and their config."""

from __future__ import annotations

from typing import Any, Dict, Sequence

from .. import activations as _activations
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .. import validation as check


class ActivationAttribute:
    """A layer attribute holding an activation function: whatever is assigned - a Keras name,
    ``None`` (linear, as Keras' ``model.layers[-1].activation = None`` for logits) or a callable -
    is stored as the function ``activations.get`` gives (an unknown name is a ``ConfigError``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, layer: Any, owner: type | None = None) -> Any:
        return self if layer is None else layer.__dict__[self.slot]

    def __set__(self, layer: Any, value: Any) -> None:
        layer.__dict__[self.slot] = _activations.get(value)


class KernelBiasMixin:
    """Mixed into a ``Layer`` whose weights are Keras' ``kernel`` and ``bias``."""

    activation = ActivationAttribute()

    def _set_kernel_options(
        self,
        activation: Any,
        use_bias: bool,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
    ) -> None:
        self.activation = activation  # resolved now: a bad name fails here, not at a batch
        self.use_bias = check.flag("use_bias", use_bias, self.where, self.example(use_bias=False))
        self.kernel_initializer = _initializers.get(kernel_initializer)
        self.bias_initializer = _initializers.get(bias_initializer)
        # the arguments as given, for get_config (a name round-trips better than an object)
        self._regularizer_args = (kernel_regularizer, bias_regularizer, activity_regularizer)
        self.kernel_regularizer = _regularizers.get(kernel_regularizer)
        self.bias_regularizer = _regularizers.get(bias_regularizer)
        self.activity_regularizer = _regularizers.get(activity_regularizer)

    def _add_kernel_and_bias(self, kernel_shape: Sequence[int], bias_size: int) -> None:
        self.kernel = self.add_weight(
            "kernel",
            tuple(kernel_shape),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (
            self.add_weight(
                "bias", (bias_size,), self.bias_initializer, regularizer=self.bias_regularizer
            )
            if self.use_bias
            else None
        )

    def _kernel_config(self) -> Dict[str, Any]:
        kernel_reg, bias_reg, activity_reg = self._regularizer_args
        return {
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": kernel_reg,
            "bias_regularizer": bias_reg,
            "activity_regularizer": activity_reg,
        }
