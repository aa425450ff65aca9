"""``Conv2D`` (Keras semantics) and ``ImageLayer``, the input checks every 2-D image layer shares.

A convolution slides ``filters`` kernels of ``kh x kw x C`` over the image; each output pixel is a
dot product of one receptive field with one kernel, plus its bias::

    out[b, oh, ow, f] = sum_{i,j,c} xp[b, oh*s_h + i*d_h, ow*s_w + j*d_w, c] * W[i,j,c,f] + b[f]

Two forms compute it (``fused=False`` on a layer, or ``with tinygrad_edu.config.fused(False):``
for every layer left at ``fused=None``, selects the second):

- fused (default): one ``ops.Conv2D`` - im2col + a single GEMM, hand-written backward;
- reference: ``conv2d_reference``, plain Tensor ops (pad, one strided slice per kernel tap,
  ``slice @ W[i, j]``, sum) whose gradient autodiff derives - step through it to see the algebra.

>>> import numpy as np
>>> layer = Conv2D(32, (3, 3), activation="relu")
>>> layer(np.zeros((2, 28, 28, 1))).shape
(2, 26, 26, 32)
>>> layer.count_params()
320
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

from .. import activations as _activations
from .. import config as _config
from .. import validation as check
from .._shapes import conv_output_length, same_padding
from ..errors import ConfigError, ShapeError
from ..ops import conv as _ops
from ..tensor import Tensor, tensor_from_op
from .algebra import Algebra, Operand, matmul
from .arguments import layer_code
from .base import Layer, Shape
from .core import activation_label
from .kernel_bias import KernelBiasMixin
from .legacy import keras1_conv_call, warn
from .recognizers import looks_swapped, swapped_channels

PADDINGS = ("valid", "same")
DATA_FORMATS = ("channels_last", "channels_first")


#: the most zeros "same" padding may add along an axis beyond the image's own size: a window
#: that needs more reads mostly padding (and would make numpy allocate the padded image)
MAX_EXTRA_PADDING = 64


class ImageLayer(Layer):
    """Base of 2-D image layers: ``data_format``, and the recognizers for image-shaped mistakes.

    Recognized (the ``fix`` of the ``ShapeError``): a grayscale batch ``(B, H, W)`` without the
    channel axis; one image ``(H, W, C)`` without the batch axis; channels-first data given to a
    channels_last layer (or the reverse) - the channel count found on the other axis, or, before
    the layer is built (its own ``input_shape`` included), a 1/3/4-sized axis 1 in front of two
    axes of at least 8 pixels (``recognizers.swapped_channels``).
    """

    expected_ndim = 4
    example_input_shape = (28, 28, 1)

    def input_axis_names(self) -> Tuple[str, ...]:
        """The axes after the batch axis, in this layer's data format (for messages)."""
        if self.channels_first:
            return ("channels", "height", "width")
        return ("height", "width", "channels")

    def _set_data_format(self, data_format: Optional[str]) -> None:
        self.data_format = data_format_choice(data_format, self)
        self.channels_first = self.data_format == "channels_first"
        self.feature_axis = 1 if self.channels_first else -1

    def spatial(self, shape: Sequence[Optional[int]]) -> Tuple[Optional[int], Optional[int]]:
        """(H, W) of a 4-D shape in this layer's data format."""
        return (shape[2], shape[3]) if self.channels_first else (shape[1], shape[2])

    def image_shape(self, batch, hw, channels) -> Shape:
        """Assemble a 4-D shape in this layer's data format."""
        return (batch, channels, *hw) if self.channels_first else (batch, *hw, channels)

    def to_channels_last(self, x: Tensor) -> Tensor:
        return x.transpose(0, 2, 3, 1) if self.channels_first else x

    def from_channels_last(self, x: Tensor) -> Tensor:
        return x.transpose(0, 3, 1, 2) if self.channels_first else x

    def _swap_fix(self) -> str:
        if self.channels_first:
            return (
                "this looks like channels_last data (B, H, W, C): build the layer with "
                "data_format='channels_last', or transpose with x.transpose(0, 3, 1, 2)"
            )
        return (
            "this looks like channels-first data (B, C, H, W): build the layer with "
            "data_format='channels_first', or transpose with x.transpose(0, 2, 3, 1)"
        )

    def diagnose_rank(self, shape: Shape, want: Optional[Shape]) -> str:
        shape = tuple(shape)
        if len(shape) == 3:
            if want is not None and shape == tuple(want[1:]):
                single = True
            elif want is not None and want[self.feature_axis] == 1:
                single = False
            else:  # no shape known yet: a small trailing (leading) axis is a channel axis
                chan = shape[0] if self.channels_first else shape[-1]
                single = chan is not None and chan <= 4
            if single:
                return "this looks like one image without the batch axis - use x[None, ...]"
            where = "x[:, None]" if self.channels_first else "x[..., None]"
            return (
                f"this looks like a batch of grayscale images without the channel axis - "
                f"use {where} to add a channel axis of size 1"
            )
        if len(shape) == 2:
            return "this looks like one grayscale image - use x[None, ..., None]"
        return super().diagnose_rank(shape, want)

    def diagnose_features(self, shape: Shape, want: Shape) -> str:
        other = -1 if self.channels_first else 1
        if shape[other] == want[self.feature_axis]:
            return self._swap_fix()
        return super().diagnose_features(shape, want)

    def check_input(self, shape: Sequence[Optional[int]]) -> None:
        super().check_input(shape)
        if self.input_shape is None and looks_swapped(tuple(shape), self.channels_first):
            raise swapped_channels(self, shape)  # before the window check's advice
        self.check_window(self.spatial(shape))

    def check_window(self, hw: Tuple[Optional[int], Optional[int]]) -> None:
        """Subclasses with a sliding window check that it fits ``hw`` (before numpy fails)."""


