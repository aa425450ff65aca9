"""One layer's config between Keras 3 (``config.json`` of a ``.keras`` file) and tinygrad_edu.

The layers share Keras' argument names, so a Keras layer config is mostly our constructor's
arguments. What differs is translated here, and everything else is refused:

- Keras wraps values we keep as plain data: the dtype policy (``{"class_name": "DTypePolicy",
  "config": {"name": "float32"}}``), initializers and regularizers
  (``{"module": "keras.initializers", "class_name": "GlorotUniform", "config": {...}}``);
- Keras has options we do not (``KERAS_ONLY``): a file may hold them only at the value that means
  what our layer does (``groups=1`` in Conv2D - Conv1D has ``groups`` -, no constraints,
  ``stateful=False``, ...); any other value, a layer class we lack, a custom object or an unknown
  key is a ``CheckpointError`` naming the layer, the option and what we support - never a silent
  skip or a silent default. An option a layer has is read as its argument, whatever this table
  says (``_parameters``).

>>> spec = {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "relu",
...         "kernel_constraint": None, "dtype": {"class_name": "DTypePolicy",
...         "config": {"name": "float32"}}}}
>>> layer_from_keras(spec, "example")
<Dense name='d' output_shape=None>
>>> layer_to_keras(layer_from_keras(spec, "example"))["config"]["units"]
3
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, List

from .. import initializers as _initializers
from .. import layers as _layers
from .. import regularizers as _regularizers
from ..errors import CheckpointError, TinygradEduError
from .configs import CONFIG_ERRORS, check_layer_entry

ANY = object()  # an option whose value never changes what the layer computes here

#: Keras options tinygrad_edu has no argument for, with the value that means what we do
KERAS_ONLY: Dict[str, Any] = {
    "kernel_constraint": None,
    "bias_constraint": None,
    "recurrent_constraint": None,
    "embeddings_constraint": None,
    "beta_constraint": None,
    "gamma_constraint": None,
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "groups": 1,  # Conv2D; Conv1D(groups=g) is an argument, read and written as such
    "synchronized": False,
    "renorm": False,
    "renorm_clipping": None,
    "renorm_momentum": ANY,  # used only with renorm=True
    "rms_scaling": False,
    "stateful": False,
    "unroll": ANY,  # a speed option: the same numbers either way
    "zero_output_for_mask": ANY,  # no masks here (Embedding refuses mask_zero=True)
    "activity_regularizer": None,
    "sparse": False,
    "ragged": False,
    "optional": False,
    "autocast": True,
    "implementation": ANY,  # Keras 2's recurrent kernels: the same numbers either way
    "time_major": False,  # Keras 2
}
#: Keras initializer options without a counterpart here, at the value that means ours
_INITIALIZER_ONLY = {"input_axes": None, "output_axes": None}
#: the dtype policies whose numbers are ours
_DTYPES = ("float32", "float64")
#: Keras layer classes we have, by the name Keras writes (our aliases resolve to these)
KERAS_LAYERS = sorted(
    name
    for name in _layers.__all__
    if name not in ("Layer", "Merge", "Input")
    and isinstance(getattr(_layers, name), type)  # not Keras 1's Convolution2D(32, 3, 3)
    and getattr(_layers, name).__name__ == name  # aliases (MaxPool2D) are Keras' aliases too
)


# ---------------------------------------------------------------------- Keras -> ours
def layer_from_keras(spec: Any, where: str) -> Any:
    """Our layer for the Keras layer config ``spec`` (``{"class_name", "config", ...}``)."""
    name, config = _class_and_config(spec, where)
    cls = getattr(_layers, name, None) if name in KERAS_LAYERS else None
    layer_name = config.get("name", "?")
    here = f"{where}: layer {layer_name!r} ({name})"
    if cls is None:
        raise refused(here, "the layer class", name, f"one of {', '.join(KERAS_LAYERS)}")
    accepted = _parameters(cls)
    kwargs: Dict[str, Any] = {}
    for key, value in config.items():
        if key == "backward_layer":  # Keras writes it always, the copy of `layer` included
            if not _is_backward_copy(config, value):
                kwargs[key] = layer_from_keras(value, here)
        elif key == "batch_input_shape":  # Keras 2: the model's input shape (read there)
            continue
        elif key in accepted:
            kwargs[key] = _value_from_keras(key, value, here)
        elif key in KERAS_ONLY:
            if KERAS_ONLY[key] is not ANY and value != KERAS_ONLY[key]:
                raise refused(here, key, value, f"{key}={KERAS_ONLY[key]!r} (we have no {key})")
        else:
            raise refused(here, key, value, f"the options of {name}: {', '.join(accepted)}")
    if name == "InputLayer":
        kwargs.pop("dtype", None)  # our inputs take the first layer's dtype
        if "batch_input_shape" in config:  # Keras 2's name
            kwargs["batch_shape"] = config["batch_input_shape"]
    try:
        return cls(**kwargs)
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        raise CheckpointError(
            f"{name} cannot be built with these options here: {str(err)[:300]}",
            where=here,
            expected=f"{name} options tinygrad_edu supports",
            got=str(getattr(err, "got", None) or type(err).__name__)[:200],
            fix="rebuild the model in Keras with supported options and save again",
        ) from None


def refused(where: str, option: str, value: Any, supported: str) -> CheckpointError:
    """The one error for something a Keras file asks that tinygrad_edu does not have."""
    return CheckpointError(
        f"tinygrad_edu does not support {option} = {value!r}"[:300],
        where=where,
        expected=supported,
        got=f"{option} = {value!r}"[:200],
        fix="rebuild the model in Keras without it (or with a supported value) and save again",
    )


def _class_and_config(spec: Any, where: str) -> tuple:
    check_layer_entry(spec, where, "Keras ", " in Keras")
    if spec.get("registered_name") not in (None, spec["class_name"]):
        raise refused(
            where, "the custom object", spec["registered_name"], "built-in Keras layers only"
        )
    return spec["class_name"], spec["config"]


def _parameters(cls: type) -> List[str]:
    """The keyword arguments ``cls(...)`` accepts: its own and those its ``**kwargs`` pass up."""
    names: List[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self"]
        names += [p.name for p in params if p.kind == p.KEYWORD_ONLY]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return [n for n in dict.fromkeys(names) if n not in ("fused", "input_shape")]


def _value_from_keras(key: str, value: Any, where: str) -> Any:
    if key == "dtype":
        return _dtype_from_keras(value, where)
    if key == "layer":  # Bidirectional, TimeDistributed: the inner layer itself
        return layer_from_keras(value, where)
    if key.endswith("_initializer") and isinstance(value, dict):
        return _object_from_keras(value, _initializers, _initializers.Initializer, key, where)
    if key.endswith("_regularizer") and isinstance(value, dict):
        return _object_from_keras(value, _regularizers, _regularizers.Regularizer, key, where)
    if key.endswith("activation") and not isinstance(value, (str, type(None))):
        raise refused(where, key, value, "an activation by name, e.g. 'relu'")
    return value


def _dtype_from_keras(value: Any, where: str) -> Any:
    name = value
    if isinstance(value, dict):
        name = (
            value.get("config", {}).get("name")
            if value.get("class_name") == "DTypePolicy"
            else None
        )
    if name not in _DTYPES:
        raise refused(where, "the dtype policy", name or value, f"one of {', '.join(_DTYPES)}")
    return None if name == "float32" else name


def _object_from_keras(value: dict, module: Any, base: type, key: str, where: str) -> Any:
    name, config = value.get("class_name"), dict(value.get("config") or {})
    cls = getattr(module, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, base)) or value.get(
        "registered_name"
    ) not in (
        None,
        name,
    ):
        known = [
            n for n in module.__all__ if isinstance(getattr(module, n), type) and n != base.__name__
        ]
        raise refused(where, key, name, f"one of {', '.join(known)}")
    for option, ours in _INITIALIZER_ONLY.items():
        if config.pop(option, ours) != ours:
            raise refused(where, f"{key}.{option}", config, f"{option}={ours!r}")
    try:
        return cls(**config)
    except (*CONFIG_ERRORS, TinygradEduError):
        raise refused(where, key, value, f"{name} with the options we have") from None


def _is_backward_copy(config: Dict[str, Any], value: Any) -> bool:
    """Whether Bidirectional's ``backward_layer`` in a Keras file is (None or) the copy
    ``Bidirectional(layer)`` makes by itself: ``layer``'s config with ``go_backwards=True``, in
    Keras and here - the copy always reads backwards, and a ``layer`` given with
    ``go_backwards=True`` is refused (``layers/wrappers.py``). Any other backward layer is read
    as our ``backward_layer`` argument, which checks it as Keras does."""
    if value is None:
        return True
    layer = config.get("layer")
    if not (isinstance(value, dict) and isinstance(layer, dict)):
        return False
    forward = _plain_config(layer.get("config", {}))
    backward = _plain_config(value.get("config", {}))
    forward.pop("name", None)
    backward.pop("name", None)
    forward["go_backwards"] = True
    return forward == backward and value.get("class_name") == layer.get("class_name")


def _plain_config(value: Any) -> Any:
    """``value`` without Keras' ``shared_object_id`` bookkeeping (ids of Python objects)."""
    if isinstance(value, dict):
        return {k: _plain_config(v) for k, v in value.items() if k != "shared_object_id"}
    return value


