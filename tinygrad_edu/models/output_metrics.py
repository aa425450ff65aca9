"""The logs of a functional model with several outputs, named as Keras 3 names them::

    loss                     the total that training minimizes (loss weights and penalties in)
    <output>_loss            each output's own loss (sample-weighted, before its loss weight)
    <output>_<metric>        each compiled metric on its output (not weighted)

in that order - the order of ``metrics_names`` and of the list ``evaluate`` returns: the total,
the per-output losses in output order, then the metrics sorted by name (Keras lists the metrics
it does not track by name sorted after the losses). ``fit`` adds ``val_`` in front of each for
the validation data. The ``<output>_loss`` logs are there only when at least two outputs have a
loss (Keras 3 tracks each output's loss only then): with ``loss=["mse", None]`` the logs are
``loss`` and the metrics.

``metrics=`` says which metrics go on which output, as Keras takes it: a dict by output name (a
metric or a list of them per output, outputs left out get none), or a list with one entry per
output (a metric, a list, or None). A flat list of metrics whose length is not the number of
outputs is refused (Keras 3 refuses it too): it would not say which output each one is for.

>>> from tinygrad_edu.models.output_losses import OutputLosses
>>> losses = OutputLosses(["mse", "sparse_categorical_crossentropy"], None, ["out_a", "out_b"])
>>> [name for name, _ in output_metric_fns({"out_b": "accuracy", "out_a": "mae"}, losses)]
['out_a_loss', 'out_b_loss', 'out_a_mae', 'out_b_accuracy']
"""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

from .. import metrics as _metrics
from ..errors import ConfigError
from .output_losses import OutputLosses, per_output

MetricFn = Callable[[Any, Any], float]


def output_metric_fns(metrics: Any, losses: OutputLosses) -> List[Tuple[str, MetricFn]]:
    """``[(log name, fn(y_rows, outputs) -> float), ...]`` for the model's ``metric_fns``."""
    names = losses.names
    several = len(names) > 1
    found = []
    losses.metrics = _metrics_per_output(metrics, names)  # as given, for saving the settings
    for k, (name, chosen) in enumerate(zip(names, losses.metrics)):
        loss_name = None if losses.losses[k] is None else losses.losses[k].name
        for m in chosen:
            label = m if isinstance(m, str) else getattr(m, "__name__", "metric")
            fn = _metrics.get(m, loss_name=loss_name)
            found.append((f"{name}_{label}" if several else label, _on_output(losses, k, fn)))
        losses.needs_targets[k] = losses.needs_targets[k] or bool(chosen)
    with_loss = losses.with_loss
    loss_logs = [(f"{names[k]}_loss", _loss_term(losses, k)) for k in with_loss]
    return (loss_logs if len(with_loss) > 1 else []) + sorted(found, key=lambda entry: entry[0])


def _metrics_per_output(metrics: Any, names: List[str]) -> List[List[Any]]:
    """One list of metrics per output, from the forms Keras takes."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, (list, tuple)) and len(names) == 1:  # one output: its metrics, or
        entry = len(metrics) == 1 and (metrics[0] is None or isinstance(metrics[0], (list, tuple)))
        metrics = list(metrics) if entry else [list(metrics)]  # the one-entry list [['mae']]
    if not isinstance(metrics, (dict, list, tuple)) or (
        isinstance(metrics, (list, tuple)) and len(metrics) != len(names)
    ):
        raise ConfigError(
            where="compile(metrics=...)",
            expected=f"for {len(names)} outputs {names}: a dict by output name, or a list with "
            "one entry per output (Keras 3 refuses a list of metrics for several outputs too)",
            got=repr(metrics)[:80],
            fix="metrics={" + ", ".join(f"{n!r}: ['mae']" for n in names) + "}",
        )
    chosen = per_output(metrics, names, "metrics", None)
    return [[] if m is None else list(m) if isinstance(m, (list, tuple)) else [m] for m in chosen]


def _on_output(losses: OutputLosses, k: int, fn: MetricFn) -> MetricFn:
    """``fn`` on output ``k``: its targets cut from the packed rows, its array of the outputs."""

    def metric(y: Any, outputs: Any) -> float:
        targets, _ = losses.split(y)
        return fn(targets[k], outputs[k] if isinstance(outputs, list) else outputs)

    metric.__name__ = getattr(fn, "__name__", "metric")
    return metric


def _loss_term(losses: OutputLosses, k: int) -> MetricFn:
    """Output ``k``'s loss, as the total loss of the same batch computed it just before."""

    def term(y: Any, outputs: Any) -> float:
        return losses.terms[k]

    term.__name__ = f"{losses.names[k]}_loss"
    return term


__all__ = ["output_metric_fns"]
