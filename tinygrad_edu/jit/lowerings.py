"""Lowerings: the numpy calls of an op's eager forward and backward, written again with ``out=``
into preallocated buffers - EXACTLY the same calls in the same order, so every result is
byte-for-byte the eager one (``tests/jit/test_lowerings.py`` holds each to its ``Function`` over
the op table). An op without a lowering replays through a fresh instance of its own Function.

Each lowering gets ``e`` (the tape being written: ``e.buf(shape, dtype)`` a buffer's name,
``e.const(value)`` a constant's, ``e.line(code)``) and the recorded op ``op`` (``op.ins`` the
names of its inputs, ``op.arrays`` their arrays at capture, ``op.params``, ``op.pn`` the names of
array params, ``op.out_array``). ``forward`` sets ``op.out``; ``backward(e, op, g)`` returns one
gradient name (or None) per input, for the inputs with ``op.needs``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops


def _same_dtype(op: Any) -> bool:
    dtypes = {a.dtype for a in op.arrays} | {op.out_array.dtype}
    return len(dtypes) == 1 and op.out_array.dtype.kind == "f"


class Lowering:
    """Base: an op's forward and backward as numpy lines (see the module docstring)."""

    def accepts(self, op: Any) -> bool:
        return _same_dtype(op)

    def out(self, e: Any, op: Any) -> str:
        op.out = e.buf(op.out_array.shape, op.out_array.dtype)
        return op.out

    def grad_buf(self, e: Any, op: Any, k: int, shape: Any = None) -> str:
        a = op.arrays[k]
        return e.buf(a.shape if shape is None else shape, op.out_array.dtype)


class Unary(Lowering):
    """One input; ``fwd``/``bwd`` are templates over {a}, {o}, {g}, {t} (a temporary), {ga}."""

    def __init__(self, fwd: list[str], bwd: list[str], mask: bool = False) -> None:
        self.fwd, self.bwd, self.mask = fwd, bwd, mask

    def forward(self, e: Any, op: Any) -> None:
        names = {"a": op.ins[0], "o": self.out(e, op)}
        if self.mask:  # sigmoid's a >= 0 and its e^-|a|
            shape = op.arrays[0].shape
            names["m"] = e.buf(shape, bool)
            names["t"] = e.buf(shape, op.out_array.dtype)
            names["u"] = e.buf(shape, op.out_array.dtype)
        for line in self.fwd:
            e.line(line.format(**names))
        op.saved = names

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        if not op.needs[0]:
            return [None]
        shape = op.arrays[0].shape
        names = dict(op.saved, g=g, ga=self.grad_buf(e, op, 0))
        names["t"] = e.buf(shape, op.out_array.dtype)
        names["mb"] = e.buf(shape, bool)
        for line in self.bwd:
            e.line(line.format(**names))
        return [names["ga"]]


RELU = Unary(
    ["np.maximum({a}, 0, out={o})"],
    ["np.greater({a}, 0, out={mb})", "np.multiply({g}, {mb}, out={ga})"],
)
# e = exp(-|a|);  out = where(a >= 0, 1, e) / (1 + e);  d = g * out * (1 - out)
SIGMOID = Unary(
    [
        "np.abs({a}, out={t})",
        "np.negative({t}, out={t})",
        "np.exp({t}, out={t})",
        "np.greater_equal({a}, 0, out={m})",
        "np.copyto({u}, {t})",
        "np.copyto({u}, 1, where={m})",
        "np.add({t}, 1, out={t})",
        "np.divide({u}, {t}, out={o})",
    ],
    [
        "np.multiply({g}, {o}, out={ga})",
        "np.subtract(1, {o}, out={t})",
        "np.multiply({ga}, {t}, out={ga})",
    ],
    mask=True,
)
TANH = Unary(
    ["np.tanh({a}, out={o})"],
    [
        "np.multiply({o}, {o}, out={t})",
        "np.subtract(1, {t}, out={t})",
        "np.multiply({g}, {t}, out={ga})",
    ],
)


