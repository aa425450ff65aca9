"""Check any layer against its contract: ``check_layer(layer, input_shape)`` runs the layer on
seeded random data and asserts, in order:

1. shapes: the real output shape == ``compute_output_shape`` (batch axis None) == the layer's
   ``output_shape`` == ``expected_output_shape`` (if given);
2. parameters: ``count_params()`` == ``expected_params`` (if given);
3. gradients: a float64 ``gradcheck`` of the output w.r.t. the input and every trainable weight
   (a layer of integer ids draws its input with ``layer.sample_input(shape, rng)``, as
   ``Embedding`` does; ids have no gradient, so only its weights are checked);
4. config: ``type(layer).from_config(layer.get_config())`` builds to the same output shape and
   parameter count.

It leaves the layer as it found it (weights, dtype, random state) and returns a small report.
Failures raise ``AssertionError`` (``GradcheckError`` is one) saying which check and which tensor.

The hypothesis strategies that draw valid layer configurations (``dense_configs``,
``conv2d_configs``, ...) live in ``layer_configs.py`` and are importable from here too::

    @given(dense_configs())
    def test_dense(cfg):
        check_layer(Dense(**cfg["kwargs"]), cfg["input_shape"])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import validation as check
from ..errors import ConfigError, GradcheckError
from ..gradcheck import gradcheck_tensors
from ..layers.base import Layer
from ..tensor import Tensor
from .layer_configs import (
    batchnorm_configs,
    conv2d_configs,
    dense_configs,
    pooling_configs,
    rnn_configs,
    rnn_stack_configs,
)


def check_layer(
    layer: Layer,
    input_shape: Sequence[int],
    *,
    expected_output_shape: Sequence[int | None] | None = None,
    expected_params: int | None = None,
    seed: int = 0,
    training: bool = False,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> dict[str, Any]:
    """Assert ``layer`` keeps its contract on inputs of ``input_shape`` (batch size included).

    Returns ``{"output_shape", "params", "trainable_params", "gradchecked"}`` where
    ``gradchecked`` names the tensors whose gradients were verified (``"input"``, weight names).

    >>> from tinygrad_edu.layers import Dense
    >>> report = check_layer(Dense(3), (2, 4), expected_output_shape=(None, 3), expected_params=15)
    >>> report["params"], report["gradchecked"]
    (15, ['input', 'kernel', 'bias'])
    """
    input_shape = _concrete_shape(input_shape)
    rng = np.random.default_rng(seed)
    sample = getattr(layer, "sample_input", None)  # a layer of integer ids (Embedding) draws ids
    x = sample(input_shape, rng) if sample else rng.standard_normal(input_shape)
    layer.build_for((None, *input_shape[1:]))
    snapshot, dtype, random_state = layer.get_weights(), layer.dtype, _random_states(layer)
    try:
        output_shape = _check_shapes(layer, x, training, expected_output_shape)
        params = layer.count_params()
        if expected_params is not None and params != expected_params:
            raise AssertionError(
                f"{layer.where}: count_params() is {params:,}, expected {int(expected_params):,}"
            )
        checked = _check_gradients(layer, x, training, seed, atol, rtol)
        _check_config(layer, input_shape)
    finally:  # e.g. BatchNormalization's moving statistics, a Dropout's generator
        layer.cast(dtype)
        layer.set_weights(snapshot)
        _set_random_states(random_state)
    trainable = int(sum(w.data.size for w in layer.trainable_weights))
    return {
        "output_shape": output_shape,
        "params": params,
        "trainable_params": trainable,
        "gradchecked": checked,
    }


def _concrete_shape(input_shape: Any) -> tuple[int, ...]:
    """``input_shape`` as positive ints, the batch size included (data is drawn for it)."""
    example = "check_layer(Dense(3), (2, 4))  # a batch of 2 samples of 4 features"
    sizes = check.shape("input_shape", input_shape, "check_layer", example)
    if None in sizes:
        raise ConfigError(
            where="check_layer",
            expected="a size on every axis, the batch axis included (data of that shape is drawn)",
            got=f"input_shape={tuple(input_shape)!r}",
            fix=example,
        )
    return sizes


def _check_shapes(
    layer: Layer, x: np.ndarray, training: bool, expected: Sequence[int | None] | None
) -> tuple[int | None, ...]:
    """Run the layer once and compare the real output shape with every declared one."""
    got = tuple(layer(x.astype(np.float32), training=training).shape)
    static = tuple(layer.compute_output_shape((None, *x.shape[1:])))
    if static[0] is not None or static[1:] != got[1:]:
        raise AssertionError(
            f"{layer.where}: the output has shape {got} but "
            f"compute_output_shape({(None, *x.shape[1:])}) gives {static}"
        )
    if tuple(layer.output_shape) != static:
        raise AssertionError(
            f"{layer.where}: layer.output_shape is {layer.output_shape}, "
            f"but compute_output_shape gives {static}"
        )
    if expected is not None:
        expected = tuple(expected)
        actual = (None, *got[1:]) if expected and expected[0] is None else got
        if actual != expected:
            raise AssertionError(f"{layer.where}: output shape {actual}, expected {expected}")
    return static


def _check_gradients(
    layer: Layer, x: np.ndarray, training: bool, seed: int, atol: float, rtol: float
) -> list[str]:
    """float64 gradcheck w.r.t. the input and each trainable weight (the caller restores dtype
    and weights afterwards): ``gradcheck_tensors`` moves the layer's own weight tensors, so the
    check runs the layer's real code path with the weights it really keeps."""
    layer.cast(np.float64)
    weights = [w for w in layer.weights if w.requires_grad]
    labels = ["input"] + [n for n, w in zip(layer.weight_names, layer.weights) if w.requires_grad]
    inputs = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
    if x.dtype.kind != "f":  # integer ids have no gradient: check the weights only
        labels, inputs = labels[1:], Tensor(x, dtype=x.dtype)
    random_state = _random_states(layer)

    def fn() -> Tensor:
        _set_random_states(random_state)  # a dropout mask must be the same in every evaluation
        return layer(inputs, training=training)

    try:
        checked = [inputs, *weights] if inputs.requires_grad else weights
        gradcheck_tensors(fn, checked, atol=atol, rtol=rtol, seed=seed)
    except GradcheckError as err:
        raise _name_failure(err, layer, labels) from None
    return labels


