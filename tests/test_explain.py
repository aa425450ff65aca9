"""``tinygrad_edu.explain``: the shape trace matches the real shapes, the DOT export is a
well-formed graph, and ``render`` either draws or says how to get Graphviz."""

import os
import re
import stat
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ConfigError, ShapeError, Tensor
from tinygrad_edu import layers as L
from tinygrad_edu.explain import ShapeMismatchWarning, dot, graph, render, trace
from tinygrad_edu.models import Sequential

KEYS = {"layer", "type", "input_shape", "output_shape", "operation", "params"}


def brackets(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


# ====================================================================== trace
@settings(max_examples=15, deadline=None)
@given(
    features=st.integers(1, 12),
    batch=st.integers(1, 9),
    stack=st.lists(
        st.tuples(st.integers(1, 24), st.sampled_from([None, "relu", "tanh", "softmax"])),
        min_size=1,
        max_size=4,
    ),
)
def test_trace_of_dense_stacks_matches_real_shapes(features, batch, stack):
    model = Sequential([L.Dense(u, activation=a) for u, a in stack])
    model.build((None, features))
    x = np.random.default_rng(0).standard_normal((batch, features))
    lines = []
    rows = trace(model, x, print_fn=lines.append)
    real = model.activations(x)
    assert len(rows) == len(stack)
    prev = (batch, features)
    for row, (units, act), layer in zip(rows, stack, model.layers):
        assert KEYS <= set(row)
        assert row["layer"] == layer.name and row["type"] == "Dense"
        assert row["input_shape"] == prev
        assert row["output_shape"] == real[layer.name].shape == (batch, units)
        assert row["shape_ok"] and row["expected_shape"] == (batch, units)
        assert row["params"] == prev[-1] * units + units
        op = row["operation"]
        assert op.startswith(f"{brackets(prev)} @ [{prev[-1]},{units}] + [{units}] -> ")
        assert op.endswith(brackets((batch, units)))
        assert not re.search(r"\bB\b", op)  # every batch symbol replaced
        if act is not None and act != "linear":
            assert f"; {act} -> {brackets((batch, units))}" in op
        assert f"{layer.name}: {op}" in lines
        prev = (batch, units)
    assert sum(r["params"] for r in rows) == model.count_params()
    assert lines[-1] == f"output: {brackets(prev)}"


def test_trace_of_a_cnn_shows_im2col_with_the_real_batch():
    Conv2D, MaxPooling2D, Flatten, Dense = L.Conv2D, L.MaxPooling2D, L.Flatten, L.Dense
    model = Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(),
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )
    rows = trace(model, np.zeros((32, 28, 28, 1)), print_fn=None)
    assert [r["output_shape"] for r in rows] == [
        (32, 26, 26, 32),
        (32, 13, 13, 32),
        (32, 5408),
        (32, 10),
    ]
    assert [r["input_shape"] for r in rows][0] == (32, 28, 28, 1)
    assert [r["params"] for r in rows] == [320, 0, 0, 54090]
    assert rows[0]["operation"] == (
        "[32,28,28,1] -> im2col [32*26*26, 3*3*1] @ [3*3*1, 32] + [32] -> [32,26,26,32]; relu"
        " -> [32,26,26,32]"
    )
    assert rows[1]["operation"].endswith("[32,26,26,32] -> [32,13,13,32]")
    assert rows[2]["operation"].startswith("[32,13,13,32] -> [32,5408]")
    assert rows[3]["operation"] == "[32,5408] @ [5408,10] + [10] -> [32,10]; softmax -> [32,10]"
    assert all(r["shape_ok"] for r in rows)


@pytest.mark.parametrize("cls_name, gates", [("LSTM", 4), ("SimpleRNN", 1), ("GRU", 3)])
def test_trace_of_recurrent_models_per_step(cls_name, gates):
    cls, dense = getattr(L, cls_name), L.Dense
    model = Sequential([cls(30, input_shape=(20, 1)), dense(20)])
    rows = trace(model, np.zeros((5, 20, 1)), print_fn=None)
    g = gates * 30
    assert f"per step: [5,1] @ [1,{g}] + [5,30] @ [30,{g}]" in rows[0]["operation"]
    assert rows[0]["operation"].endswith("20 steps -> [5,30]")
    assert rows[0]["input_shape"] == (5, 20, 1)
    assert [r["output_shape"] for r in rows] == [(5, 30), (5, 20)]


