"""Config errors: invalid hyperparameters are refused with a ``ConfigError`` at construction (or at
the call that takes them), before any data flows, naming the bad value and how to fix it.

Unknown names (optimizer, loss, activation, initializer, metric, padding, data_format) list the
valid names and suggest the closest one.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import assert_teaches
from test_layer_args_fuzz import assert_fix_runs

from tinygrad_edu import activations, initializers, losses, optimizers
from tinygrad_edu.errors import ConfigError, DataError
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.layers import (
    GRU,
    LSTM,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    Reshape,
    SimpleRNN,
)
from tinygrad_edu.models import Sequential


# ------------------------------------------------------------------------ fit/evaluate/predict
@pytest.mark.parametrize("batch_size", [0, -1, -32, 2.5, "32", True, None])
@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_bad_batch_size(classifier, xy, batch_size, call):
    x, y = xy
    fn = {
        "fit": lambda: classifier.fit(x, y, batch_size=batch_size, verbose=0),
        "evaluate": lambda: classifier.evaluate(x, y, batch_size=batch_size),
        "predict": lambda: classifier.predict(x, batch_size=batch_size),
    }[call]
    before = classifier.get_weights()
    with pytest.raises(ConfigError) as err:
        fn()
    assert_teaches(err.value, where=[call])
    assert repr(batch_size) in err.value.got
    for a, b in zip(before, classifier.get_weights()):  # refused before any update
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("epochs", [-1, -10, 1.5, "3", None])
def test_bad_epochs(classifier, xy, epochs):
    with pytest.raises(ConfigError) as err:
        classifier.fit(*xy, epochs=epochs, verbose=0)
    assert_teaches(err.value, where=["fit"])
    assert repr(epochs) in err.value.got


def test_zero_epochs_is_allowed(classifier, xy):
    before = classifier.get_weights()
    classifier.fit(*xy, epochs=0, verbose=0)
    for a, b in zip(before, classifier.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("split", [1.0, 1.5, -0.1, -1, float("nan"), float("inf"), "0.2", None])
def test_validation_split_outside_zero_one(classifier, xy, split):
    with pytest.raises(ConfigError) as err:
        classifier.fit(*xy, validation_split=split, verbose=0)
    assert_teaches(err.value, where=["fit"])
    assert "[0, 1)" in err.value.expected


@pytest.mark.parametrize("split", [0.0, 0.25, 0.5, 0.9])
def test_validation_split_inside_zero_one(classifier, xy, split):
    history = classifier.fit(*xy, validation_split=split, verbose=0)
    assert ("val_loss" in history.history) == (split > 0)


def test_validation_split_leaving_no_validation_sample_is_a_data_error(classifier, xy):
    with pytest.raises(DataError) as err:  # 12 samples: floor(12 * 0.05) = 0 training rows
        classifier.fit(*xy, validation_split=0.95, verbose=0)
    assert_teaches(err.value)


def test_numpy_float32_validation_split_is_accepted(classifier, xy):
    history = classifier.fit(*xy, validation_split=np.float32(0.25), verbose=0)
    assert "val_loss" in history.history


@pytest.mark.parametrize("initial_epoch", ["a", None, 1.5])
def test_bad_initial_epoch(classifier, xy, initial_epoch):
    with pytest.raises(ConfigError):
        classifier.fit(*xy, epochs=2, initial_epoch=initial_epoch, verbose=0)


@pytest.mark.parametrize("form", ["one", "array"])
def test_malformed_validation_data(classifier, xy, form):
    x, y = xy
    bad = (x,) if form == "one" else x
    with pytest.raises(ConfigError) as err:
        classifier.fit(x, y, validation_data=bad, verbose=0)
    e = err.value
    assert "validation_data" in f"{e.where} {e.expected} {e.fix}"


def test_callbacks_must_be_callbacks(classifier, xy):
    with pytest.raises(ConfigError):
        classifier.fit(*xy, callbacks=[3], verbose=0)


# ---------------------------------------------------------------------------------- compile
def test_unknown_optimizer_lists_names_and_suggests(classifier):
    with pytest.raises(ConfigError) as err:
        classifier.compile("adma", "mse")
    e = err.value
    assert_teaches(e)
    assert "adma" in e.got
    assert "did you mean 'adam'" in e.fix
    for name in ("sgd", "adam", "rmsprop", "adagrad", "adamw"):
        assert repr(name) in e.fix + e.expected


def test_unknown_loss_lists_names_and_suggests(classifier):
    with pytest.raises(ConfigError) as err:
        classifier.compile("adam", "categorical_crossentropi")
    e = err.value
    assert_teaches(e)
    assert "categorical_crossentropi" in e.got
    assert "did you mean 'categorical_crossentropy'" in e.fix
    for name in ("mse", "binary_crossentropy", "sparse_categorical_crossentropy"):
        assert repr(name) in e.fix


def test_unknown_metric_lists_names_and_suggests(classifier):
    with pytest.raises(ConfigError) as err:
        classifier.compile("adam", "mse", metrics=["acuracy"])
    assert "did you mean 'accuracy'" in err.value.fix


@pytest.mark.parametrize("bad", [3, None, 1.5])
def test_non_string_optimizer_or_loss(classifier, bad):
    with pytest.raises(ConfigError):
        classifier.compile(bad, "mse")
    with pytest.raises(ConfigError):
        classifier.compile("adam", bad if bad is not None else 3)


def test_missing_loss(classifier):
    with pytest.raises(ConfigError) as err:
        classifier.compile("adam")
    assert_teaches(err.value)


def test_metrics_not_a_list(classifier):
    with pytest.raises(ConfigError):
        classifier.compile("adam", "mse", metrics=3)


def test_bad_compile_leaves_previous_configuration(classifier, xy):
    optimizer, loss_fn = classifier.optimizer, classifier.loss_fn
    with pytest.raises(ConfigError):
        classifier.compile("adam", "msee")
    assert classifier.loss_fn is loss_fn and classifier.optimizer is optimizer
    classifier.fit(*xy, verbose=0)


# ---------------------------------------------------------------------------------- optimizers
OPTIMIZERS = [
    optimizers.SGD,
    optimizers.Adam,
    optimizers.AdamW,
    optimizers.RMSprop,
    optimizers.Adagrad,
]


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("lr", [0, 0.0, -1e-3, -1, float("nan"), float("inf"), "0.01", True])
@pytest.mark.parametrize("keyword", ["learning_rate", "lr"])
def test_learning_rate_must_be_positive(cls, lr, keyword):
    with pytest.raises(ConfigError) as err:
        cls(**{keyword: lr})
    assert_teaches(err.value)
    assert "learning_rate" in err.value.expected
    assert cls.__name__ in err.value.where


@pytest.mark.parametrize("kwargs", [{"momentum": -0.1}, {"momentum": 1.5}])
def test_bad_momentum(kwargs):
    with pytest.raises(ConfigError) as err:
        optimizers.SGD(**kwargs)
    assert "momentum" in err.value.expected


@pytest.mark.parametrize(
    "kwargs", [{"beta_1": 1.0}, {"beta_1": -0.5}, {"beta_2": 1.5}, {"epsilon": -1e-7}]
)
def test_bad_adam_hyperparameters(kwargs):
    with pytest.raises(ConfigError) as err:
        optimizers.Adam(**kwargs)
    assert next(iter(kwargs)) in err.value.expected


# ---------------------------------------------------------------------------------- layers
@pytest.mark.parametrize("units", [0, -1, -64, 2.0, 2.5, "8", None, True])
@pytest.mark.parametrize("cls", [Dense, SimpleRNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_non_positive_or_non_integer_units(cls, units):
    with pytest.raises(ConfigError) as err:
        cls(units)
    assert_teaches(err.value)
    assert repr(units) in err.value.got


@pytest.mark.parametrize("filters", [0, -2, 2.0, "4", True])
def test_bad_filters(filters):
    with pytest.raises(ConfigError) as err:
        Conv2D(filters, 3)
    assert_teaches(err.value)
    assert "filters" in err.value.expected


@pytest.mark.parametrize("filters", [np.int64(8), np.int32(8)])
def test_numpy_integer_filters_are_accepted(filters):
    assert Conv2D(filters, 3).filters == 8


@pytest.mark.parametrize("cls", [Dense, LSTM], ids=lambda c: c.__name__)
def test_numpy_integer_units_are_accepted(cls):
    assert cls(np.int64(3)).units == 3


@pytest.mark.parametrize("arg", ["kernel_size", "strides", "dilation_rate"])
@pytest.mark.parametrize("value", [0, -1, (3, 0), (0, 0), (2, -2), (3, 3, 3), 2.5, "3"])
def test_bad_conv_window_arguments(arg, value):
    kwargs = {"kernel_size": 3, arg: value}
    with pytest.raises(ConfigError) as err:
        Conv2D(4, **kwargs)
    assert_teaches(err.value)
    assert arg in err.value.expected


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D], ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"pool_size": 0},
        {"pool_size": (2, -1)},
        {"strides": 0},
        {"padding": "full"},
        {"data_format": "nhwc"},
    ],
)
def test_bad_pooling_arguments(cls, kwargs):
    with pytest.raises(ConfigError) as err:
        cls(**kwargs)
    assert_teaches(err.value)


@pytest.mark.parametrize(
    "kwargs, valid",
    [({"padding": "vaild"}, "valid"), ({"data_format": "channel_last"}, "channels_last")],
)
def test_misspelled_conv_choices_suggest_the_closest(kwargs, valid):
    with pytest.raises(ConfigError) as err:
        Conv2D(4, 3, **kwargs)
    assert f"did you mean {valid!r}" in err.value.fix


@pytest.mark.parametrize("rate", [1, 1.0, 1.5, -0.1, -1, float("nan"), "0.5", None, True])
def test_dropout_rate_outside_zero_one(rate):
    with pytest.raises(ConfigError) as err:
        Dropout(rate)
    assert_teaches(err.value)
    assert "[0, 1)" in err.value.expected


@pytest.mark.parametrize("rate", [0, 0.0, 0.5, 0.999, np.float32(0.3)])
def test_dropout_rate_inside_zero_one(rate):
    assert Dropout(rate).rate == pytest.approx(float(rate))


@pytest.mark.parametrize(
    "factory",
    [
        lambda name: Dense(3, activation=name),
        lambda name: Conv2D(2, 3, activation=name),
        lambda name: LSTM(2, recurrent_activation=name),
        lambda name: activations.get(name),
    ],
    ids=["Dense", "Conv2D", "LSTM", "get"],
)
def test_unknown_activation_lists_names_and_suggests(factory):
    with pytest.raises(ConfigError) as err:
        factory("rleu")
    e = err.value
    assert_teaches(e)
    assert "rleu" in e.got
    assert "did you mean 'relu'" in e.fix
    for name in activations.names():
        assert repr(name) in e.fix


@pytest.mark.parametrize(
    "factory",
    [
        lambda name: Dense(3, kernel_initializer=name),
        lambda name: Dense(3, bias_initializer=name),
        lambda name: Conv2D(2, 3, kernel_initializer=name),
        lambda name: LSTM(2, recurrent_initializer=name),
        lambda name: BatchNormalization(gamma_initializer=name),
        lambda name: initializers.get(name),
    ],
    ids=["Dense.kernel", "Dense.bias", "Conv2D", "LSTM", "BatchNormalization", "get"],
)
def test_unknown_initializer_lists_names_and_suggests(factory):
    with pytest.raises(ConfigError) as err:
        factory("glorot_unifrom")
    e = err.value
    assert_teaches(e)
    assert "did you mean 'glorot_uniform'" in e.fix
    for name in ("zeros", "ones", "he_normal", "orthogonal"):
        assert repr(name) in e.fix


def test_unknown_loss_object_name():
    with pytest.raises(ConfigError) as err:
        losses.get("mean_sqared_error")
    assert "did you mean 'mean_squared_error'" in err.value.fix


@pytest.mark.parametrize(
    "make",
    [
        lambda: Dense(3, unit=4),
        lambda: Conv2D(2, 3, kernel=3),
        lambda: LSTM(2, return_sequence=True),
        lambda: Dropout(0.5, ratee=0.1),
    ],
    ids=["Dense", "Conv2D", "LSTM", "Dropout"],
)
def test_unknown_keyword_arguments(make):
    with pytest.raises(ConfigError) as err:
        make()
    assert_teaches(err.value)


@pytest.mark.parametrize("target", [(0,), (-2, 3), (-1, -1), (), "abc", None])
def test_bad_reshape_target(target):
    with pytest.raises(ConfigError):
        Reshape(target)


@pytest.mark.parametrize(
    "kwargs", [{"momentum": 1.5}, {"momentum": -0.1}, {"epsilon": 0}, {"axis": 1.5}]
)
def test_bad_batchnorm_arguments(kwargs):
    with pytest.raises(ConfigError):
        BatchNormalization(**kwargs)


@pytest.mark.parametrize("shape", [(0,), (-1,), (3, 0), "abc", ()])
def test_bad_input_shape(shape):
    with pytest.raises(ConfigError) as err:
        Dense(3, input_shape=shape)
    assert "input_shape" in err.value.expected


@pytest.mark.parametrize("thing", [Dense, "dense", 3, None])
def test_adding_a_non_layer(thing):
    with pytest.raises(ConfigError) as err:
        Sequential([thing])
    assert_teaches(err.value)


def test_config_errors_happen_at_construction_not_at_the_first_batch():
    """Every bad constructor value fails in the constructor itself: no model, no data needed."""
    bad = [
        lambda: Dense(0),
        lambda: Dense(2, activation="nope"),
        lambda: Dropout(1.0),
        lambda: Conv2D(0, 3),
        lambda: Conv2D(2, 0),
        lambda: MaxPooling2D(0),
        lambda: LSTM(-1),
        lambda: optimizers.Adam(learning_rate=0),
    ]
    for make in bad:
        with pytest.raises(ConfigError):
            make()


@pytest.mark.parametrize("noise_shape", [3, "abc", (0, 2), (-1, 2)])
def test_bad_dropout_noise_shape(noise_shape):
    with pytest.raises(ConfigError):
        Dropout(0.5, noise_shape=noise_shape)


# ----------------------------------------------------- issue 11: no value is silently reinterpreted
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: Dense(32, input_shape="784"), "input_shape"),  # was built as (None, 7, 8, 4)
        (lambda: Dense(32, input_shape=(1.5,)), "input_shape"),  # was truncated to (None, 1)
        (lambda: Dense(32, input_shape=(784, True)), "input_shape"),
        (lambda: Dense(32, input_shape=[None, -3]), "input_shape"),
        (lambda: Dense(32, batch_input_shape="None, 784"), "batch_input_shape"),
        (lambda: Dense(32, batch_input_shape=(784,)), "batch_input_shape"),
        (lambda: Dense(32, input_dim=784.0), "input_dim"),
        (lambda: Conv2D(8, "33"), "kernel_size"),  # was read as (3, 3)
        (lambda: Conv2D(8, (2.5, 2.5)), "kernel_size"),  # was truncated to (2, 2)
        (lambda: Conv2D(8, 3, strides="2"), "strides"),
        (lambda: Conv2D(8, 3, dilation_rate=(1, True)), "dilation_rate"),
        (lambda: MaxPooling2D("22"), "pool_size"),
        (lambda: MaxPooling2D(2, strides=1.5), "strides"),
        (lambda: Reshape((2.5, 2)), "target_shape"),  # was truncated to (2, 2)
        (lambda: Reshape("12"), "target_shape"),
        (lambda: Reshape(12), "target_shape"),
        (lambda: Dropout(0.5, noise_shape=(None, 1.0)), "noise_shape"),
        (lambda: Dropout(0.5, seed=1.5), "seed"),
        (lambda: Dropout(0.5, seed=-1), "seed"),
        (lambda: BatchNormalization(axis="1"), "axis"),
        (lambda: BatchNormalization(momentum="0.9"), "momentum"),
        (lambda: BatchNormalization(epsilon=float("nan")), "epsilon"),
        (lambda: Input(shape=(784,), batch_size=2.0), "batch_size"),
        (lambda: Input(batch_shape=(None,)), "batch_shape"),
        (lambda: Dense(3, dtype="int32"), "dtype"),
        (lambda: Dense(3, dtype="banana"), "dtype"),
        (lambda: Dense(3, name=3), "name"),
        (lambda: Dense(3, name=""), "name"),
        (lambda: Flatten(data_format=0), "data_format"),
        (lambda: Conv2D(2, 3, padding=None), "padding"),
    ],
)
def test_no_value_is_silently_reinterpreted(make, argument):
    with pytest.raises(ConfigError) as err:
        make()
    assert_teaches(err.value)
    assert argument in err.value.expected
    assert_fix_runs(err.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda v: Dense(3, use_bias=v),
        lambda v: Dense(3, trainable=v),
        lambda v: Conv2D(2, 3, use_bias=v),
        lambda v: LSTM(2, return_sequences=v),
        lambda v: GRU(2, reset_after=v),
        lambda v: SimpleRNN(2, go_backwards=v),
        lambda v: BatchNormalization(center=v),
        lambda v: MaxPooling2D(trainable=v),  # fused=None is valid (follow config.fused)
        lambda v: GlobalAveragePooling2D(keepdims=v),
    ],
)
@pytest.mark.parametrize("value", ["False", "True", 0, 1, None, 1.0])
def test_flags_take_only_true_or_false(make, value):
    """bool("False") is True: a flag given as a string (or 0/1/None) is refused, not guessed."""
    with pytest.raises(ConfigError) as err:
        make(value)
    assert "True or False" in err.value.expected
    assert_fix_runs(err.value)


def test_numpy_numbers_are_accepted_as_numbers():
    assert Conv2D(np.int64(8), np.array([3, 3])).kernel_size == (3, 3)
    assert Dense(3, input_shape=(np.int64(4),))._declared_input_shape == (None, 4)
    dropout = Dropout(np.float32(0.5), seed=np.int64(3))
    assert (dropout.rate, dropout.seed) == (0.5, 3)
    assert Reshape((np.int32(-1), np.int64(2))).target_shape == (-1, 2)
    assert BatchNormalization(axis=np.int8(1), momentum=np.float32(0.5)).axis == 1
    assert Dense(3, dtype=np.float64).dtype is np.float64


def test_the_input_shape_is_given_once():
    with pytest.raises(ConfigError) as err:
        Dense(3, input_shape=(4,), batch_input_shape=(None, 5))
    assert "input_shape" in err.value.got and "batch_input_shape" in err.value.got
    with pytest.raises(ConfigError):
        Input(shape=(4,), input_shape=(5,))


def test_a_huge_unit_count_is_refused_at_build_before_numpy_allocates():
    layer = Dense(2**40)  # Keras accepts the number; no machine holds the kernel
    with pytest.raises(ConfigError) as err:
        layer.build((None, 8))
    assert "kernel" in err.value.expected and str(8 * 2**40) in err.value.got.replace(",", "")
    assert not layer.built and not layer.weights


def test_a_same_window_far_larger_than_the_image_is_a_shape_error():
    with pytest.raises(ShapeError) as err:
        MaxPooling2D(2**30, padding="same").build((None, 8, 8, 1))
    assert "padding='same'" in err.value.got
    assert MaxPooling2D(5, padding="same").build_for((None, 1, 1, 2)) == (None, 1, 1, 2)


@pytest.mark.parametrize("training", ["yes", 1, 0.0, "False"])
def test_the_training_flag_of_a_call_is_a_bool(training):
    with pytest.raises(ConfigError) as err:
        Dropout(0.5)(np.ones((2, 3)), training=training)
    assert "training" in err.value.expected
