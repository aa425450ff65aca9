"""The CLI gradcheck catalog's cases for the activation ops (``ops/activation_ops.py``), through
their Keras-named activations, as ``(name, fn, shapes, domain, sizes)`` tuples that ``catalog.py``
turns into its ``OpCase`` s (this module does not import it: no cycle).

All five are smooth except sparsemax, whose linear piece changes where an input meets the
threshold tau; a standard normal draw lands within a finite-difference step of it with a chance
of ~1e-4, and the catalog's draws are seeded.
"""

from __future__ import annotations

from typing import Any

from .. import activations

ACTIVATION_OP_CASES: list[tuple[Any, ...]] = [
    ("softplus", activations.softplus, ("m,n",), "any", {}),
    ("log_sigmoid", activations.log_sigmoid, ("m,n",), "any", {}),
    ("softsign", activations.softsign, ("m,n",), "nonzero", {}),
    ("mish", activations.mish, ("m,n",), "any", {}),
    ("sparsemax", activations.sparsemax, ("m,n",), "any", {}),
]

__all__ = ["ACTIVATION_OP_CASES"]
