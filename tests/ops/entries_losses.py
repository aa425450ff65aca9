"""Op-table entries of ``ops/losses.py``: the fused softmax + cross-entropy ops."""

import numpy as np
from hypothesis import strategies as st
from op_table import OpEntry, case

from tinygrad_edu import ops, tensor_from_op
from tinygrad_edu.testing import arrays


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@st.composite
def logits_and_targets(draw):
    """Logits [.., K] and target distributions of the same shape (one-hot or smoothed)."""
    lead = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    k = draw(st.integers(2, 5))
    z = draw(arrays(tuple(lead) + (k,)))
    weights = draw(arrays(tuple(lead) + (k,), min_value=0.05, max_value=1.0))
    return case(z, target=weights / weights.sum(axis=-1, keepdims=True))


@st.composite
def logits_and_labels(draw):
    b, k = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    z = draw(arrays((b, k)))
    labels = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=b, max_size=b)))
    return case(z, labels=labels)


def _reduced(reference, reduction):
    def ref(z, **kw):
        per = reference(z, **kw)
        return per.mean() if reduction == "mean" else per.sum()

    return ref


def _sce_ref(z, target):
    return -(target * _log_softmax(z)).sum(axis=-1)


def _sparse_ref(z, labels):
    return -_log_softmax(z)[np.arange(len(z)), labels]


OP_ENTRIES = [
    OpEntry(
        "softmax_cross_entropy",
        ops.SoftmaxCrossEntropy,
        logits_and_targets(),
        lambda z, target: tensor_from_op(ops.SoftmaxCrossEntropy, z, target=target),
        lambda z, target: -(target * _log_softmax(z)).sum(axis=-1),
        forward_rtol=1e-6,
    ),
    OpEntry(
        "sparse_softmax_cross_entropy",
        ops.SparseSoftmaxCrossEntropy,
        logits_and_labels(),
        lambda z, labels: tensor_from_op(ops.SparseSoftmaxCrossEntropy, z, labels=labels),
        lambda z, labels: -_log_softmax(z)[np.arange(len(z)), labels],
        forward_rtol=1e-6,
    ),
]
for _red in ("mean", "sum"):
    OP_ENTRIES += [
        OpEntry(
            f"softmax_cross_entropy-{_red}",
            ops.SoftmaxCrossEntropy,
            logits_and_targets(),
            lambda z, target, r=_red: tensor_from_op(
                ops.SoftmaxCrossEntropy, z, target=target, reduction=r
            ),
            _reduced(_sce_ref, _red),
            forward_rtol=1e-6,
        ),
        OpEntry(
            f"sparse_softmax_cross_entropy-{_red}",
            ops.SparseSoftmaxCrossEntropy,
            logits_and_labels(),
            lambda z, labels, r=_red: tensor_from_op(
                ops.SparseSoftmaxCrossEntropy, z, labels=labels, reduction=r
            ),
            _reduced(_sparse_ref, _red),
            forward_rtol=1e-6,
        ),
    ]
