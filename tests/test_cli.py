"""``python -m tinygrad_edu``: explain a pasted Keras model (parsed, never executed) and run the
built-in gradient checks; the parser rejects anything but layer calls with literal arguments."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import layers as L
from tinygrad_edu import ops, tensor_from_op
from tinygrad_edu.cli.build import build_model
from tinygrad_edu.cli.gradcheck_cmd import Row, format_table, measure
from tinygrad_edu.cli.main import main
from tinygrad_edu.cli.parse import ModelTextError, parse_model_text
from tinygrad_edu.function import Function
from tinygrad_edu.graph_dot import collect
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.testing import catalog

ROOT = str(Path(__file__).resolve().parents[1])
LSTM_MODEL = "Sequential([LSTM(300, input_shape=(20,1)), Dense(20)])"


def run_cli(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )


def run_main(*args):
    lines = []
    code = main(list(args), print_fn=lines.append)
    return code, "\n".join(lines)


# ====================================================================== explain (subprocess)
def test_explain_prints_the_summary_with_the_algebra():
    done = run_cli("explain", LSTM_MODEL)
    assert done.returncode == 0, done.stderr
    assert "362,400" in done.stdout and "6,020" in done.stdout
    assert "per step: [B,1] @ [1,1200] + [B,300] @ [300,1200] + [1200]" in done.stdout
    assert "4 gates x (1*300 + 300*300 + 300) = 362,400" in done.stdout


def test_explain_never_executes_the_text():
    done = run_cli("explain", "__import__('os').system('echo hi')")
    assert done.returncode == 2
    assert "hi" not in done.stdout.split()
    assert "__import__" in done.stderr and "Allowed" in done.stderr


# ====================================================================== explain (in process)
@pytest.mark.parametrize(
    "text, rejected",
    [
        ("__import__('os').system('echo hi')", "__import__"),
        ("Sequential([Dense(units=x)])", "`x` (a variable name"),
        ("Dense(units=x)", "`x` (a variable name"),
        ("Sequential([Dense(10, activation=lambda x: x)])", "a lambda"),
        ("Sequential([Dense(n) for n in (1, 2)])", "a comprehension"),
        ("Sequential([Dense(10, name=f'd{1}')])", "an f-string"),
        ("Sequential([Dense(10, activation=tf.nn.crelu)])", "attribute access"),
        ("Sequential([Dense(2 * 5)])", "an arithmetic expression"),
        ("Sequential([Dense(10, kernel_regularizer=my.l2(0.01))])", "not a layer class"),
        ("Sequential([os.system('ls')])", "os.system"),
        ("Sequential([TextVectorization(10)])", "not a tinygrad_edu layer"),
        ("Sequential([Dense(**kw)])", "**kwargs"),
        ("Sequential([Dense(b'10')])", "bytes"),
        ("Sequential([Dense(10)]).layers", "attribute access"),
        ("model = Sequential()\nother.add(Dense(3))", "add() on something"),
        ("Sequential([Dense(10)", "syntax error"),
    ],
)
def test_explain_rejects_anything_but_literal_layer_calls(text, rejected, capsys):
    code, out = run_main("explain", text)
    assert code == 2
    assert "rejected" in out and rejected in out, out
    with pytest.raises(ModelTextError) as err:
        parse_model_text(text)
    assert err.value.fix and err.value.where.startswith("model text")


@pytest.mark.parametrize(
    "text",
    [
        "Sequential([LSTM(30, input_shape=(20,1)), Dense(20)])",
        "keras.Sequential([layers.LSTM(30, input_shape=(20, 1)), layers.Dense(20)])",
        "tf.keras.models.Sequential([tf.keras.layers.LSTM(30, input_shape=[20, 1]), "
        "keras.layers.Dense(units=20, activation=None, use_bias=True)])",
        "model = models.Sequential(name='m')\nmodel.add(LSTM(30, input_shape=(20, 1)))\n"
        "model.add(Dense(+20))",
        "[keras.Input(shape=(20, 1)), LSTM(30), Dense(20, activation='linear')]",
        "  Sequential([\n      LSTM(30, input_shape=(20,1)),\n      Dense(20),\n  ])\n",
        "import keras; from keras import layers\nmodel = keras.Sequential([layers.LSTM(30, "
        "input_shape=(20, 1)), layers.Dense(20, activation=tf.nn.tanh)]) ; import os\n"
        "model.compile(loss='mse')\nmodel.fit(x, y)",
    ],
)
def test_explain_accepts_the_keras_spellings(text):
    code, out = run_main("explain", text)
    assert code == 0, out
    assert "4,460" in out


def test_parse_keeps_literal_values():
    specs = parse_model_text(
        "[Dense(4, activation='relu', input_shape=(4,)), "
        "Reshape((-1, 2)), Dropout(rate=0.5, seed=None)]"
    )
    assert specs == [
        ("Dense", (4,), {"activation": "relu", "input_shape": (4,)}),
        ("Reshape", ((-1, 2),), {}),
        ("Dropout", (), {"rate": 0.5, "seed": None}),
    ]
    model = build_model(specs)
    assert model.count_params() == 20 and model.output_shape == (None, 2, 2)


def test_explain_reports_layer_argument_errors():
    code, out = run_main("explain", "Sequential([Dense(10, foo=3)])")
    assert code == 2 and "foo" in out
    code, out = run_main("explain", "Sequential([Dense()])")
    assert code == 2 and "units" in out


def test_explain_with_input_shape_and_a_traced_batch():
    code, out = run_main(
        "explain",
        "[Conv2D(4, 3, activation='relu'), Flatten(), Dense(2)]",
        "--input-shape",
        "8,8,1",
        "--batch",
        "3",
    )
    assert code == 0, out
    assert "im2col [3*6*6, 3*3*1] @ [3*3*1, 4] + [4] -> [3,6,6,4]" in out
    assert "dense: [3,144] @ [144,2] + [2] -> [3,2]" in out
    code, out = run_main("explain", "[Dense(2)]", "--batch", "3")
    assert code == 2 and "--input-shape" in out
    code, out = run_main("explain", "[Dense(2)]", "--input-shape", "0,x")
    assert code == 2


def test_cli_needs_a_command():
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


# ====================================================================== gradcheck
def test_gradcheck_one_layer_passes_in_a_subprocess():
    done = run_cli("gradcheck", "--layer", "Dense", "--units", "300")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Dense" in done.stdout and "PASS" in done.stdout and "FAIL" not in done.stdout
    assert "-> (3,300)" in done.stdout or ",300)" in done.stdout


def test_gradcheck_default_run_passes():
    code, out = run_main("gradcheck", "--trials", "1")
    assert code == 0, out
    for name in ("Dense", "Conv2D", "matmul", "conv2d", "softmax_cross_entropy"):
        assert name in out


def test_gradcheck_options():
    code, out = run_main("gradcheck", "--list")
    assert code == 0 and "layers: Dense" in out and "matmul" in out
    code, out = run_main("gradcheck", "--layer", "Dens")
    assert code == 2 and "did you mean 'Dense'" in out
    code, out = run_main("gradcheck", "--op", "matmull")
    assert code == 2 and "matmul" in out
    code, out = run_main("gradcheck", "--layer", "MaxPool2D", "--units", "7", "--op", "exp")
    assert code == 0 and "MaxPooling2D has no units" in out and "exp" in out
    code, _ = run_main("gradcheck", "--trials", "0")
    assert code == 2


class BadSquare(Function):
    """out = a^2 with a wrong backward (g * a instead of g * 2a)."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, grad):
        return grad * self.a


