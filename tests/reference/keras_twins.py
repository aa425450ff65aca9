"""What the Keras-output comparisons share (``test_keras_layer_outputs.py``,
``test_keras_model_outputs.py``): give a Keras layer or model random weights, copy them into ours
through ``get_weights``/``set_weights`` (the layouts are equal: that is part of what is checked),
and compare the outputs on two batch sizes.

Tolerance, float32: both sides compute the same formula in float32, in a different order of
summation (numpy's BLAS vs torch's kernels) and with different elementary functions (tanh, exp),
so each output differs by a few units in the last place of the values it sums. Measured largest
differences: below 1e-6 but for Bidirectional (1.9e-6) and SimpleRNN with 64 units (3.8e-6:
its rounding is fed back through tanh at each of the 6 steps, on values of order 1). Hence
``ATOL = 5e-6`` (2e-6 fails that SimpleRNN case) plus ``RTOL = 1e-5`` for the larger values (a
64-unit layer sums 64 products). Broken on purpose, Bidirectional's "ave" as 0.501 * (fwd + bwd)
fails (by 1e-3): a wrong layout or formula is far above these tolerances.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

ATOL, RTOL = 5e-6, 1e-5
BATCHES = (1, 5)


def random_weights(names: Sequence[str], weights: Sequence[np.ndarray], seed: int) -> list:
    """Weights of the same shapes, random and away from the initializers' zeros and ones (a
    zero bias hides a wrong bias layout); variances stay positive."""
    rng = np.random.default_rng(seed)
    out = []
    for name, w in zip(names, weights):
        if "variance" in name:
            out.append(rng.uniform(0.5, 1.5, w.shape).astype(np.float32))
        else:
            out.append((0.4 * rng.standard_normal(w.shape)).astype(np.float32))
    return out


def keras_numpy(keras: Any, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [keras_numpy(keras, v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value))


def ours_numpy(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [ours_numpy(v) for v in value]
    return value.numpy()


def max_abs_diff(ours: Any, theirs: Any) -> float:
    """The largest |ours - theirs| over every output (shapes must be equal)."""
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        return max(max_abs_diff(o, t) for o, t in zip(ours, theirs))
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    return float(np.max(np.abs(ours - theirs))) if ours.size else 0.0


def assert_close(ours: Any, theirs: Any) -> float:
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        return max(assert_close(o, t) for o, t in zip(ours, theirs))
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    return max_abs_diff(ours, theirs)


def keras_weight_names(k_layer: Any) -> list:
    return [getattr(w, "path", getattr(w, "name", "")) for w in k_layer.weights]


def assert_twin_outputs(
    keras: Any,
    k_layer: Any,
    ours: Any,
    make_x: Callable[[int], Any],
    training: bool = False,
    seed: int = 0,
) -> float:
    """Build both on ``make_x(batch)``, copy random Keras weights into ours, assert equal
    parameter counts and equal outputs for each batch size; the largest difference seen."""
    x = make_x(BATCHES[0])
    k_layer(x)
    k_layer.set_weights(random_weights(keras_weight_names(k_layer), k_layer.get_weights(), seed))
    ours(x)
    ours.set_weights(k_layer.get_weights())
    assert ours.count_params() == k_layer.count_params()
    worst = 0.0
    for batch in BATCHES:
        x = make_x(batch)
        theirs = keras_numpy(keras, k_layer(x, training=training))
        worst = max(worst, assert_close(ours_numpy(ours(x, training=training)), theirs))
    return worst


def normal(shape: Sequence[int], seed: int = 0) -> Callable[[int], Any]:
    """``make_x`` for float32 N(0, 1) inputs of shape ``(batch, *shape)`` (or a list of such)."""

    def make_x(batch: int) -> Any:
        rng = np.random.default_rng(seed + batch)
        if shape and isinstance(shape[0], (tuple, list)):
            return [rng.standard_normal((batch, *s)).astype(np.float32) for s in shape]
        return rng.standard_normal((batch, *shape)).astype(np.float32)

    return make_x
