"""The one table both directions read: which torch module computes which Keras activation, and the
recurrent gate orders.

``ACTIVATIONS[keras_name] = (torch class name, {attribute: the value that makes it that
activation})``: ``to_torch`` builds ``nn.<class>(**attributes)``; ``from_torch`` accepts an
``nn.<class>`` only when every listed attribute has that value (``nn.LeakyReLU()``'s default
slope 0.01 is not Keras' 0.2, so it is refused, never silently changed). Names are strings so
this module imports without torch.

>>> ACTIVATIONS["leaky_relu"]
('LeakyReLU', {'negative_slope': 0.2})
>>> KERAS_NAME["SiLU"], KERAS_NAME["Softmax"]
('silu', 'softmax')
>>> [KERAS_GATES["GRU"][g] for g in TORCH_ORDER["GRU"]]  # torch's r, z, n from Keras' z, r, h
['r', 'z', 'h']
"""

from __future__ import annotations

from typing import Any

ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("ReLU", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "elu": ("ELU", {"alpha": 1.0}),
    "selu": ("SELU", {}),
    "softplus": ("Softplus", {"beta": 1.0}),  # torch's threshold 20: x itself, equal in float32
    "gelu": ("GELU", {"approximate": "none"}),  # the erf form (Keras' default)
    "silu": ("SiLU", {}),
    "celu": ("CELU", {"alpha": 1.0}),
    "hard_sigmoid": ("Hardsigmoid", {}),  # Keras 3: relu6(x + 3) / 6, torch's formula
    "hard_silu": ("Hardswish", {}),
    "hard_tanh": ("Hardtanh", {"min_val": -1.0, "max_val": 1.0}),
    "log_sigmoid": ("LogSigmoid", {}),
    "mish": ("Mish", {}),
    "relu6": ("ReLU6", {}),
    "soft_shrink": ("Softshrink", {"lambd": 0.5}),
    "hard_shrink": ("Hardshrink", {"lambd": 0.5}),
    "softsign": ("Softsign", {}),
    "tanh_shrink": ("Tanhshrink", {}),
    "leaky_relu": ("LeakyReLU", {"negative_slope": 0.2}),  # Keras' activation default
    # over one axis (Keras: the last); the converters set torch's dim
    "softmax": ("Softmax", {}),
    "log_softmax": ("LogSoftmax", {}),
    "glu": ("GLU", {}),
}
#: Keras names that are aliases of a name above (Keras serializes the function's own name)
ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
#: the activations that work along one axis (torch's ``dim``)
ALONG_AN_AXIS = ("softmax", "log_softmax", "glu")
#: torch class name -> Keras activation name
KERAS_NAME = {torch_name: name for name, (torch_name, _) in ACTIVATIONS.items()}

#: the gates of each recurrent layer, in Keras' column order
KERAS_GATES = {"RNN": ("h",), "LSTM": ("i", "f", "c", "o"), "GRU": ("z", "r", "h")}
#: torch's row order as positions in Keras' order (LSTM: i, f, g, o is Keras' i, f, c, o;
#: GRU: r, z, n is Keras' r, z, h). Each is its own inverse.
TORCH_ORDER = {"RNN": (0,), "LSTM": (0, 1, 2, 3), "GRU": (1, 0, 2)}

__all__ = ["ACTIVATIONS", "ALIASES", "ALONG_AN_AXIS", "KERAS_GATES", "KERAS_NAME", "TORCH_ORDER"]
