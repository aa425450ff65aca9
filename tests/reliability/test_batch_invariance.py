"""Issue 11: a sample's prediction must not depend on which batch it was predicted in.

For every layer family, ``model.predict(x, batch_size=k)`` for k in {1, 3, 16, len(x)} equals
``predict(x, batch_size=len(x))`` and equals calling the model on each sample alone. len(x) = 37,
so k = 3 and k = 16 end on a short batch. A batch-dependent answer is a silent wrong answer:
statistics taken over the batch at inference (BatchNormalization, Dropout), a buffer reused by the
next batch while an earlier output still points into it (pooled recurrent workspaces), samples
mixed across the batch axis by a wrong reshape or transpose.

Tolerance. The models run in float64 (every layer takes ``cast``); the check is
``rtol = atol = 1e-12``, not exact equality, because BLAS may split a matrix product into blocks
differently for a different number of rows and so add the same terms in another order. Measured:
most cases differ by a few ulps, at most 2e-15 on outputs of order 1; a real batch dependence
(a wrong statistic, a mixed-up sample, a reused buffer) is orders of magnitude above that. The
float32 models users get by default are checked too, at ``rtol = atol = 1e-5`` (measured: at most
7e-7 apart, float32's ulp being 6e-8).
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Dict, List

import numpy as np
import pytest

from tinygrad_edu import no_grad, set_seed
from tinygrad_edu.layers import (
    GRU,
    LSTM,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
    Reshape,
    SimpleRNN,
)
from tinygrad_edu.models import Sequential

N_SAMPLES = 37
BATCH_SIZES = [1, 3, 16, N_SAMPLES]
FLOAT64_TOL = dict(rtol=1e-12, atol=1e-12)
FLOAT32_TOL = dict(rtol=1e-5, atol=1e-5)
VECTOR, IMAGE, SEQUENCE = (5,), (6, 5, 2), (6, 3)
RECURRENT = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}


# ------------------------------------------------------------------------------- the models
def dense_stack() -> list:
    return [Dense(64, "relu", input_shape=VECTOR), Dense(7, "tanh"), Dense(1)]


def conv_stack(fused: bool) -> list:
    return [
        Conv2D(7, 3, padding="same", activation="relu", input_shape=IMAGE, fused=fused),
        Conv2D(64, (2, 3), strides=(1, 2), fused=fused),
        Conv2D(1, 1, fused=fused),
    ]


def pooling_stack(fused: bool) -> list:
    return [
        Conv2D(4, 1, input_shape=IMAGE),
        MaxPooling2D(2, padding="same", fused=fused),
        AveragePooling2D(2, strides=1, fused=fused),
        GlobalMaxPooling2D(keepdims=True),
        GlobalAveragePooling2D(),
    ]


def batchnorm_stack() -> list:
    return [Dense(7, input_shape=VECTOR), BatchNormalization(), Dense(3), BatchNormalization()]


def dropout_stack() -> list:
    return [Dense(64, "relu", input_shape=VECTOR), Dropout(0.5, seed=1), Dense(7), Dropout(0.9)]


def flatten_reshape_stack() -> list:
    return [Conv2D(3, 2, input_shape=IMAGE), Flatten(), Reshape((4, -1)), Dense(2), Flatten()]


def recurrent_stack(name: str, units: int, fused: bool, sequences: bool = False) -> list:
    cls = RECURRENT[name]
    return [cls(units, input_shape=SEQUENCE, return_sequences=sequences, fused=fused)]


def stacked_recurrent(names: List[str], fused: bool) -> list:
    """2-3 recurrent layers of 7, 64 (and 1) units, each but the last returning sequences; the
    first reads the sequence backwards."""
    last = len(names) - 1
    layers = []
    for i, (name, units) in enumerate(zip(names, [7, 64, 1])):
        kwargs = dict(return_sequences=i < last, fused=fused)
        if i == 0:
            kwargs.update(input_shape=SEQUENCE, go_backwards=True)
        layers.append(RECURRENT[name](units, **kwargs))
    return layers


def model_cases() -> Dict[str, Callable[[], list]]:
    cases = {
        "dense": dense_stack,
        "conv2d-fused": partial(conv_stack, True),
        "conv2d-reference": partial(conv_stack, False),
        "pooling-fused": partial(pooling_stack, True),
        "pooling-reference": partial(pooling_stack, False),
        "batchnorm-inference": batchnorm_stack,
        "dropout-inference": dropout_stack,
        "flatten-reshape": flatten_reshape_stack,
    }
    for name in RECURRENT:
        for fused, path in ((True, "fused"), (False, "reference")):
            for units in (1, 7, 64):
                cases[f"{name}-{units}-{path}"] = partial(recurrent_stack, name, units, fused)
            cases[f"{name}-7-sequences-{path}"] = partial(recurrent_stack, name, 7, fused, True)
            cases[f"{name}-stack-{path}"] = partial(stacked_recurrent, [name] * 3, fused)
    cases["mixed-stack-fused"] = partial(stacked_recurrent, ["GRU", "LSTM"], True)
    cases["mixed-stack-reference"] = partial(stacked_recurrent, ["SimpleRNN", "GRU"], False)
    return cases


CASES = model_cases()


def build(case: str, dtype) -> Sequential:
    """The case's model with non-zero biases and (BatchNormalization) moving statistics."""
    set_seed(0)
    model = Sequential(CASES[case]())
    rng = np.random.default_rng(1)
    for layer in model.layers:
        layer.cast(dtype)
        layer.set_weights([randomized(name, w, rng) for name, w in named_weights(layer)])
    return model


