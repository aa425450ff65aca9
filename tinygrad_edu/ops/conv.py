"""The fused 2-D convolution (im2col + one GEMM) and the window helpers pooling shares with it.

Images are channels_last here, ``[B, H, W, C]``; the layer transposes channels_first data.
A convolution with kernel ``W [kh, kw, C, F]`` is a matrix product once every receptive field
is copied into a row ("im2col")::

    patches [B*OH*OW, kh*kw*C] @ W.reshape(kh*kw*C, F) + b [F] -> [B*OH*OW, F] -> [B, OH, OW, F]

Tap ``(i, j)`` of the kernel sees the input pixels ``xp[:, i*dh + s_h*oh, j*dw + s_w*ow, :]``
for every output pixel ``(oh, ow)`` (``xp`` is the padded input, ``s`` the strides, ``d`` the
dilation); ``tap_index`` is that strided slice, shared by backward, pooling and the reference forms.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from .._shapes import same_padding
from ..errors import ConfigError, ShapeError
from ..function import Function
from ..workspace import Workspace

Pair = Tuple[int, int]
Pads = Tuple[Pair, Pair]
NO_PADS: Pads = ((0, 0), (0, 0))


def spatial_pads(
    hw: Sequence[int], kernel: Pair, strides: Pair, padding: str, dilation: Pair = (1, 1)
) -> Pads:
    """((top, bottom), (left, right)) zero padding for "valid" (none) or "same" (TF's rule)."""
    if padding == "valid":
        return NO_PADS
    return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(hw, kernel, strides, dilation))


