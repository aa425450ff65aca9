"""``python -m tinygrad_edu explain`` on what learners paste: whole Keras tutorial scripts, bare
layer lists, single layers, TensorFlow spellings, and functional-API snippets (refused with a
message saying so - never a wrong fix). The text is read, never run."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tinygrad_edu.cli.common import FunctionalModelError
from tinygrad_edu.cli.main import main
from tinygrad_edu.cli.parse import ModelTextError, parse_model_text, read_model_text
from tinygrad_edu.regularizers import L2

ROOT = str(Path(__file__).resolve().parents[1])


def explain(text, *options):
    """(exit code, the summary lines, the other lines) of ``explain`` in process."""
    lines = []
    code = main(["explain", *options, "--", textwrap.dedent(text)], print_fn=lines.append)
    notes = [line for line in lines if re.match(r"(note|rejected|\w+Warning):", line)]
    return code, "\n".join(line for line in lines if line not in notes), "\n".join(notes)


ROW = re.compile(r"^ (\w+) \((\w+)\)\s+\(.*?\)\s+([\d,]+) ")


def params(summary):
    """{layer name: parameter count} from the printed summary's rows."""
    rows = (ROW.match(line) for line in summary.splitlines())
    return {m.group(1): int(m.group(3).replace(",", "")) for m in rows if m}


# the classic keras/examples/mnist_mlp.py, as learners paste it
MNIST_MLP = """
    '''Trains a simple deep NN on the MNIST dataset.'''
    from __future__ import print_function

    import keras
    from keras.datasets import mnist
    from keras.models import Sequential
    from keras.layers import Dense, Dropout
    from keras.optimizers import RMSprop

    batch_size = 128
    num_classes = 10
    epochs = 20

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(60000, 784)
    x_train = x_train.astype('float32')
    x_train /= 255
    print(x_train.shape[0], 'train samples')
    y_train = keras.utils.to_categorical(y_train, num_classes)

    model = Sequential()
    model.add(Dense(512, activation='relu', input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation='relu'))
    model.add(Dropout(0.2))
    model.add(Dense(num_classes, activation='softmax'))

    model.summary()

    model.compile(loss='categorical_crossentropy',
                  optimizer=RMSprop(),
                  metrics=['accuracy'])

    history = model.fit(x_train, y_train,
                        batch_size=batch_size,
                        epochs=epochs,
                        verbose=1,
                        validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print('Test loss:', score[0])
"""


def test_a_whole_keras_tutorial_script_gives_its_summary_and_one_note():
    code, summary, notes = explain(MNIST_MLP)
    assert code == 0, notes
    assert params(summary) == {
        "dense": 401_920,
        "dropout": 0,
        "dense_1": 262_656,
        "dropout_1": 0,
        "dense_2": 5_130,
    }
    assert "Total params: 669,706" in summary  # Keras prints the same total
    assert "[B,512] @ [512,10] + [10] -> [B,10]; softmax" in summary
    assert notes == (
        "note: read only the model definition; skipped: imports (lines 2, 4-8), "
        "other code (lines 14-17, 19), print (lines 18, 40), model.summary (line 28), "
        "model.compile (line 30), model.fit (line 34), model.evaluate (line 39)"
    )


# keras/examples/mnist_cnn.py: the input shape comes from an if statement explain cannot run
MNIST_CNN = """
    import keras
    from keras.models import Sequential
    from keras.layers import Dense, Dropout, Flatten, Conv2D, MaxPooling2D
    from keras import backend as K

    num_classes = 10
    img_rows, img_cols = 28, 28
    if K.image_data_format() == 'channels_first':
        input_shape = (1, img_rows, img_cols)
    else:
        input_shape = (img_rows, img_cols, 1)

    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
    model.add(Conv2D(64, (3, 3), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation='relu'))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation='softmax'))
    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(), metrics=['accuracy'])
"""


