"""``from_torch(module, input_shape)``: a torch ``nn.Sequential`` as our ``Sequential``, same weights.

Bring a torch model in to read it with ``summary()``, trace it with ``explain()`` and check its
gradients with ``gradcheck`` - the predictions are torch's (to float32 rounding; exactly for a model
that came from ``to_torch``). Nested ``nn.Sequential``\\ s are flattened. The modules it maps are in
``from_torch_modules.py``; anything else - a module type, or an option whose result we would
compute differently - is refused with a ``ConfigError`` naming the module and the option.

**Images keep torch's layout.** ``nn.Conv2d`` works on NCHW tensors; it becomes
``Conv2D(..., data_format="channels_first")`` (pooling and BatchNorm2d likewise), so the model
takes the *same* arrays as the torch model, and the ``Flatten`` after the convolutions flattens
(C, H, W) in torch's order - the next ``Linear``'s weight needs only its transpose. (Moving to
channels_last would transpose every input and permute that Linear's rows: exact too, but two
more places to get wrong.) A model made by ``to_torch`` from a channels_last model starts with
its ``Permute`` (NHWC -> NCHW): from there on the layers come back as channels_last ones, until
the ``Permute`` back.

The tutorial is ``docs/graduating.md``; ``tests/reference/test_from_torch.py`` holds every module
kind to torch's predictions and ``from_torch(to_torch(model), ...)`` to byte-equal weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import numpy as np

from .. import validation as check
from ..errors import ConfigError
from ..models import Sequential
from .builder import WHERE, Builder
from .from_torch_modules import converters
from .torch_modules import import_torch


def from_torch(module: Any, input_shape: Any) -> Sequential:
    """Our ``Sequential`` computing what the torch ``nn.Sequential`` ``module`` computes on
    inputs of ``input_shape`` (without the batch axis, in torch's layout: ``(C, H, W)`` for
    images, ``(T, F)`` for batch_first sequences, ``(T,)`` for token ids)."""
    torch = import_torch(WHERE)
    if type(module) is not torch.nn.Sequential:
        raise ConfigError(
            where=WHERE,
            expected="a torch.nn.Sequential",
            got=type(module).__name__,
            fix="from_torch(torch.nn.Sequential(torch.nn.Linear(4, 3)), input_shape=(4,))",
        )
    sizes = check.shape(
        "input_shape", input_shape, WHERE, "from_torch(net, input_shape=(784,))", allow_none=False
    )
    builder = Builder((None, *sizes), _dtype(module, torch))
    table = converters(torch)
    for path, child in _children(module, torch.nn.Sequential):
        where = f"from_torch: module '{path}' (nn.{type(child).__name__})"
        if builder.closed_by is not None:
            _refuse_after_tuple(builder.closed_by, where)
        convert = table.get(type(child))  # the exact class: a subclass may change forward
        if convert is None:
            _refuse_module(child, where, path, sizes, table)
        convert(child, where, builder)
    return Sequential(builder.finish())


def _children(module: Any, sequential: type, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, module) of every module in order, nested Sequentials flattened ("2.0")."""
    for name, child in module.named_children():
        if type(child) is sequential:
            yield from _children(child, sequential, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", child


def _dtype(module: Any, torch: Any) -> Any:
    """float32 or float64: the one floating dtype of the module's parameters and statistics."""
    tensors = [*module.parameters(), *module.buffers()]
    found = {t.dtype for t in tensors if t.is_floating_point()}
    supported = {torch.float32: np.float32, torch.float64: np.float64}
    if len(found) <= 1 and found <= set(supported):
        return supported[found.pop()] if found else np.float32
    raise ConfigError(
        where=WHERE,
        expected="parameters of one dtype, float32 or float64",
        got=", ".join(sorted(str(d) for d in found)),
        fix="from_torch(net.float(), input_shape=(784,))",
    )


def _refuse_after_tuple(closed_by: str, where: str) -> None:
    raise ConfigError(
        where=where,
        expected=f"nothing after {closed_by}: torch's recurrent modules return a tuple "
        "(output, h_n), which nn.Sequential would hand to this module",
        got="a module after it",
        fix="from tinygrad_edu.interop import RecurrentOutput; torch.nn.Sequential("
        "RecurrentOutput(torch.nn.LSTM(3, 8, batch_first=True)), torch.nn.Linear(8, 2))",
    )


def _refuse_module(
    child: Any, where: str, path: str, sizes: tuple[int, ...], table: dict[type, Callable]
) -> None:
    supported = sorted({cls.__name__ for cls in table})
    raise ConfigError(
        where=where,
        expected="a module from_torch maps: " + ", ".join(supported),
        got=f"nn.{type(child).__name__}"
        if type(child).__module__.startswith("torch")
        else f"{type(child).__module__}.{type(child).__name__}",
        fix=f"from_torch(net[:{path.split('.')[0]}], input_shape={sizes})  # the modules "
        "before it; write the rest as your own layer (docs/custom_layers.md)",
    )


__all__ = ["from_torch"]
