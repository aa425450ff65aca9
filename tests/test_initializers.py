"""Initializers against Keras' formulas: fans, uniform limits, truncated-normal stddevs, orthogonal
matrices, defaults, seeding, dtype and ``get``.

Keras: variance = scale / fan (fan_in, fan_out or their mean, at least 1); a uniform draws from
+-sqrt(3 variance); a truncated normal uses stddev sqrt(variance) / 0.8796 (the std of a unit
normal cut at +-2) and redraws values beyond 2 of those stddevs, so its sample std is
sqrt(variance).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu import ConfigError
from tinygrad_edu import initializers as init

TRUNC = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]

# name -> (scale, mode, distribution) as Keras defines them
SCALING = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}
CLASSES = {
    "glorot_uniform": init.GlorotUniform,
    "glorot_normal": init.GlorotNormal,
    "he_uniform": init.HeUniform,
    "he_normal": init.HeNormal,
    "lecun_uniform": init.LecunUniform,
    "lecun_normal": init.LecunNormal,
}
SEEDED = [
    *CLASSES.values(),
    init.RandomUniform,
    init.RandomNormal,
    init.TruncatedNormal,
    init.Orthogonal,
    init.VarianceScaling,
]
ALL_NAMES = [
    "zeros",
    "ones",
    "constant",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "variance_scaling",
    *SCALING,
    "orthogonal",
]


def keras_fans(shape):
    """Keras' compute_fans, written out."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def keras_variance(name, shape):
    scale, mode, _ = SCALING[name]
    fan_in, fan_out = keras_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / max(1.0, fan)


dense_shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))
conv_shapes = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 8), st.integers(1, 8))
kernel_shapes = st.one_of(dense_shapes, conv_shapes)


# ------------------------------------------------------------------------ fans
@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((3, 5), (3, 5)),
        ((784, 32), (784, 32)),
        ((3, 3, 4, 8), (36, 72)),  # Conv2D (kh, kw, in, out): the receptive field multiplies both
        ((5, 2, 16), (10, 80)),  # Conv1D (k, in, out)
        ((2, 3, 4, 5, 6), (120, 144)),  # Conv3D
    ],
)
def test_compute_fans(shape, fans):
    assert init.compute_fans(shape) == fans


@given(shape=st.lists(st.integers(1, 6), max_size=5).map(tuple))
def test_compute_fans_matches_keras(shape):
    assert init.compute_fans(shape) == keras_fans(shape)


# ------------------------------------------------------------------------ variance scaling
@pytest.mark.parametrize("name", [n for n in SCALING if SCALING[n][2] == "uniform"])
@given(shape=kernel_shapes, seed=st.integers(0, 2**16))
def test_uniform_values_stay_within_the_keras_limit(name, shape, seed):
    limit = math.sqrt(3 * keras_variance(name, shape))
    w = CLASSES[name](seed=seed)(shape)
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= limit * (1 + 1e-6)


@pytest.mark.parametrize("name", [n for n in SCALING if SCALING[n][2] == "truncated_normal"])
@given(shape=kernel_shapes, seed=st.integers(0, 2**16))
def test_truncated_normal_values_stay_within_two_stddevs(name, shape, seed):
    stddev = math.sqrt(keras_variance(name, shape)) / TRUNC
    w = CLASSES[name](seed=seed)(shape)
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= 2 * stddev * (1 + 1e-6)


@pytest.mark.parametrize("shape", [(500, 400), (3, 3, 64, 128)])
@pytest.mark.parametrize("name", list(SCALING))
def test_sample_std_matches_the_keras_formula_on_a_large_shape(name, shape):
    variance = keras_variance(name, shape)
    w = CLASSES[name](seed=0)(shape).astype(np.float64)
    assert abs(w.mean()) < 0.02 * math.sqrt(variance)
    # the sample std of a uniform on +-limit is limit / sqrt(3); of the corrected truncated
    # normal, sqrt(variance): both are sqrt(variance)
    np.testing.assert_allclose(w.std(), math.sqrt(variance), rtol=0.02)
    if SCALING[name][2] == "uniform":
        limit = math.sqrt(3 * variance)
        assert np.abs(w).max() <= limit * (1 + 1e-6) and np.abs(w).max() > 0.99 * limit
    else:
        bound = 2 * math.sqrt(variance) / TRUNC
        assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.95 * bound


def test_glorot_uniform_limit_for_a_dense_kernel():
    w = init.GlorotUniform(seed=1)((784, 32))
    limit = math.sqrt(6 / (784 + 32))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


