"""Op-table entries of ``ops/nn.py``: DropoutMask with a fixed (drawn) mask, DropoutDraw and
DrawMask drawing their own."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import SMALL_SHAPES, OpEntry, case

from tinygrad_edu import ops, tensor_from_op
from tinygrad_edu.testing import arrays


@st.composite
def masked(draw):
    """An input and an inverted-dropout mask of its shape: 0 (dropped) or 1 / (1 - rate)."""
    a = draw(arrays(SMALL_SHAPES))
    rate = draw(st.sampled_from([0.1, 0.5]))
    keep = draw(hnp.arrays(bool, a.shape))
    return case(a, mask=np.asarray(keep / (1 - rate)))


@st.composite
def drawn(draw):
    """An input, a rate and a seed: DropoutDraw draws its mask from a generator of that seed."""
    a = draw(arrays(SMALL_SHAPES))
    return case(a, rate=draw(st.sampled_from([0.1, 0.5])), seed=draw(st.integers(0, 2**16)))


def drawn_mask(a, rate, seed):
    """The mask DropoutDraw draws: keep ~ U[0, 1) >= rate, scaled by 1 / (1 - rate)."""
    keep = np.random.default_rng(seed).random(np.shape(a)) >= rate
    return np.multiply(keep, a.dtype.type(1) / a.dtype.type(1 - rate), dtype=a.dtype)


OP_ENTRIES = [
    OpEntry(
        "dropout_mask",
        ops.DropoutMask,
        masked(),
        lambda a, mask: tensor_from_op(ops.DropoutMask, a, mask=mask),
        lambda a, mask: a * mask,
    ),
    OpEntry(
        "dropout_draw",
        ops.DropoutDraw,
        drawn(),
        # a fresh generator per call: the gradient check runs forward many times
        lambda a, rate, seed: tensor_from_op(
            ops.DropoutDraw, a, rng=np.random.default_rng(seed), rate=rate
        ),
        lambda a, rate, seed: a * drawn_mask(a, rate, seed),
    ),
    OpEntry(  # the mask alone has no gradient: a * mask checks that none reaches a through it
        "draw_mask",
        ops.DrawMask,
        drawn(),
        lambda a, rate, seed: (
            a
            * tensor_from_op(
                ops.DrawMask,
                a,
                rng=np.random.default_rng(seed),
                rate=rate,
                shape=a.shape,
                dtype=a.dtype,
            )
        ),
        lambda a, rate, seed: a * drawn_mask(a, rate, seed),
    ),
]