def data_format_choice(data_format: Any, layer: Layer) -> str:
    """``data_format`` lower-cased; None means ``config.image_data_format()`` (Keras' default:
    channels_last; ``config.set_image_data_format("channels_first")`` for Theano-ordered code)."""
    if data_format is None:
        return _config.image_data_format()
    example = layer.example(data_format="channels_first")
    return check.choice("data_format", data_format, DATA_FORMATS, layer.where, example)


def padding_choice(padding: Any, layer: Layer) -> str:
    return check.choice("padding", padding, PADDINGS, layer.where, layer.example(padding="same"))


def window_fits(
    layer: ImageLayer,
    hw,
    window: Tuple[int, int],
    padding: str,
    dilation: Tuple[int, int] = (1, 1),
    what: str = "kernel",
    strides: Tuple[int, int] = (1, 1),
) -> None:
    """``ShapeError`` naming both sizes when a "valid" window is larger than the image, or when
    "same" padding would add more than ``MAX_EXTRA_PADDING`` zeros beyond the image's size."""
    if None in hw:
        return
    if padding == "valid":
        _ops.check_window_fits(hw, window, dilation, layer.where, what=what)
        return
    for n, k, s, d in zip(hw, window, strides, dilation):
        pad = sum(same_padding(n, k, s, d))
        if pad > n + MAX_EXTRA_PADDING:
            raise ShapeError(
                where=layer.where,
                expected=f"a {what} that mostly reads the image ({n} pixels along an axis)",
                got=f"a {what} of {d * (k - 1) + 1} pixels: padding='same' would add {pad} zeros",
                fix=f"use a smaller {what}{' or dilation_rate' if d > 1 else ''}, e.g. "
                + layer.example(padding="same"),
            )


def conv2d(
    x: Tensor,
    kernel: Tensor,
    bias: Optional[Tensor] = None,
    strides=(1, 1),
    padding: str = "valid",
    dilation_rate=(1, 1),
    fused: bool = True,
    activation: Optional[str] = None,
) -> Tensor:
    """Channels_last convolution: [B, H, W, C] (*) [kh, kw, C, F] + [F] -> [B, OH, OW, F],
    followed by a relu if ``activation == "relu"`` (inside the fused op: no extra pass)."""
    kh, kw = kernel.shape[:2]
    pads = _ops.spatial_pads(x.shape[1:3], (kh, kw), strides, padding, dilation_rate)
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:3], pads)]
    _ops.check_window_fits(padded, (kh, kw), dilation_rate, "conv2d")
    if fused:
        args = (x, kernel) if bias is None else (x, kernel, bias)
        return tensor_from_op(
            _ops.Conv2D,
            *args,
            strides=tuple(strides),
            padding=pads,
            dilation=tuple(dilation_rate),
            activation=activation,
        )
    out = conv2d_reference(x, kernel, bias, strides, pads, dilation_rate)
    return out.relu() if activation == "relu" else out


def conv2d_reference(
    x: Tensor, kernel: Tensor, bias: Optional[Tensor], strides, pads, dilation
) -> Tensor:
    """The same convolution from primitive Tensor ops: sum over taps of ``slice_ij @ W[i, j]``.

    Tap (i, j) multiplies the input pixels it sees, [B, OH, OW, C], by its [C, F] weights.
    """
    if tuple(pads) != _ops.NO_PADS:
        x = x.pad(((0, 0), *pads, (0, 0)))
    kh, kw = kernel.shape[:2]
    out_hw = _ops.output_hw(x.shape[1:3], (kh, kw), strides, dilation)
    out = None
    for i in range(kh):
        for j in range(kw):
            term = x[_ops.tap_index(i, j, out_hw, strides, dilation)] @ kernel[i, j]
            out = term if out is None else out + term
    return out if bias is None else out + bias


