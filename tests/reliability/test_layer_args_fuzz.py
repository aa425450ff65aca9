"""Adversarial fuzz of every constructor argument (issue 11, items 5 and 7).

For every layer class and every loss, metric, activation, initializer and regularizer entry, each
argument in turn gets random bad values - strings (numeric ones too), floats, NaN/inf, bools,
None, zero and negative ints, huge ints, nested lists and tuples, dicts, complex numbers, numpy
scalars - while the others keep working values. Every call must end in one of two ways:

- a ``TinygradEduError`` that teaches (where, expected/got, a fix whose example, the call after
  "e.g.", runs as written), never another exception type;
- a working object - and then only if the value is one Keras accepts for that argument (an
  independent oracle below, ``ACCEPTS``), never a silent reinterpretation (``"33"`` read as
  ``(3, 3)``, ``2.5`` as ``2``, ``"False"`` as True). A layer built from accepted arguments has
  the output shape Keras gives (``keras_output_shape``, written from Keras' formulas, not from
  the layer's code), statically and on real data.

Values per argument: the hypothesis profile's (``HYPOTHESIS_PROFILE=thorough`` for a deep run), or
``FUZZ_EXAMPLES=200``; the values of the issue's reports (``ALWAYS_TRIED``) are tried every time.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Dict, Tuple

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_helpers import assert_teaches

import tinygrad_edu.layers as L
from tinygrad_edu import Tensor, activations, initializers, losses, metrics, regularizers
from tinygrad_edu.errors import ConfigError, TinygradEduError

#: values per argument: the hypothesis profile's (ci 15, thorough 300), or FUZZ_EXAMPLES
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or settings().max_examples)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ---------------------------------------------------------------------------------- bad values
HUGE = [2**31, 2**40, 10**30, 2**64, -(2**63), 10**400]
NUMPY_SCALARS = [np.int64(3), np.int32(-2), np.uint8(2), np.float32(0.5), np.float64(2.0)]
NUMPY_SCALARS += [np.bool_(True), np.float64(np.nan)]
TRICKY_TEXT = ["8", "33", "3,3", "(3, 3)", "same", "relu", "None", "True", "0.5", "-1", ""]
TRICKY_TEXT += ["784", "VALID", "channels_first", "float64", "l2", "zeros", "mean", "SUM", ","]

SCALARS = st.one_of(
    st.text(max_size=5),
    st.sampled_from(TRICKY_TEXT),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 2.0, -1.0, 1.0, 0.0, 1e-3, 2.5, 0.999]),
    st.booleans(),
    st.none(),
    st.integers(-3, 6),
    st.integers(-(10**6), -1),
    st.sampled_from(HUGE),
    st.sampled_from(NUMPY_SCALARS),
    st.complex_numbers(max_magnitude=10, allow_nan=False),
)
BAD_VALUES = st.one_of(
    SCALARS,
    st.recursive(
        SCALARS,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner)),
        max_leaves=6,
    ),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


# ---------------------------------------------------------------------------------- the oracle
def is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def is_count(v: Any) -> bool:
    return is_int(v) and v >= 1


def is_finite(v: Any) -> bool:
    if not (is_int(v) or isinstance(v, (float, np.floating))):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def is_flag(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_))


def is_sequence(v: Any) -> bool:
    return isinstance(v, (tuple, list))


def is_pair(v: Any) -> bool:
    return is_count(v) or (is_sequence(v) and len(v) == 2 and all(map(is_count, v)))


def is_sizes(v: Any) -> bool:
    return is_sequence(v) and len(v) > 0 and all(d is None or is_count(d) for d in v)


def is_target(v: Any) -> bool:
    if not (is_sequence(v) and len(v) > 0):
        return False
    inferred = [d for d in v if is_int(d) and d == -1]
    return len(inferred) <= 1 and all(is_count(d) or (is_int(d) and d == -1) for d in v)


def is_name_in(names) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v.lower() in names


def is_float_dtype(v: Any) -> bool:
    if not isinstance(v, (str, type, np.dtype)):
        return False
    try:
        return np.dtype(v).type in (np.float32, np.float64)
    except (TypeError, ValueError, SyntaxError):  # np.dtype(",") raises SyntaxError
        return False


def optional(rule: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or rule(v)


ACTIVATION_NAMES = set(activations.names())
INITIALIZER_NAMES = {
    "zeros",
    "ones",
    "constant",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
}

#: what Keras accepts for each kind of argument, written independently of the library's checks
ACCEPTS: Dict[str, Callable[[Any], bool]] = {
    "count": is_count,
    "optional count": optional(is_count),
    "flag": is_flag,
    "optional flag": optional(is_flag),
    "rate": lambda v: is_finite(v) and 0 <= v < 1,
    "fraction": lambda v: is_finite(v) and 0 <= v <= 1,
    "positive": lambda v: is_finite(v) and v > 0,
    "non-negative": lambda v: is_finite(v) and v >= 0,
    "real": is_finite,
    "seed": lambda v: v is None or (is_int(v) and v >= 0),
    "axis": is_int,
    "pair": is_pair,
    "optional pair": optional(is_pair),
    "padding": is_name_in({"valid", "same"}),
    "data_format": optional(is_name_in({"channels_last", "channels_first"})),
    "activation": optional(is_name_in(ACTIVATION_NAMES)),
    "initializer": is_name_in(INITIALIZER_NAMES),
    "regularizer": optional(is_name_in({"l1", "l2", "l1_l2"})),
    "name": lambda v: v is None or (isinstance(v, str) and v != ""),
    "input_shape": lambda v: v is None or is_count(v) or is_sizes(v),
    "required shape": lambda v: is_count(v) or is_sizes(v),
    "batch_input_shape": lambda v: v is None or (is_sizes(v) and len(v) >= 2),
    "noise_shape": optional(is_sizes),
    "target_shape": is_target,
    "dtype": optional(is_float_dtype),
    "reduction": is_name_in({"mean", "sum", "none"}),
    "mode": is_name_in({"fan_in", "fan_out", "fan_avg"}),
    "distribution": is_name_in({"truncated_normal", "untruncated_normal", "uniform"}),
}


# ---------------------------------------------------------------------------------- layers
KERNEL_ARGS = {
    "activation": "activation",
    "use_bias": "flag",
    "kernel_initializer": "initializer",
    "bias_initializer": "initializer",
    "kernel_regularizer": "regularizer",
    "bias_regularizer": "regularizer",
    "activity_regularizer": "regularizer",
}
RNN_ARGS = {
    "units": "count",
    "activation": "activation",
    "use_bias": "flag",
    "kernel_initializer": "initializer",
    "recurrent_initializer": "initializer",
    "bias_initializer": "initializer",
    "kernel_regularizer": "regularizer",
    "recurrent_regularizer": "regularizer",
    "bias_regularizer": "regularizer",
    "return_sequences": "flag",
    "return_state": "flag",
    "go_backwards": "flag",
    "fused": "optional flag",
    "dropout": "rate",
    "recurrent_dropout": "rate",
    "seed": "seed",
}
POOL_ARGS = {
    "pool_size": "pair",
    "strides": "optional pair",
    "padding": "padding",
    "data_format": "data_format",
    "fused": "optional flag",
}
GLOBAL_POOL_ARGS = {"data_format": "data_format", "keepdims": "flag"}
BASE_ARGS = {
    "name": "name",
    "trainable": "flag",
    "input_shape": "input_shape",
    "input_dim": "optional count",
    "batch_input_shape": "batch_input_shape",
    "dtype": "dtype",
}
IMAGE = (None, 9, 9, 2)

#: class -> (required arguments, {argument: kind}, the input shape to build on)
LAYERS: Dict[str, Tuple[Dict[str, Any], Dict[str, str], Tuple]] = {
    "Dense": ({"units": 3}, {"units": "count", **KERNEL_ARGS, "fused": "optional flag"}, (None, 4)),
    "Activation": ({"activation": "relu"}, {"activation": "activation"}, (None, 4)),
    "Dropout": (
        {"rate": 0.5},
        {"rate": "rate", "noise_shape": "noise_shape", "seed": "seed"},
        (None, 4),
    ),
    "BatchNormalization": (
        {},
        {
            "axis": "axis",
            "momentum": "fraction",
            "epsilon": "positive",
            "center": "flag",
            "scale": "flag",
            "beta_initializer": "initializer",
            "gamma_initializer": "initializer",
            "moving_mean_initializer": "initializer",
            "moving_variance_initializer": "initializer",
            "beta_regularizer": "regularizer",
            "gamma_regularizer": "regularizer",
        },
        (None, 4),
    ),
    "Flatten": ({}, {"data_format": "data_format"}, (None, 3, 4)),
    "Reshape": ({"target_shape": (3, 4)}, {"target_shape": "target_shape"}, (None, 12)),
    "Conv2D": (
        {"filters": 2, "kernel_size": 3},
        {
            "filters": "count",
            "kernel_size": "pair",
            "strides": "pair",
            "padding": "padding",
            "data_format": "data_format",
            "dilation_rate": "pair",
            **KERNEL_ARGS,
            "fused": "optional flag",
        },
        IMAGE,
    ),
    "MaxPooling2D": ({}, POOL_ARGS, IMAGE),
    "AveragePooling2D": ({}, POOL_ARGS, IMAGE),
    "GlobalMaxPooling2D": ({}, GLOBAL_POOL_ARGS, IMAGE),
    "GlobalAveragePooling2D": ({}, GLOBAL_POOL_ARGS, IMAGE),
    "SimpleRNN": ({"units": 3}, RNN_ARGS, (None, 5, 2)),
    "LSTM": (
        {"units": 3},
        {**RNN_ARGS, "recurrent_activation": "activation", "unit_forget_bias": "flag"},
        (None, 5, 2),
    ),
    "GRU": (
        {"units": 3},
        {**RNN_ARGS, "recurrent_activation": "activation", "reset_after": "flag"},
        (None, 5, 2),
    ),
    "InputLayer": (
        {"shape": (4,)},
        {"shape": "required shape", "batch_size": "optional count"},
        (None, 4),
    ),
}
LAYER_ARGS = [(cls, arg) for cls, (_, kinds, _) in LAYERS.items() for arg in kinds]
BASE_LAYER_ARGS = [(cls, arg) for cls in LAYERS if cls != "InputLayer" for arg in BASE_ARGS]


def as_pair(v: Any) -> Tuple[int, int]:
    return (int(v), int(v)) if is_int(v) else (int(v[0]), int(v[1]))


def window_length(n, k: int, s: int, d: int, padding: str):
    """Keras' conv_output_length: valid floor((n - d(k-1) - 1)/s) + 1, same ceil(n/s)."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    return (n - d * (k - 1) - 1) // s + 1


