"""Saving and loading models and weights as one ``.npz`` file, written atomically, never pickled.

Layout of a file (every entry is a plain numpy array; text is a 0-d unicode array, never an
object array, so ``np.load(path, allow_pickle=False)`` reads all of it)::

    format              "tinygrad_edu"
    format_version      1 (int64)
    kind                "model" (save_model) or "weights" (save_weights)
    weights/<layer>/<w> every weight, e.g. weights/dense/kernel (in, units), weights/dense/bias
    model_config        JSON of model.get_config()            (kind "model")
    compile_config      JSON {"loss": {...}, "metrics": [...]} (kind "model", when compiled with
                        built-in losses/metrics; custom functions cannot be stored)
    optimizer_config    JSON {"class_name": "Adam", "config": {...}}        (kind "model", compiled)
    optimizer/<key>     optimizer.state_dict(), e.g. optimizer/iterations, optimizer/adam/m/0

Paths are used exactly as given: ``model.save("run.keras")`` writes ``run.keras`` and
``model.save("run")`` writes ``run`` (numpy's habit of appending ``.npz`` does not apply, because
the archive is written through a file object). Load with the same path.

Atomic writes: the archive goes to a temporary file in the target's directory, is flushed and
fsynced, then ``os.replace``-d onto the target. If anything fails, the temporary file is removed and
an existing file at the target is left untouched.

>>> import os, tempfile
>>> from tinygrad_edu.models import Sequential
>>> from tinygrad_edu.layers import Dense
>>> model = Sequential([Dense(2, input_shape=(3,))])
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> save_model(model, path)
>>> load_model(path).get_weights()[0].shape
(3, 2)
"""

from __future__ import annotations

import inspect
import json
import os
import struct
import tempfile
import warnings
import zipfile
import zlib
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import initializers as _initializers
from . import layers as _layers
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from . import regularizers as _regularizers
from .errors import CheckpointError, TinygradEduError

FORMAT = "tinygrad_edu"
FORMAT_VERSION = 1
WEIGHTS_PREFIX = "weights/"
OPTIMIZER_PREFIX = "optimizer/"
#: what numpy/zipfile raise on a truncated, corrupted or pickle-bearing file
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, ValueError, OSError, EOFError,
                KeyError, NotImplementedError)


# ---------------------------------------------------------------------- public API
def save_model(model: Any, path: Any) -> None:
    """Architecture, weights, compile settings and optimizer state, in one atomic ``.npz``."""
    arrays = _header("model")
    arrays["model_config"] = _text(_dumps(model.get_config(), "the model config"))
    arrays.update(_weight_arrays(model))
    if getattr(model, "loss_fn", None) is not None:
        compile_config = _compile_config(model)
        if compile_config is not None:
            arrays["compile_config"] = _text(json.dumps(compile_config))
        arrays.update(_optimizer_arrays(model.optimizer))
    _write_atomic(path, arrays)


def save_weights(model: Any, path: Any) -> None:
    """Only the weights, by ``layer/weight`` name, in one atomic ``.npz``."""
    arrays = _header("weights")
    arrays.update(_weight_arrays(model))
    _write_atomic(path, arrays)


def load_weights(model: Any, path: Any) -> None:
    """Set ``model``'s weights from a file of ``save_weights`` or ``save_model``.

    Matching is by name (``dense/kernel``). Missing, unexpected or mis-shaped weights raise one
    ``CheckpointError`` listing all three (also as ``err.missing``, ``err.unexpected``,
    ``err.mismatched``), and then nothing is loaded.
    """
    data = read_archive(path)
    if not model.built:
        raise CheckpointError(
            where=f"model '{model.name}'.load_weights", expected="a built model",
            got="layers without weights yet",
            fix="give the first layer input_shape=(...) (or call model.build(...)) before "
            "load_weights, or use load_model(path) for a file written by model.save",
        )
    _assign_weights(model, _weights_in(data), path)


