"""The classic mistakes learners paste, each with the right diagnosis and a fix that runs (issue 13
item 1).

Every case is the learner's code as pasted. It must raise (or warn) with a message that holds the
right diagnosis (``contains``) and not the advice a one-layer view used to give (``absent``: e.g.
"padding='same'" for channels-first MNIST). Then the fix is EXECUTED: each ``(wrong, fixed)``
repair replaces ``wrong`` in the code with ``fixed`` - which must appear verbatim in the message,
so the test runs the code the message prints - and the repaired code must build the model and run
a batch (``fit`` included, when the case trains).
"""

from __future__ import annotations

import contextvars
import warnings
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import pytest

import tinygrad_edu
import tinygrad_edu.layers as L
from tinygrad_edu import config
from tinygrad_edu.errors import ConfigError, ShapeError, TinygradEduError
from tinygrad_edu.layers.legacy import KerasLegacyWarning
from tinygrad_edu.layers.recognizers import ClassicMistakeWarning
from tinygrad_edu.models import Sequential


@dataclass(frozen=True)
class Mistake:
    code: str  # as pasted; defines `model` (and may compile and fit it)
    raises: Optional[type]  # the error, or None when the case warns
    contains: Tuple[str, ...]  # in the message besides the fixed code
    absent: Tuple[str, ...]  # the wrong advice of a one-layer view
    repairs: Tuple[Tuple[str, str], ...]  # (wrong, fixed): fixed is printed by the message
    batch: Tuple[int, ...]  # a batch the repaired model must run
    warns: Optional[type] = None


FIT_MNIST_FLAT = """
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(np.zeros((50, 28, 28)), np.zeros(50, int), verbose=0)
"""
FIT_CONV = """
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(np.zeros((20, 28, 28, 1)), np.zeros(20, int), verbose=0)
"""
CHANNELS_FIRST_CONV = "Conv2D(32, (3, 3), input_shape=(1, 28, 28), data_format='channels_first')"

