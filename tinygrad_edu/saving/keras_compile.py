"""The compile settings of ``config.json`` between Keras 3 and tinygrad_edu.

Compile settings (Decision, documented in the README): the loss, metrics and optimizer are
restored when we have them all; otherwise ``load_model`` warns, names what it could not map,
and returns the model uncompiled - never compiled with something else. The optimizer's
state (Adam's moments, the step count) is not exchanged: a loaded model's optimizer starts
fresh, as after ``compile``.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, Optional

from .. import losses as _losses
from .. import optimizers as _optimizers
from ..errors import TinygradEduError
from .configs import CONFIG_ERRORS

#: Keras optimizer options at the values that mean what ours do when we lack them
_OPTIMIZER_ONLY = {
    "use_ema": False,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def compile_to_keras(model: Any) -> Optional[Dict[str, Any]]:
    """Keras' compile_config of a compiled model with a built-in loss, else None (with a
    warning: Keras then loads the model uncompiled)."""
    loss = getattr(model, "loss_fn", None)
    if loss is None:
        return None
    keras_loss = _loss_to_keras(loss)
    if keras_loss is None:
        warnings.warn(
            f"model '{model.name}': the loss {getattr(loss, 'name', loss)!r} has no Keras "
            "equivalent here; the .keras file holds no compile settings (Keras loads it "
            "uncompiled)",
            stacklevel=4,
        )
        return None
    optimizer = model.optimizer
    try:
        optimizer_config = _plain(optimizer.get_config())
    except (TypeError, ValueError) as err:  # a plain function as schedule
        warnings.warn(
            f"model '{model.name}': {err}; the .keras file holds no compile settings",
            stacklevel=4,
        )
        return None
    return {
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": type(optimizer).__name__,
            "config": optimizer_config,
            "registered_name": None,
        },
        "loss": keras_loss,
        "loss_weights": None,
        "metrics": [name for name, _ in model.metric_fns] or None,
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _plain(config: Dict[str, Any]) -> Dict[str, Any]:
    """Our optimizer config in Keras' form: a built-in schedule as Keras' schedule object."""
    rate = config.get("learning_rate")
    if isinstance(rate, dict):
        config["learning_rate"] = {
            "module": "keras.optimizers.schedules",
            **rate,
            "registered_name": None,
        }
    elif not isinstance(rate, (int, float, type(None))):
        raise TypeError(f"the learning rate {rate!r} has no Keras form")
    return config


def compile_from_keras(model: Any, compile_config: Any, where: str) -> None:
    """Compile ``model`` as the file says, or warn and leave it uncompiled (module docstring)."""
    if not compile_config.get("optimizer") and not compile_config.get("loss"):
        return  # the Keras model was not compiled either
    try:
        optimizer = _optimizer_from_keras(compile_config["optimizer"])
        loss = _loss_from_keras(compile_config["loss"])
        metrics = [m for m in compile_config.get("metrics") or [] if m is not None]
        if any(not isinstance(m, str) for m in metrics) or compile_config.get("loss_weights"):
            raise ValueError(f"metrics {metrics} / loss_weights: only metric names are mapped")
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None)
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        warnings.warn(
            f"{where}: the Keras compile settings could not be mapped ({str(err)[:160]}); "
            "the model is returned uncompiled - call model.compile(...) yourself",
            stacklevel=3,
        )


def _optimizer_from_keras(spec: Any) -> Any:
    if isinstance(spec, str):
        return spec
    config = dict(spec["config"])
    for key, ours in _OPTIMIZER_ONLY.items():
        if config.pop(key, ours) != ours:
            raise ValueError(f"optimizer option {key}={config.get(key)!r} is not supported")
    config.pop("ema_momentum", None)  # used only with use_ema=True
    rate = config.get("learning_rate")
    if isinstance(rate, dict):  # a Keras schedule: ours take the same arguments but its name
        schedule = {k: v for k, v in (rate.get("config") or {}).items() if k != "name"}
        config["learning_rate"] = {"class_name": rate.get("class_name"), "config": schedule}
    return _optimizers.deserialize({"class_name": spec["class_name"], "config": config})


def _loss_to_keras(loss: Any) -> Any:
    """A built-in loss by name, or as Keras' loss object when it has options (from_logits)."""
    fn_name = getattr(getattr(loss, "fn", None), "__name__", None)
    if fn_name not in _losses.__all__ or getattr(_losses, fn_name) is not loss.fn:
        return None
    if not loss.config:
        return fn_name
    cls_name = type(loss).__name__
    if cls_name == "Loss":  # options on a plain Loss(fn): no Keras class to name
        return None
    config = {**loss.config, "name": loss.name, "reduction": "sum_over_batch_size"}
    return {
        "module": "keras.losses",
        "class_name": cls_name,
        "config": config,
        "registered_name": None,
    }


def _loss_from_keras(spec: Any) -> Any:
    """A loss name, or Keras' loss object ``{"class_name": "CategoricalCrossentropy",
    "config": {"from_logits": true, ...}}`` as ours (the mean over the batch, as Keras')."""
    if isinstance(spec, str) and spec in _losses.__all__:
        return spec
    if isinstance(spec, dict) and spec.get("class_name") in _losses.__all__:
        cls = getattr(_losses, spec["class_name"])
        config = dict(spec.get("config") or {})
        reduction = config.pop("reduction", "sum_over_batch_size")
        axis = config.pop("axis", -1)  # ours reduce the last axis
        config.pop("dtype", None)
        plain = reduction == "sum_over_batch_size" and axis == -1
        if isinstance(cls, type) and cls is not _losses.Loss and plain:
            return cls(**config)
    raise ValueError(f"loss {spec!r}: only built-in losses (batch mean, last axis) are mapped")


__all__ = ["compile_from_keras", "compile_to_keras"]