def prod_or_none(dims) -> Any:
    return None if None in dims else math.prod(dims)


def keras_output_shape(cls: str, kw: Dict[str, Any], shape: Tuple) -> Any:
    """The output shape Keras gives for ``cls(**kw)`` on inputs of ``shape`` (Keras' formulas)."""
    if cls == "Dense":
        return (*shape[:-1], kw["units"])
    if cls == "Flatten":
        return (shape[0], prod_or_none(shape[1:]))
    if cls == "Reshape":
        return (shape[0], *reshape_target(kw["target_shape"], shape[1:]))
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        return recurrent_output_shape(cls, kw, shape)
    if cls.endswith("2D"):
        return image_output_shape(cls, kw, shape)
    return shape  # Activation, Dropout, BatchNormalization, InputLayer: shape unchanged


def reshape_target(target, dims) -> Tuple:
    target, total = list(target), prod_or_none(dims)
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = None if total is None else total // known
    return tuple(target)


def recurrent_output_shape(cls: str, kw: Dict[str, Any], shape: Tuple) -> Any:
    units, batch = kw["units"], shape[0]
    out = (batch, shape[1], units) if kw.get("return_sequences") else (batch, units)
    if not kw.get("return_state"):
        return out
    return [out] + [(batch, units)] * (2 if cls == "LSTM" else 1)


