"""A built-in catalog of gradient-check cases, so ``python -m tinygrad_edu gradcheck`` needs no
test files: one ``OpCase`` per way of calling an op, one ``LayerCase`` per layer class.

An ``OpCase`` names its input shapes with templates whose symbols are drawn at random for each
trial and shared between inputs: ``("m,n", "n,k")`` is a matrix product, ``("m,n", "n")`` a
broadcast, ``"4*u"`` four times ``u``. Symbols range over 1..4 unless ``sizes`` says otherwise.
``domain`` keeps inputs away from where the function has no derivative or no value:
``"any"`` (standard normal), ``"positive"`` (0.5..2), ``"nonzero"`` (|x| in 0.5..2),
``"distinct"`` (values at least 0.05 apart: no ties for max/min), one per input or one for all.

Your own op or layer can join the run: ``register_op_case(OpCase(...))`` or
``register_layer_case(LayerCase(...))`` before calling ``tinygrad_edu.cli.main.main``.

>>> import numpy as np
>>> case = find_op_case("matmul")
>>> [a.shape[1] == b.shape[0] for a, b in [case.draw(np.random.default_rng(0))]]
[True]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import layers as L
from .. import ops
from ..layers.base import Layer
from ..functional import concatenate, maximum, minimum, stack, where
from ..tensor import Tensor, tensor_from_op
from .catalog_activation_ops import ACTIVATION_OP_CASES
from .catalog_tensor_ops import TENSOR_OP_CASES

Rng = np.random.Generator


# ====================================================================== ops
@dataclass(frozen=True)
class OpCase:
    """name, fn (Tensors -> Tensor), one shape template per tensor input, and their domain."""

    name: str
    fn: Callable[..., Tensor]
    shapes: Tuple[str, ...]
    domain: Union[str, Tuple[str, ...]] = "any"
    sizes: Dict[str, Tuple[int, int]] = field(default_factory=dict)

    def draw_shapes(self, rng: Rng) -> List[Tuple[int, ...]]:
        """Concrete shapes: each symbol drawn once (in its ``sizes`` range, default 1..4)."""
        values: Dict[str, int] = {}

        def dim(token: str) -> int:
            total = 1
            for part in token.strip().split("*"):
                if part.isdigit():
                    total *= int(part)
                    continue
                if part not in values:
                    lo, hi = self.sizes.get(part, (1, 4))
                    values[part] = int(rng.integers(lo, hi + 1))
                total *= values[part]
            return total

        return [tuple(dim(t) for t in s.split(",")) if s.strip() else () for s in self.shapes]

    def draw(self, rng: Rng) -> List[np.ndarray]:
        """float64 inputs of freshly drawn shapes, each in its domain."""
        domains = (self.domain,) * len(self.shapes) if isinstance(self.domain, str) else self.domain
        return [values(shape, d, rng) for shape, d in zip(self.draw_shapes(rng), domains)]


def values(shape: Tuple[int, ...], domain: str, rng: Rng) -> np.ndarray:
    """A float64 array of ``shape`` drawn from ``domain`` (see the module docstring)."""
    n = int(np.prod(shape, dtype=np.int64))
    if domain == "any":
        out = rng.standard_normal(n)
    elif domain == "positive":
        out = rng.uniform(0.5, 2.0, n)
    elif domain == "nonzero":
        out = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
    elif domain == "distinct":
        out = (rng.permutation(n) - n / 2) * 0.1 + rng.uniform(0.0, 0.05)
    else:
        raise ValueError(f"unknown domain {domain!r}: any, positive, nonzero or distinct")
    return out.reshape(shape).astype(np.float64)


def _op(cls: type, **params: Any) -> Callable[..., Tensor]:
    return lambda *ts: tensor_from_op(cls, *ts, **params)


def _every_other(shape: Tuple[int, ...]) -> np.ndarray:
    return (np.arange(int(np.prod(shape))) % 2 == 0).reshape(shape)


def _one_hot(z: Tensor) -> np.ndarray:
    return np.eye(z.shape[-1])[np.arange(z.shape[0]) % z.shape[-1]]


_IMG = {"h": (2, 5), "w": (2, 5), "b": (1, 2), "c": (1, 3)}
_NOPAD = ((0, 0), (0, 0))

_OPS: List[OpCase] = [
    # arithmetic (broadcasting on purpose)
    OpCase("add", lambda a, b: a + b, ("m,n", "n")),
    OpCase("sub", lambda a, b: a - b, ("m,1", "m,n")),
    OpCase("mul", lambda a, b: a * b, ("m,n", "m,n")),
    OpCase("div", lambda a, b: a / b, ("m,n", "1,n"), ("any", "nonzero")),
    OpCase("neg", lambda a: -a, ("m,n",)),
    OpCase("pow", lambda a, b: a**b, ("m,n", "m,n"), ("positive", "any")),
    OpCase("pow_scalar", lambda a: a**3, ("m,n",)),
    OpCase("maximum", lambda a, b: maximum(a, b), ("m,n", "m,n"), "distinct"),
    OpCase("minimum", lambda a, b: minimum(a, b), ("m,n", "n")),
    # elementwise functions
    OpCase("exp", lambda a: a.exp(), ("m,n",)),
    OpCase("log", lambda a: a.log(), ("m,n",), "positive"),
    OpCase("sqrt", lambda a: a.sqrt(), ("m,n",), "positive"),
    OpCase("abs", lambda a: a.abs(), ("m,n",), "nonzero"),
    OpCase("clip", lambda a: a.clip(-0.5, 0.5), ("m,n",)),
    OpCase("erf", lambda a: a.erf(), ("m,n",)),
    OpCase("relu", lambda a: a.relu(), ("m,n",), "nonzero"),
    OpCase("leaky_relu", lambda a: a.leaky_relu(0.2), ("m,n",), "nonzero"),
    OpCase("elu", lambda a: a.elu(), ("m,n",), "nonzero"),
    OpCase("sigmoid", lambda a: a.sigmoid(), ("m,n",)),
    OpCase("tanh", lambda a: a.tanh(), ("m,n",)),
    OpCase("softmax", lambda a: a.softmax(axis=-1), ("m,n",)),
    OpCase("log_softmax", lambda a: a.log_softmax(axis=-1), ("m,n",)),
    # reductions
    OpCase("sum", lambda a: a.sum(axis=1, keepdims=True), ("m,n,k",)),
    OpCase("mean", lambda a: a.mean(), ("m,n",)),
    OpCase("max", lambda a: a.max(axis=0), ("m,n",), "distinct"),
    OpCase("min", lambda a: a.min(axis=-1), ("m,n",), "distinct"),
    OpCase("var", lambda a: a.var(axis=0), ("m,n",), sizes={"m": (2, 4)}),
    OpCase("logsumexp", lambda a: a.logsumexp(axis=-1), ("m,n",)),
    # linear algebra
    OpCase("matmul", lambda a, b: a @ b, ("m,n", "n,k")),
    OpCase("batched_matmul", lambda a, b: a @ b, ("b,m,n", "n,k")),
    OpCase("linear", _op(ops.Linear), ("m,n", "n,k", "k")),
    # movement
    OpCase("reshape", lambda a: a.reshape(a.shape[1], -1), ("m,n,k",)),
    OpCase("transpose", lambda a: a.transpose(1, 0, 2), ("m,n,k",)),
    OpCase("broadcast_to", lambda a: a.broadcast_to((2, 3, a.shape[1])), ("1,n",)),
    OpCase("squeeze", lambda a: a.squeeze(1), ("m,1,n",)),
    OpCase("unsqueeze", lambda a: a.unsqueeze(1), ("m,n",)),
    OpCase("getitem", lambda a: a[1:, ::2], ("m,n",), sizes={"m": (2, 4)}),
    OpCase("concatenate", lambda a, b: concatenate([a, b], axis=0), ("m,n", "k,n")),
    OpCase("stack", lambda a, b: stack([a, b], axis=1), ("m,n", "m,n")),
    OpCase("pad", lambda a: a.pad(((1, 0), (0, 2))), ("m,n",)),
    OpCase("where", lambda a, b: where(_every_other(a.shape), a, b), ("m,n", "m,n")),
    # neural-network ops
    OpCase(
        "dropout_mask",
        lambda a: tensor_from_op(ops.DropoutMask, a, mask=_every_other(a.shape) / 0.5),
        ("m,n",),
    ),
    OpCase(  # a generator of one seed per call: the same mask for every gradcheck evaluation
        "dropout_draw",
        lambda a: tensor_from_op(ops.DropoutDraw, a, rng=np.random.default_rng(0), rate=0.5),
        ("m,n",),
    ),
    OpCase(
        "softmax_cross_entropy",
        lambda z: tensor_from_op(ops.SoftmaxCrossEntropy, z, target=_one_hot(z)),
        ("m,n",),
    ),
    OpCase(
        "sparse_softmax_cross_entropy",
        lambda z: tensor_from_op(
            ops.SparseSoftmaxCrossEntropy, z, labels=np.arange(z.shape[0]) % z.shape[1]
        ),
        ("m,n",),
    ),
    OpCase(
        "conv2d",
        _op(ops.Conv2D, strides=(1, 1), padding=_NOPAD, dilation=(1, 1)),
        ("b,h,w,c", "2,2,c,f", "f"),
        sizes=_IMG,
    ),
    OpCase(
        "conv2d_same_stride2",
        _op(ops.Conv2D, strides=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1)),
        ("b,h,w,c", "3,3,c,f"),
        sizes=_IMG,
    ),
    OpCase(
        "max_pool2d",
        _op(ops.MaxPool2D, pool=(2, 2), strides=(2, 2), padding=_NOPAD),
        ("b,h,w,c",),
        "distinct",
        sizes=_IMG,
    ),
    OpCase(
        "avg_pool2d",
        _op(ops.AvgPool2D, pool=(2, 2), strides=(1, 1), padding=_NOPAD),
        ("b,h,w,c",),
        sizes=_IMG,
    ),
    OpCase(
        "simple_rnn_sequence",
        _op(ops.SimpleRNNSequence, return_sequences=True),
        ("b,t,f", "f,u", "u,u", "u"),
    ),
    OpCase("lstm_sequence", _op(ops.LSTMSequence), ("b,t,f", "f,4*u", "u,4*u", "4*u")),
    OpCase(
        "gru_sequence",
        _op(ops.GRUSequence, return_sequences=True),
        ("b,t,f", "f,3*u", "u,3*u", "2,3*u"),
    ),
]


# ====================================================================== layers
@dataclass(frozen=True)
class LayerCase:
    """name (the layer class name) and ``make(rng, units) -> (layer, input_shape)``.

    ``units`` (None: drawn) sets ``units``/``filters`` for layers that have them; ``training``
    runs the layer in training mode (Dropout's mask, BatchNormalization's batch statistics).
    """

    name: str
    make: Callable[[Rng, Optional[int]], Tuple[Layer, Tuple[int, ...]]]
    training: bool = False
    has_units: bool = False


def _n(rng: Rng, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


def _units(rng: Rng, units: Optional[int], hi: int = 6) -> int:
    return int(units) if units is not None else _n(rng, 1, hi)


def _image(rng: Rng, lo: int = 2, hi: int = 5) -> Tuple[int, ...]:
    return (_n(rng, 1, 2), _n(rng, lo, hi), _n(rng, lo, hi), _n(rng, 1, 3))


def _dense(rng: Rng, units: Optional[int]):
    shape = (_n(rng, 1, 3), _n(rng, 1, 5)) if rng.random() < 0.7 else (2, 2, _n(rng, 1, 5))
    act = [None, "tanh", "sigmoid"][_n(rng, 0, 2)]
    return L.Dense(_units(rng, units), activation=act), shape


def _conv(rng: Rng, units: Optional[int]):
    layer = L.Conv2D(
        _units(rng, units, 4),
        _n(rng, 1, 2),
        strides=_n(rng, 1, 2),
        padding=["valid", "same"][_n(rng, 0, 1)],
        activation="tanh",
    )
    return layer, _image(rng)


def _rnn(cls_name: str) -> Callable[[Rng, Optional[int]], Tuple[Layer, Tuple[int, ...]]]:
    def make(rng: Rng, units: Optional[int]):
        cls = getattr(L, cls_name)
        layer = cls(_units(rng, units, 4), return_sequences=bool(rng.random() < 0.5))
        return layer, (_n(rng, 1, 2), _n(rng, 1, 3), _n(rng, 1, 3))

    return make


def _flat(rng: Rng) -> Tuple[int, ...]:
    return (_n(rng, 1, 3), _n(rng, 1, 5))


def _sequence(rng: Rng) -> Tuple[int, ...]:
    return (_n(rng, 1, 2), _n(rng, 2, 5), _n(rng, 1, 3))


_LAYERS: List[LayerCase] = [
    LayerCase("Dense", _dense, has_units=True),
    LayerCase(
        "Activation",
        lambda rng, u: (
            L.Activation(["tanh", "sigmoid", "softmax", "gelu"][_n(rng, 0, 3)]),
            _flat(rng),
        ),
    ),
    LayerCase(
        "Dropout", lambda rng, u: (L.Dropout(0.3, seed=_n(rng, 0, 99)), _flat(rng)), training=True
    ),
    LayerCase("Flatten", lambda rng, u: (L.Flatten(), _image(rng, 1, 3))),
    LayerCase("Reshape", lambda rng, u: (L.Reshape((3, -1)), (_n(rng, 1, 3), 2, 3))),
    LayerCase(
        "BatchNormalization",
        lambda rng, u: (L.BatchNormalization(), (_n(rng, 2, 4), _n(rng, 1, 4))),
        training=True,
    ),
    LayerCase("Conv2D", _conv, has_units=True),
    LayerCase("MaxPooling2D", lambda rng, u: (L.MaxPooling2D(2), _image(rng))),
    LayerCase(
        "AveragePooling2D",
        lambda rng, u: (L.AveragePooling2D(2, strides=1, padding="same"), _image(rng)),
    ),
    LayerCase("GlobalMaxPooling2D", lambda rng, u: (L.GlobalMaxPooling2D(), _image(rng, 1, 3))),
    LayerCase(
        "GlobalAveragePooling2D", lambda rng, u: (L.GlobalAveragePooling2D(), _image(rng, 1, 3))
    ),
    LayerCase("SimpleRNN", _rnn("SimpleRNN"), has_units=True),
    # issue 14 item 4: sequences [B, T, C], ids, and image resizing
    LayerCase(
        "Embedding",
        lambda rng, u: (L.Embedding(_n(rng, 1, 9), _units(rng, u)), _flat(rng)),
        has_units=True,
    ),
    LayerCase(
        "Conv1D",
        lambda rng, u: (L.Conv1D(_units(rng, u, 4), 2, padding="causal"), _sequence(rng)),
        has_units=True,
    ),
    LayerCase("MaxPooling1D", lambda rng, u: (L.MaxPooling1D(2), _sequence(rng))),
    LayerCase(
        "AveragePooling1D",
        lambda rng, u: (L.AveragePooling1D(2, strides=1, padding="same"), _sequence(rng)),
    ),
    LayerCase("GlobalMaxPooling1D", lambda rng, u: (L.GlobalMaxPooling1D(), _sequence(rng))),
    LayerCase(
        "GlobalAveragePooling1D", lambda rng, u: (L.GlobalAveragePooling1D(), _sequence(rng))
    ),
    LayerCase("LayerNormalization", lambda rng, u: (L.LayerNormalization(), _sequence(rng))),
    LayerCase("ZeroPadding2D", lambda rng, u: (L.ZeroPadding2D(((0, 1), (2, 1))), _image(rng))),
    LayerCase("UpSampling2D", lambda rng, u: (L.UpSampling2D((2, 1)), _image(rng, 1, 3))),
    LayerCase("LSTM", _rnn("LSTM"), has_units=True),
    LayerCase("GRU", _rnn("GRU"), has_units=True),
    LayerCase(
        "Bidirectional",
        lambda rng, u: (L.Bidirectional(_rnn("LSTM")(rng, u)[0], "sum"), _sequence(rng)),
        has_units=True,
    ),
    LayerCase(
        "TimeDistributed",
        lambda rng, u: (L.TimeDistributed(_dense(rng, u)[0]), _sequence(rng)),
        has_units=True,
    ),
]

_OPS += [OpCase(*c) for c in TENSOR_OP_CASES]  # sin, prod, gather, ... (issue 14 item 6)
_OPS += [OpCase(*c) for c in ACTIVATION_OP_CASES]  # mish, sparsemax, ... (issue 14 item 5)

_EXTRA_OPS: List[OpCase] = []
_EXTRA_LAYERS: List[LayerCase] = []


def op_cases() -> List[OpCase]:
    """Every op case: the built-in ones, then the registered ones."""
    return _OPS + _EXTRA_OPS


def layer_cases() -> List[LayerCase]:
    """Every layer case: the built-in ones (for the layer classes that exist), then registered."""
    return [c for c in _LAYERS if hasattr(L, c.name)] + _EXTRA_LAYERS


def register_op_case(case: OpCase) -> OpCase:
    """Add ``case`` to the CLI's gradcheck run (e.g. your own op)."""
    _EXTRA_OPS.append(case)
    return case


def register_layer_case(case: LayerCase) -> LayerCase:
    """Add ``case`` to the CLI's gradcheck run (e.g. your own layer)."""
    _EXTRA_LAYERS.append(case)
    return case


def _find(cases: Sequence[Any], name: str) -> Optional[Any]:
    key = name.lower().replace("_", "")
    return next((c for c in cases if c.name.lower().replace("_", "") == key), None)


def find_op_case(name: str) -> Optional[OpCase]:
    """The op case called ``name`` (case and underscores ignored), or None."""
    return _find(op_cases(), name)


def find_layer_case(name: str) -> Optional[LayerCase]:
    """The layer case for the class ``name`` (``dense`` finds ``Dense``), or None.
    Keras' aliases work too: ``MaxPool2D`` finds ``MaxPooling2D``."""
    cls = getattr(L, name, None)
    if isinstance(cls, type):
        name = cls.__name__
    return _find(layer_cases(), name)


__all__ = [
    "OpCase",
    "LayerCase",
    "values",
    "op_cases",
    "layer_cases",
    "register_op_case",
    "register_layer_case",
    "find_op_case",
    "find_layer_case",
]