def test_variance_scaling_modes_and_distributions():
    shape = (300, 200)  # fan_in 300, fan_out 200
    for mode, fan in (("fan_in", 300), ("fan_out", 200), ("fan_avg", 250)):
        for distribution in ("uniform", "truncated_normal", "untruncated_normal"):
            w = init.VarianceScaling(scale=3.0, mode=mode, distribution=distribution, seed=0)(shape)
            np.testing.assert_allclose(w.std(), math.sqrt(3.0 / fan), rtol=0.03)
    normal = init.VarianceScaling(mode="fan_in", distribution="untruncated_normal", seed=0)(shape)
    assert np.abs(normal).max() > 2 * math.sqrt(1 / 300)  # untruncated: some values beyond 2 std


def test_tiny_fans_are_floored_at_one():
    # Keras divides by max(1, fan): a (1,) bias-like shape with scale 2 has variance 2, not more
    w = init.HeUniform(seed=0)((1, 1))
    assert abs(float(w[0, 0])) <= math.sqrt(6.0)


# ------------------------------------------------------------------------ orthogonal
def _orthonormal_columns(w):
    return np.allclose(w.T @ w, np.eye(w.shape[1]), atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (1, 5), (5, 1)])
@pytest.mark.parametrize("gain", [1.0, 2.0, 0.5])
def test_orthogonal_square_tall_wide(shape, gain):
    w = init.Orthogonal(gain=gain, seed=0)(shape).astype(np.float64) / gain
    rows, cols = shape
    if rows >= cols:  # tall/square: orthonormal columns, Q^T Q = I
        assert _orthonormal_columns(w)
    else:  # wide: orthonormal rows, Q Q^T = I
        assert _orthonormal_columns(w.T)


