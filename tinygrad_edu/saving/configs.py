"""JSON for what a checkpoint stores as text: layer, optimizer and compile configs.

Built-in initializers and regularizers inside a layer config are stored as plain data
(``{"__object__", "module", "config"}``) and rebuilt only from a whitelist of library classes;
losses, metrics, optimizers and layers are likewise rebuilt only from the library's own names.

Reading JSON from a file is strict: text that is not valid UTF-8, longer than
``MAX_CONFIG_CHARS``, nested deeper than ``MAX_JSON_DEPTH`` (checked before parsing, so no
``RecursionError``), with NaN/Infinity or a key twice in one object is a ``CheckpointError``.
Saving refuses NaN/Infinity too, so every file it writes can be read back.
"""

from __future__ import annotations

import inspect
import json
import re
import warnings
from typing import Any, Dict, List, Optional

import numpy as np

from .. import initializers as _initializers
from .. import layers as _layers
from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from .. import regularizers as _regularizers
from ..errors import CheckpointError, TinygradEduError
from .archive import OPTIMIZER_PREFIX, _text

#: the longest JSON text read from a file (a model of some 100,000 Dense layers)
MAX_CONFIG_CHARS = 50_000_000
#: the deepest JSON nesting read from a file (a model config needs about 8)
MAX_JSON_DEPTH = 64
#: what building a layer from a file's config may raise besides our own errors
CONFIG_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ValueError,
    ArithmeticError,
    RecursionError,
)
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # one char a step: no backtracking

#: library objects a layer config may hold, stored as {"__object__", "module", "config"}
_OBJECT_MODULES = {
    "initializers": (_initializers, _initializers.Initializer),
    "regularizers": (_regularizers, _regularizers.Regularizer),
}


# ---------------------------------------------------------------------- JSON codec
def _encode_object(value: Any) -> Optional[Dict[str, Any]]:
    """A built-in initializer/regularizer as plain data (its constructor arguments), else None."""
    for module_name, (module, base) in _OBJECT_MODULES.items():
        cls = type(value)
        if isinstance(value, base) and getattr(module, cls.__name__, None) is cls:
            names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
            if all(hasattr(value, n) for n in names):
                return {
                    "__object__": cls.__name__,
                    "module": module_name,
                    "config": {n: getattr(value, n) for n in names},
                }
    return None


def _decode_object(obj: Dict[str, Any]) -> Any:
    """``json.loads`` hook: rebuild what ``_encode_object`` stored (whitelisted classes only)."""
    if "__object__" not in obj:
        return obj
    module, base = _OBJECT_MODULES.get(obj.get("module"), (None, None))
    cls = getattr(module, str(obj["__object__"]), None) if module is not None else None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"unknown object {obj.get('module')}.{obj['__object__']}")  # noqa: TRY004
    return cls(**obj["config"])


def _json_default(value: Any) -> Any:
    encoded = _encode_object(value)
    if encoded is not None:
        return encoded
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(obj: Any, what: str) -> str:
    try:
        return json.dumps(obj, default=_json_default, allow_nan=False)
    except TypeError as err:
        raise CheckpointError(
            where="save_model",
            expected=f"{what} as plain data",
            got=str(err),
            fix="layers with custom Python objects in their "
            "config cannot be saved whole; use model.save_weights(path)",
        ) from None
    except ValueError as err:
        raise CheckpointError(
            where="save_model",
            expected=f"{what} with finite numbers",
            got=str(err),
            fix="a hyperparameter is NaN or infinite: set it to a finite value first",
        ) from None


def _loads(data: Dict[str, np.ndarray], key: str, where: str) -> Any:
    """The JSON entry ``key`` of a file, strictly parsed (see the module docstring)."""
    text = _json_text(data, key, where)
    _check_json_depth(text, key, where)
    try:
        return json.loads(
            text, object_pairs_hook=_object_from_pairs, parse_constant=_refuse_constant
        )
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        raise _json_error(
            where, key, f"damaged JSON ({type(err).__name__}: {str(err)[:80]})"
        ) from None


