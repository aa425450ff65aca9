"""Every activation torch 2.13 also has, compared with it in float64: values and the gradient of
sum(out * r), on inputs kept 0.05 from every kink (0, +-0.5, +-1, +-3, 6).

Keras 3 and torch share these formulas (hard_sigmoid = relu6(x + 3) / 6 in both, hard_silu is
torch's hardswish). squareplus, sparse_plus, sparse_sigmoid and sparsemax have no torch function:
tests/test_activations.py holds them to numpy.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from tinygrad_edu import Tensor, activations  # noqa: E402

KINKS = np.array([0.0, -0.5, 0.5, -1.0, 1.0, -3.0, 3.0, 6.0])


def away_from_kinks(*shape, seed=7):
    """Uniform in [-7, 7], each value at least 0.05 from every kink."""
    x = np.random.default_rng(seed).uniform(-7.0, 7.0, size=shape)
    near = np.abs(x[..., None] - KINKS).min(axis=-1) < 0.05
    return np.where(near, x + 0.1, x)


# name -> (ours, torch's), both on one tensor
CASES = {
    "relu": (activations.relu, F.relu),
    "relu6": (activations.relu6, F.relu6),
    "relu-options": (
        lambda x: activations.relu(x, max_value=6.0),
        lambda x: F.hardtanh(x, 0.0, 6.0),
    ),
    "leaky_relu": (activations.leaky_relu, lambda x: F.leaky_relu(x, 0.2)),
    "elu": (activations.elu, F.elu),
    "selu": (activations.selu, F.selu),
    "celu": (activations.celu, F.celu),
    "celu-alpha": (lambda x: activations.celu(x, alpha=0.5), lambda x: F.celu(x, alpha=0.5)),
    "exponential": (activations.exponential, torch.exp),
    "sigmoid": (activations.sigmoid, torch.sigmoid),
    "hard_sigmoid": (activations.hard_sigmoid, F.hardsigmoid),
    "log_sigmoid": (activations.log_sigmoid, F.logsigmoid),
    "tanh": (activations.tanh, torch.tanh),
    "hard_tanh": (activations.hard_tanh, F.hardtanh),
    "tanh_shrink": (activations.tanh_shrink, F.tanhshrink),
    "softmax": (activations.softmax, lambda x: F.softmax(x, dim=-1)),
    "log_softmax": (activations.log_softmax, lambda x: F.log_softmax(x, dim=-1)),
    "log_softmax-axis0": (
        lambda x: activations.log_softmax(x, axis=0),
        lambda x: F.log_softmax(x, dim=0),
    ),
    "softplus": (activations.softplus, F.softplus),
    "softsign": (activations.softsign, F.softsign),
    "gelu": (activations.gelu, F.gelu),
    "gelu-tanh": (
        lambda x: activations.gelu(x, approximate=True),
        lambda x: F.gelu(x, approximate="tanh"),
    ),
    "silu": (activations.silu, F.silu),
    "hard_silu": (activations.hard_silu, F.hardswish),
    "mish": (activations.mish, F.mish),
    "glu": (activations.glu, lambda x: F.glu(x, dim=-1)),
    "glu-axis0": (lambda x: activations.glu(x, axis=0), lambda x: F.glu(x, dim=0)),
    "hard_shrink": (activations.hard_shrink, F.hardshrink),
    "soft_shrink": (activations.soft_shrink, F.softshrink),
    "soft_shrink-2": (
        lambda x: activations.soft_shrink(x, threshold=2.0),
        lambda x: F.softshrink(x, lambd=2.0),
    ),
    "threshold": (
        lambda x: activations.threshold(x, threshold=0.5, default_value=-1.0),
        lambda x: F.threshold(x, 0.5, -1.0),
    ),
}


#: torch's hardsigmoid backward multiplies by a float32 1/6 (relative error 3e-8); ours is 1/6
GRAD_RTOL = {"hard_sigmoid": 1e-7}


@pytest.mark.parametrize("name", list(CASES))
def test_activation_matches_torch(name):
    ours, theirs = CASES[name]
    x = away_from_kinks(4, 6)
    mine = Tensor(x, requires_grad=True)
    ref = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out, expected = ours(mine), theirs(ref)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    r = np.random.default_rng(0).normal(size=out.shape)
    out.backward(r)
    (expected * torch.from_numpy(r)).sum().backward()
    rtol = GRAD_RTOL.get(name, 1e-10)
    np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=rtol, atol=1e-12)


#: celu runs the Elu op, whose derivative below 0 is out + alpha: -1 + e^x + 1 keeps e^x only to
#: float64's absolute 1e-16 (torch: alpha * e^(x/alpha) exactly); the others keep e^x itself
TAIL_ATOL = {"celu": 1e-16}


@pytest.mark.parametrize("name", ["log_sigmoid", "mish", "softsign", "softplus", "celu"])
def test_tails_match_torch(name):
    ours, theirs = CASES[name]
    x = np.array([-1e4, -700.0, -40.0, 40.0, 700.0, 1e4])
    mine = Tensor(x, requires_grad=True)
    ref = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out, expected = ours(mine), theirs(ref)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-300)
    out.backward(np.ones(6))
    expected.sum().backward()
    atol = TAIL_ATOL.get(name, 1e-300)
    np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=1e-12, atol=atol)


def test_the_whole_keras_list_was_considered():
    # every name is either compared here or named in the docstring as torch-less
    torch_less = {"squareplus", "sparse_plus", "sparse_sigmoid", "sparsemax", "linear", "swish"}
    covered = {name.split("-")[0] for name in CASES} | {"hard_swish"}
    assert set(activations.names()) == covered | torch_less