def pad_hw(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of ``[B, H, W, C]`` (no copy when there is nothing to pad)."""
    if pads == NO_PADS:
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), mode="constant", constant_values=value)


def output_hw(padded_hw: Sequence[int], kernel: Pair, strides: Pair, dilation: Pair) -> Pair:
    """Output size of a window sliding over an already padded input: floor((n - eff) / s) + 1."""
    return tuple(
        (n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(padded_hw, kernel, strides, dilation)
    )


def tap_index(i: int, j: int, out_hw: Pair, strides: Pair, dilation: Pair) -> tuple:
    """The strided slice of the padded input that kernel tap (i, j) reads: [B, OH, OW, C]."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilation
    return (
        slice(None),
        slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
        slice(None),
    )


def windows(xp: np.ndarray, kernel: Pair, strides: Pair, dilation: Pair) -> np.ndarray:
    """Every receptive field of the padded ``[B, Hp, Wp, C]`` as a view ``[B, OH, OW, kh, kw, C]``.

    No copy: ``sliding_window_view`` only re-strides; stride and dilation are slices of that view.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
    eff = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = np.lib.stride_tricks.sliding_window_view(xp, eff, axis=(1, 2))
    return view[:, ::sh, ::sw, :, ::dh, ::dw].transpose(0, 1, 2, 4, 5, 3)


def crop_hw(xp: np.ndarray, pads: Pads) -> np.ndarray:
    """Undo ``pad_hw``: the gradient of zero padding is the gradient with the border cut off."""
    (top, bottom), (left, right) = pads
    return xp[:, top : xp.shape[1] - bottom, left : xp.shape[2] - right, :]


def check_window_fits(
    padded_hw: Sequence[int], kernel: Pair, dilation: Pair, where: str, what: str = "kernel"
) -> None:
    """A window larger than the (padded) image has no valid position: say so before numpy does."""
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > n for e, n in zip(eff, padded_hw)):
        dilated = "" if tuple(dilation) == (1, 1) else f", {eff[0]}x{eff[1]} once dilated"
        raise ShapeError(
            where=where,
            expected=f"a {what} that fits in the input ({what} size "
            f"{kernel[0]}x{kernel[1]}{dilated})",
            got=f"an input of {padded_hw[0]}x{padded_hw[1]} pixels",
            fix=f"use padding='same' (then every input pixel gets an output), a smaller {what}, "
            "or a larger input (fewer downsampling layers before this one)",
        )


class Conv2D(Function):
    """out = act(im2col(pad(x)) @ W + b), channels_last; ``act`` is None or "relu".

    x [B, H, W, C], W [kh, kw, C, F], b [F] -> [B, OH, OW, F] with ``padding`` given as explicit
    ((top, bottom), (left, right)) pairs, ``strides`` and ``dilation`` as (h, w) pairs.

    With g = dL/d(out) (times [out > 0] after a relu), N = B*OH*OW rows:
    dL/dW = patches^T @ g                     ([kh*kw*C, N] @ [N, F]: one GEMM)
    dL/db = sum of g over the N rows
    dL/dx = col2im(g @ W^T): row n of ``g @ W^T`` is the gradient of patch n; each kernel tap
            adds its slice back onto the padded input (kh*kw strided adds), then the padding is cut.

    Speed: the patches get an extra column of ones, so the bias rides along in the GEMMs
    (``[patches, 1] @ [W; b]`` forward, and dL/db is the last row of ``[patches, 1]^T @ g``);
    a relu is applied in place and its mask is taken from the output - no pass of its own.
    Memory: the patch matrix (kept for backward) and backward's temporaries (the relu mask,
    ``g``, ``g @ W^T``) are borrowed from the op's ``Workspace`` (``tinygrad_edu.workspace``:
    reused from step to step; fresh ones cost a page fault per 4 KB: 1,100-1,500 fewer a step
    for Conv2D(32, 3x3) on 28x28 images at batch 64). The output and the gradients are fresh.
    """

    shape_rule = "x [B, H, W, C], kernel [kh, kw, C, F], bias [F]"
    ws: Optional[Workspace] = None  # None until forward borrows

    def release(self) -> None:
        if self.ws is not None:  # None: forward failed before borrowing anything
            self.ws.release()

    def forward(
        self,
        x,
        w,
        b=None,
        *,
        strides: Pair = (1, 1),
        padding: Pads = NO_PADS,
        dilation: Pair = (1, 1),
        activation: Optional[str] = None,
    ):
        _check_operands(x, w, b, activation)
        kh, kw, c, f = w.shape
        xp = pad_hw(x, padding)
        check_window_fits(xp.shape[1:3], (kh, kw), dilation, "op 'Conv2D'")
        patches = windows(xp, (kh, kw), strides, dilation)
        batch, oh, ow = patches.shape[:3]
        k = kh * kw * c
        w2 = w.reshape(k, f)
        ws = self.ws = Workspace()
        # [patches, 1] (no ones without a bias): the only copy of the input
        cols = ws.take((batch * oh * ow, k + (b is not None)), np.result_type(x, w))
        np.copyto(_as_patches(cols, patches.shape), patches)
        if b is None:
            out = cols @ w2
        else:
            cols[:, k] = 1
            out = cols @ np.concatenate([w2, b[None, :].astype(w2.dtype)])
        if activation == "relu":
            np.maximum(out, 0, out=out)
        # called on bare arrays (no engine) every gradient is wanted
        self.need = self.needs_input_grad or (True,) * (2 if b is None else 3)
        self.cols = cols if any(self.need[1:]) else None
        if self.cols is None:
            ws.give(cols)
        self.w2 = w2 if self.need[0] else None
        self.out = out if activation == "relu" else None
        self.geometry = (xp.shape, w.shape, (oh, ow), strides, padding, dilation)
        return out.reshape(batch, oh, ow, f)

    def backward(self, grad):
        padded_shape, w_shape, out_hw, strides, padding, dilation = self.geometry
        kh, kw, c, f = w_shape
        g2, ws, temps = grad.reshape(-1, f), self.ws, []
        if self.out is not None:  # g2 * [out > 0], in workspace memory
            mask = ws.take(self.out.shape, np.bool_)
            np.greater(self.out, 0, out=mask)
            g2 = np.multiply(g2, mask, out=ws.take(g2.shape, g2.dtype))
            temps += [mask, g2]
        need = self.need
        gx = gw = gb = None
        if need[0]:
            dcols = ws.take((g2.shape[0], kh * kw * c), np.result_type(g2, self.w2))
            np.matmul(g2, self.w2.T, out=dcols)
            patch_grads = dcols.reshape(*grad.shape[:3], kh, kw, c)
            dxp = np.zeros(padded_shape, dtype=grad.dtype)  # fresh: gx is a view of it
            for i in range(kh):
                for j in range(kw):
                    dxp[tap_index(i, j, out_hw, strides, dilation)] += patch_grads[:, :, :, i, j, :]
            gx = crop_hw(dxp, padding)
            temps.append(dcols)
        if any(need[1:]):
            gwb = self.cols.T @ g2  # [kh*kw*C (+1), F]: the last row is dL/db when there is a bias
            gw = gwb[: kh * kw * c].reshape(w_shape) if need[1] else None
            gb = gwb[-1] if len(need) == 3 and need[2] else None
        ws.give(*temps)  # the patches stay until release(): a retained graph runs backward again
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def _as_patches(cols: np.ndarray, shape: Tuple[int, ...]) -> np.ndarray:
    """The first kh*kw*C columns of ``cols`` [N, kh*kw*C + 1] viewed as [B, OH, OW, kh, kw, C]
    (a view to copy the patches into; numpy < 2.1 has no ``reshape(copy=False)``)."""
    _, oh, ow, _, kw, c = shape
    row, item = cols.strides
    return np.lib.stride_tricks.as_strided(
        cols, shape, (oh * ow * row, ow * row, row, kw * c * item, c * item, item)
    )


def _check_operands(
    x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], activation: Optional[str]
) -> None:
    if activation not in (None, "relu"):
        raise ConfigError(
            where="op 'Conv2D'",
            expected="activation None or 'relu'",
            got=repr(activation),
            fix="apply other activations after the op",
        )
    if x.ndim != 4 or w.ndim != 4 or w.shape[2] != x.shape[3]:
        raise ShapeError(
            where="op 'Conv2D'",
            expected="x [B, H, W, C] and kernel [kh, kw, C, F] with equal C",
            got=f"x {x.shape}, kernel {w.shape}",
            fix="the kernel's third axis must equal the input's channel (last) axis",
        )
    if b is not None and b.shape != (w.shape[3],):
        raise ShapeError(
            where="op 'Conv2D'",
            expected=f"bias of shape ({w.shape[3]},)",
            got=str(b.shape),
            fix="one bias per filter",
        )


__all__ = [
    "Conv2D",
    "spatial_pads",
    "pad_hw",
    "output_hw",
    "tap_index",
    "windows",
    "crop_hw",
    "check_window_fits",
    "NO_PADS",
]