def _random_states(layer: Layer) -> list[tuple[np.random.Generator, dict]]:
    return [
        (g, g.bit_generator.state)
        for g in vars(layer).values()
        if isinstance(g, np.random.Generator)
    ]


def _set_random_states(states: list[tuple[np.random.Generator, dict]]) -> None:
    for generator, state in states:
        generator.bit_generator.state = state


def _name_failure(err: GradcheckError, layer: Layer, labels: list[str]) -> GradcheckError:
    """The same GradcheckError, saying which layer tensor ('input', 'kernel', ...) failed."""
    k = getattr(err, "input_index", 0)
    named = GradcheckError(
        err.message,
        where=f"check_layer: {layer.where}, gradient w.r.t. {labels[k]!r}, element "
        f"{getattr(err, 'element_index', '?')}",
        expected=err.expected,
        got=err.got,
        fix=err.fix,
    )
    for field in ("input_index", "element_index", "analytic", "numeric", "tolerance", "mismatches"):
        setattr(named, field, getattr(err, field, None))
    named.tensor_name = labels[k]
    return named


_PLAIN = (int, float, str, bool, type(None), tuple, list)


def _check_config(layer: Layer, input_shape: tuple[int, ...]) -> None:
    config = layer.get_config()
    clone = type(layer).from_config(config)
    shape = clone.build_for((None, *input_shape[1:]))
    if tuple(shape) != tuple(layer.output_shape) or clone.count_params() != layer.count_params():
        raise AssertionError(
            f"{layer.where}: from_config(get_config()) builds a layer with output shape {shape} "
            f"and {clone.count_params():,} params, not {layer.output_shape} and "
            f"{layer.count_params():,}; is a constructor argument missing from get_config()?"
        )
    again = clone.get_config()
    for key, value in config.items():
        if isinstance(value, _PLAIN) and again.get(key) != value:
            raise AssertionError(
                f"{layer.where}: get_config()[{key!r}] is {value!r}, but the "
                f"rebuilt layer's is {again.get(key)!r}"
            )


def ops_in_graph(out: Tensor) -> set:
    """The op classes recorded behind ``out`` (call before backward frees the graph): shows which
    path a layer took, e.g. ``ops.Linear in ops_in_graph(Dense(3)(x))`` for the fused one."""
    found, stack, seen = set(), [out], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t.op is None:
            continue
        seen.add(id(t))
        found.add(type(t.op))
        stack.extend(t.op.parents)
    return found


# the strategies are importable from here too (their home is layer_configs.py)
__all__ = [
    "batchnorm_configs",
    "check_layer",
    "conv2d_configs",
    "dense_configs",
    "ops_in_graph",
    "pooling_configs",
    "rnn_configs",
    "rnn_stack_configs",
]
