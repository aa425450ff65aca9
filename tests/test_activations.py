"""Every activation by Keras name (Keras 3's whole list and its two aliases) against an
independent numpy formula, float64 gradchecks away from kinks, float32 kept, and ``get`` /
``serialize`` / ``names``. Keras' options, extremes and layers: tests/test_activations_keras.py;
PyTorch: tests/reference/test_activations_torch.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
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


def _glu(x):
    a, b = np.split(x, 2, axis=-1)
    return a * _sigmoid(b)


def np_sparsemax(x, axis=-1):
    """Martins & Astudillo's Algorithm 1 on each vector, as a loop: sort descending, the support
    is the largest k with 1 + k z_k > z_1 + ... + z_k, tau = (z_1 + ... + z_k - 1) / k."""

    def one(v):
        z = np.sort(v)[::-1]
        k = max(k for k in range(1, len(z) + 1) if 1 + k * z[k - 1] > z[:k].sum())
        return np.maximum(v - (z[:k].sum() - 1) / k, 0.0)

    return np.apply_along_axis(one, axis, x)


# Keras' docstring formulas, written out in numpy (the piecewise ones piece by piece)
REFERENCE = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "celu": lambda x: np.where(x >= 0, x, np.expm1(x)),
    "exponential": np.exp,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "hard_sigmoid": lambda x: np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, x / 6 + 0.5)),
    "sparse_sigmoid": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1))),
    "log_sigmoid": lambda x: np.log(1.0 / (1.0 + np.exp(-x))),
    "tanh": np.tanh,
    "hard_tanh": lambda x: np.where(x < -1, -1.0, np.where(x > 1, 1.0, x)),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "sparsemax": np_sparsemax,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
    "softsign": lambda x: x / (np.abs(x) + 1),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "hard_silu": lambda x: np.where(x < -3, 0.0, np.where(x > 3, x, x * (x + 3) / 6)),
    "hard_swish": lambda x: np.where(x < -3, 0.0, np.where(x > 3, x, x * (x + 3) / 6)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "glu": _glu,
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
    "threshold": lambda x: np.where(x > 0.5, x, -1.0),  # with CALL's values
}

#: Keras gives threshold no defaults: the tests call it with these
CALL = {"threshold": lambda x: activations.threshold(x, threshold=0.5, default_value=-1.0)}

#: where each derivative jumps (its value or, for elu/celu/softsign/sparse_plus, its slope's);
#: sparsemax's kinks move with the input (see _clear_of_support_changes)
KINKS = {
    **dict.fromkeys(["relu", "leaky_relu", "elu", "selu", "celu", "softsign"], (0.0,)),
    "relu6": (0.0, 6.0),
    **dict.fromkeys(["hard_sigmoid", "hard_silu", "hard_swish"], (-3.0, 3.0)),
    **dict.fromkeys(["hard_tanh", "sparse_sigmoid", "sparse_plus"], (-1.0, 1.0)),
    **dict.fromkeys(["hard_shrink", "soft_shrink"], (-0.5, 0.5)),
    "threshold": (0.5,),
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
    ("log_softmax", {"axis": 0}, lambda x: np.log(_softmax(x, axis=0))),
    ("sparsemax", {"axis": 0}, lambda x: np_sparsemax(x, axis=0)),
    ("celu", {"alpha": 0.5}, lambda x: np.where(x >= 0, x, 0.5 * np.expm1(x / 0.5))),
    ("celu", {"alpha": 3.0}, lambda x: np.maximum(x, 0) + 3.0 * np.expm1(np.minimum(x, 0) / 3)),
    ("squareplus", {"b": 1.0}, lambda x: (x + np.sqrt(x * x + 1)) / 2),
    ("hard_shrink", {"threshold": 1.5}, lambda x: np.where(np.abs(x) > 1.5, x, 0.0)),
    ("soft_shrink", {"threshold": 0.0}, lambda x: x),
    ("soft_shrink", {"threshold": 2.0}, lambda x: np.sign(x) * np.maximum(np.abs(x) - 2, 0)),
    ("threshold", {"threshold": -1.0, "default_value": 7.0}, lambda x: np.where(x > -1, x, 7.0)),
]
WITH_ARGS_KINKS = {"hard_shrink": (-1.5, 1.5), "soft_shrink": (-2.0, 0.0, 2.0), "threshold": (-1.0,)}


def fn(name):
    return CALL.get(name, activations.get(name))


def inputs(name, low=-7.0, high=7.0):
    """Shapes of 1-3 axes (glu's last axis doubled: it needs an even one), values in [low, high]
    kept 0.05 from the name's kinks."""
    sizes = shapes(min_dims=1, max_dims=3)
    if name == "glu":
        sizes = sizes.map(lambda s: (*s[:-1], 2 * s[-1]))
    return away_from_kinks(sizes, KINKS.get(name, ()), 0.05, low, high)


def _clear_of_support_changes(x, axis=-1):
    """Every value 1e-3 from sparsemax's tau: the support, and so the linear piece, stays put
    within gradcheck's steps."""
    tau = np.max(x - np_sparsemax(x, axis), axis=axis, keepdims=True)
    return bool(np.all(np.abs(x - tau) > 1e-3))


def test_every_name_has_a_reference_and_keras_list_is_complete():
    assert sorted(REFERENCE) == activations.names()
    keras_3 = (  # keras/src/activations/__init__.py: ALL_OBJECTS and the two aliases
        "celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh "
        "leaky_relu linear log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink "
        "softmax softplus softsign sparse_plus sparse_sigmoid sparsemax squareplus swish tanh "
        "tanh_shrink threshold"
    )
    assert activations.names() == keras_3.split()


@pytest.mark.parametrize("name", activations.names())
@given(data=st.data())
def test_activation_matches_numpy(name, data):
    x = data.draw(inputs(name))
    out = fn(name)(Tensor(x))
    expected = REFERENCE[name](x)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, ref", WITH_ARGS)
@given(x=arrays(shapes(min_dims=1, max_dims=3), -5.0, 5.0))
def test_activation_arguments(name, kwargs, ref, x):
    out = getattr(activations, name)(Tensor(x), **kwargs)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-7, atol=1e-12)


