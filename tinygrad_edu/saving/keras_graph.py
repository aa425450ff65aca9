"""A model's ``config.json`` between Keras 3 and tinygrad_edu: Sequential and functional graphs,
and the compile settings.

Keras writes a functional model as its layers, each with the calls made on it
(``inbound_nodes``: the tensors it read, as ``keras_history = [layer, call, output]``); ours
stores the same graph as numbered calls (``Functional.get_config()["graph"]``). Keras also
decides the order of ``model.layers`` itself (deepest first, ties in the order a walk back from
the outputs meets them), and that order names the weight groups of the HDF5 file, so
``keras_layer_order`` computes it the same way before we write.

Compile settings (Decision, documented in the README): the loss, metrics and optimizer are
restored when we have them all; otherwise ``load_model`` warns, names what it could not map,
and returns the model uncompiled - never compiled with something else. The optimizer's
state (Adam's moments, the step count) is not exchanged: a loaded model's optimizer starts
fresh, as after ``compile``.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional, Tuple

from .. import losses as _losses
from .. import optimizers as _optimizers
from ..errors import CheckpointError, TinygradEduError
from .configs import CONFIG_ERRORS
from .keras_layers import layer_from_keras, layer_to_keras, refused

#: Keras optimizer options at the values that mean what ours do when we lack them
_OPTIMIZER_ONLY = {
    "use_ema": False,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


# ---------------------------------------------------------------------- Keras -> ours
def model_from_keras(spec: Any, where: str) -> Tuple[str, Dict[str, Any], List[Any]]:
    """(our model class name, our model config, the Keras layer specs in our layer order)."""
    kind = spec.get("class_name") if isinstance(spec, dict) else None
    config = spec.get("config") if isinstance(spec, dict) else None
    if kind not in ("Sequential", "Functional", "Model") or not isinstance(config, dict):
        raise refused(where, "the model class", kind, "Sequential or Functional (Model) models")
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise CheckpointError(
            where=where,
            expected='a model config with a "layers" list',
            got=str(config)[:80],
            fix="the file was altered or damaged; save the model again in Keras",
        )
    if kind == "Sequential":
        return "Sequential", *_sequential(config, layers)
    return "Functional", *_functional(config, layers, where)


def _sequential(config: Dict[str, Any], layers: List[Any]) -> Tuple[Dict[str, Any], List[Any]]:
    shape = config.get("build_input_shape")
    kept = []
    for spec in layers:
        if isinstance(spec, dict) and spec.get("class_name") == "InputLayer":
            shape = spec.get("config", {}).get("batch_shape", shape)
        else:
            kept.append(spec)
    input_shape = list(shape[1:]) if isinstance(shape, list) and shape else None
    return {"name": config.get("name"), "input_shape": input_shape}, kept


def _functional(
    config: Dict[str, Any], layers: List[Any], where: str
) -> Tuple[Dict[str, Any], List[Any]]:
    index = {spec.get("name"): i for i, spec in enumerate(layers) if isinstance(spec, dict)}
    inputs = _endpoints(config.get("input_layers"))
    outputs = _endpoints(config.get("output_layers"))
    node_of: Dict[Tuple[str, int], int] = {}  # (layer name, call) -> our node number
    for name, call, _ in inputs:
        node_of[(name, call)] = len(node_of)
    pending = [
        (spec["name"], call, node)
        for spec in layers
        for call, node in enumerate(spec.get("inbound_nodes") or [])
    ]
    calls = []
    while pending:
        ready = [p for p in pending if all(k in node_of for k in _sources(p[2], p[0], where))]
        if not ready:
            raise refused(where, "a graph", "calls whose inputs are never computed", "a DAG")
        for name, call, node in ready:
            sources = _sources(node, name, where)
            calls.append([index[name], [node_of[k] for k in sources], _as_list(node)])
            node_of[(name, call)] = len(node_of)
            pending.remove((name, call, node))
    graph = {
        "inputs": [index[name] for name, _, _ in inputs],
        "calls": calls,
        "outputs": [node_of[(name, call)] for name, call, _ in outputs],
        "single": [_single(config.get("input_layers")), _single(config.get("output_layers"))],
    }
    return {"name": config.get("name"), "input_shape": None, "graph": graph}, layers


def _endpoints(value: Any) -> List[Tuple[str, int, int]]:
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    return [tuple(v) for v in value or []]


def _single(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)


def _sources(node: Dict[str, Any], name: str, where: str) -> List[Tuple[str, int]]:
    """The (layer, call) pairs a Keras call reads: its first argument, one tensor or a list."""
    args, kwargs = node.get("args") or [None], node.get("kwargs") or {}
    extra = {k: v for k, v in kwargs.items() if v is not None and k != "training"}
    if len(args) != 1 or extra:
        raise refused(f"{where}: layer {name!r}", "call arguments", extra or args[1:], "x only")
    tensors = args[0] if isinstance(args[0], list) else [args[0]]
    found = []
    for tensor in tensors:
        history = (tensor or {}).get("config", {}).get("keras_history")
        if not (isinstance(history, list) and len(history) == 3) or history[2] != 0:
            raise refused(f"{where}: layer {name!r}", "an input", history, "a layer's 1st output")
        found.append((history[0], history[1]))
    return found


def _as_list(node: Dict[str, Any]) -> bool:
    return isinstance((node.get("args") or [None])[0], list)


def layers_from_keras(specs: List[Any], where: str) -> List[Any]:
    return [layer_from_keras(spec, where) for spec in specs]


# ---------------------------------------------------------------------- ours -> Keras
def keras_layer_order(config: Dict[str, Any]) -> List[int]:
    """Our functional layers (indices into ``config["layers"]``) in the order Keras' own
    ``model.layers`` will have: by depth from the outputs, deepest first; ties in the order a
    depth-first walk back from the outputs first meets each layer."""
    graph = config["graph"]
    n_in = len(graph["inputs"])
    layer_of = [*graph["inputs"], *(c[0] for c in graph["calls"])]
    parents = [[] for _ in range(n_in)] + [c[1] for c in graph["calls"]]
    met: Dict[int, int] = {}
    walked: List[int] = []
    done: set = set()

    def walk(node: int) -> None:  # iterative would be longer; graphs here are small
        if node in done:
            return
        met.setdefault(layer_of[node], len(met))
        for parent in parents[node]:
            walk(parent)
        done.add(node)
        walked.append(node)

    for out in graph["outputs"]:
        walk(out)
    node_depth: Dict[int, int] = {}
    layer_depth: Dict[int, int] = {}
    for node in reversed(walked):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(layer_of[node], 0))
        layer_depth[layer_of[node]] = node_depth[node] = depth
        for parent in parents[node]:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for layer in graph["inputs"]:  # inputs no output reads
        if layer not in layer_depth:
            layer_depth[layer], met[layer] = 0, -1
    return sorted(layer_depth, key=lambda i: (-layer_depth[i], met[i]))


def functional_to_keras(model: Any, config: Dict[str, Any]) -> Tuple[Dict[str, Any], List[Any]]:
    """Keras' functional config of our model, and its layers in Keras' order."""
    graph, layers = config["graph"], model.layers
    n_in = len(graph["inputs"])
    layer_of = [*graph["inputs"], *(c[0] for c in graph["calls"])]
    call_number = [0] * n_in
    seen: Dict[int, int] = {}
    for layer_i, _, _ in graph["calls"]:
        call_number.append(seen.get(layer_i, 0))
        seen[layer_i] = call_number[-1] + 1
    shapes = [list(s.input_shape or ()) for s in model._inputs] + [
        list(n.shape) for n in model._calls
    ]

    def tensor(node: int) -> Dict[str, Any]:
        history = [layers[layer_of[node]].name, call_number[node], 0]
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": shapes[node], "dtype": "float32", "keras_history": history},
        }

    order = keras_layer_order(config)
    specs = []
    for i in order:
        spec = layer_to_keras(layers[i])
        spec["name"] = layers[i].name
        spec["inbound_nodes"] = [
            {"args": [[tensor(j) for j in ins] if as_list else tensor(ins[0])], "kwargs": {}}
            for layer_i, ins, as_list in graph["calls"]
            if layer_i == i
        ]
        specs.append(spec)
    ends = [[tensor(n)["config"]["keras_history"] for n in graph[k]] for k in ("inputs", "outputs")]
    ends[0] = [[layers[i].name, 0, 0] for i in graph["inputs"]]
    single_in, single_out = graph["single"]
    body = {
        "name": model.name,
        "trainable": True,
        "layers": specs,
        "input_layers": ends[0][0] if single_in else ends[0],
        "output_layers": ends[1][0] if single_out else ends[1],
    }
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": body,
        "registered_name": "Functional",
    }, [layers[i] for i in order]


def sequential_to_keras(model: Any) -> Tuple[Dict[str, Any], List[Any]]:
    """Keras' Sequential config of our model (an InputLayer first), and its weight layers."""
    layers = [layer for layer in model.layers if not getattr(layer, "is_input", False)]
    batch_shape = list(model.input_shape) if model.input_shape is not None else None
    specs = [layer_to_keras(layer) for layer in layers]
    if batch_shape is not None:
        specs.insert(
            0,
            {
                "module": "keras.layers",
                "class_name": "InputLayer",
                "config": {
                    "batch_shape": batch_shape,
                    "dtype": "float32",
                    "sparse": False,
                    "ragged": False,
                    "name": "input_layer",
                },
                "registered_name": None,
            },
        )
    body = {"name": model.name, "trainable": True, "layers": specs}
    if batch_shape is not None:
        body["build_input_shape"] = batch_shape
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": body,
        "registered_name": None,
    }, layers


