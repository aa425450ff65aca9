"""Elementwise arithmetic: add, sub, mul, div, neg, pow, maximum, minimum.

All binary ops broadcast like numpy; their backward returns gradients of the *broadcast* shape and
the engine sums them back down to each input's shape.
"""

from __future__ import annotations

import numpy as np

from ..function import BinaryBroadcast, Function


class Add(BinaryBroadcast):
    """out = a + b.   d/da = 1,   d/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(BinaryBroadcast):
    """out = a - b.   d/da = 1,   d/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(BinaryBroadcast):
    """out = a * b.   d/da = b,   d/db = a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        ga = grad * self.b if self.needs_input_grad[0] else None
        gb = grad * self.a if self.needs_input_grad[1] else None
        return ga, gb


class Div(BinaryBroadcast):
    """out = a / b.   d/da = 1/b,   d/db = -a/b^2 = -out/b."""

    def forward(self, a, b):
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, grad):
        ga = grad / self.b if self.needs_input_grad[0] else None
        gb = -grad * self.out / self.b if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """out = -a.   d/da = -1."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Pow(BinaryBroadcast):
    """out = a ** b (both tensors).   d/da = b * a^(b-1),   d/db = a^b * ln(a)  (needs a > 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad):
        ga = grad * self.b * self.a ** (self.b - 1) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad * self.out * np.log(self.a)
        return ga, gb


class PowScalar(Function):
    """out = a ** p for a constant p.   d/da = p * a^(p-1)."""

    def forward(self, a, *, exponent):
        self.a, self.p = a, exponent
        return a**exponent

    def backward(self, grad):
        if self.p == 2:  # the common square: skip the general power
            return grad * 2 * self.a
        return grad * self.p * self.a ** (self.p - 1)


class Maximum(BinaryBroadcast):
    """out = max(a, b) elementwise.   d/da = [a > b] (+ 1/2 on ties),   d/db = [b > a] (+ 1/2)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, grad):
        share = (self.a > self.b) + 0.5 * (self.a == self.b)
        return grad * share, grad * (1 - share)


class Minimum(BinaryBroadcast):
    """out = min(a, b) elementwise.   d/da = [a < b] (+ 1/2 on ties),   d/db = [b < a] (+ 1/2)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, grad):
        share = (self.a < self.b) + 0.5 * (self.a == self.b)
        return grad * share, grad * (1 - share)
