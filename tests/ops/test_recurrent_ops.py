"""The fused whole-sequence ops equal the reference form (the loop of Tensor ops the layers run with
``fused=False``): forward values and the gradients w.r.t. x, W, U and b, for every keyword
combination, over hypothesis sizes; plus float64 gradchecks of each op and its error messages."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

if str(Path(__file__).parent) not in sys.path:  # entries_recurrent sits beside this file
    sys.path.insert(0, str(Path(__file__).parent))

from entries_recurrent import GATES, SMOOTH, np_lstm, sequence_case  # noqa: E402
from op_table import case  # noqa: E402

from tinygrad_edu import (  # noqa: E402  # noqa: E402
    ConfigError,
    ShapeError,
    Tensor,
    activations,
    concatenate,
    ops,
    stack,
    tensor_from_op,
)
from tinygrad_edu.gradcheck import gradcheck  # noqa: E402
from tinygrad_edu.layers.recurrent_cells import (  # noqa: E402
    gru_cell,
    lstm_cell,
    run_sequence,
    simple_rnn_cell,
)

OPS = list(GATES)
ALL_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


def _lstm_cell_with_c(x_t, states, **kwargs):
    """The LSTM step, emitting ``[h | c]`` like the fused op does with ``return_cell=True``."""
    h, states = lstm_cell(x_t, states, **kwargs)
    return concatenate([h, states[1]], axis=-1), states


def composed(
    op,
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
    reset_after=True,
    input_mask=None,
    recurrent_mask=None,
):
    """What the op computes, written with the reference cells (plain Tensor ops); dropout masks
    ``[G, B, size]`` go to the cells as lists of ``[B, size]`` Tensors."""
    args = {"weights": (w, u, b), "activation": activations.get(activation)}
    for name, mask in (("input_mask", input_mask), ("recurrent_mask", recurrent_mask)):
        if mask is not None:
            args[name] = [Tensor(m) for m in mask]
    if op is ops.SimpleRNNSequence:
        cell, n_states = simple_rnn_cell, 1
    else:
        args["recurrent_activation"] = activations.get(recurrent_activation)
        cell, n_states = (gru_cell, 1) if op is ops.GRUSequence else (lstm_cell, 2)
    if op is ops.GRUSequence:
        args["reset_after"] = reset_after
    if return_cell:
        cell = _lstm_cell_with_c
    outs, _ = run_sequence(cell, x, u.shape[0], n_states, go_backwards, **args)
    return stack(outs, axis=1) if return_sequences else outs[-1]


def values_and_grads(fn, arrays, params, seed=0):
    """fn's output and the gradients of sum(out * r) w.r.t. every input (float64)."""
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **params)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(r)
    return [out.data] + [t.grad for t in ts]


def _equal_to_reference(op, c):
    fused = values_and_grads(lambda *ts, **p: tensor_from_op(op, *ts, **p), c.arrays, c.params)
    reference = values_and_grads(lambda *ts, **p: composed(op, *ts, **p), c.arrays, c.params)
    names = ["output", "dx", "dW", "dU", "db"]
    for name, a, b in zip(names, fused, reference):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=name)


@given(
    c=sequence_case(
        ops.SimpleRNNSequence, ALL_ACTIVATIONS, max_units=5, max_steps=5, bounded_gates=False
    )
)
def test_simple_rnn_op_equals_reference(c):
    _equal_to_reference(ops.SimpleRNNSequence, c)


@given(
    c=sequence_case(
        ops.LSTMSequence, ALL_ACTIVATIONS, max_units=5, max_steps=5, bounded_gates=False
    )
)
def test_lstm_op_equals_reference(c):
    _equal_to_reference(ops.LSTMSequence, c)


@given(
    c=sequence_case(ops.GRUSequence, ALL_ACTIVATIONS, max_units=5, max_steps=5, bounded_gates=False)
)
def test_gru_op_equals_reference(c):
    _equal_to_reference(ops.GRUSequence, c)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_gradcheck_each_op(op):
    """float64 central differences w.r.t. x, W, U, b, with and without return_sequences."""
    rng = np.random.default_rng(3)
    g, n = GATES[op], 3
    b_shape = (2, 3 * n) if op is ops.GRUSequence else (g * n,)
    inputs = [
        rng.normal(size=(2, 4, 2)),
        rng.normal(0, 0.7, (2, g * n)),
        rng.normal(0, 0.7, (n, g * n)),
        rng.normal(0, 0.5, b_shape),
    ]
    for return_sequences in (False, True):
        assert gradcheck(
            lambda *ts: tensor_from_op(
                op, *ts, return_sequences=return_sequences, go_backwards=return_sequences
            ),
            *inputs,
        )


