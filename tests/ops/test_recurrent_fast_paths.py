"""The special paths of the fused SimpleRNN and LSTM ops (``ops/recurrent.py``) equal the
reference form (the loop of Tensor ops), values and every gradient asked for:

- step 0 skips the recurrent GEMM (h_0 = 0): its gates come from the x and bias rows alone, a
  broadcast product when that is one row (one feature, no bias), else a small matmul;
- the weight-gradient GEMM leaves step 0 out (its dW, db part is a product of its own), which for
  one step leaves the big GEMM empty;
- only some inputs need a gradient (any subset, none included).
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

if str(Path(__file__).parent) not in sys.path:  # the helpers sit beside this file
    sys.path.insert(0, str(Path(__file__).parent))

from entries_recurrent import GATES
from test_recurrent_ops import composed

from tinygrad_edu import Tensor, ops, tensor_from_op
from tinygrad_edu.testing import arrays

FUSED = [ops.SimpleRNNSequence, ops.LSTMSequence]
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


@st.composite
def fast_path_case(draw, op):
    """x, W, U (and maybe b), the keywords, and which inputs want a gradient (any subset)."""
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    feats, units = draw(st.sampled_from([1, 1, 2])), draw(st.integers(1, 4))
    g = GATES[op] * units
    arrs = [
        draw(arrays((batch, steps, feats), -2.0, 2.0)),
        draw(arrays((feats, g), -1.0, 1.0)),
        draw(arrays((units, g), -1.0, 1.0)),
    ]
    if draw(st.booleans()):
        arrs.append(draw(arrays((g,), -1.0, 1.0)))
    params = {
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "return_sequences": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
    }
    if op is ops.LSTMSequence:
        params["recurrent_activation"] = draw(st.sampled_from(["sigmoid", "tanh"]))
        params["return_cell"] = draw(st.booleans())
    wants = draw(st.lists(st.booleans(), min_size=len(arrs), max_size=len(arrs)))
    return arrs, params, wants


def _values_and_grads(fn, arrs, params, wants):
    ts = [Tensor(a, requires_grad=w) for a, w in zip(arrs, wants)]
    out = fn(*ts, **params)
    if any(wants):
        out.backward(np.random.default_rng(0).standard_normal(out.shape))
    return [out.data] + [t.grad for t in ts]


def _check(op, arrs, params, wants):
    fused = _values_and_grads(lambda *ts, **p: tensor_from_op(op, *ts, **p), arrs, params, wants)
    reference = _values_and_grads(lambda *ts, **p: composed(op, *ts, **p), arrs, params, wants)
    for name, a, b in zip(["output", "dx", "dW", "dU", "db"], fused, reference):
        if b is None:
            assert a is None, name
            continue
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("op", FUSED, ids=lambda o: o.__name__)
@given(data=st.data())
def test_any_subset_of_gradients_equals_reference(op, data):
    _check(op, *data.draw(fast_path_case(op)))


@pytest.mark.parametrize("op", FUSED, ids=lambda o: o.__name__)
@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("feats, bias", [(1, False), (1, True), (3, False)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_zero_paths_equal_reference(op, steps, feats, bias, activation):
    """Every step-0 product (one x row: broadcast; more rows: matmul) with one or two steps (one
    step: the weight-gradient GEMM over steps 1.. is empty), both directions, all outputs."""
    rng = np.random.default_rng(steps * 10 + feats)
    units, g = 3, GATES[op] * 3
    arrs = [rng.normal(size=(2, steps, feats)), rng.normal(0, 0.7, (feats, g))]
    arrs += [rng.normal(0, 0.7, (units, g))] + ([rng.normal(0, 0.5, g)] if bias else [])
    for go_backwards in (False, True):
        params = {"activation": activation, "go_backwards": go_backwards}
        if op is ops.LSTMSequence:
            params.update(return_cell=True, return_sequences=True)
        _check(op, arrs, params, [True] * len(arrs))


@pytest.mark.parametrize("op", FUSED, ids=lambda o: o.__name__)
@pytest.mark.parametrize("order", ["C", "F"])
def test_weights_in_either_memory_order_equal_reference(op, order):
    """The weight matrices are rearranged one way for C-ordered and another for F-ordered U (the
    orthogonal initializer makes F-ordered ones); forward and backward agree with the reference
    either way, LSTM with its default activations (the halved-gates path) and others."""
    rng = np.random.default_rng(7)
    units, g = 3, GATES[op] * 3
    arrs = [rng.normal(size=(2, 4, 2)), rng.normal(0, 0.7, (2, g)), rng.normal(0, 0.7, (units, g))]
    arrs = [np.asarray(a, order=order) for a in arrs] + [rng.normal(0, 0.5, g)]
    assert arrs[2].flags.f_contiguous == (order == "F")
    for activation in ("tanh", "relu"):
        params = {"activation": activation, "return_sequences": True}
        _check(op, arrs, params, [True] * len(arrs))
