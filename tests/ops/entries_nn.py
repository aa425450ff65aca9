"""Op-table entries of ``ops/nn.py``: DropoutMask with a fixed (drawn) mask."""

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


OP_ENTRIES = [
    OpEntry(
        "dropout_mask",
        ops.DropoutMask,
        masked(),
        lambda a, mask: tensor_from_op(ops.DropoutMask, a, mask=mask),
        lambda a, mask: a * mask,
    ),
]
