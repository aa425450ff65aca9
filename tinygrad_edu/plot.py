"""Pictures of training and of what a model learned, saved as PNG files (optional ``plot`` extra).

- ``plot_history(history, path)``: every metric of ``model.fit``'s ``History`` per epoch, the
  training and validation curves of one metric in the same panel.
- ``plot_weights(layer, path)``: a Dense layer fed 784 inputs shows each unit's 784-input column of
  the ``kernel (784, units)`` as a 28x28 tile (the pixels that push the unit up are red, those that
  push it down blue); a Conv2D layer shows its ``kernel (kh, kw, in_ch, filters)`` as one tile per
  filter and input channel. Any other Dense layer shows its whole kernel as one heatmap.
- ``plot_activations(model, x, path, y=None)``: per layer, the mean activation of each unit (or
  each feature map, averaged over its positions) as a heatmap, one row per sample - or per class
  when the labels ``y`` are given.
- ``plot_lines(series, path)``: a few named curves ``{label: (xs, ys)}`` in one panel, e.g. test
  accuracy against the number of hidden units (``examples/hidden_units_sweep.py``).

Each saves a PNG (parent folders are created) and returns its path. Drawing needs matplotlib
(``pip install "tinygrad_edu[plot]"``); importing this module does not, and each function raises
a ``ConfigError`` saying how to install it when it is missing. The figures are drawn with the
object-oriented API on matplotlib's ``Agg`` canvas: no window opens, and the global backend of a
program that also uses ``pyplot`` is never changed.

>>> import tinygrad_edu.plot as plot     # works without matplotlib
>>> callable(plot.plot_weights)
True
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ConfigError, NotBuiltError, ShapeError
from .layers import Conv2D, Dense

PathLike = Union[str, "os.PathLike[str]"]
INSTALL = 'pip install "tinygrad_edu[plot]"'


def _figure(where: str, width: float, height: float) -> Any:
    """A matplotlib Figure attached to an Agg canvas (imported here, never at module import)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError(
            where=f"plot.{where}",
            expected="matplotlib installed",
            got="no matplotlib",
            fix=f"{INSTALL} (or pip install matplotlib)",
        ) from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: PathLike) -> str:
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(path, format="png")
    return path


