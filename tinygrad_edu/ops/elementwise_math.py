"""Elementwise math of one input beyond the activations: sin, cos, log2, log10, log1p, expm1,
rsqrt, and the step functions sign, floor, ceil, round.

The step functions are flat between their jumps, so their derivative is 0 wherever it exists;
at a jump it does not exist, and we return 0 there too (torch does the same): gradient descent
through ``round`` learns nothing, which is the honest answer.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from ..function import Function
from ..validation import is_int

_LN2 = math.log(2.0)  # Python floats: multiplying keeps a float32 array float32
_LN10 = math.log(10.0)


class Sin(Function):
    """out = sin(a).   d/da = cos(a)."""

    def forward(self, a):
        self.a = a
        return np.sin(a)

    def backward(self, grad):
        return grad * np.cos(self.a)


class Cos(Function):
    """out = cos(a).   d/da = -sin(a)."""

    def forward(self, a):
        self.a = a
        return np.cos(a)

    def backward(self, grad):
        return grad * -np.sin(self.a)


class Log2(Function):
    """out = log2(a) = ln(a) / ln 2.   d/da = 1 / (a ln 2)."""

    def forward(self, a):
        self.a = a
        return np.log2(a)

    def backward(self, grad):
        return grad / (self.a * _LN2)


class Log10(Function):
    """out = log10(a) = ln(a) / ln 10.   d/da = 1 / (a ln 10)."""

    def forward(self, a):
        self.a = a
        return np.log10(a)

    def backward(self, grad):
        return grad / (self.a * _LN10)


class Log1p(Function):
    """out = ln(1 + a), exact for tiny a (where 1 + a rounds to 1).   d/da = 1 / (1 + a)."""

    def forward(self, a):
        self.a = a
        return np.log1p(a)

    def backward(self, grad):
        return grad / (1 + self.a)


class Expm1(Function):
    """out = e^a - 1, exact for tiny a.   d/da = e^a = out + 1."""

    def forward(self, a):
        self.out = np.expm1(a)
        return self.out

    def backward(self, grad):
        return grad * (self.out + 1)


class Rsqrt(Function):
    """out = 1 / sqrt(a) = a^(-1/2).   d/da = -1/2 a^(-3/2) = -out^3 / 2."""

    def forward(self, a):
        self.out = 1 / np.sqrt(a)
        return self.out

    def backward(self, grad):
        return grad * (-0.5 * self.out**3)


class _Step(Function):
    """A piecewise-constant function: d/da = 0 (also at the jumps, where it does not exist)."""

    def backward(self, grad):
        return np.zeros_like(grad)


class Sign(_Step):
    """out = -1, 0 or 1 as a < 0, a = 0, a > 0 (NaN stays NaN).   d/da = 0."""

    def forward(self, a):
        return np.sign(a)


class Floor(_Step):
    """out = the largest integer <= a (a float).   d/da = 0."""

    def forward(self, a):
        return np.floor(a)


class Ceil(_Step):
    """out = the smallest integer >= a (a float).   d/da = 0."""

    def forward(self, a):
        return np.ceil(a)


class Round(_Step):
    """out = a rounded to ``decimals`` decimal places, halves to the even neighbour
    (``round(0.5) = 0``, ``round(1.5) = 2``: numpy's and torch's rule).   d/da = 0."""

    def forward(self, a, *, decimals=0):
        if not is_int(decimals):
            raise ConfigError(
                where="op 'Round'",
                expected="decimals as an int (0: whole numbers, 2: hundredths, -1: tens)",
                got=f"decimals={decimals!r} ({type(decimals).__name__})",
                fix="t.round(decimals=2)",
            )
        return np.round(a, int(decimals))
