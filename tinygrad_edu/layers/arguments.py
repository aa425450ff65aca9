"""A layer's constructor arguments: the call as given, old names translated, unknown names refused.

``Layer.__init_subclass__`` wraps every layer class's ``__init__`` with ``recorded_init``. The
outermost call (the class being made, not a ``super().__init__`` inside it):

1. translates Keras 1 names and call forms (``legacy.translate``, one ``KerasLegacyWarning`` per
   old name, printing the whole call in Keras 2's spelling);
2. records the translated call as ``layer._init_call``, so a fix can rebuild it with one argument
   changed: ``layer_code(lstm, return_sequences=True)`` ->
   ``"LSTM(10, input_shape=(3, 1), return_sequences=True)"`` - code that runs as written.

A name the layer does not take, old or new, reaches ``Layer.__init__``'s ``**unknown`` and
``refuse_unknown`` raises a ``ConfigError`` whose fix is the same call with the closest real name.

>>> from tinygrad_edu.layers import Dense
>>> layer_code(Dense(units=10, activation="softmax"), activation="sigmoid")
"Dense(10, activation='sigmoid')"
"""

from __future__ import annotations

import difflib
import functools
import inspect
import weakref
from typing import Any, Callable, Dict, Iterable, List, NoReturn, Optional, Tuple

import numpy as np

from .. import validation as check
from ..errors import ConfigError, TinygradEduError
from . import legacy
from .code_text import code_repr

#: the constructor arguments every layer accepts, on top of its own (Layer.__init__'s)
BASE_KWARGS = ("name", "trainable", "input_shape", "input_dim", "batch_input_shape", "dtype")

_ACCEPTED: "weakref.WeakKeyDictionary[type, Tuple[str, ...]]" = weakref.WeakKeyDictionary()


def accepted_names(cls: type) -> Tuple[str, ...]:
    """Every argument name an ``__init__`` along ``cls``'s MRO declares (not ``**kwargs``)."""
    if cls not in _ACCEPTED:
        names: Dict[str, None] = {}
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for p in list(inspect.signature(init).parameters.values())[1:]:
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    names[p.name] = None
        _ACCEPTED[cls] = tuple(names)
    return _ACCEPTED[cls]


def recorded_init(init: Callable[..., None]) -> Callable[..., None]:
    """``init`` wrapped: the outermost call translates old names and records the call."""

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if type(self).__init__ is __init__ and "_init_call" not in self.__dict__:
            args, kwargs = ported_call(type(self), args, kwargs)
            self._init_call = (args, dict(kwargs))
        init(self, *args, **kwargs)

    return __init__


def ported_call(cls: type, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[tuple, dict]:
    """``(args, kwargs)`` in Keras 2's spelling; one warning per old name or ambiguous form."""
    expected_ndim = getattr(cls, "expected_ndim", None)
    given = list(_bound(cls, args, {}) or {})  # the names the positional arguments fill
    example_args = getattr(cls, "example_args", {})

    def example(**changes: Any) -> str:
        return call_code(cls, (), {**example_args, **changes})

    out = legacy.translate(
        cls.__name__, expected_ndim, args, kwargs, accepted_names(cls), given, example
    )
    bound = _bound(cls, out.args, out.kwargs)
    positional = list(bound)[: len(out.args)] if bound is not None else []
    if "kernel_size" in positional and "strides" in positional:  # Conv2D(32, 3, 3)
        call = render(cls.__name__, [bound[k] for k in positional], {})
        kernel, strides = bound["kernel_size"], bound["strides"]
        as_kernel = call_code(cls, out.args[:2], out.kwargs, kernel_size=(kernel, strides))
        out.notes.append(legacy.positional_strides_note(call, strides, as_kernel))
    for note in out.notes:
        legacy.warn(f"{note}; the call in Keras 2 spelling: {call_code(cls, out.args, out.kwargs)}")
    return out.args, out.kwargs


def _bound(cls: type, args: tuple, kwargs: dict) -> Optional[Dict[str, Any]]:
    """The call's arguments by name, in the signature's order (``**kwargs`` ones last); None
    when they do not bind (the layer's own error will say why)."""
    try:
        bound = inspect.signature(cls.__init__).bind_partial(None, *args, **kwargs)
    except TypeError:
        return None
    named: Dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        else:
            named[name] = value
    return named


def _required(cls: type) -> List[str]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in params if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]


