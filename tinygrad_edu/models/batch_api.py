"""The bodies of ``Model.evaluate``, ``predict`` and the one-batch calls (``train_on_batch``,
``test_on_batch``, ``predict_on_batch``) with Keras' semantics; ``Model`` keeps the signatures
and docstrings and calls these.

Return shapes as Keras: ``evaluate`` and ``test_on_batch`` give the loss as a float, or
``[loss, *metrics]`` when metrics were compiled (``model.metrics_names`` names them), or a dict
with ``return_dict=True``; ``train_on_batch`` gives the dict (this library's form, kept).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from .. import validation as check
from ..callbacks.progress import format_logs
from ..errors import ConfigError, DataError, DivergenceError
from ..tensor import no_grad
from .arguments import check_batch_size
from .batch_stream import BatchStream, is_batch_iterable, predict_batches, refuse_separate_targets
from .data import check_targets, samples_and_targets
from .outputs import batch_length, joined, output_arrays
from .steps import evaluate_batches, evaluate_step
from .weighting import batch_weights, checked_sample_weight


def metrics_names(model: Any) -> List[str]:
    """``["loss", *compiled metric names]`` (empty before ``compile``), as Keras 2 lists them."""
    if getattr(model, "loss_fn", None) is None:
        return []
    return ["loss", *(name for name, _ in model.metric_fns)]


def keras_return(results: Dict[str, float], return_dict: bool) -> Any:
    if return_dict:
        return results
    values = list(results.values())
    return values[0] if len(values) == 1 else values


def evaluate(
    model: Any,
    x: Any,
    y: Any,
    batch_size: Any,
    verbose: Any,
    return_dict: Any,
    check_finite: Any,
    sample_weight: Any,
    steps: Any = None,
    callbacks: Any = None,
) -> Any:
    where = "evaluate"
    model._require_compiled(where)
    _refuse_callbacks(callbacks, "model.evaluate(x, y)", where)
    check_batch_size(batch_size, where)
    verbose = check.verbosity("verbose", verbose, where, "model.evaluate(x, y, verbose=0)")
    check.flag("return_dict", return_dict, where, "model.evaluate(x, y, return_dict=True)")
    check.flag("check_finite", check_finite, where, "model.evaluate(x, y, check_finite=True)")
    if steps is not None:
        check.positive_int("steps", steps, where, "model.evaluate(batches, steps=10)")
    if is_batch_iterable(x):
        refuse_separate_targets(where, y=y, sample_weight=sample_weight)
        results, n = _evaluate_stream(BatchStream(model, x, steps, check_finite, None))
    else:
        x, y = samples_and_targets(model, x, y, where, check_finite)
        w = checked_sample_weight(sample_weight, len(y), f"model '{model.name}'.{where}")
        if steps is not None:  # as Keras: the first `steps` batches only
            x, y, w = _first(steps * batch_size, x, y, w)
        check_targets(model, y)
        if not model.built:
            model.build((None, *x.shape[1:]))
        results, n = evaluate_batches(model, x, y, batch_size, w), len(x)
    if verbose:
        print(f"{n} samples{format_logs(results)}")
    return keras_return(results, return_dict)


def _refuse_callbacks(callbacks: Any, call: str, where: str) -> None:
    """Keras' ``callbacks=`` of evaluate/predict: None or an empty list (no hooks run here)."""
    if callbacks is None or (isinstance(callbacks, (list, tuple)) and not callbacks):
        return
    raise ConfigError(
        where=where,
        expected="callbacks=None: evaluate and predict run no callbacks here (fit runs its "
        "callbacks, validation included)",
        got=repr(callbacks)[:80],
        fix=f"{call}  # and the callbacks to fit: model.fit(x, y, callbacks=[...])",
    )


def _first(n: int, *arrays: Optional[np.ndarray]) -> tuple:
    """The first ``n`` rows of each array (None stays None)."""
    return tuple(None if a is None else a[:n] for a in arrays)


def _evaluate_stream(stream: BatchStream) -> tuple:
    """The batch-size weighted mean logs over the batches of an iterable, and the sample count."""
    xb, yb, _ = stream.peek()
    if not stream.model.built:
        stream.model.build((None, *xb.shape[1:]))
    check_targets(stream.model, yb)
    totals: Dict[str, float] = {}
    n = 0
    for xb, yb, wb in stream.epoch(0):
        for k, v in evaluate_step(stream.model, xb, yb, wb).items():
            totals[k] = totals.get(k, 0.0) + v * len(xb)
        n += len(xb)
    return {k: v / n for k, v in totals.items()}, n