# ---------------------------------------------------------------------- ours -> Keras
def layer_to_keras(layer: Any) -> Dict[str, Any]:
    """The Keras layer config of our ``layer`` (what ``keras.layers.deserialize`` reads)."""
    name = type(layer).__name__
    if name not in KERAS_LAYERS:
        raise refused(
            f"saving layer {layer.name!r}", "the layer class", name, f"one of {KERAS_LAYERS}"
        )
    config = {k: _value_to_keras(k, v) for k, v in layer.get_config().items()}
    config.pop("input_shape", None)  # the model's InputLayer declares it
    if "layer" in config:  # Bidirectional, TimeDistributed: the inner layer, in Keras' form
        config["layer"] = layer_to_keras(layer.layer)
    if config.get("backward_layer") is not None:  # Bidirectional's, when given
        config["backward_layer"] = layer_to_keras(layer.backward_layer)
    if name == "InputLayer":
        config.update(dtype="float32", sparse=False, ragged=False)
        config["batch_shape"] = list(layer.input_shape or (None, *config.pop("shape", ())))
        config.pop("shape", None)
        config.pop("batch_size", None)
        config.pop("trainable", None)
    else:
        config["dtype"] = _dtype_policy(config.get("dtype") or "float32")
    for key in ("input_length", "activity_regularizer", "backward_layer"):
        if config.get(key, 0) is None:
            del config[key]
    return {"module": "keras.layers", "class_name": name, "config": config, "registered_name": None}


def _value_to_keras(key: str, value: Any) -> Any:
    for module, base in (
        ("keras.initializers", _initializers.Initializer),
        ("keras.regularizers", _regularizers.Regularizer),
    ):
        if isinstance(value, base):
            config = value.get_config()
            if isinstance(value, _regularizers.Regularizer) and type(value).__name__ != "L1L2":
                config = {k: v for k, v in config.items() if k == type(value).__name__.lower()}
            cls_name = type(value).__name__
            return {
                "module": module,
                "class_name": cls_name,
                "config": config,
                "registered_name": None,
            }
    if isinstance(value, tuple):
        return list(value)
    return value


def _dtype_policy(name: str) -> Dict[str, Any]:
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": name},
        "registered_name": None,
    }


__all__ = ["KERAS_LAYERS", "KERAS_ONLY", "layer_from_keras", "layer_to_keras", "refused"]