def test_a_value_computed_by_code_is_refused_with_the_line_that_computes_it():
    code, _, notes = explain(MNIST_CNN)
    assert code == 2
    assert "`input_shape` (a name whose value code on line 8 computes" in notes
    assert (
        "Fix: write the value itself in place of `input_shape`, e.g. input_shape=(28, 28, 1)"
        in notes
    )
    # the fix, applied: the script explains, with Keras' parameter counts
    fixed = MNIST_CNN.replace("input_shape=input_shape", "input_shape=(28, 28, 1)")
    code, summary, notes = explain(fixed)
    assert code == 0, notes
    assert list(params(summary).values()) == [320, 18_496, 0, 0, 0, 1_179_776, 0, 1_290]
    assert "Total params: 1,199,882" in summary
    assert "other code (line 8)" in notes and "model.compile (line 22)" in notes


# the Keras 3 "simple MNIST convnet" example: keras.Input in the list, layers.* spellings
MNIST_CONVNET = """
    import numpy as np
    import keras
    from keras import layers

    num_classes = 10
    input_shape = (28, 28, 1)
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.summary()
    batch_size = 128
    epochs = 15
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)
"""


def test_the_keras_3_convnet_example():
    code, summary, notes = explain(MNIST_CONVNET)
    assert code == 0, notes
    assert "Total params: 34,826" in summary  # as in the Keras example's own output
    assert "im2col [B*26*26, 3*3*1]" in summary
    assert notes == (
        "note: read only the model definition; skipped: imports (lines 1-3), "
        "model.summary (line 19), model.compile (line 22), model.fit (line 23)"
    )


@pytest.mark.parametrize(
    "text, wrapped",
    [
        ("Dense(32, input_shape=(784,))", "Dense(32, input_shape=(784,))"),
        ("layer = layers.Dense(32, input_shape=(784,))", "layers.Dense(32, input_shape=(784,))"),
    ],
)
def test_a_single_layer_is_explained_as_a_model_of_it(text, wrapped):
    code, summary, notes = explain(text)
    assert code == 0, notes
    assert params(summary) == {"dense": 25_120}
    assert notes == f"note: explained as Sequential([{wrapped}])"


def test_a_bare_layer_list_needs_no_note():
    code, summary, notes = explain("[Dense(32, input_shape=(784,)), Dense(10)]")
    assert code == 0 and notes == ""
    assert params(summary) == {"dense": 25_120, "dense_1": 330}


def test_two_loose_layers_get_the_model_that_holds_them():
    code, _, notes = explain("Dense(32, input_shape=(784,))\nDense(10)")
    assert code == 2
    fix = "Sequential([Dense(32, input_shape=(784,)), Dense(10)])"
    assert f"Fix: put the layers in one model: {fix}" in notes
    assert explain(fix)[0] == 0


@pytest.mark.parametrize(
    "text",
    [
        "Dense(4, activation=tf.nn.relu, input_shape=(3,))",
        "tf.keras.layers.Dense(4, activation=tf.keras.activations.relu, input_shape=(3,))",
        "keras.layers.Dense(4, activation=keras.activations.relu, input_shape=(3,))",
        "layers.Dense(4, activation=activations.relu, input_shape=(3,))",
        "import tensorflow as tf\ntf.keras.layers.Dense(4, activation=tf.nn.relu, input_shape=(3,))",
        "from tensorflow.keras import layers as L\nL.Dense(4, activation=tf.nn.relu, input_shape=(3,))",
        "from keras.activations import relu\nDense(4, activation=relu, input_shape=(3,))",
        "from tensorflow.keras.layers import Dense as D\nD(4, activation='relu', input_shape=(3,))",
        "[Dense(4, input_shape=(3,)), Activation(tf.nn.relu)]",
    ],
)
def test_tensorflow_and_keras_references_map_to_our_names(text):
    code, summary, notes = explain(text)
    assert code == 0, notes
    assert "relu" in summary and sum(params(summary).values()) == 16


