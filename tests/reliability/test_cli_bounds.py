"""The command line does bounded work: ``Sequential.add`` is linear, ``explain`` never allocates
the weights it describes, every rejected input is one message (exit code 2) in well under a
second, and nothing ends in a traceback - a closed output pipe included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tinygrad_edu.cli.main import EXIT_BROKEN_PIPE, MAX_TRACE_PARAMS, main
from tinygrad_edu.cli.parse import MAX_LAYERS, MAX_TEXT_CHARS
from tinygrad_edu.errors import ConfigError
from tinygrad_edu.layers import Dense, Flatten
from tinygrad_edu.layers.base import Layer
from tinygrad_edu.models import Sequential

ROOT = str(Path(__file__).resolve().parents[2])
#: an answer to a rejected input takes less than this (in process; typically a few ms)
ANSWER_SECONDS = 1.0


class WorkBudgetExceeded(Exception):
    """Raised by the counters below as soon as the work passes the budget, so a quadratic
    regression fails fast instead of running for minutes."""


def explain(text, *options):
    """``explain`` in process: (exit code, every line printed, seconds). The text follows
    ``--`` so that a text starting with '-' is not read as an option."""
    lines = []
    start = time.perf_counter()
    code = main(["explain", *options, "--", text], print_fn=lines.append)
    return code, "\n".join(lines), time.perf_counter() - start


def run_cli(*args, **kwargs):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", *args],
        capture_output=True,
        env=env,
        timeout=120,
        cwd=ROOT,
        **kwargs,
    )


# ---------------------------------------------------------------------- Sequential.add is linear
def alternating_layers(n):
    return [Dense(2) if i % 2 else Flatten() for i in range(n)]


def test_adding_20000_layers_builds_each_layer_once(monkeypatch):
    """The old add re-walked the whole chain on every call: n*(n+1)/2 builds."""
    n = 20_000
    calls = [0]
    real_build_for = Layer.build_for

    def counted_build_for(self, input_shape):
        calls[0] += 1
        if calls[0] > 2 * n:
            raise WorkBudgetExceeded(f"{calls[0]} build_for calls for {n} layers")
        return real_build_for(self, input_shape)

    layers = alternating_layers(n)
    monkeypatch.setattr(Layer, "build_for", counted_build_for)
    model = Sequential([Dense(2, input_shape=(2,))])
    for layer in layers:
        model.add(layer)
    assert calls[0] == n + 1 and len(model.layers) == n + 1
    assert model.output_shape == (None, 2)
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == len(names)
    assert names[-2:] == ["flatten_9999", "dense_10000"]


def lines_executed_per_add(n):
    """Python lines run by ``model.add`` per layer, for a model growing to n layers (counted
    with a line tracer: a loop over all layers or names shows up as lines)."""
    layers = alternating_layers(n)
    model = Sequential([Dense(2, input_shape=(2,))])
    budget = 2_000 * n
    count = [0]

    def tracer(frame, event, arg):
        count[0] += 1
        if count[0] > budget:
            raise WorkBudgetExceeded(f"more than {budget} lines for {n} adds")
        return tracer

    sys.settrace(tracer)
    try:
        for layer in layers:
            model.add(layer)
    finally:
        sys.settrace(None)
    return count[0] / n


def test_add_does_constant_work_per_layer():
    """The per-add work must not grow with the model: names in use and shapes are kept, not
    recomputed over every layer (the old name search scanned all names on every add)."""
    small, large = lines_executed_per_add(300), lines_executed_per_add(2_400)
    assert large < 1.2 * small, (small, large)


def test_names_stay_unique_when_the_layer_list_is_edited_by_hand():
    model = Sequential([Dense(2, input_shape=(2,)), Dense(2), Dense(2)])
    model.layers.pop()
    model.add(Dense(2))
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "dense_2"]
    model.layers = model.layers[:1]
    model.add(Dense(2))
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]


def test_a_layer_that_cannot_be_built_is_not_added():
    model = Sequential([Dense(2, input_shape=(2,))])
    with pytest.raises(ConfigError):
        model.add(_Unbuildable())
    assert len(model.layers) == 1
    model.add(Dense(3))
    assert model.output_shape == (None, 3)


class _Unbuildable(Layer):
    def build(self, input_shape):
        raise ConfigError(where="test", expected="nothing", got="anything", fix="none")


# ---------------------------------------------------------------------- explain allocates nothing
def test_explain_of_a_billion_units_allocates_no_weights():
    """Either the summary (counts from placeholders) or a typed error naming the limit - never
    the 3 TB of weights."""
    tracemalloc.start()
    try:
        code, out, seconds = explain("[Dense(1000000000, input_shape=(784,)), Dense(10)]")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if code == 0:
        assert "785,000,000,000" in out and "10,000,000,010" in out and "TB" in out
    else:
        assert code == 2 and out.startswith("ConfigError") and "at most" in out, out
        assert "784,000,000,000" in out
    assert peak < 20 * 2**20, f"peak {peak:,} bytes"
    assert seconds < ANSWER_SECONDS


def test_explain_of_large_allowed_weights_allocates_none():
    tracemalloc.start()
    try:
        code, out, _ = explain("[Dense(16000, input_shape=(16000,)), Dense(16000)]")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0 and "512,032,000 (1.91 GB)" in out
    assert peak < 20 * 2**20, f"peak {peak:,} bytes for 2 GB of described weights"


def test_weights_beyond_what_numpy_can_describe_are_a_typed_error():
    code, out, seconds = explain(
        "[Dense(1000000000000, input_shape=(1000000000000,))]", "--batch", "1"
    )
    assert code == 2 and out.startswith("ConfigError") and "at most" in out
    assert seconds < ANSWER_SECONDS


def test_a_traced_batch_is_refused_above_the_limits():
    code, out, _ = explain("[Dense(100000, input_shape=(1000,))]", "--batch", "2")
    assert code == 2 and f"{MAX_TRACE_PARAMS:,}" in out and "100,100,000" in out
    code, out, _ = explain("[Conv2D(4, 3)]", "--input-shape", "3000,3000,3", "--batch", "64")
    assert code == 2 and "values" in out
    code, out, _ = explain("[LSTM(2, input_shape=(None, 1))]", "--batch", "2")
    assert code == 2 and "--input-shape" in out


# ---------------------------------------------------------------------- caps and rejected inputs
REJECTED = {
    "too long": "[Dense(2, name='" + "a" * MAX_TEXT_CHARS + "')]",
    "too many layers": "[" + "Flatten()," * (MAX_LAYERS + 1) + "]",
    "too many add lines": "m = Sequential()\n" + "m.add(Flatten())\n" * (MAX_LAYERS + 1),
    "deep unary chain": "[Dense(" + "-" * 90_000 + "1)]",
    "deep sum": "[Dense(" + "1+" * 40_000 + "1)]",
    "deep brackets": "[Dense(" + "[" * 300 + "]" * 300 + ")]",
    "a NUL": "[Dense(2)]\x00",
    "a lone surrogate": "[Dense(2, name='\udcff')]",
    "4,000 digits": "[Dense(" + "9" * 4_000 + ", input_shape=(3,))]",
    "5,000 digits": "[Dense(" + "9" * 5_000 + ")]",
    "a huge float": "[Dense(1e308)]",
    "infinite float": "[Dense(1e999)]",
    "a negative size": "[Dense(-5)]",
    "a zero stride": "[Conv2D(3, 3, strides=0, input_shape=(8, 8, 1))]",
    "a kernel larger than the image": "[Conv2D(3, 100, input_shape=(8, 8, 1))]",
    "a zero reshape": "[Reshape((0,), input_shape=(4,))]",
    "a huge reshape": "[Reshape((10**9,), input_shape=(4,))]",
    "a list as units": "[Dense([1, 2])]",
    "a string as shape": "[Dense(2, input_shape='abc')]",
    "nested shape": "[Dense(2, input_shape=((1, 2), 3))]",
    "unknown layer": "[Foo(3)]",
    "a call in the arguments": "[Dense(int('3'))]",
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_rejected_inputs_get_one_message_fast(case):
    code, out, seconds = explain(REJECTED[case])
    assert code == 2, out
    assert re.match(r"(rejected: |\w+Error in )", out), out
    assert "Fix:" in out and "Traceback" not in out
    assert seconds < ANSWER_SECONDS, f"{seconds:.2f} s"


@pytest.mark.parametrize(
    "case, limit",
    [("too long", f"{MAX_TEXT_CHARS:,} characters"), ("too many layers", f"{MAX_LAYERS:,} layers")],
)
def test_the_caps_are_named_in_the_message(case, limit):
    code, out, _ = explain(REJECTED[case])
    assert code == 2 and limit in out


@pytest.mark.parametrize(
    "options, message",
    [
        (["--batch", "0"], "--batch must be from 1"),
        (["--batch", "10000000"], "--batch must be from 1"),
        (["--input-shape", "0,3"], "--input-shape"),
        (["--input-shape", "1," * 20], "--input-shape"),
        (["--input-shape", "9" * 5000], "--input-shape"),
        (["--input-shape", "x"], "--input-shape"),
    ],
)
def test_rejected_options_get_one_message_fast(options, message):
    code, out, seconds = explain("[Dense(2)]", *options)
    assert code == 2 and message in out
    assert seconds < ANSWER_SECONDS


@pytest.mark.parametrize(
    "options, message",
    [
        (["--units", "1000000000"], "--units must be from 1 to 1,024"),
        (["--trials", "0"], "--trials must be from 1"),
        (["--max-elements", "-3"], "--max-elements must be from 1"),
        (["--seed", "-1"], "--seed must be from 0"),
    ],
)
def test_gradcheck_options_are_capped(options, message):
    lines = []
    assert main(["gradcheck", "--layer", "Dense", *options], print_fn=lines.append) == 2
    assert message in lines[-1]


def test_main_checks_its_own_arguments():
    with pytest.raises(ConfigError):
        main("explain [Dense(2)]")
    with pytest.raises(ConfigError):
        main(["explain", 3])
    with pytest.raises(ConfigError):
        main(["explain", "[Dense(2)]"], print_fn="stdout")


# ---------------------------------------------------------------------- fuzzing the parser
VALID = [
    "Sequential([Dense(32, activation='relu', input_shape=(784,)), Dense(10)])",
    "[Conv2D(4, 3, activation='relu', input_shape=(8, 8, 1)), MaxPooling2D(2), Flatten(), "
    "Dense(2)]",
    "model = Sequential()\nmodel.add(LSTM(30, input_shape=(20, 1)))\nmodel.add(Dense(+20))",
    "keras.Sequential([layers.Input(shape=(6,)), layers.Dropout(0.5), layers.Dense(3)])",
    "[Reshape((-1, 2), input_shape=(4,)), SimpleRNN(5, return_sequences=True), GRU(2)]",
    "[BatchNormalization(input_shape=(3,)), Dense(1, use_bias=False, name='out')]",
]
ALPHABET = "()[]{},.=+-*_'\"\\ \n\t0123456789eExjJ" + "DenseConv2DLSTMSequentialNoneTrue"


@st.composite
def mutated_valid_text(draw):
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["insert", "delete", "replace", "repeat"]))
        piece = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=4))
        if how == "insert":
            text = text[:at] + piece + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + len(piece) :]
        elif how == "replace":
            text = text[:at] + piece + text[at + len(piece) :]
        else:  # a digit run or bracket run repeated: sizes and depths
            text = text[:at] + piece * draw(st.integers(2, 400)) + text[at:]
    return text


def check_answer(text, *options):
    assume(text != "-")  # that one reads the model from standard input
    code, out, seconds = explain(text, *options)
    assert seconds < ANSWER_SECONDS, f"{seconds:.2f} s for {text[:80]!r}"
    assert code in (0, 2), out
    assert "Traceback" not in out
    if code == 2:
        assert out.startswith(("rejected: ", "--")) or out.split(" ", 1)[0].endswith("Error"), out
        assert "Fix:" in out or out.startswith("--"), out


FUZZ = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_random_text(text):
    check_answer(text)


@FUZZ
@given(mutated_valid_text())
def test_fuzz_mutated_valid_models(text):
    check_answer(text)


@settings(max_examples=60, deadline=None, database=None)
@given(mutated_valid_text(), st.integers(1, 64))
def test_fuzz_mutated_models_with_a_traced_batch(text, batch):
    check_answer(text, "--batch", str(batch))


# ---------------------------------------------------------------------- no traceback, ever
BIG_MODEL = "[Dense(8, input_shape=(4,))," + "Dense(8)," * (MAX_LAYERS - 2) + "Dense(2)]"


def test_a_closed_output_pipe_ends_quietly():
    """``explain ... | head -1``: the reader goes away while the summary is being written."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_edu", "explain", BIG_MODEL],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout.readline().startswith(b"Model:")
    proc.stdout.close()  # like head after its first line
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err.decode()
    assert proc.returncode == EXIT_BROKEN_PIPE