# ====================================================================== history
def plot_history(history: Any, path: PathLike) -> str:
    """Plot the per-epoch logs of ``fit``: one panel per metric (``loss``, ``accuracy``, ...),
    with its ``val_`` curve in the same panel. ``history``: a ``History`` or its ``.history``
    dict ``{"loss": [...], "val_loss": [...], ...}``. Returns ``path``."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ConfigError(
            where="plot.plot_history",
            expected="a History or a non-empty dict of per-epoch lists",
            got="an empty dict" if isinstance(logs, dict) else type(logs).__name__,
            fix="pass what model.fit(...) returned, e.g. plot_history(h, 'h.png')",
        )
    names = []
    for key in logs:
        base = key.removeprefix("val_")
        if base not in names:
            names.append(base)
    fig = _figure("plot_history", 4.5 * len(names), 3.5)
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        for key, style in ((name, "-o"), ("val_" + name, "--s")):
            if key in logs:
                values = np.asarray(logs[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, style, label=key, markersize=3)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


# ====================================================================== curves
def plot_lines(
    series: Dict[str, Tuple[Sequence[float], Sequence[float]]],
    path: PathLike,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    log_x: bool = False,
    marks: Optional[Dict[str, float]] = None,
) -> str:
    """Draw each ``label: (xs, ys)`` of ``series`` as a line with markers; returns ``path``.

    log_x: a base-2 logarithmic x axis (for sizes 1, 2, 4, ... 512). marks: vertical dashed
    lines ``{label: x}``, e.g. ``{"sqrt(784) = 28": 28}``.
    """
    if not series:
        raise ConfigError(
            where="plot.plot_lines",
            expected="at least one curve",
            got="an empty dict",
            fix="pass {'label': (xs, ys)}",
        )
    fig = _figure("plot_lines", 7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for label, (xs, ys) in series.items():
        ax.plot(list(xs), list(ys), "-o", label=label, markersize=4)
    for label, x in (marks or {}).items():
        ax.axvline(x, linestyle="--", color="grey", linewidth=1)
        ax.annotate(
            label,
            (x, 0.02),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=8,
            color="grey",
            ha="right",
            va="bottom",
        )
    if log_x:
        from matplotlib.ticker import ScalarFormatter

        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())  # 1, 2, 4 ... rather than 2^0, 2^1 ...
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


# ====================================================================== weights
def _tiles_for(
    layer: Any, image_shape: Optional[Sequence[int]]
) -> Tuple[List[np.ndarray], List[str], int, str]:
    """(tiles, tile titles, columns, figure title) for a built Dense or Conv2D layer."""
    kernel = layer.get_weights()[0]
    if isinstance(layer, Conv2D):
        kh, kw, cin, filters = kernel.shape
        tiles = [kernel[:, :, c, f] for f in range(filters) for c in range(cin)]
        titles = [
            f"f{f}" + (f" c{c}" if cin > 1 else "") for f in range(filters) for c in range(cin)
        ]
        cols = cin if cin > 1 else math.ceil(math.sqrt(filters))
        return (
            tiles,
            titles,
            cols,
            (
                f"{layer.name}: kernel {kernel.shape} = (kh, kw, in_ch, "
                f"filters): one {kh}x{kw} tile per filter"
                + (" and input channel" if cin > 1 else "")
            ),
        )
    n_in, units = kernel.shape
    if image_shape is None:
        side = math.isqrt(n_in)
        if side * side != n_in or side < 8:
            return (
                [kernel],
                [f"kernel ({n_in}, {units})"],
                1,
                (f"{layer.name}: kernel [{n_in},{units}] (rows: inputs, columns: units)"),
            )
        image_shape = (side, side)
    image_shape = tuple(int(d) for d in image_shape)
    if int(np.prod(image_shape)) != n_in:
        raise ShapeError(
            where=f"plot.plot_weights for layer '{layer.name}'",
            expected=f"image_shape with {n_in} pixels (the layer's inputs)",
            got=f"{image_shape} ({int(np.prod(image_shape))} pixels)",
            fix="e.g. image_shape=(28, 28) for 784 inputs",
        )
    tiles = [kernel[:, u].reshape(image_shape) for u in range(units)]
    return (
        tiles,
        [f"unit {u}" for u in range(units)],
        math.ceil(math.sqrt(units)),
        (
            f"{layer.name}: each unit's column of kernel [{n_in},{units}] as a "
            f"{'x'.join(map(str, image_shape))} image (red +, blue -)"
        ),
    )


def plot_weights(
    layer: Any, path: PathLike, image_shape: Optional[Sequence[int]] = None, max_tiles: int = 256
) -> str:
    """Draw what each unit of ``layer`` looks for; returns ``path``.

    Dense ``kernel (in, units)``: column ``u`` holds the weight of every input for unit ``u``;
    reshaped to ``image_shape`` (default: square when ``in`` is a square >= 64, e.g. 784 -> 28x28)
    it is a picture of the pattern that makes the unit fire. Other Dense layers: the kernel as one
    heatmap. Conv2D ``kernel (kh, kw, in_ch, filters)``: one ``kh x kw`` tile per filter (a row
    per filter with a column per input channel when ``in_ch > 1``). Each tile has its own
    symmetric color range; at most ``max_tiles`` tiles are drawn.
    """
    if not isinstance(layer, (Dense, Conv2D)):
        raise ConfigError(
            where="plot.plot_weights",
            expected="a Dense or Conv2D layer",
            got=type(layer).__name__,
            fix="pass a layer with a kernel, e.g. model.layers[0]",
        )
    if not layer.built:
        raise NotBuiltError(
            where=f"plot.plot_weights for layer '{layer.name}'",
            expected="a built layer (its weights exist)",
            got="no weights yet",
            fix="give the model input_shape=(...) or call it on data first",
        )
    tiles, titles, cols, title = _tiles_for(layer, image_shape)
    shown = tiles[:max_tiles]
    cols = max(1, min(cols, len(shown)))
    rows = math.ceil(len(shown) / cols)
    if len(tiles) == 1:
        height, width = tiles[0].shape
        fig = _figure("plot_weights", min(12.0, 2 + width * 0.25), min(10.0, 1.5 + height * 0.08))
    else:
        fig = _figure("plot_weights", 1.3 * cols + 0.5, 1.3 * rows + 0.8)
    for i, (tile, name) in enumerate(zip(shown, titles)):
        ax = fig.add_subplot(rows, cols, i + 1)
        vmax = float(np.abs(tile).max()) or 1.0
        image = ax.imshow(
            tile,
            cmap="RdBu_r",
            vmin=-vmax,
            vmax=vmax,
            aspect="auto" if len(tiles) == 1 else "equal",
            interpolation="nearest",
        )
        ax.set_title(name, fontsize=7)
        if len(tiles) == 1:
            ax.set_xlabel("unit")
            ax.set_ylabel("input")
            fig.colorbar(image, ax=ax)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    if len(tiles) > len(shown):
        title += f" (first {len(shown)} of {len(tiles)} tiles)"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


# ====================================================================== activations
def _per_unit(out: np.ndarray, layer: Any) -> Tuple[np.ndarray, str]:
    """(samples, units) mean activations of one layer's output, and what a column is."""
    if out.ndim == 2:
        return out, "unit"
    if out.ndim == 4:  # images: average each feature map over its positions
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            return out.mean(axis=(2, 3)), "feature map"
        return out.mean(axis=(1, 2)), "feature map"
    if out.ndim == 3:  # sequences: average each unit over the time steps
        return out.mean(axis=1), "unit (mean over time)"
    return out.reshape(len(out), -1), "value"


