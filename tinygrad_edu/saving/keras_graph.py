"""A model's ``config.json`` between Keras 3 and tinygrad_edu: Sequential and functional graphs
(the compile settings are in ``keras_compile``).

Keras writes a functional model as its layers, each with the calls made on it
(``inbound_nodes``: the tensors it read, as ``keras_history = [layer, call, output]``); ours
stores the same graph as numbered calls (``Functional.get_config()["graph"]``). Keras also
decides the order of ``model.layers`` itself (deepest first, ties in the order a walk back from
the outputs meets them), and that order names the weight groups of the HDF5 file, so
``keras_layer_order`` computes it the same way before we write.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ..errors import CheckpointError
from .keras_layers import layer_from_keras, layer_to_keras, refused


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
        layer_config = spec.get("config", {}) if isinstance(spec, dict) else {}
        if not kept:  # Keras 2 wrote the input shape into the first layer
            shape = layer_config.get("batch_input_shape", shape)
        if isinstance(spec, dict) and spec.get("class_name") == "InputLayer":
            shape = layer_config.get("batch_shape", layer_config.get("batch_input_shape", shape))
        else:
            kept.append(spec)
    input_shape = list(shape[1:]) if isinstance(shape, list) and shape else None
    return {"name": config.get("name"), "input_shape": input_shape}, kept


def _functional(
    config: Dict[str, Any], layers: List[Any], where: str
) -> Tuple[Dict[str, Any], List[Any]]:
    index = {spec.get("name"): i for i, spec in enumerate(layers) if isinstance(spec, dict)}
    inputs = _endpoints(config.get("input_layers"))
    outputs_spec = config.get("output_layers")
    outputs = _endpoints(outputs_spec)
    node_of: Dict[Tuple[str, int], int] = {}  # (layer name, call) -> our node number
    for name, call, _ in inputs:
        node_of[(name, call)] = len(node_of)
    pending = [
        (spec["name"], call, _keras3_node(node))
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
        "output_keys": list(outputs_spec) if isinstance(outputs_spec, dict) else None,
    }
    return {"name": config.get("name"), "input_shape": None, "graph": graph}, layers


def _keras3_node(node: Any) -> Any:
    """A Keras 2 call ``[["layer", call, output, {kwargs}], ...]`` in Keras 3's form."""
    if not isinstance(node, list):
        return node
    tensors = [
        {"config": {"keras_history": list(entry[:3])}} for entry in node if isinstance(entry, list)
    ]
    kwargs = {k: v for entry in node if len(entry) > 3 for k, v in (entry[3] or {}).items()}
    return {"args": [tensors if len(tensors) > 1 else tensors[0]], "kwargs": kwargs}


def _endpoints(value: Any) -> List[Tuple[str, int, int]]:
    if isinstance(value, dict):  # outputs={name: tensor}: the keys are kept as output_keys
        value = list(value.values())
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
    outputs = ends[1][0] if single_out else ends[1]
    if graph.get("output_keys"):  # outputs={name: tensor}, as Keras writes them
        outputs = dict(zip(graph["output_keys"], ends[1]))
    body = {
        "name": model.name,
        "trainable": True,
        "layers": specs,
        "input_layers": ends[0][0] if single_in else ends[0],
        "output_layers": outputs,
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


__all__ = [
    "functional_to_keras",
    "keras_layer_order",
    "layers_from_keras",
    "model_from_keras",
    "sequential_to_keras",
]
