"""Every built-in activation, and the Average merge, in a replayed step: byte-equal to eager, or
refused at capture with a ``ConfigError`` that names the cause - never a library number taken
for one "computed from the batch".

A captured step keeps a Python number only when every call passes the same object. Validation
(``check.real``) makes a new float at every call, so ``elu``, ``leaky_relu``, ``celu``,
``squareplus`` and ``soft_shrink`` were refused; ``gelu`` computed its constants per call and
``Average`` its ``1 / n``. Three activations compare (``where(x > t, ...)``): the comparison's
array is not an op's, and the tape cannot replay it - they are refused, naming the comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_lockstep import FEATURES, OPTIMIZERS, run_loop, same_batches

from tinygrad_edu import activations, set_seed
from tinygrad_edu.errors import ConfigError
from tinygrad_edu.layers import Average, Dense, Input
from tinygrad_edu.models import Model, Sequential

#: the activations that compare (where(x > t, ...)): refused at capture
COMPARING = {"hard_shrink", "sparse_plus", "threshold"}
#: the ones that need arguments Keras gives no default for (threshold) are called with them
ARGUMENTS = {"threshold": {"threshold": 0.1, "default_value": 0.0}}


def model_with(name: str) -> Sequential:
    set_seed(1)
    fn = activations.get(name)
    if name in ARGUMENTS:
        kwargs = ARGUMENTS[name]
        fn = lambda x: activations.get(name)(x, **kwargs)  # a fixed-argument form
    units = 16 if name == "glu" else 8  # glu halves its input
    model = Sequential([Dense(units, fn, input_shape=(FEATURES,)), Dense(5, "softmax")])
    model.build((None, FEATURES))
    return model


@pytest.mark.parametrize("name", activations.names())
def test_every_activation_replays_byte_equal_or_is_refused_by_name(name) -> None:
    batches = same_batches([8] * 5)
    if name not in COMPARING:
        twin = run_loop(model_with(name), OPTIMIZERS["sgd-momentum"], batches)
        assert twin.step.stats["replay"] >= 3
        return
    with pytest.raises(ConfigError) as err:
        run_loop(model_with(name), OPTIMIZERS["sgd-momentum"], batches)
    assert "comparison" in err.value.got and "jit_compile=False" in err.value.fix


def test_activation_numbers_keep_the_given_object_and_value() -> None:
    from tinygrad_edu.activation_extras import kept

    alpha = 0.3
    assert kept(alpha, 0.3) is alpha
    assert kept(-0.0, 0.0) == 0.0 and np.copysign(1.0, kept(-0.0, 0.0)) == 1.0  # never -0.0
    assert kept(np.float32(0.5), 0.5) == 0.5 and type(kept(np.float32(0.5), 0.5)) is float
    assert kept(2, 2.0) == 2.0 and type(kept(2, 2.0)) is float


def test_the_average_merge_replays_byte_equal() -> None:
    set_seed(2)
    x = Input(shape=(FEATURES,))
    h = Average()([Dense(6)(x), Dense(6, "tanh")(x), Dense(6, "relu")(x)])
    model = Model(inputs=x, outputs=Dense(5, "softmax")(h))
    twin = run_loop(model, OPTIMIZERS["adam-schedule"], same_batches([8] * 5))
    assert twin.step.stats["replay"] >= 3
    a, b, c = (np.arange(6, dtype=np.float32).reshape(2, 3) * k for k in (1, 2, 4))
    np.testing.assert_array_equal(Average()([a, b, c]).numpy(), ((a + b) + c) / 3)  # Keras' form


def test_dot_normalize_replays_byte_equal() -> None:
    """Dot(normalize=True) divides by maximum(|t|^2, 1e-12) ** 0.5: Maximum's backward gave a
    float64 gradient for float32 tensors, so eager went on in float64 and the replay (float32
    buffers) differed by ~1e-9 after a few steps."""
    from tinygrad_edu.layers import Dot

    set_seed(3)
    x = Input(shape=(FEATURES,))
    h1, h2 = Dense(6)(x), Dense(6, "tanh")(x)
    model = Model(inputs=x, outputs=Dense(5, "softmax")(Dot(axes=1, normalize=True)([h1, h2])))
    twin = run_loop(model, OPTIMIZERS["sgd"], same_batches([8] * 6))
    assert twin.step.stats["replay"] >= 4
