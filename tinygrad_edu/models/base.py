"""``Model``: what every model shares - training (compile, fit, evaluate, train_on_batch),
inference (predict, activations), weights (get/set, save/load) and description (summary,
explain) - written once, on top of a small contract a model kind fulfils.

The contract (the base raises ``ModelContractError``, saying what to add, where it is missing):

- ``call(x, training=None) -> Tensor``: the forward computation on a batch (``model(x)`` runs it);
- ``build(input_shape)``: create every weight for inputs of ``input_shape`` (batch axis first,
  ``None`` allowed) - run by ``fit``/``train_on_batch``/``evaluate`` before the first step;
- ``layers``: the list of layers that hold the weights, in the order ``get_weights`` lists them
  (the base starts it empty; the subclass fills it);
- ``layer_calls(x, training=None)``: yield ``(layer, input, output)`` for every layer call of one
  forward pass, in order - for ``activations`` and ``explain``;
- ``get_config()`` and the classmethod ``from_config(config, layers)``, for ``save``/``load_model``
  (the class registers itself with ``tinygrad_edu.saving.register_model_class``).

Optional, with defaults: ``output_shape`` (None, "not known": targets are then checked at the
first step rather than before training) and ``accept_input_shape(shape)`` (no early check).
Kinds: ``Sequential``, ``Functional`` (``Model(inputs, outputs)``), subclasses (``subclassing``).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .. import summary as _summary
from ..callbacks import History
from ..errors import ConfigError, NotBuiltError
from ..explain import trace
from ..layers.base import Layer
from ..saving import load_weights, save_model, save_weights
from ..saving.registry import model_class
from ..tensor import Tensor, no_grad
from . import batch_api as _batch_api
from . import fit as _fit
from . import jit_training as _jit  # compile(jit_compile=True)
from . import subclassing as _sub
from .arguments import check_fit_args, compile_choices
from .data import samples
from .keras_arguments import KerasArguments
from .layer_lookup import get_layer as _get_layer
from .steps import UndoBuffer, train_step
from .subclassing import ModelContractError
from .weights import checked_weight_arrays, distinct, is_trainable, set_trainable


class Model(KerasArguments):
    """The base of every model (see the module docstring for what a subclass provides).

    Attributes: ``name``; ``layers``; ``input_shape`` (batch axis first, once known);
    ``optimizer``, ``loss_fn``, ``metric_fns`` (set by ``compile``); ``history`` (of the last
    ``fit``); ``stop_training`` (a callback sets it to stop ``fit``); ``diverged`` (True after a
    ``fit`` that stopped because a step diverged).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        """``Model(inputs=..., outputs=...)`` makes a ``Functional`` (found by registry name)."""
        if cls is Model and (len(args) >= 2 or {"inputs", "outputs"} & set(kwargs)):
            cls = model_class("Functional", "Model(inputs=..., outputs=...)")
        return super().__new__(cls)

    def __setattr__(self, name: str, value: Any) -> None:
        if type(self).layer_calls is Model.layer_calls:  # a kind that keeps no layer list
            value = _sub.track_layers(self, name, value)  # layers assigned join self.layers
        super().__setattr__(name, value)

    def __init__(self, name: Optional[str] = None) -> None:
        if name is not None and not isinstance(name, str):
            raise ConfigError(
                where=f"{type(self).__name__}()",
                expected="name as a str (or None)",
                got=type(name).__name__,
                fix=f"{type(self).__name__}(..., name='classifier')",
            )
        self.name = name or type(self).__name__.lower()
        self.layers: List[Layer] = []
        self.input_shape: Optional[tuple] = None
        self.optimizer: Any = None
        self.loss_fn: Any = None
        self.metric_fns: List[Tuple[str, Any]] = []
        self.history: Optional[History] = None
        self.stop_training = False
        self.diverged = False
        self._undo = UndoBuffer()

    # ------------------------------------------------------------------ the contract
    def call(self, x: Any, training: Optional[bool] = None) -> Tensor:
        """The forward computation on a batch ``x`` (a subclass defines it)."""
        raise self._missing("call(self, x, training=None)", "the forward pass: return the output")

    def build(self, input_shape: Sequence[Optional[int]]) -> None:
        """Create every weight for inputs of ``input_shape``: a subclass that defines ``call``
        is built by one forward pass on zeros (``subclassing.build_by_calling``)."""
        if type(self).call is Model.call:
            raise self._missing("build(self, input_shape)", "create the weights of every layer")
        _sub.build_by_calling(self, input_shape)

    def layer_calls(self, x: Any, training: Optional[bool] = None) -> Iterator[tuple]:
        """``(layer, input, output)`` for every layer call of one forward pass, in order (a
        subclass defining ``call``: recorded while it runs, ``subclassing.recorded_calls``)."""
        if type(self).call is Model.call:
            what = "yield (layer, input, output) per layer call"
            raise self._missing("layer_calls(self, x, training=None)", what)
        return iter(_sub.recorded_calls(self, x, training))

    def get_config(self) -> Dict[str, Any]:
        """The architecture as plain data, with a ``"layers"`` list (subclassed: the name)."""
        if self.custom_object():
            return {"name": self.name}
        raise self._missing("get_config(self)", "return the architecture as plain data")

    @classmethod
    def from_config(cls, config: Dict[str, Any], layers: Optional[List[Layer]] = None) -> Model:
        """The model of ``get_config()``'s config and rebuilt ``layers`` (or ``cls(**config)``)."""
        if cls.custom_object():
            return cls(**config)
        raise ModelContractError(
            where=f"{cls.__name__}.from_config",
            expected="the classmethod from_config(cls, config, layers) of the Model contract",
            got="none defined",
            fix="define it to rebuild the model from get_config() and the rebuilt layers",
        )

    @property
    def output_shape(self) -> Optional[tuple]:
        """The output shape (batch axis first), or None when not known."""
        return None

    def accept_input_shape(self, shape: Tuple[int, ...]) -> None:
        """Refuse inputs of ``shape`` early, with a teaching error (default: no check)."""

    def _missing(self, signature: str, what: str) -> ModelContractError:
        return _sub.missing(self, signature, what)

    # ------------------------------------------------------------------ running
    def __call__(self, x: Any, training: Optional[bool] = None) -> Tensor:
        out = self.call(x, training=training)
        if self.input_shape is None:  # a subclassed model's first call builds it, as in Keras
            _sub.remember_input_shape(self, x)
        return out

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def train(self, mode: bool = True) -> Model:
        """PyTorch-style: make Dropout/BatchNormalization behave as in training by default."""
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self) -> Model:
        """PyTorch-style: inference behaviour (no dropout, moving statistics)."""
        return self.train(False)

    def predict(
        self, x: Any, batch_size: int = 32, verbose: Any = 0, steps: Optional[int] = None,
        callbacks: Any = None,
    ) -> np.ndarray:
        """Outputs for every sample of ``x`` (inference mode, no graph), in batches; ``x`` may
        be an iterable of batches (at most ``steps`` are read). ``verbose`` (0, 1, 2 or
        "auto") > 0 prints one line when done."""
        return _batch_api.predict(self, x, batch_size, verbose, steps, callbacks)

    def predict_on_batch(self, x: Any) -> np.ndarray:
        return _batch_api.predict_on_batch(self, x)

    @property
    def metrics_names(self) -> List[str]:
        return _batch_api.metrics_names(self)

    def _check_x(self, x: Any, where: str) -> np.ndarray:
        """Inputs as an array, refused early with a teaching error when unusable."""
        return samples(self, x, where)

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> List[Tensor]:
        return [w for layer in distinct(self.layers) for w in layer.weights]

    #: Keras' switch for the whole model: ``model.trainable = False`` freezes every layer
    trainable = property(is_trainable, set_trainable)

    @property
    def trainable_weights(self) -> List[Tensor]:
        return [w for layer in distinct(self.layers) for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> List[Tensor]:
        return [w for layer in distinct(self.layers) for w in layer.non_trainable_weights]

    def parameters(self) -> List[Tensor]:
        """Trainable weight tensors, for ``Adam(model.parameters())`` (PyTorch style)."""
        self._require_built("parameters()")
        return self.trainable_weights

    def named_weights(self) -> Dict[str, Tensor]:
        """``{"dense/kernel": tensor, ...}`` in Keras order (used by save/load)."""
        return {
            f"{layer.name}/{n}": w
            for layer in distinct(self.layers)
            for n, w in zip(layer.weight_names, layer.weights)
        }

    def count_params(self) -> int:
        self._require_built("count_params()")
        return sum(layer.count_params() for layer in distinct(self.layers))

    def get_weights(self) -> List[np.ndarray]:
        """Every weight array (copies), layer by layer, in Keras' order and layouts."""
        return [w._data.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Write new values (the list ``get_weights`` returns) into the weights in place, with
        ``assign``: optimizers keep their references and graphs made before see the write. All
        are checked before any is written."""
        self._require_built("set_weights()")
        for w, new in zip(self.weights, checked_weight_arrays(self, weights)):
            w.assign(new.astype(w.dtype, copy=False))

    def regularization_losses(self) -> List[Tensor]:
        """The penalty tensors of every layer's regularizers."""
        return [p for layer in distinct(self.layers) for p in layer.regularization_losses()]

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise _sub.not_built(self, what)

    # ------------------------------------------------------------------ training
    def compile(
        self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, jit_compile=False
    ) -> None:
        """Optimizer, loss, metrics (Keras names or objects), jit_compile: all or nothing."""
        chosen = compile_choices(self, optimizer, loss, metrics)  # warns of softmax(1 unit)
        self.optimizer, self.loss_fn, self.metric_fns = _jit.compiled(self, jit_compile, chosen)
        if self.built and self.trainable_weights:
            self.optimizer.set_params(self.trainable_weights)

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: Any = 1,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        callbacks: Optional[Sequence[Any]] = None,
        initial_epoch: int = 0,
        check_finite: bool = True,
        seed: Optional[int] = None,
        sample_weight: Any = None,
        class_weight: Any = None,
        steps_per_epoch: Optional[int] = None,
        **legacy: Any,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches; returns a ``History``.

        ``check_finite=False`` skips the NaN/inf scan of the data (for those who mean it).
        A step whose loss, gradients or updated weights are NaN/inf is undone and training stops
        there, with a message (also in ``History.stop_reason``; ``model.diverged`` is then True):
        the weights are the last finite ones, those the step started from.
        ``sample_weight``/``class_weight``/``validation_data=(x, y, w)`` weight the loss as Keras
        (``models/weighting.py``); ``x`` may be an iterable of ``(x, y[, w])`` batches with
        ``steps_per_epoch`` (``models/batch_stream.py``). Keras 1's ``nb_epoch`` means
        ``epochs`` (with a ``KerasLegacyWarning``). The steps: ``tinygrad_edu.models.fit``.
        """
        self._require_compiled("fit")
        args = check_fit_args(
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            callbacks=callbacks,
            initial_epoch=initial_epoch,
            check_finite=check_finite,
            seed=seed,
            sample_weight=sample_weight,
            class_weight=class_weight,
            steps_per_epoch=steps_per_epoch,
            legacy=legacy,
        )
        return _fit.fit(self, x, y, args)

    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None,
        return_dict: Any = None,
    ) -> Any:
        """One optimizer step on one batch; returns the batch's loss and metrics (a dict, or
        Keras' float / ``[loss, *metrics]`` for ``return_dict=False``).

        A step whose loss, gradients or updated weights are NaN/inf is not applied (the
        weights and the optimizer's state stay as they were) and raises ``DivergenceError``.
        """
        return _batch_api.train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Loss (and metrics) of one batch in inference mode, returned as ``evaluate`` does."""
        return _batch_api.test_on_batch(self, x, y, sample_weight, return_dict)

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        verbose: Any = 0,
        return_dict: bool = False,
        check_finite: bool = True,
        sample_weight: Any = None,
        steps: Optional[int] = None,
        callbacks: Any = None,
    ) -> Any:
        """Loss (and metrics) on ``(x, y)`` (or an iterable of batches, at most ``steps``) in
        inference mode: a float, or ``[loss, *metrics]`` when metrics were compiled (Keras'
        return shape), or a dict with ``return_dict=True``. Changes no weight."""
        return _batch_api.evaluate(
            self, x, y, batch_size, verbose, return_dict, check_finite, sample_weight, steps,
            callbacks,
        )

    def _train_step(self, x: np.ndarray, y: np.ndarray, w: Any = None) -> Dict[str, float]:
        """One step as ``fit`` runs it (see ``tinygrad_edu.models.steps``)."""
        return train_step(self, x, y, w)

    def _prepare_optimizer(self, x: np.ndarray, where: str = "fit") -> None:
        """Build the model for ``x`` if needed and hand the trainable weights to the optimizer."""
        if not self.built:
            self.build((None, *x.shape[1:]))
        params = self.trainable_weights
        if not params:
            raise ConfigError(
                where=f"model '{self.name}'.{where}",
                expected="at least one trainable weight",
                got="none (every layer is frozen or has no weights)",
                fix="set layer.trainable = True on the layers to train, or add a Dense layer",
            )
        if not self.optimizer.updates(params):
            self.optimizer.set_params(params)

    def _require_compiled(self, what: str) -> None:
        if self.loss_fn is None:
            raise NotBuiltError(
                where=f"model '{self.name}'.{what}",
                expected="a compiled model",
                got="no optimizer/loss yet",
                fix="call model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
            )

    # ------------------------------------------------------------------ teaching
    def explain(self, x: Any, print_fn=print) -> list:
        """Run a real batch and print, per layer, the operation with its real shapes (see
        ``tinygrad_edu.explain.trace``); returns the same as data."""
        return trace(self, x, print_fn=print_fn)

    def activations(self, x: Any) -> Dict[str, np.ndarray]:
        """Every layer's output for ``x`` (inference mode), by layer name."""
        x = self._check_x(x, "activations")
        with no_grad():
            return {layer.name: out.data for layer, _, out in self.layer_calls(x, training=False)}

    get_layer = _get_layer  # model.get_layer("dense") or model.get_layer(index=0)

    def summary(self, print_fn=None, line_length: Optional[int] = None, show_algebra=True) -> None:
        """Print Keras' summary table plus the algebra column (see ``tinygrad_edu.summary``)."""
        _summary.print_summary(self, print_fn, line_length, show_algebra)

    # ------------------------------------------------------------------ saving
    file_config = _sub.file_config  # what save stores, and back (subclassing.py)
    from_file_config = classmethod(_sub.from_file_config)
    custom_object = classmethod(_sub.subclassed)  # saved by class name even unregistered

    def save(self, path: str) -> None:
        """Architecture + weights + optimizer state in one ``.npz``, written atomically."""
        save_model(self, path)

    def save_weights(self, path: str) -> None:
        """Only the weights (by layer/weight name), written atomically."""
        save_weights(self, path)

    def load_weights(self, path: str) -> None:
        """Load weights saved by ``save_weights``/``save``; mismatches raise ``CheckpointError``
        listing missing, unexpected and mis-shaped weights."""
        load_weights(self, path)

    def __repr__(self) -> str:
        names = [layer.name for layer in self.layers]
        return f"<{type(self).__name__} name={self.name!r} layers={names}>"


__all__ = ["Model", "ModelContractError"]