def test_gradcheck_lstm_cell_output_and_gru_without_reset_after():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 2))
    lstm = [x, rng.normal(0, 0.7, (2, 8)), rng.normal(0, 0.7, (2, 8)), rng.normal(0, 0.5, 8)]
    assert gradcheck(
        lambda *ts: tensor_from_op(ops.LSTMSequence, *ts, return_cell=True, return_sequences=True),
        *lstm,
    )
    gru = [x, rng.normal(0, 0.7, (2, 6)), rng.normal(0, 0.7, (2, 6)), rng.normal(0, 0.5, 6)]
    assert gradcheck(lambda *ts: tensor_from_op(ops.GRUSequence, *ts, reset_after=False), *gru)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_float32_stays_float32_and_unneeded_grads_are_skipped(op):
    rng = np.random.default_rng(0)
    g = GATES[op]
    x = Tensor(rng.normal(size=(2, 3, 2)).astype(np.float32))  # no grad wanted for x
    w, u = (
        Tensor(rng.normal(size=s).astype(np.float32), requires_grad=True)
        for s in ((2, g * 4), (4, g * 4))
    )
    out = tensor_from_op(op, x, w, u, return_sequences=True)
    assert out.dtype == np.float32 and out.shape == (2, 3, 4)
    out.sum().backward()
    assert x.grad is None and w.grad.dtype == np.float32 and u.grad.dtype == np.float32


def test_sigmoid_gates_do_not_overflow_for_huge_preactivations():
    x = np.array([[[1000.0], [-1000.0]]], dtype=np.float32)
    w, u = np.ones((1, 4), np.float32), np.zeros((1, 4), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn
        out = tensor_from_op(
            ops.LSTMSequence,
            Tensor(x),
            Tensor(w),
            Tensor(u),
            return_sequences=True,
            return_cell=True,
        )
    expected = np_lstm(x.astype(np.float64), w, u, return_sequences=True, return_cell=True)
    np.testing.assert_allclose(out.data, expected, atol=1e-6)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_wrong_weight_shape_is_a_shape_error_naming_the_op(op):
    g = GATES[op]
    x, w, u = np.zeros((2, 3, 5)), np.zeros((4, g * 2)), np.zeros((2, g * 2))
    with pytest.raises(ShapeError) as err:
        tensor_from_op(op, Tensor(x), Tensor(w), Tensor(u))
    assert op.__name__ in err.value.where
    assert "(4, " in err.value.got and "(2, 3, 5)" in err.value.got
    assert "W [F" in err.value.expected and err.value.fix


def test_unknown_activation_in_the_op_is_a_config_error():
    x, w, u = np.zeros((1, 2, 1)), np.zeros((1, 2)), np.zeros((2, 2))
    with pytest.raises(ConfigError) as err:
        tensor_from_op(ops.SimpleRNNSequence, Tensor(x), Tensor(w), Tensor(u), activation="tanhh")
    assert err.value.got == "'tanhh'" and "tanh" in err.value.fix


def test_smooth_activations_are_the_gradchecked_subset():
    assert set(SMOOTH) <= set(ALL_ACTIVATIONS) == set(ops.recurrent.FUSED_ACTIVATIONS)


@pytest.mark.parametrize("op", [ops.SimpleRNNSequence, ops.LSTMSequence], ids=lambda o: o.__name__)
def test_pooled_buffers_never_mix_live_graphs(op):
    """SimpleRNN and LSTM borrow their large work arrays from a pool that hands them on from op
    to op (``tinygrad_edu.workspace``): two graphs alive at once, one of them kept with
    ``retain_graph=True`` and run backward twice, must still give exactly what each gives
    alone."""
    rng = np.random.default_rng(5)
    g, n = GATES[op], 3
    cases = [
        [
            rng.normal(size=(2, 4, 2)),
            rng.normal(0, 0.7, (2, g * n)),
            rng.normal(0, 0.7, (n, g * n)),
            rng.normal(0, 0.5, g * n),
        ]
        for _ in range(2)
    ]
    alone = [
        values_and_grads(lambda *ts: tensor_from_op(op, *ts, return_sequences=True), c, {})
        for c in cases
    ]
    tensors = [[Tensor(a, requires_grad=True) for a in c] for c in cases]
    outs = [tensor_from_op(op, *ts, return_sequences=True) for ts in tensors]  # both alive
    ups = [np.random.default_rng(0).standard_normal(o.shape) for o in outs]
    outs[0].backward(ups[0], retain_graph=True)
    outs[1].backward(ups[1])
    outs[0].backward(ups[0])  # the retained graph, after the other op gave its arrays back
    for k, (ts, out, want) in enumerate(zip(tensors, outs, alone)):
        np.testing.assert_array_equal(out.data, want[0])
        for t, w in zip(ts, want[1:]):
            np.testing.assert_allclose(t.grad, w * (2 if k == 0 else 1), rtol=1e-12)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("units", [1, 7, 64])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_each_op_equals_reference_at_units_1_7_64(op, units, go_backwards):
    """float64, every output form: one unit (where a weight-grad block's transpose is already
    contiguous), a few, and many (the sizes of real layers)."""
    rng = np.random.default_rng(units)
    g = GATES[op] * units
    b_shape = (2, g) if op is ops.GRUSequence else (g,)
    arrays = [
        rng.normal(size=(3, 5, 2)),
        rng.normal(0, 0.5, (2, g)),
        rng.normal(0, 0.5 / np.sqrt(units), (units, g)),
        rng.normal(0, 0.3, b_shape),
    ]
    for return_sequences in (False, True):
        params = {"return_sequences": return_sequences, "go_backwards": go_backwards}
        if op is ops.LSTMSequence:
            params["return_cell"] = return_sequences
        _equal_to_reference(op, case(*arrays, **params))