def call_code(
    cls: type, args: tuple, kwargs: dict, drop: Iterable[str] = (), **changes: Any
) -> str:
    """``cls(*args, **kwargs)`` as code, with ``changes`` applied and the names in ``drop`` left
    out; required arguments first and unnamed, as a learner writes them."""
    named = _bound(cls, args, kwargs)
    if named is None:
        named = {**dict(enumerate(args)), **kwargs}
    named = {k: v for k, v in {**named, **changes}.items() if k not in set(drop)}
    required = _required(cls)
    positional = []
    for name in required:
        if name not in named:
            break
        positional.append(named.pop(name))
    return render(cls.__name__, positional, named)


def layer_code(layer: Any, drop: Iterable[str] = (), **changes: Any) -> str:
    """The call that made ``layer`` (as recorded, old names in Keras 2's spelling), with
    ``changes`` applied: the code a fix tells the learner to write."""
    args, kwargs = getattr(layer, "_init_call", ((), {}))
    return call_code(type(layer), args, kwargs, drop, **changes)


def given_arguments(layer: Any) -> Dict[str, Any]:
    """The arguments ``layer`` was made with, by name (old names in Keras 2's spelling)."""
    args, kwargs = getattr(layer, "_init_call", ((), {}))
    named = _bound(type(layer), args, kwargs)
    return dict(kwargs) if named is None else named


def render(name: str, positional: List[Any], named: Dict[Any, Any]) -> str:
    items = [code_repr(v) for v in positional]
    items += [
        f"{k}={code_repr(v)}" if isinstance(k, str) else code_repr(v) for k, v in named.items()
    ]
    return f"{name}({', '.join(items)})"


def refuse_unknown(layer: Any, unknown: Dict[str, Any]) -> NoReturn:
    """A ``ConfigError`` for names ``type(layer)`` does not take; the fix is the same call with
    each name replaced by the closest real argument (when one is close)."""
    cls = type(layer)
    accepted = [n for n in accepted_names(cls) if n not in unknown]
    names = ", ".join(sorted(unknown))
    renamed, hints = {}, []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, accepted, n=1)
        rule = legacy.RENAMES.get(name)
        if rule is not None:
            hints.append(f"{name} is Keras 1's {rule.modern}, which {cls.__name__} does not take")
        elif close:
            renamed[name] = close[0]
            hints.append(f"did you mean {close[0]}= instead of {name}=?")
    fix = "; ".join(hints) or f"{cls.__name__} takes {', '.join(accepted)}"
    args, kwargs = getattr(layer, "_init_call", ((), {}))
    kwargs = {renamed.get(k, k): v for k, v in kwargs.items() if k in renamed or k not in unknown}
    suggestion = call_code(cls, args, kwargs)
    fix += f"; e.g. {suggestion if _constructs(cls, suggestion) else layer.example()}"
    raise ConfigError(
        where=f"{cls.__name__}()",
        expected=f"{cls.__name__}'s argument names (Keras')",
        got=names,
        fix=fix,
    )


def _constructs(cls: type, code: str) -> bool:
    """Whether ``code`` (a call of ``cls``) makes a layer: a fix only shows calls that work."""
    try:
        eval(code, {cls.__name__: cls, "np": np})  # code we rendered ourselves
    except (TinygradEduError, TypeError, NameError, SyntaxError):
        return False
    return True


def declared_input_shape(layer: Any, input_shape: Any, input_dim: Any, batch_input_shape: Any):
    """``(None, *sizes)`` from whichever of Keras' three spellings was given (None if none)."""
    given = {
        "input_shape": input_shape,
        "input_dim": input_dim,
        "batch_input_shape": batch_input_shape,
    }
    given = [k for k, v in given.items() if v is not None]
    if len(given) > 1:
        raise ConfigError(
            where=layer.where,
            expected="the input shape given once",
            got=" and ".join(given),
            fix="keep one of them, e.g. " + layer.example(input_shape=layer.example_input_shape),
        )
    if batch_input_shape is not None:
        example = layer.example(batch_input_shape=(None, *layer.example_input_shape))
        full = check.batch_shape("batch_input_shape", batch_input_shape, layer.where, example)
        return (None, *full[1:])
    if input_dim is not None:
        example = layer.example(input_dim=layer.example_input_shape[-1])
        return (None, check.positive_int("input_dim", input_dim, layer.where, example))
    if input_shape is not None:
        example = layer.example(input_shape=layer.example_input_shape)
        sizes = check.shape(
            "input_shape (without the batch axis)",
            input_shape,
            layer.where,
            example,
            allow_int=True,
        )
        return (None, *sizes)
    return None


__all__ = [
    "BASE_KWARGS",
    "accepted_names",
    "call_code",
    "code_repr",
    "declared_input_shape",
    "given_arguments",
    "layer_code",
    "ported_call",
    "recorded_init",
    "refuse_unknown",
]
