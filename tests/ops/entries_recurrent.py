"""Op-table entries of ``ops/recurrent.py`` and ``ops/recurrent_gru.py``: the whole-sequence
SimpleRNN, LSTM and GRU ops against plain numpy loops, over every keyword combination.

``sequence_case`` and the numpy loops are reused by ``test_recurrent_ops.py``.
"""

import numpy as np
from hypothesis import strategies as st
from op_table import OpEntry, case

from tinygrad_edu import ops
from tinygrad_edu.testing import arrays

GATES = {ops.SimpleRNNSequence: 1, ops.LSTMSequence: 4, ops.GRUSequence: 3}
#: smooth activations only: gradcheck's finite differences are unreliable at relu's kink
SMOOTH = ["tanh", "sigmoid", "linear"]
BOUNDED = ["tanh", "sigmoid"]

NP_ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda a: np.exp(-np.logaddexp(0, -a)),  # 1 / (1 + e^-a) without overflow
    "relu": lambda a: np.maximum(a, 0),
    "linear": lambda a: a,
}


def bias_shape(op, units, reset_after=True):
    if op is ops.GRUSequence and reset_after:
        return (2, 3 * units)
    return (GATES[op] * units,)


@st.composite
def sequence_case(
    draw, op, activations=tuple(SMOOTH), bias=None, max_units=4, max_steps=4, bounded_gates=True
):
    """x [B, T, F], W, U (and maybe b) in the op's layout, plus every keyword the op takes.
    Units range above the feature count too."""
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, max_steps))
    feats, units = draw(st.integers(1, 3)), draw(st.integers(1, max_units))
    g = GATES[op] * units
    params = {
        "activation": draw(st.sampled_from(list(activations))),
        "return_sequences": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
    }
    if op is not ops.SimpleRNNSequence:
        # an unbounded gate (linear, relu) lets the states grow like a power of the weights:
        # finite differences and float32 then lose every digit, so gates stay bounded here
        gates = [a for a in activations if a in BOUNDED] if bounded_gates else list(activations)
        params["recurrent_activation"] = draw(st.sampled_from(gates))
    if op is ops.LSTMSequence:
        params["return_cell"] = draw(st.booleans())
    if op is ops.GRUSequence:
        params["reset_after"] = draw(st.booleans())
    arrs = [
        draw(arrays((batch, steps, feats), -2.0, 2.0)),
        draw(arrays((feats, g), -1.0, 1.0)),
        draw(arrays((units, g), -1.0, 1.0)),
    ]
    if draw(st.booleans()) if bias is None else bias:
        shape = bias_shape(op, units, params.get("reset_after", True))
        arrs.append(draw(arrays(shape, -1.0, 1.0)))
    return case(*arrs, **params)


# ---------------------------------------------------------------- numpy loops (float64 truth)
def _order(steps, go_backwards):
    return range(steps - 1, -1, -1) if go_backwards else range(steps)


def _collect(outs, final, return_sequences):
    return np.stack(outs, axis=1) if return_sequences else final


def np_simple_rnn(
    x, w, u, b=None, *, activation="tanh", return_sequences=False, go_backwards=False
):
    act, h, outs = NP_ACT[activation], np.zeros((x.shape[0], u.shape[0])), []
    for t in _order(x.shape[1], go_backwards):
        h = act(x[:, t] @ w + h @ u + (0 if b is None else b))
        outs.append(h)
    return _collect(outs, h, return_sequences)


def np_lstm(
    x,
    w,
    u,
    b=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    return_sequences=False,
    go_backwards=False,
    return_cell=False,
):
    act, ract, n = NP_ACT[activation], NP_ACT[recurrent_activation], u.shape[0]
    h = c = np.zeros((x.shape[0], n))
    outs = []
    for t in _order(x.shape[1], go_backwards):
        z = x[:, t] @ w + h @ u + (0 if b is None else b)
        i, f, o = ract(z[:, :n]), ract(z[:, n : 2 * n]), ract(z[:, 3 * n :])
        c = f * c + i * act(z[:, 2 * n : 3 * n])
        h = o * act(c)
        outs.append(np.concatenate([h, c], axis=-1) if return_cell else h)
    return _collect(outs, outs[-1], return_sequences)


def np_gru(
    x,
    w,
    u,
    b=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    reset_after=True,
    return_sequences=False,
    go_backwards=False,
):
    act, ract, n = NP_ACT[activation], NP_ACT[recurrent_activation], u.shape[0]
    b_in, b_rec = (b[0], b[1]) if (b is not None and reset_after) else (b, 0)
    h, outs = np.zeros((x.shape[0], n)), []
    for t in _order(x.shape[1], go_backwards):
        xp = x[:, t] @ w + (0 if b_in is None else b_in)
        rec = h @ u + b_rec
        z, r = ract(xp[:, :n] + rec[:, :n]), ract(xp[:, n : 2 * n] + rec[:, n : 2 * n])
        inner = r * rec[:, 2 * n :] if reset_after else (r * h) @ u[:, 2 * n :]
        h = z * h + (1 - z) * act(xp[:, 2 * n :] + inner)
        outs.append(h)
    return _collect(outs, h, return_sequences)


NP_REFERENCE = {
    ops.SimpleRNNSequence: np_simple_rnn,
    ops.LSTMSequence: np_lstm,
    ops.GRUSequence: np_gru,
}

OP_ENTRIES = [
    OpEntry(
        f"{op.__name__}-{'bias' if bias else 'no-bias'}",
        op,
        sequence_case(op, bias=bias),
        reference=NP_REFERENCE[op],
    )
    for op in NP_REFERENCE
    for bias in (True, False)
]
