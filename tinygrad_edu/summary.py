"""``model.summary()``: Keras' table (Layer (type), Output Shape, Param #) plus the algebra.

The algebra column shows what each layer does to the shapes and how its parameter count arises,
e.g. ``[B,784] @ [784,32] + [32] -> [B,32]`` and ``784*32 + 32 = 25,120``.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

from ._shapes import fmt_shape

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
        algebra, count = layer.algebra()
        rows.append((label, shape_text, f"{layer.count_params():,}", algebra, count))
    return rows


def _bytes(n_params: int) -> str:
    size = n_params * 4.0  # float32
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return ""


def render(model: Any, line_length: Optional[int] = None, show_algebra: bool = True) -> str:
    """The whole summary as one string."""
    rows = _rows(model)
    ncols = 5 if show_algebra else 3
    table = [HEADERS[:ncols]] + [r[:ncols] for r in rows]
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
    text = render(model, line_length=line_length, show_algebra=show_algebra)
    if print_fn is None:
        print(text)
    else:
        for row in text.split("\n"):
            print_fn(row)


__all__ = ["render", "print_summary"]
