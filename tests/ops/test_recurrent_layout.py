"""``ops/recurrent_layout.py``: the packing behind the fused SimpleRNN and LSTM ops, each helper
against the plain formula it stands for (gate order o, i, f, g inside, Keras' i, f, c, o
outside; the step matrix ``M = [U; W; b]^T``; the state columns ``X[t] = [h[t]; x_t; 1]``), and
every array that leaves the op is a fresh one."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.ops import recurrent_layout as layout
from tinygrad_edu.workspace import Workspace

GATES = [1, 4]


def keras_to_op_order(cols: np.ndarray, n: int, gates: int) -> np.ndarray:
    """Keras' gate columns i, f, c, o -> o, i, f, g, by gate names (the spec, not the code)."""
    if gates == 1:
        return cols
    i, f, c, o = (cols[..., k * n : (k + 1) * n] for k in range(4))
    return np.concatenate([o, i, f, c], axis=-1)


def op_to_keras_order(cols: np.ndarray, n: int, gates: int) -> np.ndarray:
    """o, i, f, g -> Keras' i, f, c, o."""
    if gates == 1:
        return cols
    o, i, f, g = (cols[..., k * n : (k + 1) * n] for k in range(4))
    return np.concatenate([i, f, g, o], axis=-1)


def fresh(result: np.ndarray, ws: Workspace) -> bool:
    return not any(np.shares_memory(result, buf) for buf in ws.held)


@pytest.fixture
def ws():
    workspace = Workspace()
    yield workspace
    workspace.release()


# ---------------------------------------------------------------- gate order
def test_split_gates_gives_row_views_in_order_for_one_step_and_for_all():
    n, batch = 3, 2
    step = np.arange(4 * n * batch, dtype=float).reshape(4 * n, batch)
    o, i, f, g = layout.split_gates(step, n)
    assert all(np.shares_memory(v, step) for v in (o, i, f, g))
    np.testing.assert_array_equal(np.concatenate([o, i, f, g]), step)
    steps = np.stack([step, step + 100])  # [T, 4u, B]
    o_all = layout.split_gates(steps, n)[0]
    assert o_all.shape == (2, n, batch)
    np.testing.assert_array_equal(o_all[1], step[:n] + 100)
    np.testing.assert_array_equal(layout.sigmoid_rows(steps, n), steps[:, : 3 * n])


@pytest.mark.parametrize("gates", GATES)
@pytest.mark.parametrize("n", [1, 3])
def test_gate_grads_unpack_to_keras_layout_as_fresh_arrays(gates, n):
    rng = np.random.default_rng(n)
    keras = rng.normal(size=(5, gates * n))  # [m, g*u] in Keras' order
    rows = np.ascontiguousarray(keras_to_op_order(keras, n, gates).T)  # [g*u, m] in op order
    out = layout.unpack_gate_grads(rows, n, gates)
    np.testing.assert_array_equal(out, keras)
    assert out.flags.c_contiguous and not np.shares_memory(out, rows)
    one_row = rows[:, :1]  # [g*u, 1]: with one unit and one gate its transpose is contiguous
    assert not np.shares_memory(layout.unpack_gate_grads(one_row, n, gates), rows)


@pytest.mark.parametrize("gates", GATES)
def test_roll_gate_columns_puts_keras_columns_in_op_order(gates):
    w = np.random.default_rng(0).normal(size=(2, gates * 3))
    np.testing.assert_array_equal(
        layout.roll_gate_columns(w, 3, gates), keras_to_op_order(w, 3, gates)
    )


# ---------------------------------------------------------------- weights
@pytest.mark.parametrize("gates", GATES)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("halve", [False, True])
def test_step_matrix_is_u_w_b_transposed_in_op_gate_order(ws, gates, order, bias, halve):
    rng, n, feats = np.random.default_rng(1), 3, 2
    w = rng.normal(size=(feats, gates * n))
    u = np.asarray(rng.normal(size=(n, gates * n)), order=order)
    b = rng.normal(size=gates * n) if bias else None
    stacked = np.concatenate([u, w] + ([b[None]] if bias else []))  # [u+F(+1), g*u]
    want = keras_to_op_order(stacked, n, gates).T.copy()
    if halve and gates == 4:
        want[: 3 * n] *= 0.5  # the o, i, f rows
    m = layout.step_matrix(ws, w, u, b, gates, np.float64, halve_sigmoid_rows=halve and gates == 4)
    assert m.shape == (gates * n, n + feats + bias) and m.flags.c_contiguous
    np.testing.assert_array_equal(m, want)
    assert len(ws.held) == 1  # the padded staging array (C-ordered U) went back already


