"""``tinygrad_edu.testing``: the strategies keep their promises, ``check_op`` catches wrong ops,
the profiles load, and the package explains a missing hypothesis."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu import ConfigError, GradcheckError, Tensor, ops, testing
from tinygrad_edu._shapes import normalize_axes
from tinygrad_edu.function import Function
from tinygrad_edu.testing.profiles import active_profile


class BadSin(Function):
    """sin whose backward returns +sin(a) instead of cos(a)."""

    def forward(self, a):
        self.a = a
        return np.sin(a)

    def backward(self, grad):
        return grad * np.sin(self.a)


def bad_sin(t):
    return tinygrad_edu.tensor_from_op(BadSin, t)


class HalfPrecisionExp(Function):
    def forward(self, a):
        self.out = np.exp(a).astype(np.float32)
        return self.out

    def backward(self, grad):
        return grad * self.out


# ---------------------------------------------------------------------------- check_op
def test_check_op_passes_correct_ops():
    x = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]])
    assert testing.check_op(ops.Exp, x, reference=np.exp)
    assert testing.check_op(ops.Sum, x, reference=np.sum, axis=(0, 1), keepdims=True)
    assert testing.check_op(lambda a, b: a @ b, x, x.T, reference=np.matmul)
    assert testing.check_op(ops.Softmax, x, axis=0)  # no reference: gradient only


def test_check_op_catches_a_wrong_backward():
    with pytest.raises(GradcheckError) as info:
        testing.check_op(BadSin, np.array([0.3, 1.0]), reference=np.sin)
    assert info.value.input_index == 0
    assert info.value.element_index in [(0,), (1,)]


def test_check_op_catches_a_wrong_forward():
    with pytest.raises(AssertionError, match="forward differs") as info:
        testing.check_op(ops.Exp, np.array([0.5, 1.0]), reference=np.expm1)
    assert not isinstance(info.value, GradcheckError)
    with pytest.raises(AssertionError, match="shape"):
        testing.check_op(ops.Sum, np.ones((2, 3)), reference=lambda a, axis: a.sum(), axis=0)
    with pytest.raises(AssertionError, match="float32"):
        testing.check_op(HalfPrecisionExp, np.array([0.5]), reference=np.exp)


def test_check_op_takes_tensors_and_constants():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([3.0, 4.0]))  # a constant: the bad op on it is never differentiated
    assert testing.check_op(lambda a, b: a * bad_sin(b), x, c)
    with pytest.raises(GradcheckError):
        testing.check_op(lambda a, b: a * bad_sin(b), x, Tensor(c.data, requires_grad=True))


# ---------------------------------------------------------------------------- strategies
@given(testing.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(2 <= s <= 4 for s in shape)


@given(testing.broadcastable_shapes(3, max_dims=3, max_side=4))
def test_broadcastable_shapes_broadcast(shps):
    assert len(shps) == 3
    np.broadcast_shapes(*shps)  # raises if they do not


@given(testing.arrays(testing.shapes(), -2.0, 1.0))
def test_arrays_are_bounded_float64(a):
    assert a.dtype == np.float64 and np.all((a >= -2.0) & (a <= 1.0))


@given(testing.arrays((2, 3), dtype=np.float32))
def test_arrays_take_a_fixed_shape_and_dtype(a):
    assert a.shape == (2, 3) and a.dtype == np.float32


@given(testing.positive_arrays(testing.shapes()))
def test_positive_arrays(a):
    assert np.all(a >= 0.1)


def test_positive_arrays_refuse_a_non_positive_bound():
    with pytest.raises(ValueError):
        testing.positive_arrays((2,), min_value=0.0)


@given(testing.tensors((3,), requires_grad=True))
def test_tensors(t):
    assert isinstance(t, Tensor) and t.requires_grad and t.dtype == np.float64


@given(testing.away_from_kinks(testing.shapes(), kinks=(-1.0, 0.0, 1.0), margin=0.2))
def test_away_from_kinks(a):
    for k in (-1.0, 0.0, 1.0):
        assert np.all(np.abs(a - k) >= 0.2 - 1e-12)


def test_away_from_kinks_refuses_kinks_closer_than_two_margins():
    with pytest.raises(ValueError):
        testing.away_from_kinks((2,), kinks=(0.0, 0.1), margin=0.1)


@given(testing.distinct_values(testing.shapes(max_dims=3, max_side=5)))
def test_distinct_values_have_no_ties_and_a_gap(a):
    v = np.sort(a.ravel())
    assert np.all(np.diff(v) >= 6.0 / (2 * max(a.size, 1)) - 1e-12)
    assert np.all((v >= -3.0) & (v <= 3.0))


@given(testing.distinct_arrays([(2, 3), (3,), ()]))
def test_distinct_arrays_are_distinct_across_arrays(arrs):
    assert [a.shape for a in arrs] == [(2, 3), (3,), ()]
    allv = np.concatenate([a.ravel() for a in arrs])
    assert len(np.unique(allv)) == allv.size


@given(st.data())
def test_reduce_axes_are_valid_numpy_axes(data):
    a = data.draw(testing.arrays(testing.shapes(max_dims=4, max_side=2)))
    axis = data.draw(testing.reduce_axes(a.ndim))
    keep = data.draw(testing.keepdims())
    np.testing.assert_allclose(
        tinygrad_edu.Tensor(a).sum(axis=axis, keepdims=keep).data,
        np.sum(a, axis=axis, keepdims=keep),
    )
    normalize_axes(axis, a.ndim)


# ---------------------------------------------------------------------------- profiles
@pytest.fixture
def restore_profile():
    yield
    testing.load_profile()


def test_profiles_load(restore_profile, monkeypatch):
    assert testing.load_profile("ci") == "ci"
    ci = settings()
    assert 10 <= ci.max_examples <= 20 and ci.deadline is None and ci.print_blob
    assert ci.derandomize == bool(os.environ.get("CI"))  # deterministic only under CI
    assert testing.load_profile("thorough") == "thorough"
    assert settings().max_examples >= 200
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "thorough")
    assert testing.load_profile() == "thorough"
    monkeypatch.delenv("HYPOTHESIS_PROFILE")
    assert testing.load_profile() == "ci"


def test_default_unit_ceiling_follows_the_profile(restore_profile):
    """The layer-config strategies reach 64 units under ``ci`` and 300 under ``thorough``, also
    when the profile is loaded through hypothesis directly."""
    testing.load_profile("ci")
    assert testing.default_max_units() == 64
    settings.load_profile("thorough")
    assert active_profile() == "thorough" and testing.default_max_units() == 300


def test_unknown_profile_is_a_config_error(restore_profile):
    with pytest.raises(ConfigError) as info:
        testing.load_profile("thorogh")
    assert "thorough" in info.value.fix


# ---------------------------------------------------------------------------- packaging
WITHOUT_HYPOTHESIS = "import sys; sys.modules['hypothesis'] = None  # import hypothesis fails\n"


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (from the repo root), hypothesis made unimportable."""
    root = Path(tinygrad_edu.__file__).parent.parent
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_HYPOTHESIS + code],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
    )


def test_missing_hypothesis_explains_the_install():
    out = run_python(
        "try:\n    import tinygrad_edu.testing\nexcept ImportError as e:\n    print(e)\n"
    )
    assert 'pip install "tinygrad_edu[test]"' in out.stdout, out.stderr


def test_the_library_works_without_hypothesis():
    """Only ``tinygrad_edu.testing`` needs hypothesis: every other module imports without it."""
    out = run_python(
        "import pkgutil, importlib, tinygrad_edu\n"
        "bad = []\n"
        "for m in pkgutil.walk_packages(tinygrad_edu.__path__, 'tinygrad_edu.'):\n"
        "    if m.name.startswith('tinygrad_edu.testing') or m.name.endswith('__main__'):\n"
        "        continue\n"
        "    try:\n        importlib.import_module(m.name)\n"
        "    except ImportError as e:\n        bad.append((m.name, str(e)))\n"
        "print(bad)\n"
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