def image_output_shape(cls: str, kw: Dict[str, Any], shape: Tuple) -> Tuple:
    first = (kw.get("data_format") or "channels_last").lower() == "channels_first"
    hw, c = (shape[2:4], shape[1]) if first else (shape[1:3], shape[3])
    if cls.startswith("Global"):
        if not kw.get("keepdims"):
            return (shape[0], c)
        return (shape[0], c, 1, 1) if first else (shape[0], 1, 1, c)
    conv = cls == "Conv2D"
    window = as_pair(kw["kernel_size"] if conv else kw.get("pool_size", 2))
    strides = kw.get("strides")
    strides = as_pair(strides) if strides is not None else (1, 1) if conv else window
    dilation = as_pair(kw.get("dilation_rate", 1))
    padding = kw.get("padding", "valid").lower()
    out_hw = [window_length(*a, padding) for a in zip(hw, window, strides, dilation)]
    channels = kw["filters"] if conv else c
    return (shape[0], channels, *out_hw) if first else (shape[0], *out_hw, channels)


def input_shape_for(cls: str, kw: Dict[str, Any], default: Tuple) -> Tuple:
    """The input shape to build on: the declared one if an argument declared it, else the default
    (channels moved first for channels_first image layers)."""
    declared = kw.get("input_shape") or kw.get("shape")
    if kw.get("batch_input_shape") is not None:
        declared = kw["batch_input_shape"][1:]
    if kw.get("input_dim") is not None:
        declared = (kw["input_dim"],)
    if declared is not None:
        return (None, *((declared,) if is_int(declared) else declared))
    if (kw.get("data_format") or "").lower() == "channels_first" and len(default) == 4:
        return (None, default[3], default[1], default[2])
    return default