def test_a_closed_pipe_through_a_shell_head():
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m tinygrad_edu explain "$0" | head -n 2', BIG_MODEL],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.stdout.count(b"\n") == 2
    assert done.stderr == b"", done.stderr.decode()


@pytest.mark.parametrize(
    "args, stdin",
    [
        (["explain", "[Dense(2, name='\udcff')]"], None),
        (["explain", "-"], b"[Dense(2, name='\xff\xfe')]"),
        (["explain", "-"], b"[" + b"[" * 100_000 + b"]"),
        (["explain", "[Dense(1000000000, input_shape=(784,))]", "--batch", "4"], None),
        (["explain", "[Dense(2)]", "--batch", "banana"], None),
        (["gradcheck", "--seed", "-5"], None),
    ],
)
def test_rejections_in_a_subprocess_have_no_traceback(args, stdin):
    done = run_cli(*args, input=stdin)
    assert done.returncode == 2, done.stderr
    assert b"Traceback" not in done.stderr and done.stderr.strip()


def test_an_internal_error_is_one_message_not_a_traceback():
    code = (
        "import sys; from tinygrad_edu.cli import main as m\n"
        "def broken(*a): raise KeyError('bug')\n"
        "m.cmd_explain = broken\n"
        "sys.exit(m.run(['explain', '[Dense(2)]']))"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TINYGRAD_EDU_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode == 3
    assert b"Traceback" not in done.stderr and b"internal error" in done.stderr
