"""``Embedding`` (Keras semantics): integer ids -> rows of a trainable table.

Each id picks one row of ``embeddings`` [input_dim, output_dim]::

    out[b, t, :] = embeddings[ids[b, t], :]        [B, T] -> [B, T, output_dim]

It is ``one_hot(ids) @ embeddings`` without building the one-hot matrix, so its gradient is that
matmul's: row ``i`` of ``dL/d(embeddings)`` is the sum of the upstream gradients of every position
holding id ``i`` (an id used twice gets both). The lookup is the library's ``GetItem`` op
(``embeddings[ids]``), whose backward scatters with ``np.add.at`` for exactly that reason.

Ids must be whole numbers in ``[0, input_dim)``; floats holding whole numbers are cast (as
Keras does), anything else is a ``DataError`` naming the bad id.

>>> import numpy as np
>>> layer = Embedding(input_dim=1000, output_dim=64)
>>> layer(np.array([[4, 20, 4]])).shape
(1, 3, 64)
>>> layer.count_params()
64000
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import initializers as _initializers
from .. import regularizers as _regularizers
from .. import validation as check
from .._shapes import as_numeric_array
from ..errors import ConfigError, DataError
from ..tensor import Tensor
from .algebra import Algebra, Count, Operand
from .base import Layer, Shape

#: Keras 3's name for ``RandomUniform(-0.05, 0.05)``, Embedding's default initializer
_INITIALIZER_ALIASES = {"uniform": "random_uniform"}


class Embedding(Layer):
    """``embeddings[ids]``: [B, T] integer ids -> [B, T, output_dim]; weight ``embeddings``
    [input_dim, output_dim], input_dim * output_dim parameters, no bias.

    ``mask_zero=True`` is refused: masking is not implemented in this library's recurrent layers,
    and a mask silently ignored would let padding steps change the result.
    ``input_length`` (Keras 2) declares the input shape ``(input_length,)``.
    """

    feature_axis = None  # any sequence length; the ids are not features
    example_args: ClassVar[dict] = {"input_dim": 1000, "output_dim": 64}
    example_input_shape = (10,)

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        mask_zero: bool = False,
        input_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        if input_length is not None and not any(
            k in kwargs for k in ("input_shape", "batch_input_shape")
        ):
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = check.positive_int("input_dim", input_dim, self.where, self.example())
        self.output_dim = check.positive_int("output_dim", output_dim, self.where, self.example())
        self.input_length = (
            None
            if input_length is None
            else check.positive_int("input_length", input_length, self.where, self.example())
        )
        self.mask_zero = check.flag("mask_zero", mask_zero, self.where, self.example())
        if self.mask_zero:
            raise ConfigError(
                where=self.where,
                expected="mask_zero=False (masking is not implemented in tinygrad_edu)",
                got="mask_zero=True",
                fix=f"Embedding(input_dim={self.input_dim}, output_dim={self.output_dim}, "
                "mask_zero=False)  # still reserve id 0 for padding; "
                "padded steps are then computed, not skipped",
            )
        # resolved now so a bad name fails at construction; the arguments as given for get_config
        self._config_args = (embeddings_initializer, embeddings_regularizer)
        init = embeddings_initializer
        self.embeddings_initializer = _initializers.get(
            _INITIALIZER_ALIASES.get(init, init) if isinstance(init, str) else init
        )
        self.embeddings_regularizer = _regularizers.get(embeddings_regularizer)
        self.embeddings: Tensor | None = None

    def build(self, input_shape: Shape) -> None:
        self.embeddings = self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.output_dim)

    converts_tensors = True  # a float Tensor of ids is checked and cast too

    def _to_tensor(self, x: Any) -> Tensor:
        """The ids as an int64 Tensor (no gradient: ids are not differentiable)."""
        return Tensor(self.ids(x), dtype=np.int64)

    def ids(self, x: Any) -> np.ndarray:
        """``x`` checked as ids: whole numbers in ``[0, input_dim)``, as an int64 array."""
        data = x._data if isinstance(x, Tensor) else x
        arr = as_numeric_array(data, self.where)
        if arr.dtype.kind == "f" and arr.size:
            whole = np.isfinite(arr) & (arr == np.round(arr))
            if not whole.all():
                bad = arr[~whole].flat[0].item()
                raise DataError(
                    where=self.where,
                    expected="integer token ids (floats must hold whole numbers)",
                    got=f"the value {bad!r} at index {np.argwhere(~whole)[0].tolist()}",
                    fix="map each token to its integer id with a vocabulary first, e.g. "
                    "ids = np.array([[vocab[w] for w in sentence] for sentence in batch])",
                )
        outside = (arr < 0) | (arr >= self.input_dim)  # before the cast: 1e20 would wrap
        if outside.any():
            bad = int(arr[outside].flat[0])
            raise DataError(
                where=self.where,
                expected=f"ids in [0, {self.input_dim}) (input_dim={self.input_dim} rows)",
                got=f"the id {bad} at index {np.argwhere(outside)[0].tolist()}",
                fix=f"Embedding(input_dim={max(int(arr.max()) + 1, self.input_dim)}, "
                f"output_dim={self.output_dim})  # input_dim = the largest id + 1"
                + ("" if bad >= 0 else "; ids are never negative - check the vocabulary"),
            )
        return arr.astype(np.int64)

    def sample_input(self, shape, rng: np.random.Generator) -> np.ndarray:
        """Random valid ids of ``shape`` (``testing.check_layer`` feeds them)."""
        return rng.integers(0, self.input_dim, size=shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self.embeddings[x._data]

    def algebra(self) -> Algebra:
        """``[input_dim,output_dim] rows picked by [B,T] -> [B,T,output_dim]``."""
        table = Operand("embeddings", (self.input_dim, self.output_dim))
        pieces = (
            Operand("input", self.input_shape),
            " picks rows of ",
            table,
            " -> ",
            Operand("output", self.output_shape),
        )
        return Algebra(self.input_shape, self.output_shape, pieces, None, Count.of(table))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self._config_args[0],
            "embeddings_regularizer": self._config_args[1],
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }


__all__ = ["Embedding"]
