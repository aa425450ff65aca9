"""One seeded random source for initializers, dropout and shuffling: ``set_seed(n)`` resets it."""

from __future__ import annotations

from typing import Optional

import numpy as np

_state = {"rng": np.random.default_rng(), "seed": None}


def set_seed(seed: int) -> None:
    """Make weights, dropout masks and shuffling reproducible (bit-identical across processes).

    >>> set_seed(0); a = global_rng().random(); set_seed(0); a == global_rng().random()
    True
    """
    _state["rng"] = np.random.default_rng(seed)
    _state["seed"] = seed
    np.random.seed(seed % 2**32)


def global_rng() -> np.random.Generator:
    """The library's shared generator (advanced by every draw)."""
    return _state["rng"]


def make_rng(seed: Optional[int] = None) -> np.random.Generator:
    """A generator for one layer/initializer: its own seed if given, else drawn from the global one."""
    if seed is not None:
        return np.random.default_rng(seed)
    return np.random.default_rng(global_rng().integers(2**63))


__all__ = ["set_seed", "global_rng", "make_rng"]
