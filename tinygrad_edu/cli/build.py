"""From the layer specs ``parse_model_text`` read to layer objects and a ``Sequential``.

>>> from tinygrad_edu.cli.parse import parse_model_text
>>> build_model(parse_model_text("[Dense(4, input_shape=(3,)), Dense(2)]")).count_params()
26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import layers
from ..errors import TinygradEduError
from ..models import Sequential
from .parse import LayerSpec, ModelTextError, layer_names

#: what a layer constructor may raise on arguments of the wrong kind or size
LAYER_ARGUMENT_ERRORS = (
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
    RecursionError,
    MemoryError,
)


def make_layers(specs: Sequence[LayerSpec]) -> list[Any]:
    """The layer objects of ``specs`` (not built); wrong arguments raise ``ModelTextError``
    (our own errors, such as ``ConfigError``, pass unchanged)."""
    known = set(layer_names())
    if isinstance(specs, (str, bytes)) or not hasattr(specs, "__iter__"):
        raise ModelTextError(
            where="build_model",
            expected="a list of (class name, args, kwargs) as parse_model_text returns",
            got=type(specs).__name__,
            fix="build_model(parse_model_text(text))",
        )
    made = []
    for spec in specs:
        cls_name, args, kwargs = _checked_spec(spec, known)
        try:
            made.append(getattr(layers, cls_name)(*args, **kwargs))
        except TinygradEduError:
            raise
        except LAYER_ARGUMENT_ERRORS as exc:
            raise ModelTextError(
                where=f"{cls_name}(...)",
                expected="valid layer arguments",
                got=f"{type(exc).__name__}: {str(exc)[:160]}",
                fix=f"see help(tinygrad_edu.layers.{cls_name})",
            ) from None
    return made


def _checked_spec(spec: Any, known: set) -> LayerSpec:
    ok = (
        isinstance(spec, tuple)
        and len(spec) == 3
        and isinstance(spec[0], str)
        and spec[0] in known
        and isinstance(spec[1], (tuple, list))
        and isinstance(spec[2], dict)
        and all(isinstance(k, str) for k in spec[2])
    )
    if not ok:
        raise ModelTextError(
            where="build_model",
            expected="(layer class name, args tuple, kwargs dict) of a tinygrad_edu layer",
            got=repr(spec)[:80],
            fix="build_model(parse_model_text(text))",
        )
    return spec[0], tuple(spec[1]), spec[2]


def build_model(specs: Sequence[LayerSpec], name: str | None = None) -> Any:
    """A ``Sequential`` of the specs' layers (constructor errors surface as ``ModelTextError``)."""
    return Sequential(make_layers(specs), name=name)


__all__ = ["LAYER_ARGUMENT_ERRORS", "build_model", "make_layers"]
