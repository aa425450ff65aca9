"""Write your own layer (and your own op), then check it the way the library checks its own.

What it shows:
1. ``ScaledTanh`` - a layer built from Tensor ops: ``out = alpha * tanh(x @ W)``, with a learnable
   per-unit ``alpha``. Autodiff gives its gradient; ``check_layer`` confirms shapes, parameter
   count, config round-trip and a float64 gradient check w.r.t. the input and every weight.
2. ``Softsign`` - an op written by hand (forward and backward side by side). A correct backward
   passes ``gradcheck``; a deliberately wrong one is caught, with the element and both values.

Runtime: on a 2-core machine, ~1 s by default, ~1 s with --quick (the same run). Measured as CPU
time with one BLAS thread (about the wall time on an idle machine); at load ~10 (other jobs
running) the wall time was ~2 s and ~2 s.
Expected last line: ``all checks behaved as expected``.
"""

from __future__ import annotations

import argparse

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import GradcheckError, Tensor, gradcheck, tensor_from_op
from tinygrad_edu.function import Function
from tinygrad_edu.layers import Layer
from tinygrad_edu.testing.layers import check_layer


class ScaledTanh(Layer):
    """[B, n] @ [n, units] -> tanh -> * alpha[units] -> [B, units]."""

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape) -> None:
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.alpha = self.add_weight("alpha", (self.units,), "ones")

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self.alpha * (x @ self.kernel).tanh()

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Softsign(Function):
    """out = a / (1 + |a|).   d/da = 1 / (1 + |a|)^2."""

    def forward(self, a):
        self.a = a
        return a / (1 + np.abs(a))

    def backward(self, grad):
        return grad / (1 + np.abs(self.a)) ** 2


class BuggySoftsign(Softsign):
    """Same forward, wrong backward (forgot the square) - gradcheck must catch it."""

    def backward(self, grad):
        return grad / (1 + np.abs(self.a))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="(already quick; kept for symmetry)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tg.set_seed(args.seed)

    report = check_layer(
        ScaledTanh(7), (3, 4), expected_output_shape=(None, 7), expected_params=4 * 7 + 7
    )
    print(
        f"ScaledTanh(7) on (3, 4): output {report['output_shape']}, {report['params']} params, "
        f"gradients checked for {report['gradchecked']}"
    )

    x = np.random.default_rng(args.seed).normal(size=(4, 5))
    assert gradcheck(lambda t: tensor_from_op(Softsign, t), x)
    print("Softsign: analytic and numerical gradients agree")
    try:
        gradcheck(lambda t: tensor_from_op(BuggySoftsign, t), x)
    except GradcheckError as err:
        print(f"BuggySoftsign caught:\n{err}")
    else:
        raise SystemExit("the buggy backward was NOT caught")
    print("all checks behaved as expected")


if __name__ == "__main__":
    main()
