"""The small ``torch.nn`` modules that ``to_torch`` puts where torch has no module for a Keras
step, and that ``from_torch`` reads back: a layout change (``Permute``), ``Reshape``, global pooling
(``GlobalPool``) and ``RecurrentOutput`` (torch's ``nn.LSTM`` returns a tuple; this keeps the output
sequence or its last step, as Keras' ``return_sequences``).

torch is optional, so the classes are made on first use, once (``modules()``); each keeps its
settings as attributes, which ``from_torch`` reads. ``RecurrentOutput`` is public
(``tinygrad_edu.interop.RecurrentOutput``): put a recurrent module inside an ``nn.Sequential``
with it.
"""

from __future__ import annotations

import functools
import types
from typing import Any

from ..errors import ConfigError

INSTALL = 'pip install "tinygrad_edu[torch]"'


def import_torch(where: str) -> Any:
    """The torch module, or our ``ConfigError`` saying how to install it."""
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigError(
            where=where, expected="PyTorch installed", got="no torch", fix=INSTALL
        ) from None
    return torch


@functools.cache
def modules() -> types.SimpleNamespace:
    """The helper module classes (built once: ``isinstance`` checks need one class each)."""
    torch = import_torch("interop")
    nn = torch.nn

    class Permute(nn.Module):
        """``x.permute(*dims)``: (0, 3, 1, 2) takes NHWC to torch's NCHW, (0, 2, 3, 1) back."""

        def __init__(self, dims: tuple[int, ...]):
            super().__init__()
            self.dims = tuple(dims)

        def forward(self, x):
            return x.permute(*self.dims)

    class Reshape(nn.Module):
        """``x.reshape(B, *target)`` (Keras' Reshape: the batch axis stays)."""

        def __init__(self, target: tuple[int, ...]):
            super().__init__()
            self.target = tuple(target)

        def forward(self, x):
            return x.reshape(x.shape[0], *self.target)

    class GlobalPool(nn.Module):
        """Max or mean over H, W of an NCHW tensor; ``keepdims`` is None (gives (B, C)) or the
        Keras data_format whose (B, 1, 1, C) / (B, C, 1, 1) shape it keeps."""

        def __init__(self, use_max: bool, keepdims: str | None):
            super().__init__()
            self.use_max, self.keepdims = use_max, keepdims

        def forward(self, x):
            out = x.amax(dim=(2, 3)) if self.use_max else x.mean(dim=(2, 3))
            if self.keepdims == "channels_last":
                return out[:, None, None, :]
            return out[:, :, None, None] if self.keepdims else out

    class RecurrentOutput(nn.Module):
        """Runs ``rnn`` (batch_first) and returns its output sequence (return_sequences=True)
        or the last step; ``go_backwards`` reads the sequence from the end, as Keras."""

        def __init__(self, rnn, return_sequences: bool = False, go_backwards: bool = False):
            super().__init__()
            self.rnn = rnn
            self.return_sequences, self.go_backwards = return_sequences, go_backwards

        def forward(self, x):
            if self.go_backwards:
                x = torch.flip(x, dims=(1,))
            out = self.rnn(x)[0]
            return out if self.return_sequences else out[:, -1]

    return types.SimpleNamespace(
        Permute=Permute, Reshape=Reshape, GlobalPool=GlobalPool, RecurrentOutput=RecurrentOutput
    )


__all__ = ["INSTALL", "import_torch", "modules"]