# ---------------------------------------------------------------------- compile settings
def compile_to_keras(model: Any) -> Optional[Dict[str, Any]]:
    """Keras' compile_config of a compiled model with a built-in loss, else None (with a
    warning: Keras then loads the model uncompiled)."""
    loss = getattr(model, "loss_fn", None)
    if loss is None:
        return None
    keras_loss = _loss_to_keras(loss)
    if keras_loss is None:
        warnings.warn(
            f"model '{model.name}': the loss {getattr(loss, 'name', loss)!r} has no Keras "
            "equivalent here; the .keras file holds no compile settings (Keras loads it "
            "uncompiled)",
            stacklevel=4,
        )
        return None
    optimizer = model.optimizer
    try:
        optimizer_config = _plain(optimizer.get_config())
    except (TypeError, ValueError) as err:  # a plain function as schedule
        warnings.warn(
            f"model '{model.name}': {err}; the .keras file holds no compile settings",
            stacklevel=4,
        )
        return None
    return {
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": type(optimizer).__name__,
            "config": optimizer_config,
            "registered_name": None,
        },
        "loss": keras_loss,
        "loss_weights": None,
        "metrics": [name for name, _ in model.metric_fns] or None,
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _plain(config: Dict[str, Any]) -> Dict[str, Any]:
    """Our optimizer config in Keras' form: a built-in schedule as Keras' schedule object."""
    rate = config.get("learning_rate")
    if isinstance(rate, dict):
        config["learning_rate"] = {
            "module": "keras.optimizers.schedules",
            **rate,
            "registered_name": None,
        }
    elif not isinstance(rate, (int, float, type(None))):
        raise ValueError(f"the learning rate {rate!r} has no Keras form")
    return config