def test_model_explain_delegates_to_trace():
    model = Sequential([L.Dense(3, input_shape=(4,)), L.Dropout(0.25)])
    lines = []
    rows = model.explain(np.ones((2, 4)), print_fn=lines.append)
    assert rows[1]["operation"] == "[2,3] -> x * mask/0.75 (training) | x (inference) -> [2,3]"
    assert "inference mode" in lines[0] and "batch of 2" in lines[0]
    rows = trace(model, np.ones((2, 4)), print_fn=None, training=True)  # dropout runs
    assert rows[1]["output_shape"] == (2, 3)


def test_trace_gives_the_teaching_errors_for_bad_inputs():
    model = Sequential([L.Dense(32, input_shape=(784,)), L.Dense(10)])
    with pytest.raises(ShapeError) as err:
        trace(model, np.zeros(784), print_fn=None)  # one sample, no batch axis
    assert err.value.fix and "batch" in err.value.fix
    with pytest.raises(ShapeError) as err:
        trace(model, np.zeros((2, 23)), print_fn=None)  # wrong feature count
    assert "784" in err.value.expected
    with pytest.raises(Exception) as err:
        trace(model, np.array([["a", "b"]]), print_fn=None)
    assert err.value.fix


def test_trace_flags_a_layer_whose_compute_output_shape_lies():
    class Liar(L.Layer):
        def call(self, x, training=False):
            return x.reshape(x.shape[0], -1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 7)

    model = Sequential([Liar(input_shape=(2, 3))])
    lines = []
    with pytest.warns(ShapeMismatchWarning, match="SHAPE MISMATCH"):
        rows = trace(model, np.zeros((4, 2, 3)), print_fn=lines.append)
    assert rows[0]["shape_ok"] is False
    assert rows[0]["output_shape"] == (4, 6) and rows[0]["expected_shape"] == (4, 7)
    assert any(line.startswith("!!! SHAPE MISMATCH") for line in lines)