CASES = {
    "channels-first MNIST on Conv2D": Mistake(
        "model = Sequential([Conv2D(32, (3, 3), input_shape=(1, 28, 28))])",
        ShapeError,
        ("channels_first", "x = x.transpose(0, 2, 3, 1)"),
        ("padding='same'", "1x28 pixels"),
        (("Conv2D(32, (3, 3), input_shape=(1, 28, 28))", CHANNELS_FIRST_CONV),),
        (2, 1, 28, 28),
    ),
    "channels-first MNIST, the data transposed instead": Mistake(
        "model = Sequential([Conv2D(32, (3, 3), input_shape=(1, 28, 28))])",
        ShapeError,
        ("x.transpose(0, 2, 3, 1)",),
        ("padding='same'",),
        (
            (
                "Conv2D(32, (3, 3), input_shape=(1, 28, 28))",
                "Conv2D(32, (3, 3), input_shape=(28, 28, 1))",
            ),
        ),
        (2, 28, 28, 1),
    ),
    "channels-first MNIST on Keras 1's Convolution2D": Mistake(
        "model = Sequential([Convolution2D(32, 3, 3, input_shape=(1, 28, 28))])",
        ShapeError,
        ("channels_first",),
        ("padding='same'", "strides"),
        (("Convolution2D(32, 3, 3, input_shape=(1, 28, 28))", CHANNELS_FIRST_CONV),),
        (2, 1, 28, 28),
    ),
    "channels-first data at fit, no input_shape": Mistake(
        "model = Sequential([Conv2D(8, 3), Flatten(), Dense(2, activation='softmax')])\n"
        "model.compile('adam', 'sparse_categorical_crossentropy')\n"
        "model.fit(np.zeros((4, 1, 28, 28)), np.zeros(4, int), verbose=0)",
        ShapeError,
        ("x = x.transpose(0, 2, 3, 1)",),
        ("padding='same'",),
        (("Conv2D(8, 3)", "Conv2D(8, 3, data_format='channels_first')"),),
        (2, 1, 28, 28),
    ),
    "LSTM fed by an LSTM without return_sequences": Mistake(
        "model = Sequential([LSTM(10, input_shape=(3, 1)), LSTM(5)])",
        ShapeError,
        ("return_sequences=False", "whole sequence"),
        ("reshape(None", "x[..., None]"),
        (("LSTM(10, input_shape=(3, 1))", "LSTM(10, input_shape=(3, 1), return_sequences=True)"),),
        (2, 3, 1),
    ),
    "GRU, Dropout, then SimpleRNN": Mistake(
        "model = Sequential([GRU(8, input_shape=(5, 2)), Dropout(0.2), SimpleRNN(4)])",
        ShapeError,
        ("layer 'gru' (GRU) has return_sequences=False",),
        ("reshape(None",),
        (("GRU(8, input_shape=(5, 2))", "GRU(8, input_shape=(5, 2), return_sequences=True)"),),
        (2, 5, 2),
    ),
    "Flatten forgotten before Dense (sparse labels)": Mistake(
        'model = Sequential([Dense(32, input_shape=(28, 28)), Dense(10, activation="softmax")])'
        + FIT_MNIST_FLAT,
        ShapeError,
        ("Dense", "28 positions", "Flatten"),
        ("give one integer label per sample", "expected labels of shape (50, 28)"),
        (
            (
                'model = Sequential([Dense(32, input_shape=(28, 28)), Dense(10, activation="softmax")])',
                (
                    "model = Sequential([Flatten(input_shape=(28, 28)), Dense(32), "
                    "Dense(10, activation='softmax')])"
                ),
            ),
        ),
        (2, 28, 28),
    ),
    "Flatten forgotten after Conv2D": Mistake(
        "model = Sequential([Conv2D(8, (3, 3), activation='relu', input_shape=(28, 28, 1)), "
        "Dense(10, activation='softmax')])" + FIT_CONV,
        ShapeError,
        ("26x26 = 676 positions",),
        ("one integer label per sample",),
        (
            (
                "Dense(10, activation='softmax')])",
                "Flatten(), Dense(10, activation='softmax')])",
            ),
        ),
        (2, 28, 28, 1),
    ),
    "Flatten forgotten, one-hot labels at evaluate": Mistake(
        "model = Sequential([Dense(16, input_shape=(8, 8)), Dense(3, activation='softmax')])\n"
        "model.compile('adam', 'categorical_crossentropy')\n"
        "model.evaluate(np.zeros((6, 8, 8)), np.eye(3)[[0, 1, 2, 0, 1, 2]])",
        ShapeError,
        ("8 positions",),
        ("expected labels of shape",),
        (
            (
                "model = Sequential([Dense(16, input_shape=(8, 8)), Dense(3, activation='softmax')])",
                (
                    "model = Sequential([Flatten(input_shape=(8, 8)), Dense(16), "
                    "Dense(3, activation='softmax')])"
                ),
            ),
        ),
        (2, 8, 8),
    ),
    "SimpleRNN with input_shape=(3,)": Mistake(
        "model = Sequential([SimpleRNN(10, input_shape=(3,))])",
        ShapeError,
        ("no features axis", "x = x[..., None]"),
        ("reshape(None", "(batch, 3), got (None, 3)"),
        (("SimpleRNN(10, input_shape=(3,))", "SimpleRNN(10, input_shape=(3, 1))"),),
        (2, 3, 1),
    ),
    "Conv2D with input_shape=(28, 28)": Mistake(
        "model = Sequential([Conv2D(32, (3, 3), input_shape=(28, 28))])",
        ShapeError,
        ("no channels axis",),
        ("padding='same'",),
        (
            (
                "Conv2D(32, (3, 3), input_shape=(28, 28))",
                "Conv2D(32, (3, 3), input_shape=(28, 28, 1))",
            ),
        ),
        (2, 28, 28, 1),
    ),
    "MaxPooling2D after a channels_first Conv2D": Mistake(
        f"model = Sequential([{CHANNELS_FIRST_CONV}, MaxPooling2D(pool_size=(2, 2))])",
        ShapeError,
        ("channels_first images", "config.image_data_format()"),
        ("padding='same'",),
        (
            (
                "MaxPooling2D(pool_size=(2, 2))",
                "MaxPooling2D(pool_size=(2, 2), data_format='channels_first')",
            ),
        ),
        (2, 1, 28, 28),
    ),
    "MaxPooling2D after a channels_first Conv2D, the global setting": Mistake(
        f"model = Sequential([{CHANNELS_FIRST_CONV}, MaxPooling2D(pool_size=(2, 2))])",
        ShapeError,
        ("Theano-ordered",),
        (),
        (("", "tinygrad_edu.config.set_image_data_format('channels_first')"),),
        (2, 1, 28, 28),
    ),
    "a second Conv2D after a channels_first one": Mistake(
        f"model = Sequential([{CHANNELS_FIRST_CONV}, Conv2D(16, 3)])",
        ShapeError,
        ("channels_first images",),
        ("padding='same'",),
        (("Conv2D(16, 3)", "Conv2D(16, 3, data_format='channels_first')"),),
        (2, 1, 28, 28),
    ),
    "BatchNormalization after channels_first convolutions": Mistake(
        f"model = Sequential([{CHANNELS_FIRST_CONV}, Dropout(0.1), BatchNormalization()])",
        ShapeError,
        ("each channel",),
        (),
        (("BatchNormalization()", "BatchNormalization(axis=1)"),),
        (2, 1, 28, 28),
    ),
    "softmax over one unit": Mistake(
        "model = Sequential([Dense(8, activation='relu', input_shape=(4,)), "
        'Dense(1, activation="softmax")])\n'
        "model.compile('adam', 'categorical_crossentropy')",
        None,
        ("1.0 for every input", "loss='binary_crossentropy'", "Dense(2, activation='softmax')"),
        (),
        (
            ('Dense(1, activation="softmax")', "Dense(1, activation='sigmoid')"),
            ("'categorical_crossentropy'", "'binary_crossentropy'"),
        ),
        (2, 4),
        warns=ClassicMistakeWarning,
    ),
    "Conv2D(32, 3, 3): the third positional is strides": Mistake(
        "model = Sequential([Conv2D(32, 3, 3, input_shape=(28, 28, 1))])",
        None,
        ("strides=3", "Keras 1's Convolution2D(32, 3, 3) meant a 3x3 kernel"),
        (),
        (
            (
                "Conv2D(32, 3, 3, input_shape=(28, 28, 1))",
                "Conv2D(32, (3, 3), input_shape=(28, 28, 1))",
            ),
        ),
        (2, 28, 28, 1),
        warns=KerasLegacyWarning,
    ),
    "a misspelled argument": Mistake(
        "model = Sequential([Dense(32, activaton='relu', input_shape=(4,))])",
        ConfigError,
        ("did you mean activation=",),
        ("remove",),
        (
            (
                "Dense(32, activaton='relu', input_shape=(4,))",
                "Dense(32, activation='relu', input_shape=(4,))",
            ),
        ),
        (2, 4),
    ),
}


