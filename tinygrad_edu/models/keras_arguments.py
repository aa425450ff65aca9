"""Keras arguments a model method does not take here: a ``ConfigError`` that names them, what this
library does instead and the arguments it takes - never Python's bare ``TypeError: compile() got
an unexpected keyword argument 'run_eagerly'`` from deep in a Keras script.

``KerasArguments`` is ``Model``'s base: every class below it (``Sequential``, ``Functional``, a
user's subclass) gets the methods of ``CHECKED`` it defines wrapped by ``refusing_unknown``. A
call costs nothing more while its arguments bind: the signature is looked at only after a
``TypeError``, and only a failed binding becomes the ``ConfigError`` (a ``TypeError`` raised
inside the method is re-raised as it was). ``train_on_batch`` is not wrapped: it is the
per-step call of the PyTorch-style and benchmark loops.

>>> from tinygrad_edu.layers import Dense
>>> from tinygrad_edu.models import Sequential
>>> model = Sequential([Dense(1, input_shape=(2,))])
>>> try:
...     model.compile("sgd", "mse", run_eagerly=True)
... except ConfigError as err:
...     print(err.got)
run_eagerly=True (eager is the only mode here; jit_compile=True replays a captured step)
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict

from ..errors import ConfigError, suggest

#: the methods checked (the public training, inference and saving calls but train_on_batch)
CHECKED = (
    "compile",
    "fit",
    "evaluate",
    "predict",
    "test_on_batch",
    "predict_on_batch",
    "summary",
    "save",
    "save_weights",
    "load_weights",
)

#: Keras' arguments we do not take, and what this library does instead
KERAS_ONLY: Dict[str, str] = {
    "run_eagerly": "eager is the only mode here; jit_compile=True replays a captured step",
    "steps_per_execution": "one step per call here",
    "weighted_metrics": "metrics are never weighted here; sample_weight weights the loss",
    "auto_scale_loss": "no mixed precision here",
    "overwrite": "save replaces the file, atomically",
    "skip_mismatch": "load_weights refuses mismatched weights and lists them",
    "expand_nested": "summary lists every layer",
    "show_trainable": "summary's footer counts trainable and non-trainable parameters",
    "positions": "summary sizes its columns",
    "layer_range": "summary lists every layer",
    "max_queue_size": "data is read in the calling thread",
    "workers": "data is read in the calling thread",
    "use_multiprocessing": "data is read in the calling thread",
}


class KerasArguments:
    """Wraps the ``CHECKED`` methods each subclass defines (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in CHECKED:
            method = vars(cls).get(name)
            if callable(method) and not hasattr(method, "__wrapped__"):
                setattr(cls, name, refusing_unknown(method))


def refusing_unknown(method: Callable) -> Callable:
    """``method``, whose calls with arguments it does not take raise a ``ConfigError``."""

    @functools.wraps(method)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except TypeError:
            refuse_unbound(self, method, args, kwargs)
            raise

    return checked


def refuse_unbound(model: Any, method: Callable, args: tuple, kwargs: dict) -> None:
    """A ``ConfigError`` when ``args``/``kwargs`` do not bind to ``method`` (a method taking
    ``**kwargs`` is checked against ``Model``'s own, whose arguments it forwards)."""
    signature = _signature(model, method)
    try:
        signature.bind(model, *args, **kwargs)
    except TypeError as err:
        names = [n for n in signature.parameters if n != "self"]
        unknown = [k for k in kwargs if k not in signature.parameters]
        where = f"model '{getattr(model, 'name', '?')}'.{method.__name__}"
        if not unknown:
            raise ConfigError(
                where=where,
                expected=f"the arguments {', '.join(names)}",
                got=str(err),
                fix=f"help(model.{method.__name__})  # the arguments and what each means",
            ) from None
        key = unknown[0]
        why = f" ({KERAS_ONLY[key]})" if key in KERAS_ONLY else ""
        raise ConfigError(
            where=where,
            expected=f"{method.__name__}'s arguments: {', '.join(names)}",
            got=f"{key}={kwargs[key]!r}{why}",
            fix=f"leave {key} out" if why else suggest(key, names),
        ) from None


def _signature(model: Any, method: Callable) -> inspect.Signature:
    signature = inspect.signature(method)
    kinds = {p.kind for p in signature.parameters.values()}
    if inspect.Parameter.VAR_KEYWORD in kinds:  # Functional's forwarders: Model's arguments
        for cls in type(model).__mro__[::-1]:
            base = vars(cls).get(method.__name__)
            if base is not None:
                return inspect.signature(inspect.unwrap(base))
    return signature


__all__ = ["CHECKED", "KERAS_ONLY", "KerasArguments", "refuse_unbound", "refusing_unknown"]