def compile_from_keras(model: Any, compile_config: Any, where: str) -> None:
    """Compile ``model`` as the file says, or warn and leave it uncompiled (module docstring)."""
    if not compile_config.get("optimizer") and not compile_config.get("loss"):
        return  # the Keras model was not compiled either
    try:
        optimizer = _optimizer_from_keras(compile_config["optimizer"])
        loss = _loss_from_keras(compile_config["loss"])
        metrics = [m for m in compile_config.get("metrics") or [] if m is not None]
        if any(not isinstance(m, str) for m in metrics) or compile_config.get("loss_weights"):
            raise ValueError(f"metrics {metrics} / loss_weights: only metric names are mapped")
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None)
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        warnings.warn(
            f"{where}: the Keras compile settings could not be mapped ({str(err)[:160]}); "
            "the model is returned uncompiled - call model.compile(...) yourself",
            stacklevel=3,
        )


def _optimizer_from_keras(spec: Any) -> Any:
    if isinstance(spec, str):
        return spec
    config = dict(spec["config"])
    for key, ours in _OPTIMIZER_ONLY.items():
        if config.pop(key, ours) != ours:
            raise ValueError(f"optimizer option {key}={config.get(key)!r} is not supported")
    config.pop("ema_momentum", None)  # used only with use_ema=True
    rate = config.get("learning_rate")
    if isinstance(rate, dict):  # a Keras schedule: ours take the same arguments but its name
        schedule = {k: v for k, v in (rate.get("config") or {}).items() if k != "name"}
        config["learning_rate"] = {"class_name": rate.get("class_name"), "config": schedule}
    return _optimizers.deserialize({"class_name": spec["class_name"], "config": config})


def _loss_to_keras(loss: Any) -> Any:
    """A built-in loss by name, or as Keras' loss object when it has options (from_logits)."""
    fn_name = getattr(getattr(loss, "fn", None), "__name__", None)
    if fn_name not in _losses.__all__ or getattr(_losses, fn_name) is not loss.fn:
        return None
    if not loss.config:
        return fn_name
    cls_name = type(loss).__name__
    if cls_name == "Loss":  # options on a plain Loss(fn): no Keras class to name
        return None
    config = {**loss.config, "name": loss.name, "reduction": "sum_over_batch_size"}
    return {
        "module": "keras.losses",
        "class_name": cls_name,
        "config": config,
        "registered_name": None,
    }


def _loss_from_keras(spec: Any) -> Any:
    """A loss name, or Keras' loss object ``{"class_name": "CategoricalCrossentropy",
    "config": {"from_logits": true, ...}}`` as ours (the mean over the batch, as Keras')."""
    if isinstance(spec, str) and spec in _losses.__all__:
        return spec
    if isinstance(spec, dict) and spec.get("class_name") in _losses.__all__:
        cls = getattr(_losses, spec["class_name"])
        config = dict(spec.get("config") or {})
        reduction = config.pop("reduction", "sum_over_batch_size")
        axis = config.pop("axis", -1)  # ours reduce the last axis
        config.pop("dtype", None)
        plain = reduction == "sum_over_batch_size" and axis == -1
        if isinstance(cls, type) and cls is not _losses.Loss and plain:
            return cls(**config)
    raise ValueError(f"loss {spec!r}: only built-in losses (batch mean, last axis) are mapped")


__all__ = [
    "compile_from_keras",
    "compile_to_keras",
    "functional_to_keras",
    "keras_layer_order",
    "layers_from_keras",
    "model_from_keras",
    "sequential_to_keras",
]
