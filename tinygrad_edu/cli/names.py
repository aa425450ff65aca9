"""The spellings pasted Keras code uses for our classes and functions, resolved without running
anything: ``tf.keras.layers.Dense`` -> the layer ``Dense``, ``tf.nn.relu`` -> the activation
``"relu"``, ``regularizers.l2`` -> ``tinygrad_edu.regularizers.l2``.

Import lines are read (never run) for their aliases, so that after
``from tensorflow.keras import layers as L`` the call ``L.Dense(10)`` is ``Dense``:

>>> import ast
>>> names = Names()
>>> names.learn(ast.parse("from tensorflow.keras import layers as L").body[0])
>>> names.layer_class(names.dotted(ast.parse("L.Dense").body[0].value))
'Dense'
>>> names.activation(("tf", "nn", "relu"))
'relu'
"""

from __future__ import annotations

import ast
from typing import Any, Callable

from .. import activations, initializers, layers, regularizers

#: where Keras code finds the package itself
_ROOTS = {("keras",), ("tf", "keras"), ("tinygrad_edu",)}  # tensorflow.* is read as tf.*
#: Keras 1/2 submodules of ``keras.layers`` (``from keras.layers.core import Dense``)
_LAYER_SUBMODULES = ("core", "convolutional", "recurrent", "pooling", "normalization")


def _under(*modules: str) -> set[tuple[str, ...]]:
    """``(module,)`` and ``root + (module,)`` for every Keras root: where ``module`` lives."""
    return {modules} | {root + modules for root in _ROOTS}


SEQUENTIAL_PREFIXES = {(), *_ROOTS, *_under("models")}
LAYER_PREFIXES = (
    {()}
    | _under("layers")
    | {prefix + (sub,) for prefix in _under("layers") for sub in _LAYER_SUBMODULES}
)
INPUT_PREFIXES = LAYER_PREFIXES | _ROOTS  # keras.Input(...) as well as layers.Input(...)
#: TensorFlow's own activation functions have the Keras names (tf.nn.relu, tf.tanh, tf.math.tanh)
ACTIVATION_PREFIXES = _under("activations") | {("tf",), ("tf", "nn"), ("tf", "math")}
REGULARIZER_PREFIXES = {()} | _under("regularizers")
INITIALIZER_PREFIXES = {()} | _under("initializers")
#: the functional API's model class (``Model(inputs, outputs)``)
MODEL_PREFIXES = {(), *_ROOTS, *_under("models")}
#: a pasted model's methods that leave its layers as they are (their lines are skipped)
READ_ONLY_METHODS = (
    "compile",
    "fit",
    "fit_generator",
    "evaluate",
    "evaluate_generator",
    "predict",
    "predict_generator",
    "predict_classes",
    "predict_proba",
    "summary",
    "save",
    "save_weights",
    "load_weights",
    "get_weights",
    "count_params",
    "get_config",
    "to_json",
    "train_on_batch",
    "test_on_batch",
)
#: functions whose lines are skipped although the model is their argument
READ_ONLY_FUNCTIONS = {("print",), *((*p, "plot_model") for p in _under("utils") | {()})}


def layer_names() -> list[str]:
    """Layer class names the text may use (everything ``tinygrad_edu.layers`` exports)."""
    return sorted(n for n in layers.__all__ if n != "Layer")


class Names:
    """Aliases learned from import lines, and the lookups that use them."""

    def __init__(self) -> None:
        self.aliases: dict[str, tuple[str, ...]] = {}
        self.known_layers = set(layer_names())

    def learn(self, stmt: ast.Import | ast.ImportFrom) -> None:
        """Remember what the names an import line binds stand for (nothing is imported)."""
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.aliases[alias.asname] = tuple(alias.name.split("."))
            return
        if stmt.level or not stmt.module:
            return
        module = tuple(stmt.module.split("."))
        for alias in stmt.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = (*module, alias.name)

    def dotted(self, node: ast.AST) -> tuple[str, ...] | None:
        """``tf.keras.layers.Dense`` -> ("tf", "keras", "layers", "Dense"), the first name
        replaced by what an import line made it stand for; None if the node is not dotted."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, (node.id,))
        if head == ("tensorflow",) or head[:1] == ("tensorflow",):
            head = ("tf", *head[1:])
        return (*head, *reversed(parts))

    def layer_class(self, name: tuple[str, ...] | None) -> str | None:
        """The layer class a dotted name calls, or None."""
        if name is None or name[-1] not in self.known_layers:
            return None
        prefixes = INPUT_PREFIXES if name[-1] in ("Input", "InputLayer") else LAYER_PREFIXES
        return name[-1] if name[:-1] in prefixes else None

    @staticmethod
    def is_sequential(name: tuple[str, ...] | None) -> bool:
        return name is not None and name[-1] == "Sequential" and name[:-1] in SEQUENTIAL_PREFIXES

    @staticmethod
    def is_functional_model(name: tuple[str, ...] | None) -> bool:
        return name is not None and name[-1] == "Model" and name[:-1] in MODEL_PREFIXES

    @staticmethod
    def activation(name: tuple[str, ...] | None) -> str | None:
        """The Keras name of an activation function reference (``tf.nn.relu`` -> "relu")."""
        if name is None or name[:-1] not in ACTIVATION_PREFIXES:
            return None
        return name[-1] if name[-1] in activations.names() else None

    @staticmethod
    def factory(name: tuple[str, ...] | None) -> Callable[..., Any] | None:
        """The regularizer or initializer a call makes: ``l2(0.01)``, ``regularizers.L2(...)``,
        ``initializers.he_normal(seed=0)`` (Keras 2's function name) or ``HeNormal()``."""
        if name is None:
            return None
        if name[:-1] in REGULARIZER_PREFIXES and name[-1] in regularizers.__all__:
            made = getattr(regularizers, name[-1])
            return made if isinstance(made, type) else None
        if name[:-1] in INITIALIZER_PREFIXES:
            snake = name[-1].islower()  # Keras 2's he_normal, Keras 3's HeNormal
            camel = "".join(p.capitalize() for p in name[-1].split("_")) if snake else name[-1]
            made = getattr(initializers, camel, None)
            if isinstance(made, type) and issubclass(made, initializers.Initializer):
                return made
        return None


__all__ = [
    "READ_ONLY_FUNCTIONS",
    "READ_ONLY_METHODS",
    "Names",
    "layer_names",
]
