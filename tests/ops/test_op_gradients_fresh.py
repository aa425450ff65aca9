"""Every op's gradients are fresh arrays that nothing else writes: for each op-table entry,
backward twice over a kept graph (``retain_graph=True``) with different upstream gradients.

- the first backward's ``.grad`` arrays are untouched by the second (an op that hands out a
  buffer it reuses would overwrite them, silently);
- writing NaN into the first ``.grad`` arrays (gradient clipping writes into ``.grad``) changes
  nothing the op keeps: backward with the first upstream gradient again gives the same gradients,
  bit for bit;
- no gradient shares memory with an input, the output or another gradient.

The engine keeps an op's returned array itself as a leaf's ``.grad`` when nothing else holds it
(``engine._accumulate_grad``), so any aliasing in an op's backward shows here.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

if str(Path(__file__).parent) not in sys.path:  # op_table and entries_* sit beside this file
    sys.path.insert(0, str(Path(__file__).parent))

from op_table import OpEntry, all_entries  # noqa: E402

from tinygrad_edu import Tensor  # noqa: E402

ENTRIES = [pytest.param(e, id=e.name) for e in all_entries() if e.grad]


def _grads(tensors, out, upstream):
    for t in tensors:
        t.grad = None
    out.backward(upstream, retain_graph=True)
    return [t.grad for t in tensors]


@pytest.mark.parametrize("entry", ENTRIES)
@given(data=st.data())
def test_gradients_are_fresh_and_nothing_the_op_keeps_is_handed_out(entry: OpEntry, data):
    case = data.draw(entry.inputs, label="case")
    tensors = [Tensor(a, requires_grad=True) for a in case.arrays]
    out = entry.run(*tensors, **case.params)
    rng = np.random.default_rng(0)
    up1, up2 = rng.normal(size=out.shape), rng.normal(size=out.shape)
    first = _grads(tensors, out, up1)
    kept = [None if g is None else g.copy() for g in first]
    _grads(tensors, out, up2)
    for k, (g, want) in enumerate(zip(first, kept)):
        if g is not None:
            np.testing.assert_array_equal(g, want, err_msg=f"input {k}'s first gradient changed")
    for g in first:
        if g is not None and g.flags.writeable:
            g[...] = np.nan  # what a user (or clipping) may do to a .grad
    again = _grads(tensors, out, up1)
    for k, (g, want) in enumerate(zip(again, kept)):
        if want is not None:
            np.testing.assert_array_equal(g, want, err_msg=f"input {k}: the op kept a .grad")
    arrays = [t._data for t in tensors] + [out._data]
    grads = [g for g in again if g is not None]
    for i, g in enumerate(grads):
        assert not any(np.shares_memory(g, a) for a in arrays), "a gradient views an input/output"
        assert not any(np.shares_memory(g, h) for h in grads[i + 1 :]), "two gradients share"