# ---------------------------------------------------------------------------------- checks
def namespace() -> Dict[str, Any]:
    """What a fix's example may use: the layers, the modules, numpy, data named y/p/x, and a
    fresh layer, custom layer and initializer."""
    y, p = np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]])
    names = {n: getattr(L, n) for n in L.__all__}
    names.update(activations=activations, initializers=initializers, losses=losses)
    names.update(metrics=metrics, regularizers=regularizers, np=np, y=y, p=p)
    names.update(x=Tensor(p), y_true=y, y_pred=p, Loss=losses.Loss)
    names.update({n: getattr(metrics, n) for n in metrics.__all__})
    names.update({n: getattr(activations, n) for n in activations.names()})
    # the objects a fix may name: the layer (or "self" in a custom layer), an initializer
    names.update(layer=L.Dense(3), self=L.Layer(), init=initializers.GlorotUniform())
    return names


def assert_fix_runs(err: TinygradEduError) -> None:
    """The example that ends a ConfigError's fix ("e.g. <call>") runs as written."""
    assert_teaches(err)
    if not isinstance(err, ConfigError) or "e.g. " not in err.fix:
        return
    example = err.fix.rsplit("e.g. ", 1)[1]
    try:
        eval(example, namespace())  # noqa: S307 - our own fix text
    except Exception as exc:  # pragma: no cover - the failure message is the point
        raise AssertionError(f"the fix's example {example!r} fails: {exc!r}\n{err}") from None


