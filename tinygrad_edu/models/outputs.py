"""What a forward pass gives back, as plain arrays: one array for a model with one output, one
array per output (a list) for a functional model with several.

The training and inference code (``steps.py``, ``batch_api.py``) reads outputs only through these
helpers, so a model with several outputs needs no branch of its own there.

>>> import numpy as np
>>> from tinygrad_edu import Tensor
>>> output_arrays([Tensor(np.ones((2, 1))), Tensor(np.zeros((2, 3)))])[1].shape
(2, 3)
>>> [a.shape for a in joined([[np.ones((2, 1))], [np.ones((3, 1))]])], batch_length([np.ones(4)])
([(5, 1)], 4)
"""

from __future__ import annotations

from typing import Any, List, Union

import numpy as np

Arrays = Union[np.ndarray, List[np.ndarray]]


def output_arrays(out: Any) -> Arrays:
    """The array of an output Tensor, or the list of arrays of a list of output Tensors."""
    if isinstance(out, (list, tuple)):
        return [o._data for o in out]
    return out._data


def joined(batches: List[Arrays]) -> Arrays:
    """The outputs of consecutive batches joined along the batch axis (per output for lists)."""
    if isinstance(batches[0], list):
        return [np.concatenate(parts, axis=0) for parts in zip(*batches)]
    return np.concatenate(batches, axis=0)


def batch_length(arrays: Arrays) -> int:
    """The number of samples in one batch of outputs."""
    return len(arrays[0]) if isinstance(arrays, list) else len(arrays)


__all__ = ["batch_length", "joined", "output_arrays"]
