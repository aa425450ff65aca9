"""The fused recurrent ops with dropout masks (``input_mask``, ``recurrent_mask``).

The ops equal the reference cells given the same masks (values and every gradient, float64, all
keyword combinations, one mask for every gate or one per gate, either mask alone); float64
gradchecks with fixed masks; mask shape errors; nothing returned views a work buffer or a mask;
and the helpers of ``ops/recurrent_masks.py`` against plain per-group numpy.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

if str(Path(__file__).parent) not in sys.path:  # entries_recurrent sits beside this file
    sys.path.insert(0, str(Path(__file__).parent))

from entries_recurrent import GATES, SMOOTH, sequence_case  # noqa: E402
from op_table import case  # noqa: E402
from test_recurrent_aliasing import assert_no_pool_memory, op_inputs  # noqa: E402
from test_recurrent_ops import _equal_to_reference as assert_op_equals_reference  # noqa: E402

from tinygrad_edu import ShapeError, Tensor, ops, tensor_from_op  # noqa: E402
from tinygrad_edu.gradcheck import gradcheck  # noqa: E402
from tinygrad_edu.ops.recurrent_masks import (  # noqa: E402
    column_mask,
    gate_masks,
    masked_matmul,
    masked_matmul_da,
    masked_matmul_dv,
    op_masks,
)

OPS = list(GATES)


def random_masks(rng, groups, batch, size, rate=0.4):
    return (rng.random((groups, batch, size)) >= rate) / (1 - rate)


@st.composite
def masked_case(draw, op):
    """A ``sequence_case`` plus masks: an input mask, a recurrent mask or both, each with one
    group or one per gate (Keras' gate order), drawn 0 or 1/(1 - 0.4)."""
    c = draw(sequence_case(op, SMOOTH, max_units=5, max_steps=4))
    x, w, u = c.arrays[:3]
    batch, feats, units = x.shape[0], x.shape[2], u.shape[0]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    which = draw(st.sampled_from(["input", "recurrent", "both"]))
    params = dict(c.params)
    for name, size in (("input", feats), ("recurrent", units)):
        if which in (name, "both"):
            groups = draw(st.sampled_from(sorted({1, GATES[op]})))
            params[f"{name}_mask"] = random_masks(rng, groups, batch, size)
    return case(*c.arrays, **params)


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
@given(data=st.data())
def test_each_op_with_masks_equals_the_reference_cells(op, data):
    assert_op_equals_reference(op, data.draw(masked_case(op)))


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("units", [1, 64])
@pytest.mark.parametrize("per_gate", [False, True])
def test_each_op_with_masks_equals_reference_at_1_and_64_units(op, units, per_gate):
    arrays = op_inputs(op, units, seed=units)
    rng, groups = np.random.default_rng(1), GATES[op] if per_gate else 1
    masks = {
        "input_mask": random_masks(rng, groups, 3, 2),
        "recurrent_mask": random_masks(rng, groups, 3, units),
    }
    for return_sequences, go_backwards in ((False, True), (True, False)):
        params = {"return_sequences": return_sequences, "go_backwards": go_backwards, **masks}
        assert_op_equals_reference(op, case(*arrays, **params))


@pytest.mark.parametrize(
    "op,params",
    [(op, {}) for op in OPS]
    + [
        (ops.GRUSequence, {"reset_after": False}),
        (ops.LSTMSequence, {"return_cell": True}),
    ],
    ids=["SimpleRNN", "LSTM", "GRU", "GRU-reset-before", "LSTM-cell"],
)
@pytest.mark.parametrize("per_gate", [False, True])
def test_gradcheck_each_op_with_fixed_masks(op, params, per_gate):
    """float64 central differences w.r.t. x, W, U, b; the masks are constants of the op."""
    rng = np.random.default_rng(7)
    n = 3
    inputs = op_inputs(op, n, seed=2, batch=2, steps=3)
    if params.get("reset_after") is False:
        inputs[3] = rng.normal(0, 0.3, 3 * n)
    groups = GATES[op] if per_gate else 1
    masks = {
        "input_mask": random_masks(rng, groups, 2, 2),
        "recurrent_mask": random_masks(rng, groups, 2, n),
    }
    assert gradcheck(
        lambda *ts: tensor_from_op(op, *ts, return_sequences=True, **params, **masks), *inputs
    )


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize(
    "name,shape",
    [
        ("input_mask", (2, 3, 2)),  # 2 groups: neither 1 nor the gate count
        ("input_mask", (1, 4, 2)),  # the wrong batch
        ("recurrent_mask", (1, 3, 4)),  # the wrong number of units
        ("recurrent_mask", (3, 5)),  # no group axis
    ],
)
def test_a_mask_of_the_wrong_shape_is_a_shape_error_naming_the_op(op, name, shape):
    ts = [Tensor(a) for a in op_inputs(op, 5)]  # batch 3, 2 features, 5 units
    with pytest.raises(ShapeError) as err:
        tensor_from_op(op, *ts, **{name: np.ones(shape)})
    e = err.value
    assert op.__name__ in e.where and name in e.expected and str(shape) in e.got
    assert eval(e.fix.split("#")[0], {"np": np}).ndim == 3  # noqa: S307 - our own fix text


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_outputs_and_grads_with_masks_are_fresh_arrays(op):
    rng = np.random.default_rng(2)
    masks = {
        "input_mask": random_masks(rng, GATES[op], 3, 2),
        "recurrent_mask": random_masks(rng, GATES[op], 3, 7),
    }
    kept = {k: m.copy() for k, m in masks.items()}
    fn = op()
    fn.needs_input_grad = (True,) * 4
    out = fn.forward(*op_inputs(op, 7), return_sequences=True, **masks)
    grads = fn.backward(np.ones_like(out))
    held = fn.ws.held if fn.releases else ()
    for k, a in enumerate([out, *grads]):
        assert not any(np.shares_memory(a, b) for b in [*held, *masks.values()]), k
    assert_no_pool_memory([out, *grads])
    assert all(np.array_equal(masks[k], kept[k]) for k in masks)  # the op never writes them
    if fn.releases:
        fn.release()


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
def test_float32_with_float64_masks_stays_float32(op):
    ts = [Tensor(a.astype(np.float32), requires_grad=True) for a in op_inputs(op, 4)]
    mask = random_masks(np.random.default_rng(0), 1, 3, 4)
    out = tensor_from_op(op, *ts, recurrent_mask=mask)
    out.sum().backward()
    assert out.dtype == np.float32 and all(t.grad.dtype == np.float32 for t in ts)


# ---------------------------------------------------------------- the helpers
@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("steps", [None, 4])
def test_masked_products_equal_per_group_numpy(groups, steps):
    rng = np.random.default_rng(groups)
    r, k, b = 3 * 2, 5, 4
    a, q = rng.normal(size=(r, k)), rng.normal(size=(groups, k, b))
    v = rng.normal(size=(k, b) if steps is None else (k, steps, b))
    dy = rng.normal(size=(r, *v.shape[1:]))
    blocks = np.split(np.arange(r), groups)
    qv = [q[j] * v if steps is None else q[j][:, None, :] * v for j in range(groups)]
    flat = [m.reshape(k, -1) for m in qv]
    want_y = np.concatenate([a[rows] @ f for rows, f in zip(blocks, flat)]).reshape(dy.shape)
    want_dv = sum(
        (a[rows].T @ dy[rows].reshape(len(rows), -1)).reshape(v.shape)
        * (q[j] if steps is None else q[j][:, None, :])
        for j, rows in enumerate(blocks)
    )
    want_da = np.concatenate(
        [dy[rows].reshape(len(rows), -1) @ f.T for rows, f in zip(blocks, flat)]
    )
    np.testing.assert_allclose(masked_matmul(a, q, v), want_y, rtol=1e-12)
    dv = np.empty_like(v)
    masked_matmul_dv(np.ascontiguousarray(a.T), q, dy, dv)
    np.testing.assert_allclose(dv, want_dv, rtol=1e-12)
    np.testing.assert_allclose(masked_matmul_da(dy, q, v, np.empty_like(v)), want_da, rtol=1e-12)
    np.testing.assert_array_equal(masked_matmul(a, None, v.reshape(k, -1)), a @ v.reshape(k, -1))


def test_op_masks_become_feature_major_in_the_op_gate_order():
    mask = np.arange(4 * 2 * 3.0).reshape(4, 2, 3)  # Keras' gates i, f, c, o
    q = op_masks(mask, "m", "here", 4, 2, 3, 1, np.float32)  # LSTM op: o, i, f, g
    assert q.dtype == np.float32 and q.shape == (4, 3, 2) and q.flags.c_contiguous
    np.testing.assert_array_equal(q[0], mask[3].T)  # o first
    np.testing.assert_array_equal(q[1], mask[0].T)
    assert op_masks(None, "m", "here", 4, 2, 3, 1, np.float32) is None
    shared = op_masks(mask[:1], "m", "here", 4, 2, 3, 1, np.float64)
    np.testing.assert_array_equal(shared[0], mask[0].T)  # one mask: nothing to roll


def test_column_mask_is_m_d_one_and_gate_masks_slices_per_gate_only():
    q_h, q_x = np.full((3, 2, 4), 2.0), np.full((1, 1, 4), 5.0)
    q = column_mask(q_h, q_x, units=2, feats=1, bias=True)
    assert q.shape == (3, 4, 4)
    assert (q[:, :2] == 2).all() and (q[:, 2] == 5).all() and (q[:, 3] == 1).all()
    assert column_mask(None, q_x, 2, 1, False).shape == (1, 3, 4)
    assert gate_masks(q_h, 0, 2).shape == (2, 2, 4) and gate_masks(q_x, 0, 2) is q_x
    assert gate_masks(None, 0, 2) is None