class Conv2D(KernelBiasMixin, ImageLayer):
    """2-D convolution: ``[B, H, W, C] (*) kernel [kh, kw, C, filters] + bias [filters]``.

    im2col form: ``[B*OH*OW, kh*kw*C] @ [kh*kw*C, filters] + [filters] -> [B, OH, OW, filters]``;
    OH = floor((H - d*(kh-1) - 1) / s) + 1 ("valid") or ceil(H / s) ("same", TF's asymmetric
    padding: the extra pixel goes after). Parameters: kh*kw*C*filters (+ filters).
    ``data_format="channels_first"`` takes and returns ``[B, C, H, W]``; ``None`` (the default)
    follows ``config.image_data_format()``.
    """

    example_args = {"filters": 32, "kernel_size": 3}

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        data_format: Optional[str] = None,
        dilation_rate=(1, 1),
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        fused: Optional[bool] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = check.positive_int("filters", filters, self.where, self.example())
        self.kernel_size = self._pair("kernel_size", kernel_size, (3, 3))
        self.strides = self._pair("strides", strides, (2, 2))
        self.dilation_rate = self._pair("dilation_rate", dilation_rate, (2, 2))
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ConfigError(
                where=self.where,
                expected="strides == 1 or dilation_rate == 1",
                got=f"strides={self.strides}, dilation_rate={self.dilation_rate}",
                fix="Keras does not combine strides > 1 with dilation > 1: set one of them to 1",
            )
        self.padding = padding_choice(padding, self)
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
        self.kernel: Optional[Tensor] = None
        self.bias: Optional[Tensor] = None

    def _pair(self, name: str, value: Any, example: Tuple[int, int]) -> Tuple[int, int]:
        return check.int_tuple(name, value, self.where, self.example(**{name: example}))

    def check_window(self, hw) -> None:
        window_fits(
            self, hw, self.kernel_size, self.padding, self.dilation_rate, strides=self.strides
        )

    def build(self, input_shape: Shape) -> None:
        channels = input_shape[self.feature_axis]  # None: add_weight says it must be known
        self._add_kernel_and_bias((*self.kernel_size, channels, self.filters), self.filters)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        hw = tuple(
            conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(
                self.spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate
            )
        )
        # the activation may change the shape too (glu halves the last axis)
        return _activations.output_shape(
            self.activation, self.image_shape(input_shape[0], hw, self.filters)
        )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        fused = _config.use_fused(self.fused)
        # relu commutes with the channels_first transpose, so the fused op can apply it
        relu = fused and self.activation is _activations.relu
        out = conv2d(
            self.to_channels_last(x),
            self.kernel,
            self.bias,
            self.strides,
            self.padding,
            self.dilation_rate,
            fused=fused,
            activation="relu" if relu else None,
        )
        out = self.from_channels_last(out)
        return out if relu else self.activation(out)

    def algebra(self) -> Algebra:
        """``im2col [B*OH*OW, kh*kw*C] @ [kh*kw*C, F] + [F] -> [B,OH,OW,F]``: one row of patches
        per output pixel, times the kernel seen as a matrix."""
        (kh, kw), f = self.kernel_size, self.filters
        c = self.input_shape[self.feature_axis]
        oh, ow = self.spatial(self.output_shape)
        patches = Operand("patches", ((None, oh, ow), (kh, kw, c)))
        products = [(patches, Operand("kernel", ((kh, kw, c), f)))]
        products += [(Operand("bias", (f,)),)] if self.use_bias else []
        act = activation_label(self.activation)
        return matmul(self.input_shape, products, self.output_shape, "im2col ", act)

    def get_config(self) -> dict:
        return {**super().get_config(), **conv_config(self)}


def conv_config(layer: Any) -> dict:
    """The arguments every convolution (``Conv1D``, ``Conv2D``) gives back in ``get_config``."""
    return {
        "filters": layer.filters,
        "kernel_size": layer.kernel_size,
        "strides": layer.strides,
        "padding": layer.padding,
        "data_format": layer.data_format,
        "dilation_rate": layer.dilation_rate,
        **layer._kernel_config(),
        **_config.fused_config(layer.fused),
    }


def Convolution2D(*args: Any, **kwargs: Any) -> Conv2D:
    """Keras 1's name of ``Conv2D``, read in Keras 1's form: ``Convolution2D(32, 3, 3)`` is
    ``Conv2D(32, (3, 3))`` - the two ints after the filters are the kernel's rows and columns, not
    a kernel size and strides as tf.keras reads ``Conv2D(32, 3, 3)`` (a ``KerasLegacyWarning``
    says so). Keras 2 calls (``Convolution2D(32, (3, 3))``) work unchanged; old argument names
    are translated as for every layer (``layers/legacy.py``).

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     Convolution2D(32, 3, 3, border_mode="same").get_config()["kernel_size"]
    (3, 3)
    """
    args, kwargs, note = keras1_conv_call(args, kwargs)
    layer = Conv2D(*args, **kwargs)
    if note is not None:
        warn(f"{note}; the call in Keras 2 spelling: {layer_code(layer)}")
    return layer

__all__ = ["Conv2D", "Convolution2D"]