def load_model(path: Any, compile: bool = True) -> Any:
    """Rebuild a ``Sequential`` saved by ``save_model``: layers, weights, and (when
    ``compile``) the loss, metrics and optimizer with its state, so training continues exactly."""
    from .models import Sequential  # models imports this module lazily too

    data = read_archive(path)
    where = f"load_model({_show(path)})"
    if _scalar(data["kind"]) != "model":
        raise CheckpointError(
            where=where, expected="a file written by model.save(path)",
            got="a weights-only file (model.save_weights)",
            fix="build the same model in code, then call model.load_weights(path)",
        )
    config = _loads(data, "model_config", where)
    try:
        layers = [_layer_from_config(spec, where) for spec in config["layers"]]
        model = Sequential(layers, name=config.get("name"))
        if config.get("input_shape") is not None and not model.built:
            model.build((None, *config["input_shape"]))
    except (KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(where=where, expected="a valid model_config",
                              got=f"{type(err).__name__}: {err}",
                              fix="the file is damaged; save the model again") from None
    except TinygradEduError as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(where=where, expected="a config this version can build",
                              got=str(err), fix="save the model again with this version") from None
    _assign_weights(model, _weights_in(data), path)
    if compile and "compile_config" in data:
        _restore_compile(model, data, where)
    elif compile and "optimizer_config" in data:
        warnings.warn(f"{where}: the model was compiled with a custom loss that cannot be stored; "
                      "it is returned uncompiled - call model.compile(...) again", stacklevel=2)
    return model


def read_archive(path: Any) -> Dict[str, np.ndarray]:
    """Every array of a checkpoint file, read with ``allow_pickle=False`` and checked.

    Any unreadable file (missing, truncated, random bytes, holding object arrays, from another
    program or a newer format) raises ``CheckpointError``.
    """
    path = _fspath(path)
    where = f"reading {_show(path)}"
    if not os.path.exists(path):
        sibling = path + ".npz"
        hint = (f"{sibling!r} exists - did you mean it?" if os.path.exists(sibling)
                else "check the path (and the working directory: os.getcwd())")
        raise CheckpointError(where=where, expected="an existing file", got="no such file",
                              fix=hint)
    if os.path.isdir(path):
        raise CheckpointError(where=where, expected="a file", got="a directory",
                              fix="give the path of the .npz/.keras file inside it")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise CheckpointError(where=where, expected="an .npz archive of tinygrad_edu",
                                  got=f"a single .npy array of shape {np.shape(loaded)}",
                                  fix="save with model.save(path) or model.save_weights(path)")
        with loaded:
            data = {name: loaded[name] for name in loaded.files}
    except CheckpointError:
        raise
    except _READ_ERRORS as err:
        raise _unreadable(where, err) from None
    _check_header(data, where)
    return data


# ---------------------------------------------------------------------- writing
def _header(kind: str) -> Dict[str, np.ndarray]:
    return {"format": _text(FORMAT), "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "kind": _text(kind)}


def _text(s: str) -> np.ndarray:
    return np.array(s, dtype=np.str_)  # a 0-d unicode array: loads without pickle


def _weight_arrays(model: Any) -> Dict[str, np.ndarray]:
    return {WEIGHTS_PREFIX + name: np.array(w.data) for name, w in model.named_weights().items()}


def _optimizer_arrays(optimizer: Any) -> Dict[str, np.ndarray]:
    config = optimizer.get_config()
    try:
        text = json.dumps({"class_name": type(optimizer).__name__, "config": config},
                          default=_json_default)
    except TypeError:  # a plain function as learning-rate schedule
        config["learning_rate"] = float(optimizer.learning_rate)
        warnings.warn(f"{type(optimizer).__name__}'s learning-rate schedule is a plain function "
                      f"and is not saved; the file keeps the current rate "
                      f"{config['learning_rate']}", stacklevel=3)
        text = json.dumps({"class_name": type(optimizer).__name__, "config": config},
                          default=_json_default)
    arrays = {"optimizer_config": _text(text)}
    for key, value in optimizer.state_dict().items():
        arrays[OPTIMIZER_PREFIX + key] = np.array(value)
    return arrays


def _compile_config(model: Any) -> Optional[Dict[str, Any]]:
    """The loss and metric names, or None (with a warning) for a custom loss."""
    loss = model.loss_fn
    fn = getattr(loss, "fn", None)
    fn_name = getattr(fn, "__name__", None)
    if fn is None or fn_name not in _losses.__all__ or getattr(_losses, fn_name) is not fn:
        warnings.warn(f"model '{model.name}': the loss {getattr(loss, 'name', loss)!r} is a "
                      "custom function and cannot be stored; load_model will return an "
                      "uncompiled model (weights are saved)", stacklevel=3)
        return None
    try:
        loss_config = json.loads(json.dumps(loss.config, default=_json_default))
    except TypeError:
        return None
    metrics: List[str] = []
    for name, metric_fn in model.metric_fns:
        if _metric_by_name(name, loss.name) is metric_fn:
            metrics.append(name)
        else:
            warnings.warn(f"model '{model.name}': the custom metric {name!r} cannot be stored; "
                          "it is left out of the saved compile settings", stacklevel=3)
    return {"loss": {"class_name": type(loss).__name__, "function": fn_name, "name": loss.name,
                     "config": loss_config}, "metrics": metrics}


def _metric_by_name(name: str, loss_name: str) -> Any:
    try:
        return _metrics.get(name, loss_name=loss_name)
    except TinygradEduError:
        return None


def _write_atomic(path: Any, arrays: Dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an .npz at exactly ``path``: temp file, fsync, ``os.replace``."""
    path = _fspath(path)
    where = f"saving {_show(path)}"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CheckpointError(where=where, expected="an existing directory",
                              got=f"no directory {directory!r}",
                              fix=f"create it first: os.makedirs({directory!r}, exist_ok=True)")
    if os.path.isdir(path):
        raise CheckpointError(where=where, expected="a file path", got="an existing directory",
                              fix="add a file name, e.g. os.path.join(path, 'model.keras')")
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp", delete=False) as tmp:
            tmp_name = tmp.name
            np.savez(tmp, **arrays)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_directory(directory)
    except OSError as err:
        raise CheckpointError(where=where, expected="a writable location",
                              got=f"{type(err).__name__}: {err}",
                              fix="check the path, free disk space and permissions; "
                              "any previous file at this path is unchanged") from err
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- reading
def _check_header(data: Dict[str, np.ndarray], where: str) -> None:
    if "format" not in data or "kind" not in data or "format_version" not in data:
        raise CheckpointError(where=where, expected="a file written by tinygrad_edu",
                              got=f"an .npz with arrays {sorted(data)[:5]}",
                              fix="save with model.save(path) or model.save_weights(path); to "
                              "load your own arrays, use model.set_weights(list_of_arrays)")
    try:
        version = int(data["format_version"])
        ok = _scalar(data["format"]) == FORMAT and _scalar(data["kind"]) in ("model", "weights")
    except (TypeError, ValueError):
        ok, version = False, -1
    if not ok:
        raise CheckpointError(where=where, expected="a tinygrad_edu header",
                              got="a damaged header", fix="save the model again")
    if version > FORMAT_VERSION:
        raise CheckpointError(where=where, expected=f"format version <= {FORMAT_VERSION}",
                              got=f"version {version}",
                              fix="the file comes from a newer tinygrad_edu; upgrade to load it")


def _unreadable(where: str, err: BaseException) -> CheckpointError:
    text = str(err)
    if "pickle" in text.lower() or "object arrays" in text.lower():
        return CheckpointError(where=where, expected="plain numeric/text arrays",
                               got="pickled Python objects (refused: unpickling can run code)",
                               fix="only load files you created with model.save/save_weights; "
                               "re-save the weights as numeric arrays")
    return CheckpointError(where=where, expected="a complete .npz archive",
                           got=f"an unreadable file ({type(err).__name__}: {text[:80]})",
                           fix="the file is truncated or corrupted (an interrupted copy?); use "
                           "another checkpoint or save again")


def _scalar(arr: np.ndarray) -> Any:
    if arr.dtype.kind not in "Uiuf" or arr.ndim != 0:
        raise ValueError("not a scalar")
    return arr.item()


def _loads(data: Dict[str, np.ndarray], key: str, where: str) -> Any:
    try:
        return json.loads(_scalar(data[key]), object_hook=_decode_object)
    except (KeyError, ValueError, TypeError):
        raise CheckpointError(where=where, expected=f"a JSON {key!r} entry",
                              got="missing or damaged", fix="save the model again") from None


def _weights_in(data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    return {k[len(WEIGHTS_PREFIX):]: v for k, v in data.items() if k.startswith(WEIGHTS_PREFIX)}


def weight_mismatches(model: Any, arrays: Dict[str, np.ndarray]
                      ) -> Tuple[List[str], List[str], List[Tuple[str, tuple, tuple]]]:
    """(missing, unexpected, mis-shaped as (name, expected shape, file shape)) between the
    model's named weights and ``arrays``."""
    expected = {name: tuple(w.data.shape) for name, w in model.named_weights().items()}
    missing = [n for n in expected if n not in arrays]
    unexpected = sorted(n for n in arrays if n not in expected)
    mismatched = [(n, shape, tuple(arrays[n].shape)) for n, shape in expected.items()
                  if n in arrays and tuple(arrays[n].shape) != shape]
    return missing, unexpected, mismatched


def _assign_weights(model: Any, arrays: Dict[str, np.ndarray], path: Any) -> None:
    missing, unexpected, mismatched = weight_mismatches(model, arrays)
    bad_dtype = [n for n, a in arrays.items() if a.dtype.kind not in "biuf"]
    if missing or unexpected or mismatched or bad_dtype:
        shaped = [f"{n} {exp} vs file {got}" for n, exp, got in mismatched]
        err = CheckpointError(
            f"missing: {missing}; unexpected: {unexpected}; mis-shaped: {shaped}"
            + (f"; non-numeric: {bad_dtype}" if bad_dtype else ""),
            where=f"model '{model.name}' loading {_show(path)}",
            expected=f"{len(model.named_weights())} weights named and shaped like this model's",
            got=f"{len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(mismatched)} mis-shaped",
            fix=_mismatch_fix(model, arrays, missing, unexpected),
        )
        err.missing, err.unexpected, err.mismatched = missing, unexpected, mismatched
        raise err
    for name, w in model.named_weights().items():
        w.data[...] = arrays[name]  # in place: the optimizer keeps its references


def _mismatch_fix(model: Any, arrays: Dict[str, np.ndarray], missing: List[str],
                  unexpected: List[str]) -> str:
    ours = [tuple(w.data.shape) for w in model.named_weights().values()]
    theirs = [tuple(a.shape) for a in arrays.values()]
    if missing and unexpected and ours == theirs:
        return ("the shapes match in order but the names differ (renamed layers?); build the "
                "model with the same layer names, or assign by position: "
                "model.set_weights([...])")
    return ("the file was saved from a different architecture; build the same layers (units, "
            "kernel sizes, order) as the saved model, or use load_model(path) for a full model")


def _layer_from_config(spec: Dict[str, Any], where: str) -> Any:
    name = spec["class_name"]
    cls = getattr(_layers, name, None) if name in _layers.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, _layers.Layer)):
        raise CheckpointError(where=where, expected="layer classes of tinygrad_edu.layers",
                              got=f"unknown layer class {name!r}",
                              fix="only built-in layers can be loaded; a newer tinygrad_edu may "
                              "have it, or rebuild the model in code and use load_weights")
    return cls.from_config(dict(spec["config"]))


def _restore_compile(model: Any, data: Dict[str, np.ndarray], where: str) -> None:
    compile_config = _loads(data, "compile_config", where)
    try:
        optimizer = (_optimizers.deserialize(_loads(data, "optimizer_config", where))
                     if "optimizer_config" in data else "rmsprop")
        spec = compile_config["loss"]
        fn = getattr(_losses, spec["function"]) if spec["function"] in _losses.__all__ else None
        if fn is None:
            raise KeyError(spec["function"])
        cls = getattr(_losses, spec.get("class_name", "Loss"), None)
        if isinstance(cls, type) and issubclass(cls, _losses.Loss) and cls is not _losses.Loss:
            loss = cls(**spec["config"])
        else:
            loss = _losses.Loss(fn, name=spec.get("name"), **spec["config"])
        model.compile(optimizer=optimizer, loss=loss, metrics=compile_config["metrics"] or None)
        state = {k[len(OPTIMIZER_PREFIX):]: (v.item() if v.ndim == 0 else v)
                 for k, v in data.items() if k.startswith(OPTIMIZER_PREFIX)}
        if state:
            model.optimizer.load_state_dict(state)
    except CheckpointError:
        raise
    except (KeyError, TypeError, TinygradEduError) as err:
        raise CheckpointError(where=where, expected="compile settings this version understands",
                              got=f"{type(err).__name__}: {err}",
                              fix="load with load_model(path, compile=False) and compile again"
                              ) from None


# ---------------------------------------------------------------------- helpers
def _fspath(path: Any) -> str:
    try:
        return os.fspath(path)
    except TypeError:
        raise CheckpointError(where="saving/loading", expected="a path (str or pathlib.Path)",
                              got=type(path).__name__, fix="pass a file name such as "
                              "'model.keras'") from None


def _show(path: Any) -> str:
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else repr(path)


#: library objects a layer config may hold, stored as {"__object__", "module", "config"}
_OBJECT_MODULES = {"initializers": (_initializers, _initializers.Initializer),
                   "regularizers": (_regularizers, _regularizers.Regularizer)}


def _encode_object(value: Any) -> Optional[Dict[str, Any]]:
    """A built-in initializer/regularizer as plain data (its constructor arguments), else None."""
    for module_name, (module, base) in _OBJECT_MODULES.items():
        cls = type(value)
        if isinstance(value, base) and getattr(module, cls.__name__, None) is cls:
            names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
            if all(hasattr(value, n) for n in names):
                return {"__object__": cls.__name__, "module": module_name,
                        "config": {n: getattr(value, n) for n in names}}
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
        return json.dumps(obj, default=_json_default)
    except TypeError as err:
        raise CheckpointError(where="save_model", expected=f"{what} as plain data",
                              got=str(err), fix="layers with custom Python objects in their "
                              "config cannot be saved whole; use model.save_weights(path)"
                              ) from None


__all__ = [
    "FORMAT_VERSION",
    "load_model",
    "load_weights",
    "read_archive",
    "save_model",
    "save_weights",
    "weight_mismatches",
]