@given(rows=st.integers(1, 12), cols=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_orthogonal_any_matrix(rows, cols, seed):
    w = init.Orthogonal(seed=seed)((rows, cols), dtype=np.float64)
    assert w.shape == (rows, cols)
    assert _orthonormal_columns(w if rows >= cols else w.T)


def test_orthogonal_conv_kernel_is_orthogonal_once_flattened():
    w = init.Orthogonal(seed=0)((3, 3, 4, 8)).astype(np.float64)
    assert _orthonormal_columns(w.reshape(36, 8))
    u = init.Orthogonal(gain=3.0, seed=0)((2, 2, 2, 8)).astype(np.float64)  # 8 x 8: square
    np.testing.assert_allclose(u.reshape(8, 8).T @ u.reshape(8, 8), 9 * np.eye(8), atol=1e-4)


# ------------------------------------------------------------------------ simple initializers
def test_random_uniform_defaults():
    w = init.RandomUniform(seed=0)((400, 300)).astype(np.float64)
    assert w.min() >= -0.05 and w.max() <= 0.05
    np.testing.assert_allclose(w.std(), 0.1 / math.sqrt(12), rtol=0.02)
    assert abs(w.mean()) < 1e-3


def test_random_uniform_arguments():
    w = init.RandomUniform(minval=-1.0, maxval=3.0, seed=0)((200, 200))
    assert w.min() >= -1.0 and w.max() <= 3.0
    np.testing.assert_allclose(w.mean(), 1.0, atol=0.03)


def test_random_normal_defaults_and_arguments():
    w = init.RandomNormal(seed=0)((400, 300)).astype(np.float64)
    np.testing.assert_allclose(w.std(), 0.05, rtol=0.02)
    assert abs(w.mean()) < 1e-3
    v = init.RandomNormal(mean=2.0, stddev=0.5, seed=0)((400, 300)).astype(np.float64)
    np.testing.assert_allclose([v.mean(), v.std()], [2.0, 0.5], rtol=0.02)


def test_truncated_normal_defaults_and_arguments():
    w = init.TruncatedNormal(seed=0)((400, 300)).astype(np.float64)
    assert np.abs(w).max() <= 0.1 * (1 + 1e-6)  # 2 stddevs of 0.05
    np.testing.assert_allclose(w.std(), 0.05 * TRUNC, rtol=0.02)
    v = init.TruncatedNormal(mean=1.0, stddev=0.1, seed=0)((400, 300)).astype(np.float64)
    assert np.abs(v - 1.0).max() <= 0.2 * (1 + 1e-6)
    np.testing.assert_allclose([v.mean(), v.std()], [1.0, 0.1 * TRUNC], rtol=0.02)


@pytest.mark.parametrize("shape", [(3,), (2, 5), (3, 3, 2, 4)])
def test_zeros_ones_constant(shape):
    assert (init.Zeros()(shape) == 0).all() and init.Zeros()(shape).shape == shape
    assert (init.Ones()(shape) == 1).all()
    assert (init.Constant(2.5)(shape) == 2.5).all()
    assert (init.Constant()(shape) == 0).all()
    assert (init.get("ones")(shape) == 1).all() and (init.get("zeros")(shape) == 0).all()


# ------------------------------------------------------------------------ dtype
@pytest.mark.parametrize("name", ALL_NAMES)
def test_float32_by_default_and_float64_on_request(name):
    fn = init.get(name)
    assert fn((4, 3)).dtype == np.float32
    assert fn((4, 3), dtype=np.float64).dtype == np.float64
    assert fn([4, 3]).shape == (4, 3)  # a list shape works too


# ------------------------------------------------------------------------ seeds
@pytest.mark.parametrize("cls", SEEDED, ids=lambda c: c.__name__)
def test_a_seeded_initializer_is_reproducible(cls):
    a, b = cls(seed=3)((5, 4)), cls(seed=3)((5, 4))
    np.testing.assert_array_equal(a, b)
    one = cls(seed=3)
    np.testing.assert_array_equal(one((5, 4)), one((5, 4)))  # the same every call, as in Keras
    assert not np.array_equal(a, cls(seed=4)((5, 4)))


@pytest.mark.parametrize(
    "name", [*SCALING, "random_uniform", "random_normal", "truncated_normal", "orthogonal"]
)
def test_set_seed_makes_get_reproducible(name):
    tinygrad_edu.set_seed(0)
    a = init.get(name)((6, 5))
    a2 = init.get(name)((6, 5))
    tinygrad_edu.set_seed(0)
    b = init.get(name)((6, 5))
    b2 = init.get(name)((6, 5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a, a2)  # unseeded draws advance the shared generator
    tinygrad_edu.set_seed(1)
    assert not np.array_equal(a, init.get(name)((6, 5)))


# ------------------------------------------------------------------------ get
@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_by_name(name):
    obj = init.get(name)
    assert isinstance(obj, init.Initializer)
    assert type(init.get(name.upper())) is type(obj)
    if name in CLASSES:
        assert type(obj) is CLASSES[name]


def test_get_instance_or_callable_is_returned_as_is():
    glorot = init.GlorotUniform(seed=0)

    def my_init(shape, dtype=np.float32):
        return np.full(shape, 7, dtype)

    assert init.get(glorot) is glorot
    assert init.get(my_init) is my_init


@pytest.mark.parametrize(
    "typo, meant",
    [("glorot_unifrom", "glorot_uniform"), ("he_norml", "he_normal"), ("orthogonl", "orthogonal")],
)
def test_get_unknown_name_suggests_the_closest(typo, meant):
    with pytest.raises(ConfigError) as info:
        init.get(typo)
    assert typo in info.value.got and meant in info.value.fix


@pytest.mark.parametrize("bad", [None, 3])
def test_get_non_callable_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        init.get(bad)


# ----------------------------------------------------------------- issue 11: arguments are checked
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: init.RandomUniform(1.0, 0.0), "maxval"),  # an empty interval
        (lambda: init.RandomUniform(minval="-1"), "minval"),
        (lambda: init.RandomNormal(stddev=-1.0), "stddev"),
        (lambda: init.TruncatedNormal(mean=float("nan")), "mean"),
        (lambda: init.Constant("1"), "value"),
        (lambda: init.Constant(None), "value"),
        (lambda: init.VarianceScaling(scale=0), "scale"),
        (lambda: init.VarianceScaling(mode="fan"), "mode"),
        (lambda: init.VarianceScaling(distribution="normal_ish"), "distribution"),
        (lambda: init.GlorotUniform(seed=-1), "seed"),
        (lambda: init.HeNormal(seed=1.5), "seed"),
        (lambda: init.Orthogonal(gain="2"), "gain"),
    ],
)
def test_initializer_options_are_checked(make, argument):
    with pytest.raises(ConfigError) as err:
        make()
    assert argument in err.value.expected
    assert "initializers." in err.value.fix  # a constructor call that works


@pytest.mark.parametrize("shape", ["34", (3, 0), (3, None), (2.0, 3), None, (2**40, 2**40)])
def test_initializer_shapes_are_checked(shape):
    with pytest.raises(ConfigError) as err:
        init.GlorotUniform()(shape)
    assert "shape" in err.value.expected or "values" in err.value.expected


def test_initializer_dtype_and_rank_and_range_are_checked():
    with pytest.raises(ConfigError):
        init.Zeros()((2, 3), dtype=np.int32)
    with pytest.raises(ConfigError):
        init.Orthogonal()((5,))  # an orthogonal matrix needs two axes
    with pytest.raises(ConfigError) as err:
        init.RandomNormal(stddev=1e300)((2, 3))  # beyond float32: inf weights
    assert "float32" in err.value.expected
    with pytest.raises(ConfigError):
        init.RandomUniform(-1e308, 1e308)((2, 3))  # the range itself overflows
    assert init.Zeros()(()).shape == ()
    assert init.GlorotUniform()([3, 4]).shape == (3, 4)
