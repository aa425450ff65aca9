"""Every activation by Keras name against its numpy formula, float64 gradchecks away from kinks,
and ``get`` / ``serialize`` / ``names``. The +-1e4 cases live in tests/reliability/test_numerics.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, DataError, ShapeError, Tensor, activations, gradcheck
from tinygrad_edu.testing import arrays, away_from_kinks, shapes

SELU_ALPHA, SELU_SCALE = 1.67326324, 1.05070098  # Keras' published constants (8 digits)
_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


REFERENCE = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": _softmax,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
}

WITH_ARGS = [  # (name, keyword arguments, reference)
    ("leaky_relu", {"negative_slope": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
    ("leaky_relu", {"negative_slope": 0.0}, lambda x: np.maximum(x, 0.0)),
    ("elu", {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (
        "gelu",
        {"approximate": True},
        lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    ),
    ("gelu", {"approximate": False}, REFERENCE["gelu"]),
    ("softmax", {"axis": 0}, lambda x: _softmax(x, axis=0)),
]

# gelu's erf uses Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, documented): tolerance to match
ATOL = {"gelu": 4e-7}  # 0.5 |x| * 1.5e-7 for |x| <= 5


def test_every_name_has_a_reference():
    assert sorted(REFERENCE) == activations.names()


@pytest.mark.parametrize("name", activations.names())
@given(x=arrays(shapes(min_dims=1, max_dims=3), -5.0, 5.0))
def test_activation_matches_numpy(name, x):
    out = activations.get(name)(Tensor(x))
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, REFERENCE[name](x), rtol=1e-7, atol=ATOL.get(name, 1e-12))


@pytest.mark.parametrize("name, kwargs, ref", WITH_ARGS)
@given(x=arrays(shapes(min_dims=1, max_dims=3), -5.0, 5.0))
def test_activation_arguments(name, kwargs, ref, x):
    out = getattr(activations, name)(Tensor(x), **kwargs)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-7, atol=ATOL.get(name, 1e-12))


def test_keras_defaults_and_constants():
    x = Tensor(np.array([-2.0, 3.0]))
    np.testing.assert_allclose(activations.leaky_relu(x).data, [-0.4, 3.0])  # slope 0.2
    np.testing.assert_allclose(activations.elu(x).data, [math.exp(-2) - 1, 3.0])  # alpha 1
    np.testing.assert_allclose(activations.SELU_ALPHA, SELU_ALPHA, rtol=1e-8)
    np.testing.assert_allclose(activations.SELU_SCALE, SELU_SCALE, rtol=1e-8)
    # gelu(1) = Phi(1) = 0.8413447..., exact form by default
    np.testing.assert_allclose(
        activations.gelu(Tensor(np.array([1.0]))).data, [0.8413447461], atol=2e-7
    )
    assert activations.get("silu")(x).data.tolist() == activations.get("swish")(x).data.tolist()


@pytest.mark.parametrize("name", activations.names())
def test_float32_stays_float32(name):
    x = Tensor(np.array([[-1.5, 0.5, 2.0]], dtype=np.float32))
    out = activations.get(name)(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out.data, REFERENCE[name](x.data.astype(np.float64)), rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("name", activations.names())
@given(x=away_from_kinks(shapes(min_dims=1, max_dims=3), kinks=(0.0,), margin=0.05))
def test_gradcheck_activation(name, x):
    assert gradcheck(activations.get(name), x)


@pytest.mark.parametrize("name, kwargs, ref", WITH_ARGS)
@given(x=away_from_kinks(shapes(min_dims=1, max_dims=3), kinks=(0.0,), margin=0.05))
def test_gradcheck_activation_arguments(name, kwargs, ref, x):
    fn = getattr(activations, name)
    assert gradcheck(lambda t: fn(t, **kwargs), x)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu", "swish", "linear"])
def test_smooth_activations_gradcheck_at_zero_too(name):
    assert gradcheck(activations.get(name), np.array([0.0, -0.0, 1e-3]))


def test_softplus_gradient_at_zero():
    x = Tensor(np.zeros(3), requires_grad=True)
    activations.softplus(x).sum().backward()
    np.testing.assert_allclose(x.grad, [0.5, 0.5, 0.5])


# ------------------------------------------------------------------------ get / serialize
def test_get_none_and_linear_are_the_identity():
    x = Tensor(np.array([-1.0, 2.0]))
    assert activations.get(None) is activations.linear
    assert activations.get("linear") is activations.linear
    assert activations.get(None)(x) is x


@pytest.mark.parametrize("name", activations.names())
def test_get_by_name_is_case_insensitive(name):
    assert activations.get(name) is activations.get(name.upper())


@pytest.mark.parametrize("name", activations.names())
def test_every_name_is_a_module_function(name):
    assert getattr(activations, name) is activations.get(name)


def test_star_import_works():
    # `from tinygrad_edu.activations import *` fetches every name in __all__
    missing = [name for name in activations.__all__ if not hasattr(activations, name)]
    assert missing == []


def test_get_callable_is_returned_as_is():
    def cube(x):
        return x * x * x

    assert activations.get(cube) is cube
    assert activations.serialize(cube) is cube


def test_get_unknown_name_lists_the_valid_names():
    with pytest.raises(ConfigError) as info:
        activations.get("relu6")
    assert "relu6" in info.value.got
    assert all(name in info.value.fix for name in activations.names())
    assert "'relu'" in info.value.fix  # the closest name


@pytest.mark.parametrize("bad", [3, 0.5])
def test_get_non_callable_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        activations.get(bad)


@pytest.mark.parametrize("name", activations.names())
def test_serialize_round_trips(name):
    fn = activations.get(name)
    key = activations.serialize(fn)
    assert isinstance(key, str) and key in activations.names()
    assert activations.get(key) is fn
    if name != "silu":  # an alias of swish: serializes to one of the two names
        assert key == name


@given(st.sampled_from(activations.names()))
def test_names_are_sorted_strings(name):
    names = activations.names()
    assert names == sorted(names) and name in names


# ----------------------------------------------------------------- issue 11: arguments are checked
def test_activations_take_arrays_and_refuse_what_is_not_numbers():
    assert activations.relu([-1.0, 2.0]).tolist() == [0.0, 2.0]
    with pytest.raises(DataError) as err:
        activations.tanh(["a", "b"])
    assert "tanh" in err.value.where
    with pytest.raises(DataError):
        activations.sigmoid(None)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: activations.leaky_relu(x, "0.2"),
        lambda x: activations.leaky_relu(x, float("nan")),
        lambda x: activations.elu(x, alpha=None),
        lambda x: activations.gelu(x, approximate="yes"),
        lambda x: activations.softmax(x, axis=1.0),
        lambda x: activations.softmax(x, axis="last"),
    ],
)
def test_activation_options_are_checked(call):
    with pytest.raises(ConfigError):
        call(Tensor([[1.0, -1.0]]))


@pytest.mark.parametrize("axis", [2, -3, 10**30])
def test_softmax_axis_out_of_range_is_a_shape_error(axis):
    with pytest.raises(ShapeError) as err:
        activations.softmax(Tensor([[1.0, -1.0]]), axis=axis)
    assert str(axis) in err.value.got