def train_on_batch(
    model: Any, x: Any, y: Any, sample_weight: Any, class_weight: Any, return_dict: Any = None
) -> Any:
    model._require_compiled("train_on_batch")
    if return_dict is not None:  # Keras' argument; None (ours): the dict
        example = "model.train_on_batch(x, y, return_dict=True)"
        if not check.flag("return_dict", return_dict, "train_on_batch", example):
            return keras_return(train_on_batch(model, x, y, sample_weight, class_weight), False)
    # the NaN/inf scan of the data costs a pass over it: done only if the step diverges
    x, y = samples_and_targets(model, x, y, "train_on_batch", check_finite=False)
    w = None  # no weights given: nothing to check (the common case)
    if sample_weight is not None or class_weight is not None:
        where = f"model '{model.name}'.train_on_batch"
        w = batch_weights(y, sample_weight, class_weight, where)
    model._prepare_optimizer(x, "train_on_batch")
    try:
        return model._train_step(x, y, w)
    except DivergenceError as err:
        samples_and_targets(model, x, y, "train_on_batch", check_finite=True)  # bad data?
        raise DivergenceError(
            "the step was not applied: the weights and the optimizer state are unchanged",
            where=f"model '{model.name}'.train_on_batch",
            expected=err.expected,
            got=err.got,
            fix=err.fix,
        ) from None


def test_on_batch(model: Any, x: Any, y: Any, sample_weight: Any, return_dict: Any) -> Any:
    where = "test_on_batch"
    model._require_compiled(where)
    check.flag("return_dict", return_dict, where, "model.test_on_batch(x, y, return_dict=True)")
    x, y = samples_and_targets(model, x, y, where, check_finite=True)
    w = checked_sample_weight(sample_weight, len(y), f"model '{model.name}'.{where}")
    check_targets(model, y)
    if not model.built:
        model.build((None, *x.shape[1:]))
    return keras_return(evaluate_step(model, x, y, w), return_dict)


def predict_on_batch(model: Any, x: Any) -> np.ndarray:
    """The outputs of one batch (inference mode, no graph)."""
    x = model._check_x(x, "predict_on_batch")
    with no_grad():
        return output_arrays(_predict_function(model)(x))


def _predict_function(model: Any) -> Any:
    """``model.predict_function`` under compile(jit_compile=True) (models/jit_training.py),
    else the eager inference call."""
    jitted = getattr(model, "predict_function", None)
    return jitted if jitted is not None else lambda xb: model(xb, training=False)


def predict(
    model: Any, x: Any, batch_size: Any, verbose: Any, steps: Optional[int], callbacks: Any = None
) -> np.ndarray:
    """Outputs for every sample of ``x`` in batches of ``batch_size``, or for every batch an
    iterable hands out - at most ``steps`` batches either way (Keras)."""
    _refuse_callbacks(callbacks, "model.predict(x)", "predict")
    check_batch_size(batch_size, "predict")
    verbose = check.verbosity("verbose", verbose, "predict", "model.predict(x, verbose=0)")
    if steps is not None:
        check.positive_int("steps", steps, "predict", "model.predict(batches, steps=10)")
    if is_batch_iterable(x):
        inputs = predict_batches(model, x, steps)
    else:
        x = model._check_x(x, "predict")
        n = len(x) if steps is None else min(len(x), steps * batch_size)  # Keras: `steps` batches
        inputs = (x[i : i + batch_size] for i in range(0, n, batch_size))
    with no_grad():
        outs = [output_arrays(_predict_function(model)(xb)) for xb in inputs]
    if not outs:
        raise DataError(
            where=f"model '{model.name}'.predict",
            expected="at least one batch",
            got="an empty iterable",
            fix="check the generator: next(iter(batches)) should give x (or (x, y))",
        )
    if verbose:
        print(f"{sum(map(batch_length, outs))} samples predicted in {len(outs)} batches")
    return joined(outs)


__all__ = [
    "evaluate",
    "metrics_names",
    "predict",
    "predict_on_batch",
    "test_on_batch",
    "train_on_batch",
]