class BadLayer(L.Layer):
    def call(self, x, training=False):
        return tensor_from_op(BadSquare, x)


def test_gradcheck_reports_failures_with_exit_code_1(monkeypatch):
    monkeypatch.setattr(catalog, "_EXTRA_OPS", [])
    monkeypatch.setattr(catalog, "_EXTRA_LAYERS", [])
    catalog.register_op_case(
        catalog.OpCase("bad_square", lambda a: tensor_from_op(BadSquare, a), ("m,n",), "nonzero")
    )
    catalog.register_layer_case(catalog.LayerCase("BadLayer", lambda rng, u: (BadLayer(), (2, 3))))
    code, out = run_main("gradcheck", "--op", "bad_square", "--op", "exp")
    assert code == 1
    assert "bad_square" in out and "FAIL op bad_square" in out and "PASS" in out
    code, out = run_main("gradcheck", "--layer", "BadLayer")
    assert code == 1 and "FAIL layer BadLayer" in out and "check_layer" in out


def test_format_table_shows_failures():
    rows = [
        Row("op", "good", "(2,3)", 1e-10, 2e-9, True),
        Row("layer", "Broken", "(2,3) -> (2,3)", 0.5, 0.5, False, "wrong backward"),
    ]
    table = format_table(rows)
    lines = table.splitlines()
    assert lines[0].split() == [
        "kind",
        "name",
        "shapes",
        "max",
        "abs",
        "err",
        "max",
        "rel",
        "err",
        "result",
    ]
    assert "5.00e-01" in table and "FAIL" in lines[3] and "PASS" in lines[2]
    assert "FAIL layer Broken (2,3) -> (2,3): wrong backward" in table
    assert lines[-1].startswith("1 passed, 1 failed")


def test_measure_reports_errors():
    a = Tensor(np.array([[1.0, -2.0, 3.0]]), requires_grad=True)
    good = measure(lambda: a * a, [a])
    assert good[2] and good[0] < 1e-6
    bad = measure(lambda: tensor_from_op(BadSquare, a), [a])
    assert not bad[2] and bad[0] > 0.1 and bad[1] > 0.1
    assert a.data.tolist() == [[1.0, -2.0, 3.0]]  # restored


# ====================================================================== catalog coverage
def test_catalog_covers_every_op():
    rng = np.random.default_rng(0)
    seen = set()
    for case in catalog.op_cases():
        leaves = [Tensor(x, requires_grad=True) for x in case.draw(rng)]
        seen.update(type(t.op).__name__ for t in collect(case.fn(*leaves)) if t.op is not None)
    missing = set(ops.__all__) - seen
    assert not missing, f"add an OpCase to tinygrad_edu/testing/catalog.py for {missing}"


def test_catalog_covers_every_layer():
    # merge layers take a list of inputs, which the CLI's one-input gradcheck cannot feed:
    # tests/models/test_merge.py gradchecks every one of them (each class named there)
    merge_tests = (Path(__file__).parent / "models" / "test_merge.py").read_text()
    merges = {c for c in (getattr(L, n) for n in L.__all__) if isinstance(c, type)}
    merges = {c for c in merges if issubclass(c, L.Merge)}
    assert all(c is L.Merge or c.__name__ in merge_tests for c in merges)
    classes = {getattr(L, n) for n in L.__all__} - {L.Layer, L.InputLayer} - merges
    covered = {getattr(L, c.name) for c in catalog.layer_cases()}
    missing = {c.__name__ for c in classes if isinstance(c, type)} - {c.__name__ for c in covered}
    assert not missing, f"add a LayerCase to tinygrad_edu/testing/catalog.py for {missing}"