def test_keras_defaults_and_constants():
    x = Tensor(np.array([-2.0, 3.0]))
    np.testing.assert_allclose(activations.leaky_relu(x).data, [-0.4, 3.0])  # slope 0.2
    np.testing.assert_allclose(activations.elu(x).data, [math.exp(-2) - 1, 3.0])  # alpha 1
    np.testing.assert_allclose(activations.celu(x).data, [math.exp(-2) - 1, 3.0])  # alpha 1
    np.testing.assert_allclose(activations.SELU_ALPHA, SELU_ALPHA, rtol=1e-8)
    np.testing.assert_allclose(activations.SELU_SCALE, SELU_SCALE, rtol=1e-8)
    # gelu(1) = Phi(1) = 0.8413447..., exact form by default
    np.testing.assert_allclose(
        activations.gelu(Tensor(np.array([1.0]))).data, [0.8413447461], atol=2e-7
    )
    assert activations.get("silu")(x).data.tolist() == activations.get("swish")(x).data.tolist()
    np.testing.assert_allclose(activations.squareplus(Tensor([0.0])).data, [1.0])  # b = 4
    at_half = Tensor(np.array([-0.6, -0.5, 0.5, 0.6]))  # threshold 0.5, strict as Keras'
    np.testing.assert_allclose(activations.hard_shrink(at_half).data, [-0.6, 0, 0, 0.6])
    np.testing.assert_allclose(activations.soft_shrink(at_half).data, [-0.1, 0, 0, 0.1])