class Linear(Lowering):
    """x @ W (+ b) (relu): one GEMM each way, the bias gradient summed over rows."""

    def accepts(self, op: Any) -> bool:
        act = op.params.get("activation")
        return _same_dtype(op) and op.arrays[0].ndim == 2 and act in (None, "relu")

    def forward(self, e: Any, op: Any) -> None:
        x, w = op.ins[:2]
        o = self.out(e, op)
        e.line(f"np.matmul({x}, {w}, out={o})")
        if len(op.ins) == 3:
            e.line(f"np.add({o}, {op.ins[2]}, out={o})")
        if op.params.get("activation") == "relu":
            e.line(f"np.maximum({o}, 0, out={o})")

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        x, w = op.ins[:2]
        need = op.needs
        if op.params.get("activation") == "relu":
            shape = op.out_array.shape
            m, gr = e.buf(shape, bool), e.buf(shape, op.out_array.dtype)
            e.line(f"np.greater({op.out}, 0, out={m})")
            e.line(f"np.multiply({g}, {m}, out={gr})")
            g = gr
        out: list[str | None] = [None] * len(op.ins)
        if need[0]:
            out[0] = self.grad_buf(e, op, 0)
            e.line(f"np.matmul({g}, {w}.T, out={out[0]})")
        if need[1]:
            out[1] = self.grad_buf(e, op, 1)
            e.line(f"np.matmul({x}.T, {g}, out={out[1]})")
        if len(need) == 3 and need[2]:
            out[2] = self.grad_buf(e, op, 2)
            e.line(f"np.add.reduce({g}, axis=0, out={out[2]})")
        return out


class MatMul(Linear):
    """2-D a @ b: dL/da = g @ b^T, dL/db = a^T @ g."""

    def accepts(self, op: Any) -> bool:
        return _same_dtype(op) and op.arrays[0].ndim == 2 and op.arrays[1].ndim == 2


class Binary(Lowering):
    """Elementwise a (+ - *) b, same dtype, broadcasting (the engine sums gradients down)."""

    def __init__(self, ufunc: str) -> None:
        self.ufunc = ufunc

    def forward(self, e: Any, op: Any) -> None:
        a, b = op.ins
        e.line(f"np.{self.ufunc}({a}, {b}, out={self.out(e, op)})")

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        a, b = op.ins
        need, shape = op.needs, op.out_array.shape
        if self.ufunc == "add":
            return [g, g]
        if self.ufunc == "subtract":
            if not need[1]:
                return [g, None]
            neg = e.buf(shape, op.out_array.dtype)
            e.line(f"np.negative({g}, out={neg})")
            return [g, neg]
        out: list[str | None] = [None, None]
        for k, other in ((0, b), (1, a)):
            if need[k]:
                out[k] = e.buf(shape, op.out_array.dtype)
                e.line(f"np.multiply({g}, {other}, out={out[k]})")
        return out


