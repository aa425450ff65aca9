"""No leaks: the autograd graph is freed after every training step, and inference builds none.

Counts live ``Tensor`` and ``Function`` (graph node) objects with ``gc`` after hundreds of steps:
the counts must not grow with the number of steps.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import tinygrad_edu.engine as engine_module
from tinygrad_edu import Tensor, no_grad, set_seed
from tinygrad_edu.function import Function
from tinygrad_edu.layers import (
    GRU,
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling2D,
)
from tinygrad_edu.losses import sparse_categorical_crossentropy
from tinygrad_edu.models import Sequential
from tinygrad_edu.optimizers import Adam


def live() -> tuple:
    """(live Tensors, live Functions) after a full collection."""
    gc.collect()
    # type() rather than isinstance(): isinstance on some of torch's module objects (when torch
    # is imported by other tests) triggers their deprecation warnings
    kinds = [type(o) for o in gc.get_objects()]
    return (
        sum(issubclass(k, Tensor) for k in kinds),
        sum(issubclass(k, Function) for k in kinds),
    )


def mlp():
    return Sequential(
        [
            Dense(8, activation="relu", input_shape=(4,)),
            BatchNormalization(),
            Dropout(0.2, seed=0),
            Dense(3, activation="softmax"),
        ]
    )


def cnn():
    return Sequential(
        [
            Conv2D(2, 3, activation="relu", input_shape=(5, 5, 1)),
            MaxPooling2D(2),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )


def rnn(fused=True):
    def make():
        return Sequential(
            [
                LSTM(3, return_sequences=True, fused=fused, input_shape=(4, 2)),
                GRU(3, fused=fused),
                Dense(3, activation="softmax"),
            ]
        )

    return make


MODELS = {
    "mlp": (mlp, (4,)),
    "cnn": (cnn, (5, 5, 1)),
    "rnn": (rnn(), (4, 2)),
    "rnn_reference": (rnn(fused=False), (4, 2)),
}


def data(sample_shape, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *sample_shape)).astype(np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("name", list(MODELS))
def test_fit_frees_the_graph_after_every_step(name):
    set_seed(0)
    make, sample_shape = MODELS[name]
    model = make()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    steps = 300 if name != "rnn_reference" else 100
    x, y = data(sample_shape, steps)
    model.fit(x[:20], y[:20], batch_size=1, verbose=0)  # warm up: optimizer state, history
    before = live()
    model.fit(x, y, batch_size=1, verbose=0)  # hundreds of steps
    after = live()
    assert after == before, f"(tensors, functions) grew from {before} to {after}"
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    assert live() == after


def test_pytorch_loop_frees_the_graph_after_every_step():
    set_seed(0)
    model = mlp()
    model.train()
    opt = Adam(model.parameters(), learning_rate=1e-3)
    x, y = data((4,), 400)

    def step(i):
        out = model(x[i : i + 1])
        loss = sparse_categorical_crossentropy(y[i : i + 1], out)
        loss.backward()
        opt.step()
        opt.zero_grad()
        # backward freed the graph it walked: the loss was computed from the softmax's logits,
        # whose node is gone (``out`` itself, a sibling outside the loss graph, keeps its own)
        assert loss.op is None and out.logits.op is None

    for i in range(20):
        step(i)
    before = live()
    for i in range(20, 400):
        step(i)
    assert live() == before


def test_no_function_objects_survive_training():
    set_seed(0)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = data((4,), 50)
    _, functions_before = live()
    model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    model.train_on_batch(x[:5], y[:5])
    assert live()[1] == functions_before


@pytest.fixture
def recorded_ops(monkeypatch):
    """Every op output created while the fixture is active: (op name, recorded a graph node?)."""
    seen = []
    real = engine_module.apply

    def spy(fn_cls, *inputs, **params):
        out = real(fn_cls, *inputs, **params)
        seen.append((fn_cls.__name__, out.op is not None or out.requires_grad))
        return out

    monkeypatch.setattr(engine_module, "apply", spy)
    return seen


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_and_evaluate_build_no_graph(name, recorded_ops):
    set_seed(0)
    make, sample_shape = MODELS[name]
    model = make()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = data(sample_shape, 10)
    _, functions_before = live()
    recorded_ops.clear()
    out = model.predict(x, batch_size=4)
    model.evaluate(x, y, batch_size=4)
    assert recorded_ops, "the spy saw no op: is it still wired to Tensor's ops?"
    graph_nodes = [op for op, recorded in recorded_ops if recorded]
    assert not graph_nodes, f"inference recorded graph nodes: {sorted(set(graph_nodes))}"
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert all(w.grad is None for w in model.weights)
    assert live()[1] == functions_before


def test_model_call_under_no_grad_is_a_leaf():
    model = mlp()
    x, _ = data((4,), 3)
    with no_grad():
        out = model(x)
    assert out.op is None and not out.requires_grad
    out = model(x)  # grad mode on: this one is in a graph
    assert out.op is not None and out.requires_grad


def test_a_long_chain_backward_frees_everything():
    """100,000 ops in a chain: backward walks it iteratively and frees every node."""
    _, functions_before = live()
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    loss = y.sum()
    del y
    loss.backward()
    np.testing.assert_array_equal(x.grad, np.ones(3))
    assert loss.op is None
    assert live()[1] == functions_before


def test_the_counter_sees_a_deliberate_leak():
    """Guard for the tests above: keeping the graphs alive is visible in the counts."""
    model = mlp()
    x, _ = data((4,), 3)
    before = live()
    kept = [model(x).sum() for _ in range(20)]  # 20 graphs, never backpropagated
    after = live()
    assert after[0] > before[0] + 20 and after[1] > before[1] + 20
    del kept
    assert live() == before