def test_regularizers_and_initializers_are_made_from_literal_arguments():
    (spec,) = parse_model_text(
        "Dense(3, kernel_regularizer=regularizers.l2(0.01), "
        "kernel_initializer=keras.initializers.he_normal(seed=1), input_shape=(2,))"
    )
    kwargs = spec[2]
    assert isinstance(kwargs["kernel_regularizer"], L2) and kwargs["kernel_regularizer"].l2 == 0.01
    assert type(kwargs["kernel_initializer"]).__name__ == "HeNormal"
    assert kwargs["kernel_initializer"].seed == 1


def test_model_build_gives_the_input_shape():
    text = (
        "model = keras.Sequential([layers.Dense(64), layers.Dense(10)])\nmodel.build((None, 784))"
    )
    assert read_model_text(text).input_shape == (784,)
    code, summary, _ = explain(text)
    assert code == 0 and params(summary) == {"dense": 50_240, "dense_1": 650}


def test_keras_1_code_is_explained_with_its_warnings_as_lines_of_the_command():
    code, summary, notes = explain(
        """
        from keras.layers import Convolution2D, Activation
        model = Sequential()
        model.add(Convolution2D(32, 3, 3, border_mode='valid', input_shape=(28, 28, 1)))
        model.add(Activation('relu'))
        """
    )
    assert code == 0, notes
    assert params(summary) == {"conv2d": 320, "activation": 0}
    assert "(None, 26, 26, 32)" in summary  # a 3x3 kernel, not strides=3
    lines = notes.splitlines()
    assert lines[0] == "note: read only the model definition; skipped: imports (line 1)"
    assert all(line.startswith("KerasLegacyWarning: ") for line in lines[1:]) and lines[1:]
    assert "Conv2D(32, (3, 3), padding='valid', input_shape=(28, 28, 1))" in notes


# ---------------------------------------------------------------------- the functional API
FUNCTIONAL_CHAIN = """
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    model.summary()
"""


def test_a_functional_chain_is_refused_and_given_as_the_same_sequential_model():
    code, _, notes = explain(FUNCTIONAL_CHAIN)
    assert code == 2
    assert "the Keras functional API" in notes and "tinygrad_edu does not have yet" in notes
    rewrite = notes.split("the same as the Sequential model ")[1]
    assert rewrite == (
        'model = Sequential([keras.Input(shape=(784,)), layers.Dense(64, activation="relu"), '
        'layers.Dense(64, activation="relu"), layers.Dense(10)])'
    )
    code, summary, _ = explain(rewrite)  # the fix runs, and it is the same model
    assert code == 0 and sum(params(summary).values()) == 55_050  # Keras' mnist_model


@pytest.mark.parametrize(
    "text",
    [
        """
        a = Input(shape=(32,))
        b = Input(shape=(16,))
        x = concatenate([Dense(8)(a), Dense(8)(b)])
        model = Model(inputs=[a, b], outputs=Dense(1)(x))
        """,
        """
        inputs = Input(shape=(8,))
        x = Dense(4)(inputs)
        y = Dense(4)(inputs)
        model = Model(inputs, [x, y])
        """,
        "outputs = Dense(10)(Dense(64)(Input(shape=(784,))))",
        """
        inputs = Input(shape=(8,))
        x = Dense(8)(inputs)
        skip = Dense(8)(inputs)
        x = concatenate([x, skip])
        outputs = Dense(1)(x)
        model = Model(inputs=inputs, outputs=outputs)
        """,
    ],
)
def test_a_functional_model_that_is_not_a_chain_gets_no_rewrite(text):
    with pytest.raises(FunctionalModelError) as err:
        read_model_text(textwrap.dedent(text))
    assert "does not have yet" in err.value.got and "model = Sequential(" not in err.value.fix
    assert err.value.fix.startswith("no rewrite: the model branches")


def test_a_subclassed_model_is_refused_as_such():
    text = "class MyModel(keras.Model):\n    def __init__(self):\n        self.d = Dense(3)"
    with pytest.raises(FunctionalModelError) as err:
        read_model_text(text)
    assert "class MyModel" in err.value.got and "never runs code" in err.value.got


