"""tinygrad_edu.plot: PNGs are written with matplotlib; a clear ConfigError without it.

The drawing tests need matplotlib (``pytest.importorskip``); the argument checks and the
"matplotlib is missing" error are tested everywhere (the import is blocked with ``sys.modules``).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import plot
from tinygrad_edu.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tinygrad_edu.models import Sequential

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path) -> None:
    data = pathlib.Path(path).read_bytes()
    assert len(data) > 1000 and data[:8] == PNG_MAGIC


@pytest.fixture
def mlp():
    tg.set_seed(0)
    return Sequential(
        [Dense(16, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")]
    )


@pytest.fixture
def cnn():
    tg.set_seed(0)
    return Sequential(
        [
            Conv2D(4, (3, 3), activation="relu", input_shape=(10, 10, 3)),
            Conv2D(2, (3, 3)),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(3),
        ]
    )


@pytest.fixture
def no_matplotlib(monkeypatch):
    """Make every ``import matplotlib...`` fail, as on a machine without it."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


# ---------------------------------------------------------------- drawing (needs matplotlib)
def test_plot_history_from_fit(mlp, tmp_path):
    pytest.importorskip("matplotlib")
    x = np.random.default_rng(0).random((64, 784)).astype(np.float32)
    y = np.arange(64) % 10
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = mlp.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    path = tmp_path / "sub" / "history.png"  # the folder is created
    assert plot.plot_history(history, path) == str(path)
    assert_png(path)
    assert_png(plot.plot_history({"loss": [1.0, 0.5, 0.25]}, tmp_path / "dict.png"))


def test_plot_weights_dense_on_784_inputs_and_other_dense(mlp, tmp_path):
    pytest.importorskip("matplotlib")
    assert_png(plot.plot_weights(mlp.layers[0], tmp_path / "tiles.png"))  # 16 28x28 tiles
    assert_png(plot.plot_weights(mlp.layers[1], tmp_path / "kernel.png"))  # 16x10 heatmap
    layer = Dense(3, input_shape=(12,))
    Sequential([layer])
    assert_png(plot.plot_weights(layer, tmp_path / "rect.png", image_shape=(3, 4)))


def test_plot_weights_conv_one_tile_per_filter_and_channel(cnn, tmp_path):
    pytest.importorskip("matplotlib")
    assert_png(plot.plot_weights(cnn.layers[0], tmp_path / "conv.png"))  # 4 x 3 tiles
    assert_png(plot.plot_weights(cnn.layers[1], tmp_path / "conv2.png", max_tiles=5))


def test_plot_activations_per_sample_and_per_class(mlp, cnn, tmp_path):
    pytest.importorskip("matplotlib")
    x = np.random.default_rng(0).random((20, 784)).astype(np.float32)
    assert_png(plot.plot_activations(mlp, x, tmp_path / "samples.png"))
    y = np.arange(20) % 10
    assert_png(plot.plot_activations(mlp, x, tmp_path / "classes.png", y=y))
    onehot = np.eye(10)[y]
    assert_png(plot.plot_activations(mlp, x, tmp_path / "onehot.png", y=onehot, layers=["dense"]))
    images = np.random.default_rng(1).random((6, 10, 10, 3)).astype(np.float32)
    assert_png(plot.plot_activations(cnn, images, tmp_path / "maps.png"))


def test_plot_lines(tmp_path):
    pytest.importorskip("matplotlib")
    path = plot.plot_lines(
        {"1 layer": ([1, 2, 4, 8], [0.2, 0.4, 0.7, 0.8])},
        tmp_path / "l.png",
        xlabel="units",
        log_x=True,
        marks={"sqrt": 2.8},
    )
    assert_png(path)


# ---------------------------------------------------------------- without matplotlib
def test_import_does_not_load_matplotlib():
    code = "import sys, tinygrad_edu.plot; print('matplotlib' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_raises_config_error_naming_the_extra(no_matplotlib, mlp, tmp_path):
    x = np.zeros((2, 784), dtype=np.float32)
    calls = [
        lambda: plot.plot_history({"loss": [1.0]}, tmp_path / "h.png"),
        lambda: plot.plot_weights(mlp.layers[0], tmp_path / "w.png"),
        lambda: plot.plot_activations(mlp, x, tmp_path / "a.png"),
        lambda: plot.plot_lines({"a": ([1], [1])}, tmp_path / "l.png"),
    ]
    for call in calls:
        with pytest.raises(tg.ConfigError) as info:
            call()
        assert 'pip install "tinygrad_edu[plot]"' in info.value.fix
        assert info.value.got == "no matplotlib"
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- argument checks
def test_plot_weights_refuses_layers_without_a_kernel(mlp, tmp_path):
    with pytest.raises(tg.ConfigError) as info:
        plot.plot_weights(Flatten(), tmp_path / "f.png")
    assert info.value.got == "Flatten"
    with pytest.raises(tg.NotBuiltError):
        plot.plot_weights(Dense(4), tmp_path / "d.png")


def test_plot_weights_image_shape_must_match_the_inputs(mlp, tmp_path):
    with pytest.raises(tg.ShapeError) as info:
        plot.plot_weights(mlp.layers[0], tmp_path / "w.png", image_shape=(20, 20))
    assert "784" in info.value.expected


def test_plot_activations_checks_labels_and_layer_names(mlp, tmp_path):
    x = np.zeros((4, 784), dtype=np.float32)
    with pytest.raises(tg.ShapeError):
        plot.plot_activations(mlp, x, tmp_path / "a.png", y=[0, 1, 2])
    with pytest.raises(tg.ConfigError) as info:
        plot.plot_activations(mlp, x, tmp_path / "a.png", layers=["dense_7"])
    assert "'dense'" in info.value.fix


def test_plot_history_refuses_empty_logs(tmp_path):
    with pytest.raises(tg.ConfigError):
        plot.plot_history({}, tmp_path / "h.png")
