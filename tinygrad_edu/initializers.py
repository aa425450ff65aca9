"""Weight initializers with Keras' names and formulas (seeded, reproducible).

fan_in / fan_out of a kernel: Dense ``(in, out)`` -> in, out; Conv ``(kh, kw, in, out)`` ->
kh*kw*in, kh*kw*out. Each initializer is ``init(shape, dtype=float32) -> ndarray``.

>>> GlorotUniform(seed=0)((784, 32)).shape
(784, 32)
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import validation as check
from ._rng import global_rng, make_rng
from .errors import ConfigError, resolve

DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
MODES = ("fan_in", "fan_out", "fan_avg")


def _weight_shape(shape: Any, where: str) -> Tuple[int, ...]:
    """A weight shape: ``()`` or positive ints, not absurdly many values."""
    if isinstance(shape, tuple) and not shape:
        return ()
    example = "initializers.GlorotUniform()((784, 32))"
    sizes = check.shape("shape", shape, where, example, allow_none=False)
    check.weight_size(sizes, where, "a weight")
    return sizes


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    """Any float dtype (float16 too: an initializer only makes the values)."""
    found = check.numpy_dtype(dtype)
    if found is None or found.kind != "f":
        check.refuse("dtype", dtype, where, "a float dtype", "init((784, 32), dtype=np.float32)")
    return found


def compute_fans(shape: Tuple[int, ...]) -> Tuple[float, float]:
    """(fan_in, fan_out) as Keras computes them: the receptive field multiplies both."""
    shape = _weight_shape(shape, "compute_fans")
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base: subclasses implement ``sample(shape, rng)``; ``seed`` makes one reproducible."""

    #: the fewest axes a weight of this initializer may have
    min_ndim = 0

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = check.seed("seed", seed, self._where(), f"initializers.{self._name()}(seed=0)")

    @classmethod
    def _name(cls) -> str:
        return cls.__name__

    def _where(self) -> str:
        return f"initializers.{self._name()}"

    def _real(self, name: str, value: Any, **bounds: Any) -> float:
        """A numeric option of this initializer, checked (``bounds`` as in check.real)."""
        example = f"initializers.{self._name()}({name}={self._example_values[name]!r})"
        return check.real(name, value, self._where(), example, **bounds)

    #: the option values a working example uses
    _example_values: Dict[str, Any] = {
        "value": 0.0,
        "minval": -0.05,
        "maxval": 0.05,
        "mean": 0.0,
        "stddev": 0.05,
        "scale": 1.0,
        "gain": 1.0,
        "mode": "fan_in",
        "distribution": "uniform",
    }

    def _rng(self) -> np.random.Generator:
        return global_rng() if self.seed is None else make_rng(self.seed)

    def __call__(self, shape: Tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
        where = f"{self._where()}(...)"
        shape = _weight_shape(shape, where)
        dtype = _float_dtype(dtype, where)
        if len(shape) < self.min_ndim:
            check.refuse(
                "shape",
                shape,
                where,
                f"a shape of at least {self.min_ndim} axes",
                "initializers.Orthogonal()((64, 64))",
                "an orthogonal matrix needs 2 axes",
            )
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                values = np.asarray(self.sample(shape, self._rng()), dtype=dtype)
            except OverflowError:  # e.g. U(-1e308, 1e308): the range itself overflows
                values = None
        if values is None or not np.all(np.isfinite(values)):
            raise ConfigError(
                where=where,
                expected=f"finite {np.dtype(dtype).name} values",
                got=f"values beyond the {np.dtype(dtype).name} range ({self.get_config()})",
                fix="use a smaller scale, e.g. initializers.GlorotUniform()",
            )
        return values

    def sample(self, shape: Tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> Dict[str, Any]:
        return {k: v for k, v in vars(self).items()}


class Zeros(Initializer):
    """All zeros (Keras' default bias)."""

    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    def sample(self, shape, rng):
        return np.ones(shape)


class Constant(Initializer):
    """Every element = ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        super().__init__(None)
        self.value = self._real("value", value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)


class RandomUniform(Initializer):
    """U(minval, maxval); Keras defaults -0.05, 0.05."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed=None) -> None:
        super().__init__(seed)
        self.minval = self._real("minval", minval)
        self.maxval = self._real("maxval", maxval, low=self.minval)

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)


class RandomNormal(Initializer):
    """N(mean, stddev^2); Keras defaults 0, 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None) -> None:
        super().__init__(seed)
        self.mean = self._real("mean", mean)
        self.stddev = self._real("stddev", stddev, low=0)

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)


def _truncated_normal(rng, shape, stddev):
    """N(0, stddev^2) redrawn outside +-2 stddev (Keras' truncated normal)."""
    out = rng.normal(0.0, stddev, shape)
    bad = np.abs(out) > 2 * stddev
    while bad.any():
        out[bad] = rng.normal(0.0, stddev, int(bad.sum()))
        bad = np.abs(out) > 2 * stddev
    return out


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with values beyond 2 stddev redrawn."""

    def sample(self, shape, rng):
        return self.mean + _truncated_normal(rng, shape, self.stddev)


class VarianceScaling(Initializer):
    """scale / fan (fan_in, fan_out or their average) as the variance of a uniform or a truncated
    normal (stddev corrected by 0.8796...: the std of a unit normal truncated at 2)."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed=None,
    ) -> None:
        super().__init__(seed)
        self.scale = self._real("scale", scale, low=0, low_open=True)
        self.mode = self._choice("mode", mode, MODES)
        self.distribution = self._choice("distribution", distribution, DISTRIBUTIONS)

    def _choice(self, name: str, value: Any, valid) -> str:
        example = f"initializers.VarianceScaling({name}={self._example_values[name]!r})"
        return check.choice(name, value, valid, self._where(), example)

    def sample(self, shape, rng):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        return _truncated_normal(rng, shape, math.sqrt(variance) / 0.87962566103423978)


def _scaling(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(
        name, (VarianceScaling,), {"__init__": __init__, "__doc__": doc, "get_config": get_config}
    )


GlorotUniform = _scaling(
    "GlorotUniform",
    1.0,
    "fan_avg",
    "uniform",
    "U(-l, l), l = sqrt(6 / (fan_in + fan_out)) - Keras' default kernel.",
)
GlorotNormal = _scaling(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal", "Truncated N(0, 2 / (fan_in + fan_out))."
)
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform", "U(-l, l), l = sqrt(6 / fan_in).")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated N(0, 2 / fan_in).")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform", "U(-l, l), l = sqrt(3 / fan_in).")
LecunNormal = _scaling(
    "LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated N(0, 1 / fan_in)."
)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``: QR of a normal matrix, signs fixed by diag(R).
    Keras' default recurrent kernel."""

    min_ndim = 2

    def __init__(self, gain: float = 1.0, seed=None) -> None:
        super().__init__(seed)
        self.gain = self._real("gain", gain)

    def sample(self, shape, rng):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = shape[-1]
        a = rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q[:rows, :cols].reshape(shape)


_BY_NAME = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
}


def get(identifier: Any) -> Initializer:
    """A name (``"glorot_uniform"``), an Initializer, or any callable ``(shape, dtype)``."""
    found = resolve(identifier, _BY_NAME, "initializers.get", "an initializer")
    return found() if isinstance(found, type) else found  # a name gives a fresh instance


def serialize(init: Any) -> Any:
    """The name of a built-in initializer (for get_config), else the object itself."""
    for name, cls in _BY_NAME.items():
        if type(init) is cls and not getattr(init, "seed", None):
            if not isinstance(init, (Constant, RandomUniform, RandomNormal, Orthogonal)):
                return name
    return init


__all__ = [
    "Initializer",
    "get",
    "serialize",
    "compute_fans",
    *(c.__name__ for c in _BY_NAME.values()),
]
