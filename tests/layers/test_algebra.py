"""``layer.algebra()``: the structure every layer returns tells the truth about the layer.

For every layer family: the structure's input/output shapes are the layer's, its weight operands
are the layer's real weights (factors in order), its count formula adds up to ``count_params()``,
each ``@`` joins matching sizes, and ``text(batch=n)`` shows the shapes of a real forward pass of
batch ``n`` with no ``B`` left. Then the renderers: the summary prints ``text()``/``count_text()``,
``explain`` prints ``text(batch)`` framed by the measured shapes, and bad input is refused.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, activations
from tinygrad_edu import layers as L
from tinygrad_edu.explain import trace
from tinygrad_edu.layers.algebra import Algebra, Count, Operand, algebra_of, shape_map
from tinygrad_edu.models import Sequential

UNITS = st.integers(1, 64)
BATCH = st.integers(1, 5)


def brackets(shape) -> str:
    return "[" + ",".join(map(str, shape)) + "]"


def real_weight_shapes(layer, algebra) -> list:
    """(operand factors, the real weight's shape) for each weight operand the algebra shows; a
    GRU's two bias operands are the two rows of its one ``bias`` weight."""
    pairs = []
    biases = [op for op in algebra.weights if op.role in ("bias", "recurrent_bias")]
    for op in algebra.weights:
        if op.role == "recurrent_bias":
            continue
        weight = getattr(layer, op.role)
        factors = op.factors()
        if op.role == "bias" and len(biases) == 2:
            factors = (2, *factors)
        pairs.append((factors, tuple(weight.shape)))
    return pairs


def check_algebra(layer, input_shape, batch):
    """Every claim of ``layer.algebra()`` against the built layer and a real forward pass."""
    layer.build_for((None, *input_shape))
    algebra = layer.algebra()
    assert isinstance(algebra, Algebra)
    assert algebra.input == layer.input_shape and algebra.output == layer.output_shape
    assert algebra.count.total == layer.count_params()
    for factors, real in real_weight_shapes(layer, algebra):
        assert factors == real
    if algebra.weights:  # what the expression shows is every parameter the layer trains
        shown = sum(math.prod(op.factors()) for op in algebra.weights)
        assert shown == sum(w.size for w in layer.trainable_weights)
    pieces = algebra.expression
    for left, at, right in zip(pieces, pieces[1:], pieces[2:]):
        if at == " @ ":  # a matrix product: the inner sizes meet
            assert left.sizes(batch)[-1] == right.sizes(batch)[0], algebra.text()
    x = np.random.default_rng(0).standard_normal((batch, *input_shape))
    out = layer(x, training=False)
    out_shape = tuple((out[0] if isinstance(out, list) else out).shape)
    text = algebra.text(batch=batch)
    assert not re.search(r"\bB\b", text) and "?" not in text
    assert algebra.shown_input(batch) in (None, x.shape)
    assert algebra.shown_output(batch) in (None, out_shape)
    if algebra.operands and not any(op.role == "result" for op in algebra.operands):
        assert brackets(out_shape) in text  # (a "result" stands before a shape-changing activation)
    return algebra, out_shape


@settings(max_examples=20, deadline=None)
@given(units=UNITS, features=UNITS, use_bias=st.booleans(), batch=BATCH, seq=st.booleans())
def test_dense(units, features, use_bias, batch, seq):
    shape = (3, features) if seq else (features,)
    layer = L.Dense(units, use_bias=use_bias, activation="relu")
    algebra, out_shape = check_algebra(layer, shape, batch)
    assert [op.role for op in algebra.operands] == ["input", "kernel"] + ["bias"] * use_bias + [
        "output"
    ]
    assert algebra.activation == "relu"
    rows = math.prod(algebra.operands[0].sizes(batch)[:-1])
    assert rows * units == math.prod(out_shape)  # x @ W gives every output value


@settings(max_examples=15, deadline=None)
@given(
    filters=st.integers(1, 16),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same"]),
    use_bias=st.booleans(),
    channels_first=st.booleans(),
    batch=BATCH,
)
def test_conv2d(filters, kernel, stride, padding, use_bias, channels_first, batch):
    layer = L.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        use_bias=use_bias,
        data_format="channels_first" if channels_first else "channels_last",
    )
    shape = (2, 6, 5) if channels_first else (6, 5, 2)
    algebra, out_shape = check_algebra(layer, shape, batch)
    patches, kernel_op = algebra.operands[:2]
    assert (patches.role, kernel_op.role) == ("patches", "kernel")
    rows, cols = patches.sizes(batch)
    assert rows * filters == math.prod(out_shape)  # one row of patches per output pixel
    assert cols == math.prod(kernel) * 2 and algebra.text().startswith("im2col [B*")


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize(
    "cls, kwargs",
    [(L.SimpleRNN, {}), (L.LSTM, {}), (L.GRU, {}), (L.GRU, {"reset_after": False})],
)
@settings(max_examples=5, deadline=None)
@given(units=UNITS, features=st.integers(1, 8), return_sequences=st.booleans(), batch=BATCH)
def test_recurrent(cls, kwargs, use_bias, units, features, return_sequences, batch):
    layer = cls(units, use_bias=use_bias, return_sequences=return_sequences, **kwargs)
    algebra, _ = check_algebra(layer, (4, features), batch)
    gates = len(layer.gate_names)
    assert algebra.count.gates == gates
    assert [op.role for op in algebra.weights][:2] == ["kernel", "recurrent_kernel"]
    assert algebra.text(batch).startswith(f"per step: [{batch},{features}] @ ")
    assert "; 4 steps -> " in algebra.text()