def named_weights(layer) -> list:
    return list(zip(layer.weight_names, layer.get_weights()))


def randomized(name: str, value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep the initializers' kernels (sane activations); make every vector that starts at a
    constant (biases, gamma/beta, moving statistics) random, so broadcasting is exercised."""
    if name == "moving_variance":
        return rng.uniform(0.5, 2.0, value.shape)
    if "kernel" in name:
        return value
    return rng.normal(0.0, 0.5, value.shape)


def inputs(model: Sequential, dtype) -> np.ndarray:
    shape = (N_SAMPLES, *model.layers[0].input_shape[1:])
    return np.random.default_rng(2).standard_normal(shape).astype(dtype)


def one_by_one(model: Sequential, x: np.ndarray) -> np.ndarray:
    with no_grad():
        outs = [model(x[i : i + 1], training=False).data for i in range(len(x))]
    return np.concatenate(outs, axis=0)


# ------------------------------------------------------------------------------- the checks
@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_is_batch_invariant_in_float64(case):
    model = build(case, np.float64)
    x = inputs(model, np.float64)
    whole = model.predict(x, batch_size=len(x))
    assert whole.dtype == np.float64 and len(whole) == len(x)
    np.testing.assert_allclose(one_by_one(model, x), whole, **FLOAT64_TOL, err_msg="one by one")
    for batch_size in BATCH_SIZES:
        got = model.predict(x, batch_size=batch_size)
        np.testing.assert_allclose(got, whole, **FLOAT64_TOL, err_msg=f"batch_size={batch_size}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_is_batch_invariant_in_float32(case):
    model = build(case, np.float32)
    x = inputs(model, np.float32)
    whole = model.predict(x, batch_size=len(x))
    assert whole.dtype == np.float32
    for batch_size in BATCH_SIZES:
        got = model.predict(x, batch_size=batch_size)
        np.testing.assert_allclose(got, whole, **FLOAT32_TOL, err_msg=f"batch_size={batch_size}")


def test_the_cases_cover_every_layer_family():
    layers = {type(layer) for case in CASES.values() for layer in case()}
    families = {Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D}
    families |= {GlobalAveragePooling2D, BatchNormalization, Dropout, Flatten, Reshape}
    assert families | set(RECURRENT.values()) <= layers
    units = {layer.units for case in CASES.values() for layer in case() if hasattr(layer, "units")}
    assert {1, 7, 64} <= units


def test_inference_layers_really_differ_from_training():
    """The BatchNormalization and Dropout cases are meaningful: in training mode their output
    does depend on the batch, so the inference checks above test the switch."""
    for case in ("batchnorm-inference", "dropout-inference"):
        model = build(case, np.float64)
        x = inputs(model, np.float64)
        with no_grad():
            trained = model(x, training=True).data
        assert not np.allclose(trained, model.predict(x, batch_size=len(x)), rtol=1e-3)
