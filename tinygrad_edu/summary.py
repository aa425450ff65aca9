"""``model.summary()``: Keras' table (Layer (type), Output Shape, Param #) plus the algebra.

The algebra column shows what each layer does to the shapes and how its parameter count arises,
e.g. ``[B,784] @ [784,32] + [32] -> [B,32]`` and ``784*32 + 32 = 25,120``: the two renderings
(``text()``, ``count_text()``) of the ``Algebra`` each layer's ``algebra()`` returns
(``tinygrad_edu.layers.algebra``).

``weights_without_storage(layers)``: while it is active, building those layers gives every weight
a read-only zero-stride placeholder of the right shape - shapes, output shapes and parameter
counts come out exact without allocating the weights, so a summary of ``Dense(10**9)`` (or the
check of a checkpoint's config against its file) costs no memory. Such layers can be described,
not run.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence

import numpy as np

from ._shapes import fmt_shape
from .errors import ConfigError
from .layers.algebra import algebra_of

#: the most elements a weight placeholder may describe (numpy's own limit for any array shape)
MAX_WEIGHT_ELEMENTS = int(np.iinfo(np.intp).max) // 16

HEADERS = ("Layer (type)", "Output Shape", "Param #", "Algebra (what it computes)", "Count")


def _rows(model: Any) -> List[Sequence[str]]:
    rows = []
    for layer in model.layers:
        label = f"{layer.name} ({type(layer).__name__})"
        if not layer.built:
            rows.append((label, "?", "?", "(not built yet)", ""))
            continue
        shape = layer.output_shape
        shape_text = (
            ", ".join(fmt_shape(s) for s in shape)
            if shape and isinstance(shape[0], tuple)
            else fmt_shape(shape)
        )
        algebra = algebra_of(layer)
        params = f"{layer.count_params():,}"
        rows.append((label, shape_text, params, algebra.text(), algebra.count_text()))
    return rows


def _bytes(n_params: int) -> str:
    size = n_params * 4.0  # float32
    units = ("B", "KB", "MB", "GB", "TB", "PB", "EB")
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f"{size:.2f} {unit}"
        size /= 1024
    return ""


def render(model: Any, line_length: Optional[int] = None, show_algebra: bool = True) -> str:
    """The whole summary as one string."""
    rows = _rows(model)
    ncols = 5 if show_algebra else 3
    table = [HEADERS[:ncols]] + [r[:ncols] for r in rows]
    connected = getattr(model, "connected_to", None)  # a functional model: Keras' column
    if connected is not None:
        column = ["Connected to"] + [connected(layer) for layer in model.layers]
        table = [(*r[:3], c, *r[3:]) for r, c in zip(table, column)]
        rows, ncols = table[1:], ncols + 1
    widths = [max(len(r[i]) for r in table) + 2 for i in range(ncols)]
    widths[1] = max(widths[1], 22)
    widths[2] = max(widths[2], 10)

    def line(cells):
        text = cells[0].ljust(widths[0]) + cells[1].ljust(widths[1]) + cells[2].rjust(widths[2] - 2)
        for i in range(3, ncols):
            text += "   " + cells[i].ljust(widths[i] - 2)
        return " " + text.rstrip()

    width = line_length or sum(widths) + 3 * (ncols - 3) + 1
    out = [f'Model: "{model.name}"', "_" * width, line(table[0]), "=" * width]
    out.extend(line(row) for row in rows)
    out.append("=" * width)
    if all(layer.built for layer in model.layers) and model.layers:
        total = model.count_params()
        trainable = sum(w.data.size for w in model.trainable_weights)
        frozen = total - trainable
        out.append(f"Total params: {total:,} ({_bytes(total)})")
        out.append(f"Trainable params: {trainable:,} ({_bytes(trainable)})")
        out.append(f"Non-trainable params: {frozen:,} ({_bytes(frozen)})")
        out.append("_" * width)
        if show_algebra:
            out.append("B = batch size (None in Output Shape). Each count: weights + biases.")
    else:
        out.append("Total params: ? (the model is not built yet)")
        out.append("_" * width)
        out.append(
            "Build it to see shapes and counts: give the first layer input_shape=(...) "
            "(e.g. Dense(32, input_shape=(784,))), start with Input(shape=(...)), "
            "or call the model on data (model.predict(x) / model.fit(...))."
        )
    return "\n".join(out)


def print_summary(
    model: Any,
    print_fn: Optional[Callable[[str], Any]] = None,
    line_length: Optional[int] = None,
    show_algebra: bool = True,
) -> None:
    check_summary_arguments(print_fn, line_length, show_algebra)
    text = render(model, line_length=line_length, show_algebra=show_algebra)
    if print_fn is None:
        print(text)
    else:
        for row in text.split("\n"):
            print_fn(row)


def check_summary_arguments(print_fn: Any, line_length: Any, show_algebra: Any) -> None:
    """Refuse summary options of the wrong kind with a ``ConfigError`` that says what to pass."""
    if print_fn is not None and not callable(print_fn):
        raise ConfigError(
            where="summary",
            expected="print_fn as a function of one line (or None)",
            got=type(print_fn).__name__,
            fix="model.summary(print_fn=lines.append)",
        )
    if line_length is not None and (
        isinstance(line_length, bool)
        or not isinstance(line_length, (int, np.integer))
        or not 1 <= line_length <= 10_000
    ):
        raise ConfigError(
            where="summary",
            expected="line_length as an int from 1 to 10,000 (or None)",
            got=repr(line_length),
            fix="model.summary(line_length=120)",
        )
    if not isinstance(show_algebra, (bool, np.bool_)):
        raise ConfigError(
            where="summary",
            expected="show_algebra as True or False",
            got=repr(show_algebra),
            fix="model.summary(show_algebra=False)",
        )


# ---------------------------------------------------------------------- describing without storage
@contextlib.contextmanager
def weights_without_storage(layers: Iterable[Any]) -> Iterator[None]:
    """While active, ``add_weight`` of these layers (instances only, nothing global) makes
    read-only zero-stride placeholders: building them allocates no weights, and shapes and
    counts are exact. A weight of more than ``MAX_WEIGHT_ELEMENTS`` elements is a
    ``ConfigError`` naming the layer and the limit."""
    patched = []
    try:
        for layer in layers:
            layer.add_weight = _placeholder_add_weight(layer)
            patched.append(layer)
        yield
    finally:
        for layer in patched:
            vars(layer).pop("add_weight", None)


def _placeholder_add_weight(layer: Any) -> Callable[..., Any]:
    add_weight = layer.add_weight  # the class's method, bound to this layer

    def add_placeholder(name: str, shape: Any, initializer: Any = None, *args, **kwargs):
        return add_weight(name, shape, _Placeholder(layer.where, name), *args, **kwargs)

    return add_placeholder


class _Placeholder:
    """An initializer returning a zero-stride view: a weight's shape without its storage."""

    def __init__(self, where: str, name: str) -> None:
        self.where, self.name = where, name

    def __call__(self, shape: Sequence[int], dtype: Any = np.float32) -> np.ndarray:
        dims = tuple(int(d) for d in shape)
        count = math.prod(dims)
        if any(d < 0 for d in dims) or count > MAX_WEIGHT_ELEMENTS:
            raise ConfigError(
                where=self.where,
                expected=f"a weight of at most {MAX_WEIGHT_ELEMENTS:,} elements",
                got=_shortened(f"{self.name} of shape {dims} ({count:,} elements)"),
                fix="use fewer units/filters or a smaller input shape",
            )
        return np.broadcast_to(np.zeros((), dtype=dtype), dims)


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 5] + " ...)"


def weight_elements(model: Any) -> int:
    """The number of weight elements of a built model (placeholders count as their shape)."""
    return sum(int(w.data.size) for w in model.weights)


__all__ = [
    "render",
    "print_summary",
    "check_summary_arguments",
    "weights_without_storage",
    "weight_elements",
    "MAX_WEIGHT_ELEMENTS",
]