@pytest.mark.parametrize("gates", GATES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_recurrent_kernel_rolls_u_and_keeps_its_memory_order(ws, gates, order):
    u = np.asarray(np.random.default_rng(2).normal(size=(3, gates * 3)), order=order)
    buf, rolled = layout.recurrent_kernel(ws, u, gates, np.float64)
    np.testing.assert_array_equal(rolled, keras_to_op_order(u, 3, gates))
    assert rolled.flags.f_contiguous == (order == "F") and np.shares_memory(rolled, buf)


# ---------------------------------------------------------------- states and steps
@given(
    batch=st.integers(1, 3),
    steps=st.integers(1, 4),
    feats=st.integers(1, 3),
    n=st.integers(1, 3),
    bias=st.booleans(),
    go_backwards=st.booleans(),
)
def test_state_columns_hold_h_x_and_ones_per_step(batch, steps, feats, n, bias, go_backwards):
    ws = Workspace()
    x = np.random.default_rng(0).normal(size=(batch, steps, feats))
    xs = layout.state_columns(ws, x, n, bias, go_backwards, np.float64)
    assert xs.shape == (steps + 1, n + feats + bias, batch)
    (memory,) = ws.held  # feature-major: [u+F(+1), T+1, B]
    assert memory.shape == (n + feats + bias, steps + 1, batch) and np.shares_memory(xs, memory)
    np.testing.assert_array_equal(xs[0, :n], 0)  # h[0] = 0
    for t in range(steps):
        x_t = x[:, steps - 1 - t] if go_backwards else x[:, t]
        np.testing.assert_array_equal(xs[t, n : n + feats], x_t.T)
        np.testing.assert_array_equal(xs[t, n + feats :], 1)
    np.testing.assert_array_equal(xs[steps, n:], 0)  # padding read by weight_grads
    ws.release()


@pytest.mark.parametrize("feats, bias", [(1, False), (1, True), (3, True)])
def test_first_step_multiplies_only_the_x_and_bias_rows(ws, feats, bias):
    rng, n, batch = np.random.default_rng(3), 2, 4
    x = rng.normal(size=(batch, 3, feats))
    m = rng.normal(size=(4 * n, n + feats + bias))
    xs = layout.state_columns(ws, x, n, bias, False, np.float64)
    out = np.empty((4 * n, batch))
    layout.first_step(m, xs[0], n, out=out)
    np.testing.assert_allclose(out, m @ xs[0], rtol=1e-14)  # h[0] = 0 adds nothing


def test_by_step_and_gates_by_step_are_views_of_the_feature_major_memory():
    cols = np.arange(8 * 3 * 2, dtype=float).reshape(8, 3, 2)  # [g*u = 4*2, T = 3, B = 2]
    np.testing.assert_array_equal(layout.by_step(cols)[1], cols[:, 1])
    gates = layout.gates_by_step(cols, 2)
    assert gates.shape == (3, 4, 2, 2) and np.shares_memory(gates, cols)
    np.testing.assert_array_equal(gates[1, 2], cols[4:6, 1])  # gate 2 of step 1
    gates[0, 3] = -1
    assert (cols[6:8, 0] == -1).all()


# ---------------------------------------------------------------- leaving the op
@pytest.mark.parametrize("return_sequences", [False, True])
def test_output_and_upstream_grad_layouts_are_each_others_transpose(return_sequences):
    rng, (steps, n, batch) = np.random.default_rng(4), (3, 2, 4)
    states = rng.normal(size=(steps + 1, n, batch))
    out = layout.sequence_output(states, return_sequences)
    want = states[1:].transpose(2, 0, 1) if return_sequences else states[-1].T
    np.testing.assert_array_equal(out, want)
    assert out.flags.c_contiguous and not np.shares_memory(out, states)
    grad = rng.normal(size=out.shape)
    dseq, dh = layout.upstream_grads(grad, return_sequences, np.float64)
    if return_sequences:  # every step's grad, and a zero carry for the last step
        np.testing.assert_array_equal(dseq.transpose(2, 0, 1), grad)
        np.testing.assert_array_equal(dh, 0)
    else:
        assert dseq is None
        np.testing.assert_array_equal(dh, grad.T)
    assert not np.shares_memory(dh, grad)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_input_grad_is_w_times_dz_per_step_in_input_order(go_backwards):
    rng, (feats, g, steps, batch) = np.random.default_rng(5), (2, 8, 3, 4)
    w, dz = rng.normal(size=(feats, g)), rng.normal(size=(g, steps * batch))
    dx = layout.input_grad(w, dz, batch, go_backwards)
    assert dx.shape == (batch, steps, feats)
    for s in range(steps):
        t = steps - 1 - s if go_backwards else s  # the processing step that read x[:, s]
        np.testing.assert_allclose(dx[:, s], (w @ dz[:, t * batch : (t + 1) * batch]).T)


@given(
    gates=st.sampled_from(GATES),
    n=st.integers(1, 3),
    feats=st.integers(1, 2),
    steps=st.integers(1, 3),
    bias=st.booleans(),
    need=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_weight_grads_equal_the_sums_over_steps(gates, n, feats, steps, bias, need):
    """dW = sum_t x_t dz_t^T, dU = sum_t h[t] dz_t^T, db = sum_t dz_t 1, in Keras' layouts."""
    ws, rng, batch = Workspace(), np.random.default_rng(6), 2
    x = rng.normal(size=(batch, steps, feats))
    xs = layout.state_columns(ws, x, n, bias, False, np.float64)
    xs[1:, :n] = rng.normal(size=(steps, n, batch))  # states the steps would have written
    dz = rng.normal(size=(gates * n, steps * batch))
    need = (need[0], need[1], need[2] and bias)
    dw, du, db = layout.weight_grads(ws, dz, xs, n, feats, gates, need)
    per_step = [dz[:, t * batch : (t + 1) * batch] for t in range(steps)]
    sums = {
        "dW": sum(xs[t, n : n + feats] @ per_step[t].T for t in range(steps)),
        "dU": sum(xs[t, :n] @ per_step[t].T for t in range(steps)),
        "db": sum(per_step[t].sum(axis=1) for t in range(steps)),
    }
    for name, got, wanted in zip(("dW", "dU", "db"), (dw, du, db), need):
        if not wanted:
            assert got is None, name
            continue
        want = op_to_keras_order(sums[name], n, gates)  # dz's rows are in the op's gate order
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        assert fresh(got, ws), name
    ws.release()