def test_recurrent_with_states_shows_the_output_and_counts_every_weight():
    layer = L.LSTM(5, return_state=True)
    algebra, _ = check_algebra(layer, (3, 2), 2)
    assert list(algebra.output) == [(None, 5)] * 3  # the layer's three outputs
    assert algebra.text().endswith("; 3 steps -> [B,5]")


@pytest.mark.parametrize(
    "make, shape, text",
    [
        (lambda: L.Flatten(), (6, 5, 2), "[B,6,5,2] -> [B,60]; 6*5*2 = 60"),
        (lambda: L.Reshape((5, -1)), (6, 5, 2), "[B,6,5,2] -> [B,5,12]"),
        (
            lambda: L.MaxPooling2D(),
            (6, 5, 2),
            "max over 2x2 windows, stride 2x2: [B,6,5,2] -> [B,3,2,2]",
        ),
        (lambda: L.GlobalAveragePooling2D(), (6, 5, 2), "mean over H, W: [B,6,5,2] -> [B,2]"),
        (lambda: L.Activation("tanh"), (3,), "[B,3] -> [B,3]; tanh"),
        (lambda: L.Dropout(0.5), (3,), "x * mask/0.5 (training) | x (inference)"),
        (
            lambda: L.BatchNormalization(),
            (4, 3),
            "[B,4,3] -> [B,4,3]; gamma*(x-mean)/sqrt(var+eps)+beta",
        ),
        (
            lambda: L.BatchNormalization(scale=False, center=False),
            (3,),
            "[B,3] -> [B,3]; (x-mean)/sqrt(var+eps)",
        ),
        (lambda: L.InputLayer(shape=(3,)), (3,), "[B,3] -> [B,3]"),
    ],
)
def test_layers_without_matrix_products(make, shape, text):
    algebra, _ = check_algebra(make(), shape, 2)
    assert algebra.text() == text and not algebra.weights


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: L.Conv1D(4, 3, padding="causal", activation="relu"), (7, 2)),
        (lambda: L.Conv1D(1, 2, strides=2, use_bias=False, data_format="channels_first"), (3, 7)),
        (lambda: L.MaxPooling1D(2), (7, 3)),
        (lambda: L.AveragePooling1D(3, strides=1, padding="same"), (7, 3)),
        (lambda: L.GlobalAveragePooling1D(keepdims=True), (7, 3)),
        (lambda: L.LayerNormalization(), (4, 3)),
        (lambda: L.ZeroPadding2D(((0, 1), (2, 0))), (3, 4, 2)),
        (lambda: L.UpSampling2D((2, 3)), (3, 4, 2)),
    ],
)
def test_issue14_layers(make, shape):
    algebra, out_shape = check_algebra(make(), shape, 3)
    assert algebra.text(batch=3).endswith(brackets(out_shape)) or "; " in algebra.text()


def test_batchnorm_counts_its_moving_statistics_as_non_trainable():
    algebra, _ = check_algebra(L.BatchNormalization(), (7,), 2)
    assert algebra.count == Count(((4, 7),), non_trainable=14)
    assert algebra.count_text() == "4*7 = 28 (14 non-trainable)"


