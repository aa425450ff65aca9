"""``Conv1D`` (Keras semantics) and ``SequenceLayer``, the base of the layers on ``[B, T, C]``.

A 1-D convolution is a 2-D one on an image one pixel wide: ``[B, T, C]`` is seen as
``[B, T, 1, C]`` and the kernel ``[k, C, filters]`` as ``[k, 1, C, filters]``, so the same
``conv2d`` (the fused im2col op, or its reference under ``fused=False``) computes::

    out[b, t, f] = sum_{i,c} xp[b, t*s + i*d, c] * W[i, c, f] + b[f]

``padding="causal"`` pads ``d*(k-1)`` zeros before the sequence only, so output step t sees
inputs up to step t and never after (WaveNet's convolution); then it is a "valid" convolution.

``groups=g`` (Keras' argument) splits the C channels and the filters into g groups: filters
``j*F/g .. (j+1)*F/g - 1`` see only channels ``j*C/g .. (j+1)*C/g - 1``, so the kernel is
``[k, C/g, F]`` and the layer is g convolutions side by side, concatenated on the last axis
(``groups=C`` with F = C: a depthwise convolution). Its gradient is that of the slices, the
convolutions and the concatenation.

>>> import numpy as np
>>> layer = Conv1D(16, 3, padding="causal")
>>> layer(np.zeros((2, 10, 8))).shape
(2, 10, 16)
>>> layer.count_params()
400
"""

from __future__ import annotations

from typing import Any, ClassVar

from .. import activations as _activations
from .. import config as _config
from .. import validation as check
from .._shapes import conv_output_length
from ..errors import ConfigError, ShapeError
from ..functional import concatenate
from ..tensor import Tensor
from .algebra import Algebra, Operand, matmul
from .base import Layer, Shape
from .conv import conv2d, conv_config, data_format_choice, window_fits
from .core import activation_label
from .kernel_bias import KernelBiasMixin


class SequenceLayer(Layer):
    """Base of the layers on sequences ``[B, T, C]`` (``channels_first``: ``[B, C, T]``): the
    data format, and the view of a sequence as an image one pixel wide for the 2-D ops."""

    expected_ndim = 3
    example_input_shape = (10, 8)

    def _set_data_format(self, data_format: str | None) -> None:
        self.data_format = data_format_choice(data_format, self)
        self.channels_first = self.data_format == "channels_first"
        self.feature_axis = 1 if self.channels_first else -1

    def input_axis_names(self) -> tuple:
        return ("channels", "steps") if self.channels_first else ("steps", "channels")

    def steps(self, shape: Shape) -> int | None:
        return shape[2] if self.channels_first else shape[1]

    def sequence_shape(self, batch, steps, channels) -> Shape:
        return (batch, channels, steps) if self.channels_first else (batch, steps, channels)

    def to_image(self, x: Tensor) -> Tensor:
        """[B, T, C] (or [B, C, T]) -> the channels_last image [B, T, 1, C]."""
        x = x.transpose(0, 2, 1) if self.channels_first else x
        return x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])

    def from_image(self, x: Tensor) -> Tensor:
        """[B, T, 1, C] -> [B, T, C] (or [B, C, T])."""
        x = x.reshape(x.shape[0], x.shape[1], x.shape[3])
        return x.transpose(0, 2, 1) if self.channels_first else x

    def check_input(self, shape) -> None:
        super().check_input(shape)
        self.check_window(self.steps(tuple(shape)))

    def check_window(self, steps: int | None) -> None:
        """Subclasses with a sliding window check that it fits ``steps`` (before numpy fails)."""