def outcome(make: Callable[[], Any]) -> Tuple[bool, Any]:
    """(True, result) or (False, our error); any other exception type fails the test."""
    try:
        return True, make()
    except TinygradEduError as err:
        assert_fix_runs(err)
        return False, err


def assert_verdict(kind: str, value: Any, accepted: bool, result: Any) -> None:
    expected = ACCEPTS[kind](value)
    assert accepted == expected, (
        f"{kind} argument {value!r} ({type(value).__name__}) was "
        f"{'accepted' if accepted else 'refused'}, Keras {'accepts' if expected else 'refuses'} "
        f"it" + ("" if accepted else f": {result}")
    )


def small(shape: Tuple) -> bool:
    return all(d is None or d <= 64 for d in shape) and math.prod(d or 2 for d in shape) <= 4096


def assert_builds_like_keras(cls: str, layer: L.Layer, kw: Dict[str, Any], default: Tuple):
    """Built from accepted arguments, the layer has Keras' output shape - statically and on
    data - or refuses the input shape with one of our errors."""
    shape = input_shape_for(cls, kw, default)
    ok, built = outcome(lambda: layer.build_for(shape))
    if not ok:
        return
    want = keras_output_shape(cls, kw, shape)
    assert_same_shapes(built, want, f"{cls}({kw}).build_for({shape})")
    if not small(shape):
        return
    x = np.random.default_rng(0).standard_normal(tuple(d or 2 for d in shape))
    ok, out = outcome(lambda: layer(x, training=cls == "Dropout"))
    if ok:
        got = [o.shape for o in out] if isinstance(out, list) else out.shape
        assert_same_shapes(got, keras_output_shape(cls, kw, x.shape), f"{cls}({kw})(x)")


def assert_same_shapes(got: Any, want: Any, what: str) -> None:
    if isinstance(want, list):
        assert [tuple(g) for g in got] == [tuple(w) for w in want], f"{what}: {got} != {want}"
    else:
        assert tuple(got) == tuple(want), f"{what}: {got} != Keras' {want}"


def fuzz_layer(cls: str, arg: str, kind: str, value: Any) -> None:
    required, _, default = LAYERS[cls]
    kw = {**required, arg: value}
    accepted, layer = outcome(lambda: getattr(L, cls)(**kw))
    assert_verdict(kind, value, accepted, layer)
    if accepted:
        assert_builds_like_keras(cls, layer, kw, default)


#: the issue's reports, tried on every argument before the random values
ALWAYS_TRIED = ["784", "33", (2.5, 2.5), (1.5,), 2.5, True, "False", None, -1, 2**64, [[3]]]


def always_tried(test):
    for value in ALWAYS_TRIED:
        test = example(value=value)(test)
    return test


@pytest.mark.parametrize("cls, arg", LAYER_ARGS, ids=[f"{c}.{a}" for c, a in LAYER_ARGS])
@FUZZ
@always_tried
@given(value=BAD_VALUES)
def test_layer_argument(cls, arg, value):
    fuzz_layer(cls, arg, LAYERS[cls][1][arg], value)