@pytest.mark.skipif(not hasattr(activations, "glu"), reason="no glu activation")
def test_an_activation_that_changes_the_shape_follows_the_product_it_applies_to():
    layer = L.Dense(8, activation="glu")  # glu halves the last axis: 8 products -> 4 outputs
    algebra, out_shape = check_algebra(layer, (4,), 2)
    assert algebra.text() == "[B,4] @ [4,8] + [8] -> [B,8]; glu" and algebra.output == (None, 4)
    row = trace(layer, np.zeros((2, 4)), print_fn=None)[0]
    assert out_shape == (2, 4) and row["operation"] == "[2,4] @ [4,8] + [8] -> [2,8]; glu -> [2,4]"


def test_unknown_sizes_print_as_a_question_mark_never_as_the_batch():
    dense = L.Dense(6, activation="softmax")
    dense.build_for((None, None, 5))
    assert dense.algebra().text(batch=4) == "[4,?,5] @ [5,6] + [6] -> [4,?,6]; softmax"
    conv = L.Conv2D(4, 2)
    conv.build_for((None, None, None, 3))
    assert conv.algebra().text() == "im2col [B*?*?, 2*2*3] @ [2*2*3, 4] + [4] -> [B,?,?,4]"


# ---------------------------------------------------------------- a layer's own algebra
class Scale(L.Layer):
    """out = x * alpha, no algebra() of its own: Layer's default describes it."""

    def build(self, input_shape):
        self.alpha = self.add_weight("alpha", (input_shape[-1],), "ones")

    def call(self, x, training=False):
        return x * self.alpha


def test_the_default_algebra_counts_every_weight():
    algebra, _ = check_algebra(Scale(), (5,), 3)
    assert algebra.text() == "[B,5] -> [B,5]" and algebra.count_text() == "5 = 5"


def test_a_custom_expression_renders_its_pieces():
    x, w = Operand("input", (None, 4)), Operand("kernel", (4, 7))
    out = Operand("output", (None, 7))
    algebra = Algebra((None, 4), (None, 7), ("tanh(", x, " @ ", w, ") -> ", out), count=Count.of(w))
    assert algebra.text(batch=2) == "tanh([2,4] @ [4,7]) -> [2,7]"
    assert algebra.count_text() == "4*7 = 28" and algebra.weights == (w,)
    assert algebra.shown_input(2) == (2, 4) and algebra.shown_output(2) == (2, 7)


# ---------------------------------------------------------------- the renderers
def test_summary_and_trace_render_the_structure():
    model = Sequential(
        [
            L.Conv2D(3, 3, activation="relu", input_shape=(8, 8, 1)),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(2),
        ]
    )
    lines: list = []
    model.summary(print_fn=lines.append)
    rows = trace(model, np.zeros((4, 8, 8, 1)), print_fn=None)
    for layer, row in zip(model.layers, rows):
        algebra = layer.algebra()
        line = next(t for t in lines if t.strip().startswith(f"{layer.name} ("))
        assert algebra.text() in line and algebra.count_text() in line
        assert algebra.text(batch=4) in row["operation"]
    assert rows[0]["operation"].startswith("[4,8,8,1] -> im2col [4*6*6, 3*3*1]")
    assert rows[0]["operation"].endswith("; relu -> [4,6,6,3]")
    assert rows[3]["operation"] == "[4,27] -> x * mask/0.5 (training) | x (inference) -> [4,27]"
    assert rows[4]["operation"] == "[4,27] @ [27,2] + [2] -> [4,2]"


class OldStyle(L.Layer):
    def call(self, x, training=False):
        return x

    def algebra(self):
        return ("[B,3] -> [B,3]", "0")  # the strings of an older version


def test_a_layer_whose_algebra_is_not_an_algebra_gets_a_teaching_error():
    model = Sequential([OldStyle(input_shape=(3,))])
    with pytest.raises(ConfigError) as err:
        model.summary(print_fn=lambda line: None)
    assert "OldStyle.algebra()" in err.value.where and "shape_map(" in err.value.fix
    with pytest.raises(ConfigError):
        trace(model, np.zeros((2, 3)), print_fn=None)
    dense = L.Dense(2)
    dense.build_for((None, 3))
    assert algebra_of(dense) == dense.algebra()


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.text(batch="32"),
        lambda a: a.text(batch=-1),
        lambda a: a.text(batch=2.0),
        lambda a: Operand("kernel", "784x32"),
        lambda a: Operand("kernel", (784, -1)),
        lambda a: Operand(3, (784,)),
        lambda a: Algebra((None, 3), (None, 3), "[B,3] -> [B,3]"),
        lambda a: Algebra((None, 3), (None, 3), ([None, 3],)),
    ],
)
def test_bad_arguments_are_refused(call):
    algebra = shape_map((None, 3), (None, 3))
    with pytest.raises(ConfigError) as err:
        call(algebra)
    assert err.value.fix
