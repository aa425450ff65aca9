"""A replay never runs a layer's ``call``: what the layer reads from its attributes must be
guarded, or a change after the capture is replayed stale.

The Keras/PyTorch habits attacked here, each made between two replayed steps on both twins:
``model.layers[-1].activation = None`` (logits for Grad-CAM), an ``Activation`` layer's function
swapped, ``layer.kernel`` replaced by a new Tensor (PyTorch's ``fc.weight = Parameter(...)``) and
a number setting such as LayerNormalization's ``epsilon``. Each must run eagerly (or be captured
anew) and give the eager bytes; a jitted ``predict`` must give the new outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import FEATURES, OPTIMIZERS, mlp, run_loop, same_batches
from twins import Twin

from tinygrad_edu import Tensor, set_seed
from tinygrad_edu.layers import Activation, Dense, LayerNormalization
from tinygrad_edu.models import Sequential


def changed_at(step: int, change) -> Any:
    """``between`` for run_lockstep: ``change(model)`` after step ``step``, on both twins."""

    def between(i: int, twin: Twin) -> Any:
        if i == step:
            change(twin.model)
        return None

    return between


def replace_kernel(model) -> None:
    dense = model.layers[0]
    dense.kernel = Tensor(dense.kernel.numpy() * 0.5, requires_grad=True, name="kernel")


CHANGES = {
    "activation-none": lambda m: setattr(m.layers[0], "activation", None),
    "activation-tanh": lambda m: setattr(m.layers[0], "activation", "tanh"),
    "kernel-replaced": replace_kernel,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_layer_attribute_changed_after_capture_is_followed(change) -> None:
    twin = run_loop(
        mlp((16, 8)),
        OPTIMIZERS["sgd-momentum"],
        same_batches([8] * 10),
        between=changed_at(4, CHANGES[change]),
    )
    assert twin.step.stats["capture"] >= 2  # the guard saw the change: a new tape was made


def test_an_activation_layer_swapped_and_a_number_setting_changed() -> None:
    set_seed(3)
    model = Sequential(
        [
            Dense(8, input_shape=(FEATURES,)),
            Activation("relu"),
            LayerNormalization(epsilon=1e-3),
            Dense(5, "softmax"),
        ]
    )
    model.build((None, FEATURES))

    def change(m) -> None:
        m.layers[1].activation = "sigmoid"
        m.layers[2].epsilon = 10.0

    twin = run_loop(
        model, OPTIMIZERS["adam-schedule"], same_batches([8] * 10), between=changed_at(4, change)
    )
    assert twin.step.stats["capture"] >= 2


def test_jitted_predict_follows_activation_none_for_logits() -> None:
    set_seed(0)
    model = Sequential([Dense(8, "relu", input_shape=(4,)), Dense(3, "softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    for _ in range(3):
        probabilities = model.predict(x, verbose=0)
    assert model.predict_function.stats["replay"] >= 1
    model.layers[-1].activation = None  # Keras' way to read the logits
    logits = model.predict(x, verbose=0)
    kernel, bias = model.layers[-1].get_weights()
    hidden = model.layers[0](x).numpy()
    np.testing.assert_array_equal(logits, model(x).numpy())
    np.testing.assert_allclose(logits, hidden @ kernel + bias, rtol=1e-6)
    assert not np.allclose(logits, probabilities)


def test_a_subclassed_models_own_setting_changed_after_capture_is_followed() -> None:
    """``self.temperature`` read by a subclassed model's ``call``: a replay runs no ``call``,
    so a new temperature was replayed stale (the captured 1.0) until the model's own settings
    were guarded too (the models a step can see: its ``model``, closure, globals)."""
    from tinygrad_edu.models import Model

    class Tempered(Model):
        def __init__(self) -> None:
            super().__init__()
            self.hidden, self.out = Dense(8, "relu"), Dense(3, "softmax")
            self.temperature = 1.0

        def call(self, x, training=False):
            return self.out(self.hidden(x) * self.temperature)

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    losses = []
    for jit_compile in (False, True):
        set_seed(0)
        model = Tempered()
        model.compile(
            optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit_compile
        )
        run = []
        for i in range(8):
            if i == 3:
                model.temperature = 3.0
            run.append(model.train_on_batch(x, y)["loss"])
        losses.append(run)
    assert losses[0] == losses[1]
    assert model.train_function.last_mode == "replay"


def test_a_regularizer_factor_changed_after_capture_is_followed() -> None:
    """``layer.kernel_regularizer.l2 = 0.5`` (a callback scheduling the penalty): the tape kept
    the captured 0.01 as a constant until the settings of the objects a layer holds were
    guarded too."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    losses = []
    for jit_compile in (False, True):
        set_seed(0)
        model = Sequential(
            [Dense(8, "relu", kernel_regularizer="l2", input_shape=(5,)), Dense(3, "softmax")]
        )
        model.compile(
            optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit_compile
        )
        run = []
        for i in range(8):
            if i == 3:
                model.layers[0].kernel_regularizer.l2 = 0.5
            run.append(model.train_on_batch(x, y)["loss"])
        losses.append(run)
    assert losses[0] == losses[1]
    assert model.train_function.last_mode == "replay"