# ---------------------------------------------------------------------- what stays refused
@pytest.mark.parametrize(
    "text, rejected",
    [
        (
            "model = Sequential([Dense(2, input_shape=(3,))])\nmodel.layers[0].trainable = False",
            "an assignment using the model",
        ),
        ("model = Sequential()\nfor u in (64, 32):\n    model.add(Dense(u))", "a loop"),
        ("for u in (64, 32):\n    print(Dense(u))", "a loop making layers"),
        ("Dense(units=tf.nn.relu)", "the activation function `tf.nn.relu` where no activation"),
        ("Dense(3, activation=tf.nn.crelu)", "attribute access"),
        ("Dense(3, kernel_regularizer=my_l2(0.01))", "not a layer class, regularizer or init"),
        ("import os\nx = 3", "no model in the text"),
    ],
)
def test_code_explain_cannot_follow_is_refused(text, rejected):
    with pytest.raises(ModelTextError) as err:
        read_model_text(text)
    assert rejected in err.value.got and err.value.fix


def test_skipped_code_is_never_run(tmp_path):
    """Lines that would write a file and start a process are skipped, not run."""
    marker = tmp_path / "ran"
    text = (
        f"import os\nopen({str(marker)!r}, 'w').write('x')\n"
        f"os.system('touch {marker}')\n__import__('os').system('touch {marker}')\n"
        "model = Sequential([Dense(2, input_shape=(3,))])\nprint(model.summary())"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "explain", text],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert done.stdout.startswith("Model:")  # the note goes to stderr, beside the summary
    assert done.stderr.strip() == (
        "note: read only the model definition; skipped: imports (line 1), "
        "other code (lines 2-4), print (line 6)"
    )


# the Keras 1 "baseline CNN" of the classic MNIST tutorials: Theano ordering set once for the
# script, the model built inside a function
THEANO_TUTORIAL = """
import numpy
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten
from keras.layers.convolutional import Convolution2D, MaxPooling2D
from keras import backend as K
K.set_image_dim_ordering('th')
def baseline_model():
    model = Sequential()
    model.add(Convolution2D(32, 5, 5, border_mode='valid', input_shape=(1, 28, 28), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.2))
    model.add(Flatten())
    model.add(Dense(128, activation='relu'))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    return model
model = baseline_model()
"""


def test_a_keras1_tutorial_with_theano_ordering_and_a_model_function():
    code, summary, notes = explain(THEANO_TUTORIAL, "--batch", "2")
    assert code == 0, notes
    # Keras' own counts for this model: 832 + 589,952 + 1,290
    assert "Total params: 592,074" in summary
    assert "(None, 32, 24, 24)" in summary and "(None, 4608)" in summary  # channels first
    assert "the image layout setting (read: channels_first) (line 6)" in notes
    assert "def baseline_model() (its body read as the model) (line 7)" in notes
    assert "baseline_model() (read above) (line 17)" in notes
    assert "KerasLegacyWarning" in notes and "Conv2D(32, (5, 5)" in notes


@pytest.mark.parametrize(
    "setter, layout",
    [
        ("K.set_image_data_format('channels_first')", "(None, 4, 6, 6)"),
        ("K.set_image_dim_ordering('tf')", "(None, 6, 6, 4)"),
        ("tf.keras.backend.set_image_data_format('channels_last')", "(None, 6, 6, 4)"),
    ],
)
def test_the_script_image_layout_setting_is_the_layers_default(setter, layout):
    shape = "(3, 8, 8)" if "first" in setter else "(8, 8, 3)"
    code, summary, notes = explain(f"{setter}\nConv2D(4, (3, 3), input_shape={shape})")
    assert code == 0, notes
    assert layout in summary


def test_a_model_function_with_parameters_is_not_followed():
    text = "def make(units):\n    return Sequential([Dense(units)])\nmodel = make(3)\n"
    code, _, notes = explain(text)
    assert code != 0 and "rejected" in notes