def test_trace_records_no_graph():
    model = Sequential([L.Dense(3, input_shape=(4,))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace(model, np.ones((2, 4)), print_fn=None)
    assert all(w.grad is None for w in model.weights)


def test_trace_frames_the_algebra_with_the_measured_shapes_only_where_it_does_not_show_them():
    lstm = L.LSTM(4, return_state=True)  # several outputs: all named at the end
    row = trace(lstm, np.zeros((5, 3, 2)), print_fn=None)[0]
    assert row["operation"].startswith("[5,3,2] -> per step: [5,2] @ [2,16]")
    assert row["operation"].endswith("; 3 steps -> [5,4] -> [5,4], [5,4], [5,4]")
    # an unknown time axis stays "?" in the algebra, and the measured shapes frame it
    dense = Sequential([L.Dense(6, input_shape=(None, 5))])
    row = trace(dense, np.zeros((2, 7, 5)), print_fn=None)[0]
    assert row["operation"] == "[2,7,5] -> [2,?,5] @ [5,6] + [6] -> [2,?,6] -> [2,7,6]"


# ====================================================================== graph
def strip_strings(dot):
    """The DOT text with every double-quoted string emptied (escapes honoured)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', dot)


def check_dot(dot):
    """Balanced braces/brackets outside strings; every edge joins declared nodes. -> nodes"""
    body = strip_strings(dot)
    for open_, close in ("{}", "[]"):
        depth = 0
        for ch in body:
            depth += (ch == open_) - (ch == close)
            assert depth >= 0
        assert depth == 0
    assert body.lstrip().startswith("digraph") and body.rstrip().endswith("}")
    nodes = set(re.findall(r"^\s*(\w+) \[label=", body, flags=re.M)) - {"node"}
    edges = re.findall(r"^\s*(\w+) -> (\w+)", body, flags=re.M)
    assert edges
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges


def small_graph():
    x = Tensor(np.arange(6.0).reshape(2, 3), name="x")
    w = Tensor(np.ones((3, 2)), requires_grad=True, name="w")
    b = Tensor(np.zeros(2), requires_grad=True, name="b")
    loss = ((x @ w + b).tanh()).sum()
    return x, w, b, loss


def test_graph_is_well_formed_dot_with_every_op():
    *_, loss = small_graph()
    dot = graph(loss)
    nodes, edges = check_dot(dot)
    for op in ("MatMul", "Add", "Tanh", "Sum"):
        assert f'label="{op}"' in dot
    assert len([n for n in nodes if n.startswith("op")]) == 4
    assert len([n for n in nodes if n.startswith("t")]) == 7
    assert 'label="x\\n(2, 3) float64"' in dot
    assert graph(loss) == dot  # stable
    assert graph(small_graph()[-1]) == dot  # same computation, same text


def test_graph_shows_gradients_when_the_graph_is_retained():
    _, w, _, loss = small_graph()
    loss.backward(retain_graph=True)
    dot = graph(loss)
    check_dot(dot)
    norm = float(np.linalg.norm(w.grad))
    assert f"grad (3, 2) |g|={norm:.4g}" in dot
    loss.backward()  # frees the graph
    freed = graph(loss)
    assert "retain_graph=True" in freed and "MatMul" not in freed


def test_graph_escapes_quotes_and_backslashes():
    a = Tensor([1.0, 2.0], requires_grad=True, name='say "hi" \\ bye')
    dot = graph((a * 2).sum())
    check_dot(dot)
    assert 'say \\"hi\\" \\\\ bye' in dot


def test_graph_of_a_deep_chain_is_iterative():
    t = Tensor([1.0], requires_grad=True)
    y = t
    for _ in range(3000):
        y = y + 1.0
    dot = graph(y)
    assert dot.count('label="Add"') == 3000


def test_graph_rejects_non_tensors():
    with pytest.raises(ConfigError):
        graph(np.ones(3))


# ====================================================================== render
def test_render_without_dot_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(dot.shutil, "which", lambda name: None)
    *_, loss = small_graph()
    with pytest.raises(ConfigError) as err:
        render(loss, tmp_path / "g.svg")
    assert "graphviz" in err.value.fix.lower() and "graph(t)" in err.value.fix
    assert not (tmp_path / "g.svg").exists()


def test_render_writes_dot_text_without_graphviz(monkeypatch, tmp_path):
    monkeypatch.setattr(dot.shutil, "which", lambda name: None)
    *_, loss = small_graph()
    path = render(loss, tmp_path / "g.dot")
    assert open(path).read() == graph(loss)


def test_render_rejects_unknown_formats(tmp_path):
    with pytest.raises(ConfigError):
        render("digraph {}", tmp_path / "g.svg", format="docx")


@pytest.mark.skipif(os.name != "posix", reason="fake 'dot' is a POSIX script")
def test_render_calls_dot_with_format_and_path(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "data = sys.stdin.read()\n"
        "open(args[args.index('-o') + 1], 'w').write(args[0] + '\\n' + data)\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(dot.shutil, "which", lambda name: str(fake))
    *_, loss = small_graph()
    out = render(loss, tmp_path / "g.png")
    text = open(out).read()
    assert text.startswith("-Tpng\n") and text.endswith(graph(loss))


@pytest.mark.skipif(dot.shutil.which("dot") is None, reason="Graphviz not installed")
def test_render_with_real_graphviz(tmp_path):
    *_, loss = small_graph()
    out = render(loss, tmp_path / "g.svg")
    assert "<svg" in open(out).read()


# ====================================================================== arguments
@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: trace(m, x, print_fn="stdout"),
        lambda m, x: trace(m, x, training="yes"),
        lambda m, x: m.layers[0].algebra().text(batch="32"),
        lambda m, x: m.layers[0].algebra().text(batch=-1),
        lambda m, x: m.layers[0].algebra().text(batch=True),
        lambda m, x: graph(Tensor([1.0]), title=3),
        lambda m, x: render(3, "g.dot"),
        lambda m, x: render("digraph {}", None),
        lambda m, x: render("digraph {}", "g.svg", timeout=-1),
    ],
)
def test_public_entries_check_their_arguments(call):
    model = Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ConfigError) as err:
        call(model, np.zeros((2, 3)))
    assert err.value.fix