class Conv1D(KernelBiasMixin, SequenceLayer):
    """1-D convolution: ``[B, T, C] (*) kernel [k, C, filters] + bias [filters]``.

    im2col form: ``[B*OT, k*C] @ [k*C, filters] + [filters] -> [B, OT, filters]``;
    OT = floor((T - d*(k-1) - 1) / s) + 1 ("valid") or ceil(T / s) ("same", "causal").
    Parameters: k*C*filters (+ filters).
    """

    example_args: ClassVar[dict] = {"filters": 16, "kernel_size": 3}
    PADDINGS = ("valid", "same", "causal")

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        fused: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = check.positive_int("filters", filters, self.where, self.example())
        self.kernel_size = self._single("kernel_size", kernel_size)
        self.strides = self._single("strides", strides)
        self.dilation_rate = self._single("dilation_rate", dilation_rate)
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ConfigError(
                where=self.where,
                expected="strides == 1 or dilation_rate == 1",
                got=f"strides={self.strides}, dilation_rate={self.dilation_rate}",
                fix="Keras does not combine strides > 1 with dilation > 1, e.g. "
                + self.example(dilation_rate=2),
            )
        self.groups = check.positive_int("groups", groups, self.where, self.example(groups=1))
        if self.filters % self.groups:
            raise ConfigError(
                where=self.where,
                expected="filters divisible by groups (each group gets filters / groups)",
                got=f"filters={self.filters}, groups={self.groups}",
                fix=self.example(filters=self.filters * self.groups, groups=self.groups),
            )
        example = self.example(padding="causal")
        self.padding = check.choice("padding", padding, self.PADDINGS, self.where, example)
        self._set_data_format(data_format)
        self._set_kernel_options(
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
        )
        self.fused = check.flag("fused", fused, self.where, self.example(fused=False), True)
        self.kernel: Tensor | None = None
        self.bias: Tensor | None = None

    def _single(self, name: str, value: Any) -> tuple:
        return check.int_tuple(name, value, self.where, self.example(**{name: 2}), length=1)

    def check_input(self, shape) -> None:
        super().check_input(shape)
        channels = tuple(shape)[self.feature_axis]
        if channels is not None and channels % self.groups:
            raise ShapeError(
                where=self.where,
                expected=f"input channels divisible by groups={self.groups}",
                got=f"{channels} channels (input shape {tuple(shape)})",
                fix=self.example(filters=self.filters, groups=1),
            )

    def check_window(self, steps) -> None:
        if self.padding != "causal":  # causal pads enough for any length
            window_fits(self, (steps, 1), (*self.kernel_size, 1), self.padding,
                        (*self.dilation_rate, 1), strides=(*self.strides, 1))  # fmt: skip

    def build(self, input_shape: Shape) -> None:
        channels = input_shape[self.feature_axis]
        kernel_shape = (*self.kernel_size, channels // self.groups, self.filters)
        self._add_kernel_and_bias(kernel_shape, self.filters)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        (k,), (s,), (d,) = self.kernel_size, self.strides, self.dilation_rate
        padding = "same" if self.padding == "causal" else self.padding  # both give ceil(T / s)
        steps = conv_output_length(self.steps(input_shape), k, s, padding, d)
        shape = self.sequence_shape(input_shape[0], steps, self.filters)
        return _activations.output_shape(self.activation, shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        fused = _config.use_fused(self.fused)
        relu = fused and self.activation is _activations.relu
        image, padding = self.to_image(x), self.padding
        if padding == "causal":
            before = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            image, padding = image.pad(((0, 0), (before, 0), (0, 0), (0, 0))), "valid"
        kernel = self.kernel.reshape(self.kernel_size[0], 1, *self.kernel.shape[1:])
        g, c, f = self.groups, kernel.shape[2], self.filters // self.groups
        outs = [
            conv2d(
                image if g == 1 else image[:, :, :, j * c : (j + 1) * c],
                kernel if g == 1 else kernel[:, :, :, j * f : (j + 1) * f],
                self.bias if g == 1 or self.bias is None else self.bias[j * f : (j + 1) * f],
                (*self.strides, 1),
                padding,
                (*self.dilation_rate, 1),
                fused=fused,
                activation="relu" if relu else None,
            )
            for j in range(g)
        ]
        out = self.from_image(outs[0] if g == 1 else concatenate(outs, axis=-1))
        return out if relu else self.activation(out)

    def algebra(self) -> Algebra:
        """``im2col [B*OT, k*C] @ [k*C, F] + [F] -> [B,OT,F]``: one row of patches per output
        step, times the kernel seen as a matrix."""
        (k,), f = self.kernel_size, self.filters
        c = self.input_shape[self.feature_axis] // self.groups
        patches = Operand("patches", ((None, self.steps(self.output_shape)), (k, c)))
        products = [(patches, Operand("kernel", ((k, c), f)))]
        products += [(Operand("bias", (f,)),)] if self.use_bias else []
        act = activation_label(self.activation)
        g = self.groups
        lead = "im2col " if g == 1 else f"{g} groups of C/{g} channels, F/{g} filters: im2col "
        return matmul(self.input_shape, products, self.output_shape, lead, act)

    def get_config(self) -> dict:
        return {**super().get_config(), **conv_config(self), "groups": self.groups}


Convolution1D = Conv1D  # Keras' alias

__all__ = ["Conv1D", "Convolution1D"]