def namespace() -> dict:
    names = {n: getattr(L, n) for n in L.__all__}
    return {**names, "Sequential": Sequential, "np": np, "tinygrad_edu": tinygrad_edu}


def run(code: str) -> Tuple[dict, list]:
    """Execute ``code`` in a fresh namespace and a copy of the settings (a global set by a fix
    stays inside); returns the namespace and the warnings it gave."""

    def go():
        ns = namespace()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(code, ns)  # noqa: S102 - the learner's code, or its repair
        return ns, [w for w in caught if issubclass(w.category, UserWarning)]

    return contextvars.copy_context().run(go)


def message_of(case: Mistake) -> str:
    if case.raises is None:
        _, caught = run(case.code)
        texts = [str(w.message) for w in caught if issubclass(w.category, case.warns)]
        assert len(texts) == 1, f"expected one {case.warns.__name__}, got {texts}"
        return texts[0]
    with pytest.raises(TinygradEduError) as err:
        run(case.code)
    assert type(err.value) is case.raises, f"{type(err.value).__name__}: {err.value}"
    assert err.value.where and err.value.fix
    return str(err.value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_message_names_the_mistake_and_its_fix_runs(name):
    case = CASES[name]
    text = message_of(case)
    for piece in case.contains:
        assert piece in text, f"{piece!r} not in the message:\n{text}"
    for piece in case.absent:
        assert piece not in text, f"{piece!r} (wrong advice) in the message:\n{text}"
    repaired = case.code
    for wrong, fixed in case.repairs:
        assert fixed in text, f"the fix {fixed!r} is not in the message:\n{text}"
        assert wrong in repaired
        repaired = fixed + "\n" + repaired if not wrong else repaired.replace(wrong, fixed)
    ns, caught = run(repaired + f"\nout = model.predict(np.zeros({case.batch}))")
    assert ns["model"].built
    warned = [w for w in caught if case.warns and issubclass(w.category, case.warns)]
    assert not warned, f"the repaired code still warns: {warned[0].message}"
    assert ns["out"].shape[0] == case.batch[0] and np.all(np.isfinite(ns["out"]))
    if case.warns is ClassicMistakeWarning:  # the repaired model's output depends on the input
        x = np.random.default_rng(0).normal(size=(8, 4))
        assert np.ptp(ns["model"].predict(x)) > 0


def test_every_case_of_the_issue_is_in_the_table():
    listed = {
        "channels-first MNIST on Conv2D",
        "channels-first MNIST on Keras 1's Convolution2D",
        "LSTM fed by an LSTM without return_sequences",
        "Flatten forgotten before Dense (sparse labels)",
        "Flatten forgotten after Conv2D",
        "SimpleRNN with input_shape=(3,)",
        "softmax over one unit",
        "MaxPooling2D after a channels_first Conv2D",
        "Conv2D(32, 3, 3): the third positional is strides",
    }
    assert listed <= set(CASES)


def test_sequence_labels_on_a_sequence_output_are_not_mistaken_for_a_missing_flatten():
    """Dense on (batch, timesteps, features) with one label per step is meant: it trains."""
    model = Sequential([L.Dense(3, activation="softmax", input_shape=(5, 4))])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(np.zeros((6, 5, 4)), np.zeros((6, 5), int), verbose=0)
    assert len(history.history["loss"]) == 1


def test_explicit_layouts_are_trusted():
    """A data_format written out is the learner's decision: no recognizer second-guesses it."""
    model = Sequential(
        [
            L.Conv2D(16, 3, input_shape=(3, 16, 16), data_format="channels_first"),
            L.MaxPooling2D(data_format="channels_last"),
        ]
    )
    assert model.layers[1].data_format == "channels_last"


def test_the_global_data_format_makes_a_keras1_theano_model_agree():
    with config.data_format("channels_first"):
        model = Sequential(
            [
                L.Conv2D(4, 3, input_shape=(1, 12, 12)),
                L.MaxPooling2D(),
                L.BatchNormalization(axis=1),
            ]
        )
    assert model.output_shape == (None, 4, 5, 5)
