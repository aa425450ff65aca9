"""The recurrent modules and Embedding, for ``from_torch`` (the table is in
``from_torch_modules.py``).

torch's ``nn.RNN/LSTM/GRU(batch_first=True)`` -> ``SimpleRNN/LSTM/GRU``, one of ours per layer of
``num_layers`` (torch's ``dropout`` between them -> ``Dropout``). The gate blocks are reordered
(``tables.TORCH_ORDER``) and transposed; torch's two biases become Keras' one (their sum) for
SimpleRNN and LSTM, the two rows of the GRU's ``reset_after`` bias. A bare recurrent module
returns a tuple, so it can only end an ``nn.Sequential``: it maps to ``return_sequences=True``
(torch's ``output``); ``RecurrentOutput`` (``to_torch``'s, or yours) says which output to keep.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError
from ..layers import GRU, LSTM, Dropout, Embedding, SimpleRNN
from .builder import Builder, Spec, array, require, require_rank, require_size
from .tables import TORCH_ORDER


def recurrent_output(m: Any, where: str, b: Builder) -> None:
    """``RecurrentOutput(rnn, return_sequences, go_backwards)``, as ``to_torch`` writes it."""
    table = {"RNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
    if type(m.rnn).__name__ not in table or type(m.rnn).__module__ != "torch.nn.modules.rnn":
        raise ConfigError(
            where=where,
            expected="RecurrentOutput of a torch.nn.RNN, LSTM or GRU",
            got=type(m.rnn).__name__,
            fix="RecurrentOutput(torch.nn.LSTM(3, 8, batch_first=True))",
        )
    recurrent(m.rnn, f"{where}.rnn", b, m.return_sequences, m.go_backwards)


def bare_recurrent(m: Any, where: str, b: Builder) -> None:
    """A bare ``nn.LSTM`` (last in the Sequential): its output sequence, torch's ``output``."""
    recurrent(m, where, b, return_sequences=True, go_backwards=False)
    b.closed_by = f"nn.{type(m).__name__} ({where})"


def recurrent(m: Any, where: str, b: Builder, return_sequences: bool, go_backwards: bool) -> None:
    kind = type(m).__name__
    fix = f"torch.nn.{kind}({m.input_size}, {m.hidden_size}, batch_first=True)"
    require(m, where, "batch_first", (True,), fix)  # ours are batch-first: (B, T, F)
    require(m, where, "bidirectional", (False,), fix)
    if kind == "LSTM":
        require(m, where, "proj_size", (0,), fix)
    if kind == "RNN":
        require(m, where, "nonlinearity", ("tanh", "relu"), fix)
    b.require_own_layout(where)
    shape = b.shape
    require_rank(where, shape, (3,), "sequences (T, F), batch_first")
    size_fix = f"torch.nn.{kind}({shape[-1]}, {m.hidden_size}, batch_first=True)"
    require_size(where, "input_size", m.input_size, shape[-1], size_fix)
    cls = {"RNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}[kind]
    for k in range(m.num_layers):
        last = k == m.num_layers - 1
        kwargs: dict[str, Any] = {"units": m.hidden_size, "use_bias": m.bias}
        kwargs["return_sequences"] = return_sequences if last else True
        kwargs["go_backwards"] = go_backwards and k == 0  # torch flips the input once
        kwargs.update({"activation": m.nonlinearity} if kind == "RNN" else {})
        kwargs.update({"reset_after": True} if kind == "GRU" else {})
        b.add(Spec(cls, kwargs, _recurrent_weights(m, kind, k), where))
        if m.dropout and not last:  # torch's dropout between the stacked layers
            b.add(Spec(Dropout, {"rate": m.dropout}, [], where))


def _recurrent_weights(m: Any, kind: str, k: int) -> list[np.ndarray]:
    """Layer ``k``'s weights in Keras' layout: gate blocks in Keras' order, one bias for SimpleRNN
    and LSTM (torch's two summed: exact when bias_hh is 0, as to_torch writes it), both rows for
    the GRU (reset_after)."""
    u, order = m.hidden_size, TORCH_ORDER[kind]

    def rows(name: str) -> np.ndarray:  # torch's gate blocks (rows) in Keras' order
        a = array(getattr(m, f"{name}_l{k}"))
        return np.concatenate([a[g * u : (g + 1) * u] for g in order], axis=0)

    weights = [rows("weight_ih").T, rows("weight_hh").T]  # (g*u, F) -> kernel (F, g*u)
    if not m.bias:
        return weights
    bias_ih, bias_hh = rows("bias_ih"), rows("bias_hh")
    return weights + [np.stack([bias_ih, bias_hh]) if kind == "GRU" else bias_ih + bias_hh]


def embedding(m: Any, where: str, b: Builder) -> None:
    fix = f"torch.nn.Embedding({m.num_embeddings}, {m.embedding_dim})"
    # padding_idx: torch never updates that row in training; max_norm rescales rows in forward
    for option, supported in (("padding_idx", None), ("max_norm", None)):
        require(m, where, option, (supported,), fix)
    require(m, where, "scale_grad_by_freq", (False,), fix)
    require_rank(where, b.shape, (2,), "token ids (T,)")
    kwargs = {"input_dim": m.num_embeddings, "output_dim": m.embedding_dim}
    b.add(Spec(Embedding, kwargs, [array(m.weight)], where))


__all__ = ["bare_recurrent", "embedding", "recurrent", "recurrent_output"]