def shifted_exp_sum(e: Any, a: str, array: np.ndarray, axis: Any, ax: str) -> tuple:
    """e^(a - max a) and its sum along ``axis`` (written ``ax``), as softmax and log-softmax
    start: (shifted, exp, total, the kept-dims shape)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    kept = tuple(1 if i in axes else n for i, n in enumerate(array.shape))
    dt = array.dtype
    mx, sh, ex, tot = (
        e.buf(kept, dt),
        e.buf(array.shape, dt),
        e.buf(array.shape, dt),
        e.buf(kept, dt),
    )
    e.line(f"np.maximum.reduce({a}, axis={ax}, keepdims=True, out={mx})")
    e.line(f"np.subtract({a}, {mx}, out={sh})")
    e.line(f"np.exp({sh}, out={ex})")
    e.line(f"np.add.reduce({ex}, axis={ax}, keepdims=True, out={tot})")
    return sh, ex, tot, kept


class Softmax(Lowering):
    """exp(a - max) / sum, along one axis; dL/da = out * (g - sum(g * out))."""

    def accepts(self, op: Any) -> bool:
        return _same_dtype(op) and op.arrays[0].ndim >= 1

    def forward(self, e: Any, op: Any) -> None:
        ax = op.fn.axis
        sh, ex, tot, kept = shifted_exp_sum(e, op.ins[0], op.arrays[0], ax, repr(ax))
        e.line(f"np.divide({ex}, {tot}, out={self.out(e, op)})")
        op.saved = {"sh": sh, "tot": tot, "kept": kept}

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        if not op.needs[0]:
            return [None]
        shape, dt, ax = op.out_array.shape, op.out_array.dtype, op.fn.axis
        t, r, ga = e.buf(shape, dt), e.buf(op.saved["kept"], dt), e.buf(shape, dt)
        e.line(f"np.multiply({g}, {op.out}, out={t})")
        e.line(f"np.add.reduce({t}, axis={ax}, keepdims=True, out={r})")
        e.line(f"np.subtract({g}, {r}, out={t})")
        e.line(f"np.multiply({op.out}, {t}, out={ga})")
        return [ga]

    def log_softmax(self, e: Any, op: Any, array: np.ndarray) -> str:
        """``Softmax.log_softmax()`` of the recorded op: shifted - log(total)."""
        lt, lp = e.buf(op.saved["kept"], array.dtype), e.buf(array.shape, array.dtype)
        e.line(f"np.log({op.saved['tot']}, out={lt})")
        e.line(f"np.subtract({op.saved['sh']}, {lt}, out={lp})")
        return lp


class CrossEntropy(Lowering):
    """The fused softmax cross-entropy ops, sparse (labels) or dense (targets)."""

    def __init__(self, sparse: bool) -> None:
        self.sparse = sparse

    def accepts(self, op: Any) -> bool:
        z = op.arrays[0]
        if self.sparse:
            ok = z.ndim == 2 and op.params["labels"].ndim == 1
        else:
            ok = z.ndim >= 1 and op.params["target"].dtype == z.dtype
        return ok and z.dtype.kind == "f"

    def forward(self, e: Any, op: Any) -> None:
        z, zs, dt = op.ins[0], op.arrays[0].shape, op.arrays[0].dtype
        lp, op.saved = op.pn.get("log_p"), {}
        if lp is None:  # ops.losses._log_softmax
            sh, _, tot, _ = shifted_exp_sum(e, z, op.arrays[0], len(zs) - 1, "-1")
            lp = e.buf(zs, dt)
            e.line(f"np.log({tot}, out={tot})")
            e.line(f"np.subtract({sh}, {tot}, out={lp})")
        rows_shape = zs[:-1]
        per = e.buf(rows_shape, dt)
        if self.sparse:
            idx = e.buf(rows_shape, np.intp)
            rows_k = e.const(np.arange(zs[0], dtype=np.intp) * zs[1])
            e.line(f"np.add({rows_k}, {op.pn['labels']}, out={idx})")
            e.line(f"np.take({e.flat(lp)}, {idx}, out={per})")
            op.saved["idx"] = idx
        else:
            t = e.buf(zs, dt)
            e.line(f"np.multiply({op.pn['target']}, {lp}, out={t})")
            e.line(f"np.add.reduce({t}, axis=-1, out={per})")
        e.line(f"np.negative({per}, out={per})")
        op.saved["lp"] = lp
        reduction = op.params.get("reduction", "none")
        if reduction == "none":
            op.out = per
            op.factor = None
            return
        o = self.out(e, op)
        if reduction == "mean":
            op.factor = 1.0 / max(int(np.prod(rows_shape)), 1)
            f = e.const(dt.type(op.factor))
            e.line(f"np.multiply(np.add.reduce({per}, axis=None), {f}, out={o})")
        else:
            op.factor = 1.0
            e.line(f"np.copyto({o}, np.add.reduce({per}, axis=None))")

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        zs, dt = op.arrays[0].shape, op.arrays[0].dtype
        dz = e.buf(zs, dt)
        if op.factor is None:
            scale = f"{g}[..., None]"
        else:
            g_dtype = op.out_array.dtype
            scale = e.buf((), (np.zeros((), g_dtype) * op.factor).dtype)
            e.line(f"np.multiply({g}, {op.factor!r}, out={scale})")
        e.line(f"np.exp({op.saved['lp']}, out={dz})")
        if self.sparse:
            e.line(f"{e.flat(dz)}[{op.saved['idx']}] -= 1")
            e.line(f"np.multiply({dz}, {scale}, out={dz})")
            return [dz]
        target, tot = op.pn["target"], e.buf((*zs[:-1], 1), dt)
        grad = e.buf(zs, dt)
        e.line(f"np.add.reduce({target}, axis=-1, keepdims=True, out={tot})")
        e.line(f"np.multiply({dz}, {tot}, out={dz})")
        e.line(f"np.subtract({dz}, {target}, out={dz})")
        e.line(f"np.multiply({scale}, {dz}, out={grad})")
        return [grad]


class Mean(Lowering):
    """sum / N over the axes; dL/da = g / N spread back (a broadcast view of one buffer)."""

    def accepts(self, op: Any) -> bool:
        return _same_dtype(op) and op.fn._count() > 0

    def forward(self, e: Any, op: Any) -> None:
        kd = op.params.get("keepdims", False)
        e.line(f"{op.ins[0]}.mean(axis={op.fn.axes}, keepdims={kd}, out={self.out(e, op)})")

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        if not op.needs[0]:
            return [None]
        fn = op.fn
        kept = tuple(1 if i in fn.axes else n for i, n in enumerate(fn.shape))
        # np.expand_dims(g, axes) as eager writes it: the same view, made by a cheaper call
        expanded = g if fn.keepdims else f"{g}.reshape({kept})"
        t = e.buf(kept, op.out_array.dtype)
        e.line(f"np.divide({expanded}, {fn._count()}, out={t})")
        return [e.view(t, np.broadcast_to(e.array(t), fn.shape))]


class DropoutDraw(Lowering):
    """keep = rng.random(shape) >= rate; mask = keep * (1 / (1 - rate)); out = a * mask."""

    def forward(self, e: Any, op: Any) -> None:
        a, dt, p = op.ins[0], op.out_array.dtype, op.params
        shape = op.arrays[0].shape if p.get("mask_shape") is None else tuple(p["mask_shape"])
        u, keep, mask = e.buf(shape, np.float64), e.buf(shape, bool), e.buf(shape, dt)
        rng = e.const(p["rng"])
        scale = e.const(dt.type(1) / dt.type(1 - p["rate"]))
        e.line(f"{rng}.random(out={u})")
        e.line(f"np.greater_equal({u}, {p['rate']!r}, out={keep})")
        e.line(f"np.multiply({keep}, {scale}, dtype={e.const(dt)}, out={mask})")
        e.line(f"np.multiply({a}, {mask}, out={self.out(e, op)})")
        op.saved = {"mask": mask}

    def backward(self, e: Any, op: Any, g: str) -> list[str | None]:
        if not op.needs[0]:
            return [None]
        ga = e.buf(op.out_array.shape, op.out_array.dtype)
        e.line(f"np.multiply({g}, {op.saved['mask']}, out={ga})")
        return [ga]


#: op class -> its lowering
LOWERINGS: dict[type, Lowering] = {
    ops.Linear: Linear(),
    ops.MatMul: MatMul(),
    ops.Add: Binary("add"),
    ops.Sub: Binary("subtract"),
    ops.Mul: Binary("multiply"),
    ops.Relu: RELU,
    ops.Sigmoid: SIGMOID,
    ops.Tanh: TANH,
    ops.Softmax: Softmax(),
    ops.SparseSoftmaxCrossEntropy: CrossEntropy(sparse=True),
    ops.SoftmaxCrossEntropy: CrossEntropy(sparse=False),
    ops.Mean: Mean(),
    ops.DropoutDraw: DropoutDraw(),
}

__all__ = ["LOWERINGS", "Lowering"]
