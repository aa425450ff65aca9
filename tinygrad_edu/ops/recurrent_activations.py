"""The activations of the fused recurrent ops, computed in place, and their derivatives.

Each derivative ``f'(a)`` is computed from the output ``y = f(a)`` (the forward pass keeps only
y). ``FUSED_ACTIVATIONS`` names those the fused ops implement; the layers take their reference
form (``layers/recurrent_cells.py``) for any other.

>>> y = np.empty(2); _sigmoid(np.array([0.0, 2.0]), y); d = np.empty(2); _dsigmoid(y, d)
>>> np.round(y, 4).tolist(), np.round(d, 4).tolist()
([0.5, 0.8808], [0.25, 0.105])
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from ..errors import ConfigError, suggest


def _tanh(a: np.ndarray, out: np.ndarray) -> None:
    np.tanh(a, out=out)


def _sigmoid(a: np.ndarray, out: np.ndarray) -> None:
    # 1 / (1 + e^-a) == (1 + tanh(a / 2)) / 2: one transcendental call and no overflow for any a
    np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


def _relu(a: np.ndarray, out: np.ndarray) -> None:
    np.maximum(a, 0, out=out)


def _linear(a: np.ndarray, out: np.ndarray) -> None:
    if out is not a:
        np.copyto(out, a)


# Each derivative is written into ``out``, which must not be ``y``.
def _dtanh(y: np.ndarray, out: np.ndarray) -> None:
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)


def _dsigmoid(y: np.ndarray, out: np.ndarray) -> None:
    np.subtract(1, y, out=out)
    out *= y


def _drelu(y: np.ndarray, out: np.ndarray) -> None:
    np.sign(y, out=out)  # y = max(a, 0): 1 where a > 0, else 0


def _dlinear(y: np.ndarray, out: np.ndarray) -> None:
    out.fill(1)


_ACTIVATIONS: Dict[str, Tuple[Callable, Callable]] = {
    "tanh": (_tanh, _dtanh),
    "sigmoid": (_sigmoid, _dsigmoid),
    "relu": (_relu, _drelu),
    "linear": (_linear, _dlinear),
}
#: activation names the fused ops implement; layers fall back to the composed form for others
FUSED_ACTIVATIONS = frozenset(_ACTIVATIONS)


def activation_pair(name: str, op: str) -> Tuple[Callable, Callable]:
    """(f, f') of the activation ``name``, both in place; a ConfigError naming ``op`` if the
    fused ops do not implement it."""
    if name not in _ACTIVATIONS:
        raise ConfigError(
            where=f"op '{op}'",
            expected="an activation the fused op implements",
            got=repr(name),
            fix=suggest(name, _ACTIVATIONS),
        )
    return _ACTIVATIONS[name]


def activate_lstm_gates(z, sig, g, act, ract, one_tanh: bool) -> None:
    """One step's LSTM gates in place (``z [4u, B]``, its o, i, f rows ``sig``, its g rows):
    o, i, f = ract(z_o, z_i, z_f), g = act(z_g). ``one_tanh``: M's o, i, f rows were halved
    (``step_matrix``), so with sigmoid(a) = (1 + tanh(a / 2)) / 2 one tanh call over all four
    gates does it, then a scale and shift of the sigmoid rows."""
    if one_tanh:
        np.tanh(z, out=z)
        sig *= 0.5
        sig += 0.5
    else:
        ract(sig, sig)
        act(g, g)


__all__ = ["FUSED_ACTIVATIONS", "activate_lstm_gates", "activation_pair"]
