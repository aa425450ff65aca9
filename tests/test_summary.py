"""``model.summary()``: Keras' table and totals, plus the algebra column (asserted on content)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu.layers import (
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    Input,
)
from tinygrad_edu.models import Sequential
from model_helpers import issue_cnn


def capture(model, **kwargs) -> list:
    lines: list = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def row(lines, label: str) -> str:
    """The table line of the layer labelled ``label`` (e.g. ``"dense (Dense)"``)."""
    found = [line for line in lines if line.strip().startswith(label)]
    assert len(found) == 1, f"{label!r} not found once in:\n" + "\n".join(lines)
    return found[0]


def totals(lines) -> dict:
    """``{"Total": 693962, "Trainable": ..., "Non-trainable": ...}`` from the summary lines."""
    out = {}
    for line in lines:
        m = re.match(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", line)
        if m:
            out[m.group(1)] = int(m.group(2).replace(",", ""))
    return out


def test_print_fn_receives_every_line_and_the_default_prints_the_same(capsys):
    model = issue_cnn()
    lines = capture(model)
    assert len(lines) > 10 and all("\n" not in line for line in lines)
    model.summary()
    assert capsys.readouterr().out == "\n".join(lines) + "\n"


def test_title_and_keras_columns():
    lines = capture(Sequential([Dense(2, input_shape=(3,))], name="tiny"))
    assert lines[0] == 'Model: "tiny"'
    header = next(line for line in lines if "Layer (type)" in line)
    positions = [header.index(col) for col in ("Layer (type)", "Output Shape", "Param #")]
    assert positions == sorted(positions)
    assert header.index("Param #") < header.index("Algebra")


def test_issue_cnn_rows_shapes_and_counts_with_commas():
    lines = capture(issue_cnn())
    expected = [
        ("conv2d (Conv2D)", "(None, 26, 26, 32)", "320"),
        ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)", "0"),
        ("flatten (Flatten)", "(None, 5408)", "0"),
        ("dense (Dense)", "(None, 128)", "692,352"),
        ("dropout (Dropout)", "(None, 128)", "0"),
        ("dense_1 (Dense)", "(None, 10)", "1,290"),
    ]
    table = [line for line in lines if re.match(r"\s*\w+ \([A-Z]\w*\)", line)]
    assert len(table) == len(expected)
    for line, (label, shape, count) in zip(table, expected):
        assert line.strip().startswith(label)
        rest = line.strip()[len(label) :]
        assert rest.split()[: len(shape.split())] == shape.split()
        assert rest.split()[len(shape.split())] == count
    assert totals(lines) == {"Total": 693_962, "Trainable": 693_962, "Non-trainable": 0}
    assert any(line.startswith("Total params: 693,962") for line in lines)


def test_totals_with_batchnorm_and_a_frozen_layer():
    model = Sequential(
        [Dense(32, input_shape=(784,)), BatchNormalization(), Dense(10, trainable=False)]
    )
    lines = capture(model)
    # dense 25,120 + batchnorm 4*32 (2*32 moving statistics) + frozen dense 330
    assert totals(lines) == {"Total": 25_578, "Trainable": 25_120 + 64, "Non-trainable": 64 + 330}
    assert "128" in row(lines, "batch_normalization (BatchNormalization)").split()
    assert "25,578" in next(line for line in lines if line.startswith("Total params"))


def test_keras_batchnorm_64_totals():
    lines = capture(Sequential([BatchNormalization(input_shape=(64,))]))
    assert totals(lines) == {"Total": 256, "Trainable": 128, "Non-trainable": 128}


def test_dense_algebra():
    line = row(capture(Sequential([Dense(32, input_shape=(784,))])), "dense (Dense)")
    assert "[B,784] @ [784,32] + [32] -> [B,32]" in line
    assert "784*32 + 32" in line and "25,120" in line


def test_lstm_algebra():
    line = row(capture(Sequential([LSTM(300, input_shape=(20, 1))])), "lstm (LSTM)")
    assert "4 gates x (1*300 + 300*300 + 300) = 362,400" in line
    assert "(None, 300)" in line


def test_conv2d_and_flatten_algebra():
    lines = capture(Sequential([Conv2D(32, (3, 3), input_shape=(64, 64, 3)), Flatten()]))
    conv = row(lines, "conv2d (Conv2D)")
    assert "3*3*3*32 + 32" in conv and "896" in conv and "[B,62,62,32]" in conv
    flat = row(lines, "flatten (Flatten)")
    assert "62*62*32 = 123,008" in flat and "(None, 123008)" in flat


def test_show_algebra_false_drops_the_column():
    model = Sequential([Dense(32, input_shape=(784,))])
    with_algebra, without = capture(model), capture(model, show_algebra=False)
    assert any("@" in line for line in with_algebra)
    assert not any("@" in line or "784*32" in line or "Algebra" in line for line in without)
    assert (
        totals(without)
        == totals(with_algebra)
        == {"Total": 25_120, "Trainable": 25_120, "Non-trainable": 0}
    )
    assert "25,120" in row(without, "dense (Dense)")
    assert max(map(len, without)) < max(map(len, with_algebra))


def test_an_unbuilt_model_shows_question_marks_and_how_to_build_it():
    lines = capture(Sequential([Dense(3), Dense(2)]))
    for label in ("dense (Dense)", "dense_1 (Dense)"):
        assert row(lines, label).split()[2:4] == ["?", "?"]
    text = "\n".join(lines)
    assert "Total params: ?" in text
    assert "input_shape" in text and "Input(shape=" in text  # how to build it


def test_summary_after_the_first_call_shows_the_numbers():
    model = Sequential([Dense(3), Dense(2)])
    model.predict(np.zeros((1, 4)))
    lines = capture(model)
    assert "?" not in row(lines, "dense (Dense)")
    assert totals(lines)["Total"] == 4 * 3 + 3 + 3 * 2 + 2


def test_input_layer_is_not_a_row():
    lines = capture(Sequential([Input(shape=(784,)), Dense(32)]))
    assert not any("InputLayer" in line for line in lines)
    assert totals(lines)["Total"] == 25_120


@pytest.mark.parametrize("show_algebra", [True, False])
def test_rule_lines_span_the_table(show_algebra):
    lines = capture(issue_cnn(), show_algebra=show_algebra)
    rules = [line for line in lines if line and set(line) <= {"_", "="}]
    assert len(rules) >= 4 and len({len(r) for r in rules}) == 1
    table = [line for line in lines if re.match(r"\s*\w+ \([A-Z]\w*\)", line)]
    assert max(map(len, table)) <= len(rules[0])


# ---------------------------------------------------------------------- without weight storage
def test_a_summary_with_weight_placeholders_is_the_same_text():
    from tinygrad_edu.summary import render, weights_without_storage

    def layers():
        return [
            Conv2D(8, 3, activation="relu", input_shape=(12, 12, 2)),
            BatchNormalization(),
            Flatten(),
            Dense(5),
        ]

    real = Sequential(layers())
    placeholders = layers()
    with weights_without_storage(placeholders):
        described = Sequential(placeholders)
    assert render(described) == render(real)
    assert all(w.data.strides == (0,) * w.data.ndim for w in described.weights)
    assert "add_weight" not in vars(placeholders[0])  # the layers are left as they were


def test_sizes_are_shown_up_to_exabytes():
    from tinygrad_edu.summary import _bytes

    assert _bytes(10**12 // 4) == "931.32 GB"
    assert _bytes(10**12) == "3.64 TB"
    assert _bytes(10**18) == "3.47 EB"


@pytest.mark.parametrize(
    "kwargs",
    [{"print_fn": "stdout"}, {"line_length": 0}, {"line_length": "wide"}, {"show_algebra": "no"}],
)
def test_summary_options_are_checked(kwargs):
    from tinygrad_edu.errors import ConfigError

    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ConfigError) as err:
        model.summary(**kwargs)
    assert err.value.fix
