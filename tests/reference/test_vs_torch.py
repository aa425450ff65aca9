"""A sample of ops compared with PyTorch in float64: values and gradients of sum(out * r).

Optional: skipped when torch is not installed (``pip install "tinygrad_edu[torch]"``).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import tinygrad_edu as tge  # noqa: E402
from tinygrad_edu import Tensor, ops, tensor_from_op  # noqa: E402

RNG = np.random.default_rng(1234)


def normal(*shape):
    return RNG.normal(size=shape)


def positive(*shape):
    return RNG.uniform(0.3, 2.0, size=shape)


def away_from_zero(*shape):
    x = RNG.uniform(0.2, 2.0, size=shape)
    return x * RNG.choice([-1.0, 1.0], size=shape)


def distinct(*shape):
    return RNG.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) / 3


MASK = RNG.random((3, 4)) > 0.5

# name -> (inputs, ours(*tensors), theirs(*torch_tensors))
CASES = {
    "matmul-batched-broadcast": (
        [normal(2, 1, 3, 4), normal(5, 4, 2)],
        lambda a, b: a @ b,
        lambda a, b: a @ b,
    ),
    "matmul-1d-left": ([normal(4), normal(2, 4, 3)], lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul-1d-right": ([normal(2, 3, 4), normal(4)], lambda a, b: a @ b, lambda a, b: a @ b),
    "linear": (
        [normal(2, 3, 4), normal(4, 5), normal(5)],
        lambda x, w, b: tensor_from_op(ops.Linear, x, w, b),
        lambda x, w, b: x @ w + b,
    ),
    "softmax-axis0": ([normal(3, 4)], lambda a: a.softmax(axis=0), lambda a: a.softmax(dim=0)),
    "log_softmax-axis1": (
        [normal(2, 3, 4)],
        lambda a: a.log_softmax(axis=1),
        lambda a: a.log_softmax(dim=1),
    ),
    "logsumexp-tuple-keepdims": (
        [normal(2, 3, 4)],
        lambda a: a.logsumexp(axis=(0, 2), keepdims=True),
        lambda a: torch.logsumexp(a, dim=(0, 2), keepdim=True),
    ),
    "var-ddof1": (
        [normal(3, 5)],
        lambda a: a.var(axis=1, ddof=1),
        lambda a: torch.var(a, dim=1, correction=1),
    ),
    "mean-tuple": (
        [normal(2, 3, 4)],
        lambda a: a.mean(axis=(0, -1)),
        lambda a: a.mean(dim=(0, -1)),
    ),
    "max-axis": ([distinct(3, 4)], lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1)),
    "min-all": ([distinct(3, 4)], lambda a: a.min(), lambda a: torch.amin(a)),
    "getitem-repeated-rows": (
        [normal(4, 3)],
        lambda a: a[np.array([0, 0, 2, 0])],
        lambda a: a[torch.tensor([0, 0, 2, 0])],
    ),
    "getitem-slice-then-list": (
        [normal(3, 4)],
        lambda a: a[1:, [1, 1, 3]],
        lambda a: a[1:, [1, 1, 3]],
    ),
    "pow-tensor": ([positive(3, 4), normal(4)], lambda a, b: a**b, lambda a, b: a**b),
    "pow-scalar": ([positive(5)], lambda a: a**1.5, lambda a: a**1.5),
    "rpow": ([normal(5)], lambda a: 2**a, lambda a: 2**a),
    "div-broadcast": ([normal(2, 3), away_from_zero(3)], lambda a, b: a / b, lambda a, b: a / b),
    "elu": ([away_from_zero(3, 4)], lambda a: a.elu(0.5), lambda a: F.elu(a, alpha=0.5)),
    "leaky_relu": (
        [away_from_zero(3, 4)],
        lambda a: a.leaky_relu(0.2),
        lambda a: F.leaky_relu(a, 0.2),
    ),
    "sigmoid": ([normal(3, 4) * 5], lambda a: a.sigmoid(), torch.sigmoid),
    "tanh": ([normal(3, 4)], lambda a: a.tanh(), torch.tanh),
    "erf": ([normal(3, 4)], lambda a: a.erf(), torch.erf),
    "clip": (
        [away_from_zero(3, 4) + 1],
        lambda a: a.clip(-1.0, 1.5),
        lambda a: torch.clamp(a, -1.0, 1.5),
    ),
    "pad": (
        [normal(2, 3)],
        lambda a: a.pad(((1, 2), (0, 1)), 1.5),
        lambda a: F.pad(a, (0, 1, 1, 2), value=1.5),
    ),
    "where": (
        [normal(3, 4), normal(4)],
        lambda a, b: tge.where(MASK, a, b),
        lambda a, b: torch.where(torch.from_numpy(MASK), a, b),
    ),
    "concatenate": (
        [normal(2, 3), normal(1, 3), normal(3, 3)],
        lambda *ts: tge.concatenate(ts, axis=0),
        lambda *ts: torch.cat(ts, dim=0),
    ),
    "stack": (
        [normal(2, 3), normal(2, 3)],
        lambda *ts: tge.stack(ts, axis=-1),
        lambda *ts: torch.stack(ts, dim=-1),
    ),
    "transpose-reshape": (
        [normal(2, 3, 4)],
        lambda a: a.transpose(2, 0, 1).reshape(4, -1),
        lambda a: a.permute(2, 0, 1).reshape(4, -1),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    inputs, ours, theirs = CASES[name]
    mine = [Tensor(x, requires_grad=True) for x in inputs]
    ref = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out, expected = ours(*mine), theirs(*ref)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=3e-7)
    r = np.random.default_rng(0).normal(size=out.shape)
    out.backward(r)
    (expected * torch.from_numpy(r)).sum().backward()
    for m, t in zip(mine, ref):
        np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