@pytest.mark.parametrize("name", activations.names())
def test_float32_stays_float32(name):
    x = Tensor(np.array([[-1.5, 0.5, 2.0, -0.25]], dtype=np.float32))
    out = fn(name)(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out.data, REFERENCE[name](x.data.astype(np.float64)), rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("name", activations.names())
@given(data=st.data())
def test_gradcheck_activation(name, data):
    x = data.draw(inputs(name))
    if name == "sparsemax":
        assume(_clear_of_support_changes(x))
    assert gradcheck(fn(name), x)


@pytest.mark.parametrize("name, kwargs, ref", WITH_ARGS)
@given(data=st.data())
def test_gradcheck_activation_arguments(name, kwargs, ref, data):
    kinks = WITH_ARGS_KINKS.get(name, (0.0,))
    x = data.draw(away_from_kinks(shapes(min_dims=1, max_dims=3), kinks))
    if name == "sparsemax":
        assume(_clear_of_support_changes(x, axis=0))
    activation = getattr(activations, name)
    assert gradcheck(lambda t: activation(t, **kwargs), x)


@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "gelu", "swish", "linear", "mish", "log_sigmoid", "squareplus"]
)
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
        activations.get("reluu")
    assert "reluu" in info.value.got
    assert all(name in info.value.fix for name in activations.names())
    assert "'relu'" in info.value.fix  # the closest name


@pytest.mark.parametrize("bad", [3, 0.5])
def test_get_non_callable_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        activations.get(bad)


ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}  # Keras serializes to the function's name


@pytest.mark.parametrize("name", activations.names())
def test_serialize_round_trips(name):
    fn_ = activations.get(name)
    key = activations.serialize(fn_)
    assert key == ALIASES.get(name, name)
    assert activations.get(key) is fn_


@given(st.sampled_from(activations.names()))
def test_names_are_sorted_strings(name):
    names = activations.names()
    assert names == sorted(names) and name in names


# ----------------------------------------------------------------- issue 11: arguments are checked
def test_activations_take_arrays_and_refuse_what_is_not_numbers():
    assert activations.relu([-1.0, 2.0]).tolist() == [0.0, 2.0]
    assert activations.relu6([-1.0, 7.0]).tolist() == [0.0, 6.0]
    with pytest.raises(DataError) as err:
        activations.tanh(["a", "b"])
    assert "tanh" in err.value.where
    with pytest.raises(DataError):
        activations.sigmoid(None)
    with pytest.raises(DataError) as err:
        activations.mish(["a"])
    assert "mish" in err.value.where


@pytest.mark.parametrize(
    "call",
    [
        lambda x: activations.leaky_relu(x, "0.2"),
        lambda x: activations.leaky_relu(x, float("nan")),
        lambda x: activations.elu(x, alpha=None),
        lambda x: activations.gelu(x, approximate="yes"),
        lambda x: activations.softmax(x, axis=1.0),
        lambda x: activations.softmax(x, axis="last"),
        lambda x: activations.log_softmax(x, axis=None),
        lambda x: activations.sparsemax(x, axis=1.5),
        lambda x: activations.glu(x, axis="0"),
        lambda x: activations.relu(x, max_value=-1.0),
        lambda x: activations.relu(x, negative_slope=float("nan")),
        lambda x: activations.relu(x, threshold="0"),
        lambda x: activations.celu(x, alpha=0.0),
        lambda x: activations.celu(x, alpha=-1.0),
        lambda x: activations.squareplus(x, b=0),
        lambda x: activations.squareplus(x, b=-4.0),
        lambda x: activations.hard_shrink(x, threshold=-0.5),
        lambda x: activations.soft_shrink(x, threshold="0.5"),
        lambda x: activations.threshold(x),
        lambda x: activations.threshold(x, 0.5),
        lambda x: activations.threshold(x, float("inf"), 0.0),
    ],
)
def test_activation_options_are_checked(call):
    with pytest.raises(ConfigError) as err:
        call(Tensor([[1.0, -1.0]]))
    assert "e.g. " in err.value.fix


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax", "glu"])
@pytest.mark.parametrize("axis", [2, -3, 10**30])
def test_axis_out_of_range_is_a_shape_error(name, axis):
    with pytest.raises(ShapeError) as err:
        getattr(activations, name)(Tensor([[1.0, -1.0]]), axis=axis)
    assert str(axis) in err.value.got and name in err.value.where