def plot_activations(
    model: Any,
    x: Any,
    path: PathLike,
    y: Any = None,
    layers: Optional[Sequence[str]] = None,
    max_samples: int = 10,
) -> str:
    """Heatmaps of the mean activation per unit / feature map of every layer; returns ``path``.

    model: a ``Sequential`` (uses ``model.activations(x)``, inference mode). x: a batch.
    y: optional labels (integers or one-hot) - then one row per class, the average over its
    samples; otherwise one row per sample (the first ``max_samples``). layers: names to draw
    (default: every layer).
    """
    acts: Dict[str, np.ndarray] = model.activations(x)
    by_layer = {layer.name: layer for layer in model.layers}
    names = list(acts) if layers is None else list(layers)
    unknown = [n for n in names if n not in acts]
    if unknown:
        raise ConfigError(
            where="plot.plot_activations",
            expected="layer names of the model",
            got=", ".join(map(repr, unknown)),
            fix="valid names: " + ", ".join(map(repr, acts)),
        )
    labels = None
    if y is not None:
        labels = np.asarray(y)
        labels = labels.argmax(axis=-1) if labels.ndim == 2 else labels.reshape(-1)
        n = len(next(iter(acts.values())))
        if len(labels) != n:
            raise ShapeError(
                where="plot.plot_activations",
                expected=f"{n} labels (one per sample of x)",
                got=f"{len(labels)} labels",
                fix="pass the labels of the same samples as x",
            )
    fig = _figure("plot_activations", 9.0, 2.2 * len(names) + 0.6)
    for i, name in enumerate(names):
        values, column = _per_unit(np.asarray(acts[name], dtype=float), by_layer.get(name))
        if labels is not None:
            classes = np.unique(labels)
            values = np.stack([values[labels == c].mean(axis=0) for c in classes])
            row_names, row_title = [str(c) for c in classes], "class"
        else:
            values = values[:max_samples]
            row_names, row_title = [str(k) for k in range(len(values))], "sample"
        ax = fig.add_subplot(len(names), 1, i + 1)
        image = ax.imshow(values, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_yticks(range(len(row_names)))
        ax.set_yticklabels(row_names, fontsize=6)
        ax.set_ylabel(row_title)
        ax.set_xlabel(column)
        ax.set_title(f"{name}: mean activation per {column} ({values.shape[1]})", fontsize=9)
        fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return _save(fig, path)


__all__ = ["plot_activations", "plot_history", "plot_lines", "plot_weights"]
