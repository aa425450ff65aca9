"""The functional API: ``Model(inputs=..., outputs=...)`` over a graph of layer calls.

Calling layers on ``Input(shape=...)`` builds them and links symbolic tensors
(``tinygrad_edu.layers.symbolic``); ``Model(inputs, outputs)`` (which makes a ``Functional``) walks
those links back from the outputs and runs the layer calls in that topological order. A layer
called twice is one set of weights (its gradient is the sum over both uses).

>>> from tinygrad_edu.layers import Add, Dense, Input
>>> from tinygrad_edu.models import Model
>>> inp = Input(shape=(4,), name="x")
>>> h = Dense(8, name="h")(inp)
>>> model = Model(inputs=inp, outputs=Add()([h, Dense(8, name="skip")(h)]))
>>> type(model).__name__, [layer.name for layer in model.layers]
('Functional', ['x', 'h', 'skip', 'add'])
>>> model.count_params() == (4 * 8 + 8) + (8 * 8 + 8)
True

Several inputs are passed as a list (``model.predict([a, b])``) or a dict by ``Input`` name; for
``fit``/``evaluate`` they are packed into one array of rows (each input flattened, side by side)
and unpacked by the model, so batching and shuffling keep the inputs' rows together
(``functional_data.py``). Several outputs, given as a list or a dict by name, get a loss each
(``output_losses.py``), their own logs and metrics (``output_metrics.py``), and ``predict``
returns them in the structure they were given in.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np

from .._shapes import as_numeric_array, fmt_shape
from ..errors import ConfigError, DataError
from ..layers.base import Layer
from ..layers.symbolic import SymbolicTensor, is_node, is_source, shape_of, source_name
from ..saving import register_model_class
from ..tensor import Tensor
from .base import Model
from .batch_stream import is_batch_iterable
from .functional_data import bound_arguments, prepared
from .output_losses import OutputLosses
from .output_metrics import output_metric_fns


@register_model_class
class Functional(Model):
    """A model given by its ``inputs`` (``Input(...)`` s) and ``outputs`` (symbolic tensors)."""

    def __init__(self, inputs: Any, outputs: Any, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        where = f"Model '{self.name}'"
        if isinstance(inputs, dict):  # Keras: {name: Input}; data then comes by the same names
            inputs = list(inputs.values())
        # Keras: outputs={name: tensor} names the outputs (losses, logs, predict's dict) by key
        self._output_keys = [str(k) for k in outputs] if isinstance(outputs, dict) else None
        if isinstance(outputs, dict):
            outputs = list(outputs.values())
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self._inputs = _nodes(inputs, "inputs", where)
        self._outputs = _nodes(outputs, "outputs", where)
        for node in self._inputs:
            if not is_source(node):
                raise ConfigError(
                    where=where,
                    expected="inputs made by Input(shape=...)",
                    got=repr(node),
                    fix="inputs = Input(shape=(784,)); ...; Model(inputs=inputs, outputs=outputs)",
                )
        self._calls = _topological(self._outputs, self._inputs, where)
        layers: List[Layer] = list(self._inputs)
        for node in self._calls:
            if all(node.layer is not known for known in layers):
                layers.append(node.layer)
        self.layers = _unique_names(layers, where)
        self.input_shape = shape_of(self._inputs[0]) if self._single_input else None

    # ------------------------------------------------------------------ the contract
    def call(self, x: Any, training: Optional[bool] = None) -> Any:
        outs = [out for _, _, out in self._run(x, training)][-1]
        return outs[0] if self._single_output else outs

    def _run(self, x: Any, training: Optional[bool]) -> Iterator[tuple]:
        """(layer, input, output) per layer call, then finally the list of outputs."""
        values: Dict[int, Tensor] = {}
        for source, arr in zip(self._inputs, self._split(x)):
            values[id(source)] = source(arr, training=training)
            yield source, arr, values[id(source)]
        for node in self._calls:
            args = [values[id(i)] for i in node.inputs]
            arg = args if node.as_list else args[0]
            values[id(node)] = node.layer(arg, training=training)
            yield node.layer, arg, values[id(node)]
        yield None, None, [values[id(o)] for o in self._outputs]

    def layer_calls(self, x: Any, training: Optional[bool] = None) -> Iterator[tuple]:
        """``(layer, input, output)`` for every layer call, in the graph's execution order."""
        for layer, arg, out in self._run(x, training):
            if layer is not None:
                yield layer, arg, out

    def build(self, input_shape: Any = None) -> None:
        """Nothing to do: every layer was built when it was called on the symbolic inputs."""

    @property
    def inputs(self) -> List[Any]:
        """The model's ``Input`` s, in order."""
        return list(self._inputs)

    @property
    def outputs(self) -> List[Any]:
        """The symbolic tensors of the outputs, in order."""
        return list(self._outputs)

    @property
    def output_names(self) -> List[str]:
        """The names that losses, metrics, logs and ``predict``'s dict use: the keys of
        ``outputs={...}``, else the names of the layers that make the outputs."""
        return self._output_keys or [o.name for o in self._outputs]

    @property
    def output_shape(self) -> Optional[tuple]:
        return shape_of(self._outputs[0]) if self._single_output else None

    def accept_input_shape(self, shape: tuple) -> None:
        if self._single_input:
            self._inputs[0].accept_input_shape(shape)
        elif len(shape) != 2 or shape[1] != self._packed_width():
            raise DataError(
                where=f"model '{self.name}'",
                expected=f"a list of {len(self._inputs)} inputs of shapes "
                + ", ".join(fmt_shape(shape_of(s), "batch") for s in self._inputs),
                got=f"one array of shape {shape}",
                fix="pass one array per Input, in order: model.predict([x1, x2])",
            )

    # ------------------------------------------------------------------ several inputs
    def _packed_width(self) -> int:
        return sum(int(np.prod(shape_of(s)[1:])) for s in self._inputs)

    def _split(self, x: Any) -> List[Any]:
        """One array per input: ``x`` itself, a list of them, or the packed rows ``fit`` batches."""
        if self._single_input:
            return [x]
        if isinstance(x, dict):
            x = [x[s.name] if s.name in x else _missing_input(self, s, x) for s in self._inputs]
        if isinstance(x, (list, tuple)):
            if len(x) != len(self._inputs):
                raise DataError(
                    where=f"model '{self.name}'",
                    expected=f"{len(self._inputs)} inputs ({[s.name for s in self._inputs]})",
                    got=f"{len(x)}",
                    fix="pass one array per Input, in order: model([x1, x2])",
                )
            return list(x)
        rows = x._data if isinstance(x, Tensor) else np.asarray(x)
        self.accept_input_shape(rows.shape)
        parts, start = [], 0
        for source in self._inputs:
            shape = shape_of(source)[1:]
            stop = start + int(np.prod(shape))
            parts.append(rows[:, start:stop].reshape(len(rows), *shape))
            start = stop
        return parts

    def _packed(self, x: Any, where: str) -> Any:
        """A list (or dict) of inputs as one array of rows, for the batching of fit/evaluate."""
        if self._single_input or not isinstance(x, (list, tuple, dict)):
            return x
        arrays = [as_numeric_array(a, f"model '{self.name}'.{where}") for a in self._split(x)]
        if len({len(a) for a in arrays}) > 1:
            raise DataError(
                where=f"model '{self.name}'.{where}",
                expected="inputs with the same number of samples",
                got=", ".join(str(len(a)) for a in arrays),
                fix="give every input one row per sample",
            )
        return np.concatenate([a.reshape(len(a), -1) for a in arrays], axis=1)

    def _check_x(self, x: Any, where: str) -> np.ndarray:
        return super()._check_x(self._packed(x, where), where)

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        jit_compile: Any = False,
    ) -> None:
        """``Model.compile``, plus Keras' per-output ``loss`` (a list in output order or a dict
        by output name; one loss is used for every output), ``loss_weights`` (training minimizes
        ``sum_k loss_weights[k] * loss_k``: ``models.output_losses``) and per-output ``metrics``
        (a dict by output name or a list with one entry per output: ``models.output_metrics``).
        An output may have no loss (None in the list; left out of the dict when ``outputs`` is a
        dict): it then needs no targets unless it has metrics. ``jit_compile=True`` (replay)
        takes a model of one input and one output compiled with one loss."""
        per_output = isinstance(loss, (list, tuple, dict)) or isinstance(metrics, dict)
        plain = self._single_output and not per_output and loss_weights is None
        if jit_compile is True and not (plain and self._single_input):
            raise ConfigError(
                where=f"model '{self.name}'.compile",
                expected="jit_compile=True on a model of one input and one output, compiled with "
                "one loss (a replayed step takes one array in and one out)",
                got=f"{len(self._inputs)} input(s), {len(self._outputs)} output(s)"
                + ("" if plain else ", per-output losses/metrics/loss_weights"),
                fix="model.compile(optimizer='adam', loss='mse', jit_compile=False)  # the eager "
                "step computes the same numbers",
            )
        if plain:
            return super().compile(optimizer, loss, metrics, jit_compile)
        shapes = [shape_of(o) for o in self._outputs]
        losses = OutputLosses(
            loss, loss_weights, self.output_names, shapes, self._output_keys is not None
        )
        metric_fns = output_metric_fns(metrics, losses)  # checked before anything changes
        super().compile(optimizer, losses.first_loss, None, jit_compile)
        self.loss_fn, self.metric_fns = losses, metric_fns
        return None

    # the data goes through functional_data.prepared (lists/dicts packed), then Model's method
    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        given = prepared(self, bound_arguments(Model.fit, x, y, args, kwargs), "fit")
        return super().fit(**given)

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        given = prepared(self, bound_arguments(Model.evaluate, x, y, args, kwargs), "evaluate")
        return super().evaluate(**given)

    def train_on_batch(self, x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = bound_arguments(Model.train_on_batch, x, y, args, kwargs)
        return super().train_on_batch(**prepared(self, arguments, "train_on_batch"))

    def test_on_batch(self, x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = bound_arguments(Model.test_on_batch, x, y, args, kwargs)
        return super().test_on_batch(**prepared(self, arguments, "test_on_batch"))

    def predict_on_batch(self, x: Any) -> Any:
        return self._structured(super().predict_on_batch(self._packed(x, "predict_on_batch")))

    def predict(
        self, x: Any, batch_size: int = 32, verbose: Any = 0, steps: Optional[int] = None,
        callbacks: Any = None,
    ) -> Any:
        """``Model.predict`` (``x``: arrays, a list or dict of inputs, or an iterable of
        batches); the outputs in the structure the model was given them: an array for one
        output, a list for a list of outputs, a dict by name for a dict (as Keras 3)."""
        x = x if is_batch_iterable(x) else self._packed(x, "predict")
        return self._structured(super().predict(x, batch_size, verbose, steps, callbacks))

    def _structured(self, arrays: Any) -> Any:
        if self._output_keys is not None:
            arrays = arrays if isinstance(arrays, list) else [arrays]
            return dict(zip(self._output_keys, arrays))
        if isinstance(arrays, list) and len(arrays) == 1:
            return arrays[0]  # outputs=[out]: Keras 3's predict gives the array itself
        return arrays

    # ------------------------------------------------------------------ description
    def connected_to(self, layer: Layer) -> str:
        """Keras' "Connected to" column: ``dense[0][0]`` per input of each call of ``layer``."""
        calls: Dict[int, int] = {}
        index: Dict[int, int] = {}
        for node in self._calls:
            index[id(node)] = calls.get(id(node.layer), 0)
            calls[id(node.layer)] = index[id(node)] + 1
        inputs = [i for node in self._calls if node.layer is layer for i in node.inputs]
        return ", ".join(f"{source_name(i)}[{index.get(id(i), 0)}][0]" for i in inputs) or "-"

    # ------------------------------------------------------------------ saving
    def get_config(self) -> Dict[str, Any]:
        """The layers and the graph: each call as [layer index, input node indices, as_list];
        nodes are numbered inputs first, then calls in order."""
        layer_index = {id(layer): i for i, layer in enumerate(self.layers)}
        node_index = {id(n): i for i, n in enumerate([*self._inputs, *self._calls])}
        return {
            "name": self.name,
            "input_shape": None if self.input_shape is None else list(self.input_shape[1:]),
            "layers": [
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
            "graph": {
                "inputs": [layer_index[id(s)] for s in self._inputs],
                "calls": [
                    [layer_index[id(n.layer)], [node_index[id(i)] for i in n.inputs], n.as_list]
                    for n in self._calls
                ],
                "outputs": [node_index[id(o)] for o in self._outputs],
                "single": [self._single_input, self._single_output],
                "output_keys": self._output_keys,
            },
        }

    @classmethod
    def from_config(cls, config: Dict[str, Any], layers: List[Layer]) -> Functional:
        """Replay the recorded calls on the rebuilt layers (used by ``load_model``)."""
        graph = config["graph"]
        nodes: List[Any] = [layers[i] for i in graph["inputs"]]
        for layer_i, inputs, as_list in graph["calls"]:
            args = [nodes[j] for j in inputs]
            nodes.append(layers[layer_i](args if as_list else args[0]))
        ins, outs = nodes[: len(graph["inputs"])], [nodes[j] for j in graph["outputs"]]
        single_in, single_out = graph["single"]
        keys = graph.get("output_keys")  # saved since outputs could be a dict
        outputs: Any = dict(zip(keys, outs)) if keys else outs[0] if single_out else outs
        return cls(ins[0] if single_in else ins, outputs, config["name"])


def _nodes(value: Any, what: str, where: str) -> List[Any]:
    nodes = list(value) if isinstance(value, (list, tuple)) else [value]
    if not nodes or not all(is_node(n) for n in nodes):
        raise ConfigError(
            where=where,
            expected=f"{what} as symbolic tensors (Input(...) or layer outputs), or a list of them",
            got=repr(value)[:80],
            fix="inputs = Input(shape=(784,)); outputs = Dense(10)(inputs); "
            "Model(inputs=inputs, outputs=outputs)",
        )
    return nodes


def _topological(outputs: Sequence[Any], inputs: Sequence[Any], where: str) -> List[Any]:
    """The layer calls the outputs depend on, each after the calls it reads from."""
    order: List[SymbolicTensor] = []
    seen = {id(s) for s in inputs}
    stack = [(node, False) for node in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            if is_source(node):
                raise ConfigError(
                    where=where,
                    expected="every Input the outputs depend on listed in inputs",
                    got=f"Input '{node.name}' is missing from inputs",
                    fix=f"Model(inputs=[..., {node.name}], outputs=...)",
                )
            stack.append((node, True))
            stack.extend((i, False) for i in reversed(node.inputs))
    return order


def _unique_names(layers: List[Layer], where: str) -> List[Layer]:
    """Automatic names made unique as Keras does (dense, dense_1, ...); a name the user gave
    twice is refused."""
    taken: Dict[str, Layer] = {}
    for layer in layers:
        if layer.name in taken and getattr(layer, "_auto_name", False):
            n = 1
            while f"{layer.name}_{n}" in taken:
                n += 1
            layer.name = f"{layer.name}_{n}"
        if layer.name in taken:
            raise ConfigError(
                where=where,
                expected="a distinct name per layer (weights are saved by layer name)",
                got=f"two layers named {layer.name!r}",
                fix=f"rename one, e.g. Dense(8, name='{layer.name}_2')",
            )
        taken[layer.name] = layer
    return layers


def _missing_input(model: Functional, source: Any, given: dict) -> Any:
    raise DataError(
        where=f"model '{model.name}'",
        expected=f"an input named {source.name!r}",
        got=f"keys {sorted(given)}",
        fix="pass a dict keyed by the Input names: {"
        + ", ".join(f"'{s.name}': ..." for s in model._inputs)
        + "}",
    )


__all__ = ["Functional"]
