"""The compile settings of ``config.json`` between Keras 3 and tinygrad_edu.

Compile settings (Decision, documented in the README): the loss, metrics and optimizer are
restored when we have them all; otherwise ``load_model`` warns, names what it could not map,
and returns the model uncompiled - never compiled with something else. The optimizer's
state (Adam's moments, the step count) is not exchanged: a loaded model's optimizer starts
fresh, as after ``compile``.

A functional model's per-output settings cross in the forms Keras 3 writes: ``loss`` and
``loss_weights`` as lists in output order (None for an output without a loss), or as dicts by
output name for ``outputs={...}``, and ``metrics`` as a dict by output name.
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
    settings = getattr(loss, "per_output_settings", None)
    if settings is not None:
        keras_loss, loss_weights, metrics = _outputs_to_keras(model, settings())
    else:
        keras_loss, loss_weights = _loss_to_keras(loss), None
        metrics = [name for name, _ in model.metric_fns] or None
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
        "loss_weights": loss_weights,
        "metrics": metrics,
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _outputs_to_keras(model: Any, settings: Dict[str, Any]) -> tuple:
    """``(loss, loss_weights, metrics)`` of per-output settings in Keras' compile_config: for a
    dict of outputs, dicts by name without the outputs that have no loss; for a list, lists
    with None for them (the forms Keras 3 itself writes and reads back). ``loss`` is None when
    one output's loss has no Keras form."""
    names, losses = list(settings["metrics"]), settings["loss"]
    keras_losses = [None if loss is None else _loss_to_keras(loss) for loss in losses]
    if any(k is None and loss is not None for k, loss in zip(keras_losses, losses)):
        return None, None, None
    metrics = {}
    for name, chosen in settings["metrics"].items():
        named = [m for m in chosen if isinstance(m, str)]
        if len(named) < len(chosen):
            warnings.warn(
                f"model '{model.name}': a custom metric of output {name!r} has no Keras form; "
                "it is left out of the .keras file's compile settings",
                stacklevel=5,
            )
        if named:
            metrics[name] = named
    weights = settings["loss_weights"]
    if settings["by_name"]:
        kept = [k for k, loss in enumerate(losses) if loss is not None]
        return (
            {names[k]: keras_losses[k] for k in kept},
            {names[k]: weights[k] for k in kept},
            metrics or None,
        )
    return keras_losses, list(weights), metrics or None


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
        spec, weights = compile_config["loss"], compile_config.get("loss_weights")
        by_output = isinstance(spec, list) or (isinstance(spec, dict) and "class_name" not in spec)
        if by_output:  # per-output losses (None: an output without one), not one loss object
            loss: Any = _per_output(spec, lambda s: None if s is None else _loss_from_keras(s))
            extra = {"loss_weights": _per_output(weights, float) if weights else None}
            metrics = _metric_names(compile_config.get("metrics"), per_output=True)
        elif weights:
            raise ValueError(f"loss_weights {weights!r} for a single loss: not mapped")
        else:
            loss, extra = _loss_from_keras(spec), {}
            metrics = _metric_names(compile_config.get("metrics"), per_output=False)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None, **extra)
    except (*CONFIG_ERRORS, TinygradEduError) as err:
        warnings.warn(
            f"{where}: the Keras compile settings could not be mapped ({str(err)[:160]}); "
            "the model is returned uncompiled - call model.compile(...) yourself",
            stacklevel=3,
        )


def _per_output(value: Any, convert: Any) -> Any:
    """A list or a dict by output name with ``convert`` applied to each entry."""
    if isinstance(value, dict):
        return {str(k): convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [convert(v) for v in value]
    raise ValueError(f"{value!r}: a list or a dict by output name expected")


def _metric_names(metrics: Any, per_output: bool) -> Any:
    """Keras' metrics as names: a list (one output), or per output a dict by name or a list
    with an entry per output (a name, a list of names, or None); a metric object is refused."""

    def names(entry: Any) -> Any:
        listed = entry if isinstance(entry, list) else [entry]
        if not all(isinstance(m, str) or m is None for m in listed):
            raise ValueError(f"metrics {entry!r}: only metric names are mapped")
        return [m for m in listed if m is not None]

    if not metrics:
        return None
    if (
        per_output
        and isinstance(metrics, (dict, list))
        and (isinstance(metrics, dict) or any(isinstance(m, list) or m is None for m in metrics))
    ):
        return _per_output(metrics, names)
    return names(metrics)


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