def _json_text(data: Dict[str, np.ndarray], key: str, where: str) -> str:
    entry = data.get(key)
    if not isinstance(entry, np.ndarray) or entry.ndim != 0 or entry.dtype.kind not in "US":
        got = "no such entry" if entry is None else f"an array of dtype {entry.dtype}"
        raise _json_error(where, key, got)
    try:
        if entry.dtype.kind == "S":
            text = entry.item().decode("utf-8")
        else:
            text = str(entry.item())
            if not text.isascii():
                text.encode("utf-8")  # lone surrogates cannot be UTF-8
    except (UnicodeError, ValueError) as err:
        raise _json_error(
            where, key, f"text that is not valid UTF-8 ({err.__class__.__name__})"
        ) from None
    if len(text) > MAX_CONFIG_CHARS:
        raise _json_error(where, key, f"{len(text):,} characters (at most {MAX_CONFIG_CHARS:,})")
    return text


def _check_json_depth(text: str, key: str, where: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH before ``json`` recurses into it."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise _json_error(where, key, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif bracket in "]}":
            depth -= 1


def _object_from_pairs(pairs: List[tuple]) -> Any:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {twice!r} twice in one object")
    return _decode_object(obj)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_error(where: str, key: str, got: str) -> CheckpointError:
    return CheckpointError(
        where=where,
        expected=f"a JSON {key!r} entry as tinygrad_edu writes it",
        got=got,
        fix="the file was altered or damaged; save the model again",
    )


# ---------------------------------------------------------------------- saving configs
def _optimizer_arrays(optimizer: Any) -> Dict[str, np.ndarray]:
    config = optimizer.get_config()
    try:
        text = json.dumps(
            {"class_name": type(optimizer).__name__, "config": config},
            default=_json_default,
            allow_nan=False,
        )
    except TypeError:  # a plain function as learning-rate schedule
        config["learning_rate"] = float(optimizer.learning_rate)
        warnings.warn(
            f"{type(optimizer).__name__}'s learning-rate schedule is a plain function "
            f"and is not saved; the file keeps the current rate "
            f"{config['learning_rate']}",
            stacklevel=3,
        )
        text = _dumps(
            {"class_name": type(optimizer).__name__, "config": config}, "the optimizer config"
        )
    arrays = {"optimizer_config": _text(text)}
    for key, value in optimizer.state_dict().items():
        arrays[OPTIMIZER_PREFIX + key] = np.array(value)
    return arrays


def _compile_config(model: Any) -> Optional[Dict[str, Any]]:
    """The loss and metric names, or None (with a warning) for a custom loss. A model with
    per-output losses (``loss_fn.per_output_settings``) stores them under ``"outputs"``: a loss
    spec or None per output, the loss weights, and the metric names by output name."""
    settings = getattr(model.loss_fn, "per_output_settings", None)
    if settings is not None:
        return _outputs_compile_config(model, settings())
    loss = model.loss_fn
    spec = _loss_spec(model, loss)
    if spec is None:
        return None
    metrics = [name for name, fn in model.metric_fns if _storable(model, name, fn, loss.name)]
    return {"loss": spec, "metrics": metrics}


