"""The everyday tensor ops against PyTorch in float64: values and gradients of sum(out * r).

The cases where a natural implementation goes wrong: prod with zeros in the input, gather with
repeated indices, cumsum's reversed gradient, std with ddof, and the names that differ between
numpy and torch (our ``repeat`` is torch's ``repeat_interleave``, our ``tile`` torch's
``repeat``, our ``split`` takes numpy's cut positions).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_edu as tge
from tinygrad_edu import Tensor

RNG = np.random.default_rng(2024)


def normal(*shape):
    return RNG.normal(size=shape)


def positive(*shape):
    return RNG.uniform(0.3, 2.0, size=shape)


def with_zeros():
    """Row 0 no zero, row 1 one zero, row 2 two zeros."""
    a = RNG.uniform(-2.0, 2.0, size=(3, 4))
    a[1, 2] = 0.0
    a[2, [0, 3]] = 0.0
    return a


def off_grid(*shape):
    """Values at least 0.1 away from the integers and half-integers (the step functions' jumps)."""
    return np.round(RNG.uniform(-3, 3, size=shape) * 4) / 4 + 0.1


INDEX = np.array([[2, 2, 0], [1, 3, 3]])  # repeated indices: their gradients must add up
T_INDEX = torch.from_numpy(INDEX)

# name -> (inputs, ours(*tensors), theirs(*torch_tensors))
CASES = {
    "prod-all-with-zeros": ([with_zeros()], lambda a: a.prod(), torch.prod),
    "prod-axis1-with-zeros": ([with_zeros()], lambda a: a.prod(axis=1), lambda a: a.prod(1)),
    "prod-axis0-keepdims": (
        [with_zeros()],
        lambda a: a.prod(axis=0, keepdims=True),
        lambda a: a.prod(0, keepdim=True),
    ),
    "cumsum-axis1": ([normal(3, 4)], lambda a: a.cumsum(axis=1), lambda a: a.cumsum(1)),
    "cumsum-axis-2": ([normal(2, 3, 4)], lambda a: a.cumsum(axis=-2), lambda a: a.cumsum(-2)),
    "std-ddof1": ([normal(3, 5)], lambda a: a.std(axis=1, ddof=1), lambda a: a.std(1)),
    "std-all-ddof0": ([normal(3, 5)], lambda a: a.std(), lambda a: a.std(correction=0)),
    "std-constant-row": (  # no spread: the gradient is 0 there (torch's choice), not nan
        [np.vstack([np.full(5, 0.7), normal(2, 5)])],
        lambda a: a.std(axis=1, ddof=1),
        lambda a: a.std(1),
    ),
    "gather-axis1-repeats": (
        [normal(2, 4)],
        lambda a: a.gather(1, INDEX),
        lambda a: torch.gather(a, 1, T_INDEX),
    ),
    "gather-axis0-smaller-index": (
        [normal(4, 5)],
        lambda a: a.gather(0, INDEX),
        lambda a: torch.gather(a, 0, T_INDEX),
    ),
    "take_along_axis": (
        [normal(2, 4)],
        lambda a: a.take_along_axis(INDEX, axis=1),
        lambda a: torch.take_along_dim(a, T_INDEX, dim=1),
    ),
    "flip": ([normal(2, 3, 4)], lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2))),
    "repeat=repeat_interleave": (
        [normal(3, 2)],
        lambda a: a.repeat([2, 0, 1], axis=0),
        lambda a: a.repeat_interleave(torch.tensor([2, 0, 1]), dim=0),
    ),
    "tile=torch-repeat": ([normal(2, 3)], lambda a: a.tile((2, 1, 3)), lambda a: a.repeat(2, 1, 3)),
    "tril": ([normal(2, 3, 4)], lambda a: a.tril(1), lambda a: a.tril(1)),
    "triu": ([normal(4, 3)], lambda a: a.triu(-1), lambda a: a.triu(-1)),
    "split-middle": (
        [normal(2, 6)],
        lambda a: a.split([1, 4], axis=1)[1],
        lambda a: a.split([1, 3, 2], dim=1)[1],
    ),
    "sin": ([normal(3, 4)], lambda a: a.sin(), torch.sin),
    "cos": ([normal(3, 4)], lambda a: a.cos(), torch.cos),
    "log2": ([positive(3, 4)], lambda a: a.log2(), torch.log2),
    "log10": ([positive(3, 4)], lambda a: a.log10(), torch.log10),
    "log1p": ([positive(3, 4) - 0.25], lambda a: a.log1p(), torch.log1p),
    "expm1": ([normal(3, 4)], lambda a: a.expm1(), torch.expm1),
    "rsqrt": ([positive(3, 4)], lambda a: a.rsqrt(), torch.rsqrt),
    "sign": ([off_grid(3, 4)], lambda a: a.sign(), torch.sign),
    "floor": ([off_grid(3, 4)], lambda a: a.floor(), torch.floor),
    "ceil": ([off_grid(3, 4)], lambda a: a.ceil(), torch.ceil),
    "round": ([off_grid(3, 4)], lambda a: a.round(), torch.round),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    inputs, ours, theirs = CASES[name]
    mine = [Tensor(x, requires_grad=True) for x in inputs]
    ref = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out, expected = ours(*mine), theirs(*ref)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    r = np.random.default_rng(0).normal(size=out.shape)
    out.backward(r)
    (expected * torch.from_numpy(r)).sum().backward()
    for m, t in zip(mine, ref):
        np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_argmax_argmin_one_hot_and_comparisons_match_torch():
    a = np.round(normal(4, 5) * 2) / 2  # ties: both return the first index
    ta = torch.from_numpy(a)
    for axis in (0, 1, -1):
        got = Tensor(a).argmax(axis=axis, keepdims=True)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.data, ta.argmax(axis, keepdim=True).numpy())
        np.testing.assert_array_equal(Tensor(a).argmin(axis).data, ta.argmin(axis).numpy())
    assert Tensor(a).argmax().item() == ta.argmax().item()
    labels = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(
        tge.one_hot(labels, 4).data, torch.nn.functional.one_hot(torch.from_numpy(labels), 4)
    )
    b = np.round(normal(5) * 2) / 2
    for symbol in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        ours = getattr(Tensor(a), symbol)(Tensor(b))
        theirs = getattr(ta, symbol)(torch.from_numpy(b)).numpy()
        assert ours.dtype == theirs.dtype == bool
        np.testing.assert_array_equal(ours, theirs)


def test_prod_gradient_at_zeros_has_no_nan_unlike_division():
    a = with_zeros()
    t = Tensor(a, requires_grad=True)
    t.prod(axis=1).sum().backward()
    assert np.isfinite(t.grad).all()
    with np.errstate(invalid="ignore", divide="ignore"):
        naive = a.prod(axis=1, keepdims=True) / a  # the out / a_i formula
    assert np.isnan(naive).any()  # what the exclusive products avoid