@pytest.mark.parametrize("cls, arg", BASE_LAYER_ARGS, ids=[f"{c}.{a}" for c, a in BASE_LAYER_ARGS])
@settings(FUZZ, max_examples=max(EXAMPLES // 3, 5))
@always_tried
@given(value=BAD_VALUES)
def test_base_layer_argument(cls, arg, value):
    fuzz_layer(cls, arg, BASE_ARGS[arg], value)


@pytest.mark.parametrize("cls", sorted(LAYERS))
@FUZZ
@given(shape=BAD_VALUES)
def test_build_and_compute_output_shape_with_bad_shapes(cls, shape):
    """``build`` and ``compute_output_shape`` take a shape (batch axis first): anything else is
    one of our errors, never an IndexError/TypeError from inside."""
    required, _, default = LAYERS[cls]
    for method in ("compute_output_shape", "build"):
        layer = getattr(L, cls)(**required)
        outcome(lambda: getattr(layer, method)(shape))


@pytest.mark.parametrize("cls", sorted(LAYERS))
@FUZZ
@given(x=BAD_VALUES, training=BAD_VALUES)
def test_calling_a_layer_on_bad_data_or_flags(cls, x, training):
    required, _, default = LAYERS[cls]
    layer = getattr(L, cls)(**required)
    layer.build_for(input_shape_for(cls, required, default))
    good = np.zeros(tuple(d or 2 for d in input_shape_for(cls, required, default)))
    outcome(lambda: layer(x))
    accepted, _ = outcome(lambda: layer(good, training=training))
    assert accepted == (training is None or is_flag(training)), training


# ---------------------------------------------------------------------------------- valid args
@st.composite
def valid_layer_args(draw):
    """A layer class and valid arguments for it, drawn from small Keras-valid values."""
    cls = draw(st.sampled_from(sorted(set(LAYERS) - {"InputLayer"})))
    required, _, default = LAYERS[cls]
    kw = dict(required)
    small_pair = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
    if cls == "Conv2D":
        kw.update(kernel_size=draw(small_pair), padding=draw(st.sampled_from(["valid", "SAME"])))
        if draw(st.booleans()):
            kw["strides"] = draw(small_pair)
        else:
            kw["dilation_rate"] = draw(small_pair)
        kw["data_format"] = draw(st.sampled_from([None, "channels_last", "channels_first"]))
    elif cls.endswith("Pooling2D") and not cls.startswith("Global"):
        kw.update(pool_size=draw(small_pair), strides=draw(st.one_of(st.none(), small_pair)))
        kw.update(padding=draw(st.sampled_from(["valid", "same"])))
    elif cls.startswith("Global"):
        kw.update(
            keepdims=draw(st.booleans()),
            data_format=draw(st.sampled_from([None, "channels_first"])),
        )
    elif cls in ("SimpleRNN", "LSTM", "GRU"):
        kw.update(units=draw(st.integers(1, 4)), return_sequences=draw(st.booleans()))
        kw.update(return_state=draw(st.booleans()), go_backwards=draw(st.booleans()))
    elif cls == "Dense":
        kw.update(units=draw(st.sampled_from([1, 3, np.int64(5)])))
    elif cls == "Reshape":
        kw.update(target_shape=draw(st.sampled_from([(3, 4), (-1,), (2, -1, 3), [12], (4, -1)])))
    return cls, kw, default


@FUZZ
@given(valid_layer_args())
def test_valid_arguments_build_the_shapes_keras_gives(case):
    cls, kw, default = case
    accepted, layer = outcome(lambda: getattr(L, cls)(**kw))
    assert accepted, layer
    assert_builds_like_keras(cls, layer, kw, default)


# ---------------------------------------------------------------------------------- losses
LOSS_OPTIONS = {
    "MeanSquaredError": {"reduction": "reduction"},
    "MeanAbsoluteError": {"reduction": "reduction"},
    "Huber": {"delta": "positive", "reduction": "reduction"},
    "BinaryCrossentropy": {
        "from_logits": "flag",
        "label_smoothing": "fraction",
        "reduction": "reduction",
    },
    "CategoricalCrossentropy": {
        "from_logits": "flag",
        "label_smoothing": "fraction",
        "reduction": "reduction",
    },
    "SparseCategoricalCrossentropy": {"from_logits": "flag", "reduction": "reduction"},
}
LOSS_ARGS = [(cls, opt) for cls, opts in LOSS_OPTIONS.items() for opt in opts]
#: valid (y_true, y_pred) for each loss
LOSS_DATA = {
    "SparseCategoricalCrossentropy": ([0, 2], [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
    "CategoricalCrossentropy": ([[1, 0, 0], [0, 0, 1]], [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
    "BinaryCrossentropy": ([[1], [0]], [[0.7], [0.2]]),
}
REGRESSION_DATA = ([[1.0], [2.0]], [[0.5], [2.5]])


@pytest.mark.parametrize("cls, option", LOSS_ARGS, ids=[f"{c}.{o}" for c, o in LOSS_ARGS])
@FUZZ
@given(value=BAD_VALUES, positional=st.booleans())
def test_loss_option(cls, option, value, positional):
    """The class (keyword or Keras' positional form) and the function both check the option."""
    kind = LOSS_OPTIONS[cls][option]
    first = next(iter(LOSS_OPTIONS[cls]))
    make = getattr(losses, cls)
    if positional and option == first:
        accepted, loss = outcome(lambda: make(value))
    else:
        accepted, loss = outcome(lambda: make(**{option: value}))
    assert_verdict(kind, value, accepted, loss)
    y_true, y_pred = LOSS_DATA.get(cls, REGRESSION_DATA)
    fn = getattr(losses, make().fn.__name__)
    ok, direct = outcome(lambda: fn(y_true, y_pred, **{option: value}))
    assert ok == accepted, direct
    if accepted:
        out = loss(y_true, y_pred)
        assert out.shape == ((2,) if loss.config.get("reduction", "").lower() == "none" else ())
        assert np.all(np.isfinite(out.numpy()))


@pytest.mark.parametrize("cls", sorted(LOSS_OPTIONS))
@FUZZ
@given(y_true=BAD_VALUES, y_pred=BAD_VALUES)
def test_loss_on_bad_data(cls, y_true, y_pred):
    loss = getattr(losses, cls)()
    good_true, good_pred = LOSS_DATA.get(cls, REGRESSION_DATA)
    outcome(lambda: loss(y_true, good_pred))
    outcome(lambda: loss(good_true, y_pred))


@FUZZ
@given(identifier=BAD_VALUES)
def test_loss_and_metric_lookup(identifier):
    outcome(lambda: losses.get(identifier))
    outcome(lambda: metrics.get(identifier))
    outcome(lambda: metrics.get("accuracy", loss_name=identifier))


# ---------------------------------------------------------------------------------- metrics
METRICS = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
]


@pytest.mark.parametrize("name", METRICS)
@FUZZ
@given(y_true=BAD_VALUES, y_pred=BAD_VALUES)
def test_metric_on_bad_data(name, y_true, y_pred):
    """Strings, objects, None, ragged lists: a DataError (or ShapeError), never numpy's."""
    fn = getattr(metrics, name)
    good_true, good_pred = [0, 1], [[0.8, 0.2], [0.3, 0.7]]
    for args in ((y_true, good_pred), (good_true, y_pred), (y_true, y_pred)):
        ok, value = outcome(lambda: fn(*args))
        assert not ok or isinstance(value, float)


@FUZZ
@given(threshold=BAD_VALUES)
def test_binary_accuracy_threshold(threshold):
    accepted, value = outcome(lambda: metrics.binary_accuracy([1, 0], [0.7, 0.2], threshold))
    assert_verdict("real", threshold, accepted, value)


# ---------------------------------------------------------------------------------- activations
ACTIVATION_OPTIONS = [
    ("leaky_relu", "negative_slope", "real"),
    ("elu", "alpha", "real"),
    ("gelu", "approximate", "flag"),
    ("softmax", "axis", "axis"),
]


@pytest.mark.parametrize("fn, option, kind", ACTIVATION_OPTIONS)
@FUZZ
@given(value=BAD_VALUES)
def test_activation_option(fn, option, kind, value):
    x = Tensor([[0.5, -1.0, 2.0]])
    accepted, out = outcome(lambda: getattr(activations, fn)(x, **{option: value}))
    if kind == "axis":  # any int is an axis; outside [-2, 1] it is a ShapeError from the op
        assert accepted == (is_int(value) and -2 <= value <= 1), value
    else:
        assert_verdict(kind, value, accepted, out)
    if accepted:
        assert out.shape == x.shape


@FUZZ
@given(identifier=BAD_VALUES, x=BAD_VALUES)
def test_activation_lookup_and_data(identifier, x):
    accepted, fn = outcome(lambda: activations.get(identifier))
    assert_verdict("activation", identifier, accepted, fn)
    for name in activations.names():
        outcome(lambda: activations.get(name)(x))


# ---------------------------------------------------------------------------------- initializers
INITIALIZER_ARGS = {
    "Zeros": {},
    "Constant": {"value": "real"},
    "RandomUniform": {"minval": "real", "maxval": "real", "seed": "seed"},
    "RandomNormal": {"mean": "real", "stddev": "non-negative", "seed": "seed"},
    "TruncatedNormal": {"mean": "real", "stddev": "non-negative", "seed": "seed"},
    "VarianceScaling": {
        "scale": "positive",
        "mode": "mode",
        "distribution": "distribution",
        "seed": "seed",
    },
    "GlorotUniform": {"seed": "seed"},
    "HeNormal": {"seed": "seed"},
    "Orthogonal": {"gain": "real", "seed": "seed"},
}
INIT_ARGS = [(c, a) for c, args in INITIALIZER_ARGS.items() for a in args]


@pytest.mark.parametrize("cls, arg", INIT_ARGS, ids=[f"{c}.{a}" for c, a in INIT_ARGS])
@FUZZ
@given(value=BAD_VALUES)
def test_initializer_argument(cls, arg, value):
    accepted, init = outcome(lambda: getattr(initializers, cls)(**{arg: value}))
    kind = INITIALIZER_ARGS[cls][arg]
    if arg in ("minval", "maxval"):  # an interval with the other default end (-0.05, 0.05)
        inside = is_finite(value) and (value <= 0.05 if arg == "minval" else value >= -0.05)
        assert accepted == inside, value
    else:
        assert_verdict(kind, value, accepted, init)
    if accepted:  # values beyond float32 (a scale of 1e300) are one of our errors too
        ok, out = outcome(lambda: init((3, 4)))
        assert not ok or (out.shape == (3, 4) and out.dtype == np.float32)
        assert not ok or np.all(np.isfinite(out))


@pytest.mark.parametrize("cls", sorted(INITIALIZER_ARGS))
@FUZZ
@given(shape=BAD_VALUES, dtype=BAD_VALUES)
def test_initializer_call(cls, shape, dtype):
    init = getattr(initializers, cls)()
    accepted, out = outcome(lambda: init(shape))
    scalar = isinstance(shape, tuple) and shape == ()
    expected = (scalar or (is_sizes(shape) and None not in shape)) and math.prod(shape) <= 2**28
    if cls == "Orthogonal":  # a matrix: at least two axes
        expected = expected and len(shape) >= 2
    assert accepted == expected, (shape, out)
    if accepted:
        assert out.shape == tuple(shape)
    outcome(lambda: init((2, 3), dtype=dtype))
    outcome(lambda: initializers.get(shape))


# ---------------------------------------------------------------------------------- regularizers
@pytest.mark.parametrize("cls, arg", [("L1", "l1"), ("L2", "l2"), ("L1L2", "l1"), ("L1L2", "l2")])
@FUZZ
@given(value=BAD_VALUES, w=BAD_VALUES)
def test_regularizer_argument(cls, arg, value, w):
    accepted, reg = outcome(lambda: getattr(regularizers, cls)(**{arg: value}))
    assert_verdict("non-negative", value, accepted, reg)
    if accepted:
        penalty = reg(Tensor([[1.0, -2.0]]))
        assert penalty.shape == () and float(penalty.data) >= 0
        outcome(lambda: reg(w))
    accepted, found = outcome(lambda: regularizers.get(value))
    assert_verdict("regularizer", value, accepted, found)