def _outputs_compile_config(model: Any, settings: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    specs = []
    for loss in settings["loss"]:
        specs.append(None if loss is None else _loss_spec(model, loss))
        if loss is not None and specs[-1] is None:
            return None
    metrics = {}
    for (name, chosen), loss in zip(settings["metrics"].items(), settings["loss"]):
        loss_name = None if loss is None else loss.name
        kept = [m for m in chosen if _storable(model, m, _metric_by_name(m, loss_name), loss_name)]
        if kept:
            metrics[name] = kept
    outputs = {"loss": specs, "loss_weights": settings["loss_weights"], "metrics": metrics}
    return {"loss": None, "metrics": [], "outputs": outputs}


def _loss_spec(model: Any, loss: Any) -> Optional[Dict[str, Any]]:
    """A built-in loss as ``{"class_name", "function", "name", "config"}``, else None (with a
    warning)."""
    fn = getattr(loss, "fn", None)
    fn_name = getattr(fn, "__name__", None)
    if fn is None or fn_name not in _losses.__all__ or getattr(_losses, fn_name) is not fn:
        warnings.warn(
            f"model '{model.name}': the loss {getattr(loss, 'name', loss)!r} is a "
            "custom function and cannot be stored; load_model will return an "
            "uncompiled model (weights are saved)",
            stacklevel=4,
        )
        return None
    try:
        loss_config = json.loads(json.dumps(loss.config, default=_json_default, allow_nan=False))
    except (TypeError, ValueError):
        return None
    return {
        "class_name": type(loss).__name__,
        "function": fn_name,
        "name": loss.name,
        "config": loss_config,
    }


def _storable(model: Any, name: Any, metric_fn: Any, loss_name: Optional[str]) -> bool:
    """A metric is stored by its name when that name gives back the same function."""
    if (
        isinstance(name, str)
        and metric_fn is not None
        and _metric_by_name(name, loss_name) is metric_fn
    ):
        return True
    label = name if isinstance(name, str) else getattr(name, "__name__", name)
    warnings.warn(
        f"model '{model.name}': the custom metric {label!r} cannot be stored; "
        "it is left out of the saved compile settings",
        stacklevel=4,
    )
    return False


def _metric_by_name(name: Any, loss_name: Optional[str]) -> Any:
    if not isinstance(name, str):
        return None
    try:
        return _metrics.get(name, loss_name=loss_name)
    except TinygradEduError:
        return None


# ---------------------------------------------------------------------- rebuilding from configs
def check_layer_entry(spec: Any, where: str, kind: str = "", tool: str = "") -> None:
    """Refuse a file's layer entry that is not ``{"class_name": str, "config": {...}}`` (an
    altered or damaged file); ``kind``/``tool`` name a Keras file's entries and its maker."""
    if not (
        isinstance(spec, dict)
        and isinstance(spec.get("class_name"), str)
        and isinstance(spec.get("config"), dict)
    ):
        raise CheckpointError(
            where=where,
            expected=f'{kind}layer entries {{"class_name": str, "config": {{...}}}}',
            got=f"{type(spec).__name__} {str(spec)[:60]}",
            fix=f"the file was altered or damaged; save the model again{tool}",
        )


def _layer_from_config(spec: Any, where: str) -> Any:
    check_layer_entry(spec, where)
    name = spec["class_name"]
    cls = getattr(_layers, name, None) if name in _layers.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, _layers.Layer)):
        raise CheckpointError(
            where=where,
            expected="layer classes of tinygrad_edu.layers",
            got=f"unknown layer class {name!r}",
            fix="only built-in layers can be loaded; a newer tinygrad_edu may "
            "have it, or rebuild the model in code and use load_weights",
        )
    try:
        return cls.from_config(dict(spec["config"]))
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        raise CheckpointError(
            where=where,
            expected=f"a {name} config this version can build",
            got=f"{type(err).__name__}: {str(err)[:160]}",
            fix="the file was altered, or written by another version; save the model again",
        ) from None


def _loss_from_spec(spec: Dict[str, Any]) -> Any:
    """The loss a ``_loss_spec`` describes, from the library's own names only."""
    fn = getattr(_losses, spec["function"]) if spec["function"] in _losses.__all__ else None
    if fn is None:
        raise KeyError(spec["function"])
    cls = getattr(_losses, spec.get("class_name", "Loss"), None)
    if isinstance(cls, type) and issubclass(cls, _losses.Loss) and cls is not _losses.Loss:
        return cls(**spec["config"])
    return _losses.Loss(fn, name=spec.get("name"), **spec["config"])


def _restore_compile(model: Any, data: Dict[str, np.ndarray], where: str) -> None:
    compile_config = _loads(data, "compile_config", where)
    try:
        optimizer = (
            _optimizers.deserialize(_loads(data, "optimizer_config", where))
            if "optimizer_config" in data
            else "rmsprop"
        )
        outputs = compile_config.get("outputs")
        if outputs is not None:  # per-output losses, loss weights and metrics
            model.compile(
                optimizer=optimizer,
                loss=[None if spec is None else _loss_from_spec(spec) for spec in outputs["loss"]],
                loss_weights=outputs["loss_weights"],
                metrics=dict(outputs["metrics"]) or None,
            )
        else:
            loss = _loss_from_spec(compile_config["loss"])
            model.compile(optimizer=optimizer, loss=loss, metrics=compile_config["metrics"] or None)
        state = {
            k[len(OPTIMIZER_PREFIX) :]: (v.item() if v.ndim == 0 else v)
            for k, v in data.items()
            if k.startswith(OPTIMIZER_PREFIX)
        }
        if state:
            model.optimizer.load_state_dict(state)
    except CheckpointError:
        raise
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        raise CheckpointError(
            where=where,
            expected="compile settings this version understands",
            got=f"{type(err).__name__}: {err}",
            fix="load with load_model(path, compile=False) and compile again",
        ) from None
