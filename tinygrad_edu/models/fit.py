"""``fit``, in named steps: the arguments were checked (``arguments.check_fit_args``); then

1. ``_array_source`` (arrays) or ``_stream_source`` (an iterable of batches, ``batch_stream.py``)
   - the data checked and weighted (``weighting.py``), the held-out rows (or
   ``validation_data``, with its sample weights if given) set aside, the model built;
2. ``_callback_list`` - the ``DivergenceGuard`` first, a progress bar, the user's callbacks,
   the ``History`` last;
3. the epoch loop: ``_train_epoch`` runs the steps and returns the epoch's size-weighted mean
   logs, then the validation logs are added and the callbacks hear ``on_epoch_end``.

A step that diverges was undone by the step itself (``steps.train_step``); ``_train_epoch`` tells
the callbacks (``on_train_batch_diverged``) and the guard stops training there - that epoch is
not recorded, the weights are the last finite ones.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .._rng import global_rng
from ..callbacks import CallbackList, DivergenceGuard, History, ProgbarLogger
from ..datasets import batches
from ..errors import ConfigError, DataError, DivergenceError
from .arguments import FitArgs
from .batch_stream import BatchStream, is_batch_iterable, refuse_separate_targets
from .data import check_targets, samples_and_targets
from .steps import all_finite, evaluate_batches
from .weighting import batch_weights, checked_sample_weight

#: ``(x, y, sample_weight or None)``
Arrays = Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]
Batch = Arrays


def fit(model: Any, x: Any, y: Any, args: FitArgs) -> History:
    """Train ``model`` for ``args.epochs`` passes over ``(x, y)`` (or over an iterable of
    batches); returns its ``History``."""
    seed = args.seed if args.seed is not None else int(global_rng().integers(2**31))
    if is_batch_iterable(x):
        epoch_batches, steps, validation = _stream_source(model, x, y, args)
    else:
        epoch_batches, steps, validation = _array_source(model, x, y, args, seed)
    names = ["loss", *(name for name, _ in model.metric_fns)]
    model.history = History()
    callbacks = _callback_list(model, args, steps, names, validation)
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(args.initial_epoch, args.epochs):
        callbacks.on_epoch_begin(epoch)
        logs = _train_epoch(model, epoch_batches(epoch), names, callbacks, args.check_finite)
        if logs is None:  # stopped at a diverged step (or no data): the epoch is not recorded
            break
        if validation is not None:
            val = evaluate_batches(model, *validation[:2], args.batch_size, validation[2])
            logs.update({f"val_{k}": v for k, v in val.items()})
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model.history


def _array_source(model: Any, x: Any, y: Any, args: FitArgs, seed: int) -> tuple:
    """``(epoch -> batches, steps per epoch, validation)`` for arrays ``x``, ``y``: checked,
    weighted, the validation rows set aside, the model built before the first epoch."""
    x, y = samples_and_targets(model, x, y, "fit", args.check_finite)
    w = batch_weights(y, args.sample_weight, args.class_weight, "fit")
    (x, y, w), validation = _validation_split(model, x, y, w, args)
    model._prepare_optimizer(x, "fit")
    check_targets(model, y)  # wrong labels for the loss: say so before the first epoch
    if validation is not None:
        check_targets(model, validation[1])
    steps = -(-len(x) // args.batch_size)  # batches per epoch (the last one may be short)
    if args.steps_per_epoch is not None:
        steps = min(steps, args.steps_per_epoch)

    def epoch_batches(epoch: int) -> Iterator[Batch]:
        shuffle, at = args.shuffle, seed + epoch
        if w is None:
            found = ((xb, yb, None) for xb, yb in batches(x, y, args.batch_size, shuffle, at))
        else:
            rows = batches(np.arange(len(x)), None, args.batch_size, shuffle, at)
            found = ((x[i], y[i], w[i]) for i, _ in rows)
        return itertools.islice(found, steps)

    return epoch_batches, steps, validation


def _stream_source(model: Any, x: Any, y: Any, args: FitArgs) -> tuple:
    """The same for an iterable of ``(x, y)`` or ``(x, y, sample_weight)`` batches."""
    where = "fit"
    refuse_separate_targets(where, y=y, sample_weight=args.sample_weight)
    if args.validation_split:
        raise ConfigError(
            where=where,
            expected="validation_data=(x_val, y_val) with batches (a generator cannot be split)",
            got=f"validation_split={args.validation_split}",
            fix="model.fit(batches, validation_data=(x_val, y_val), steps_per_epoch=100)",
        )
    stream = BatchStream(model, x, args.steps_per_epoch, args.check_finite, args.class_weight)
    xb, yb, _ = stream.peek()
    model._prepare_optimizer(xb, where)
    check_targets(model, yb)
    validation = None
    if args.validation_data is not None:
        validation = _checked_validation(model, args)
        check_targets(model, validation[1])
    return stream.epoch, stream.steps, validation


def _checked_validation(model: Any, args: FitArgs) -> Arrays:
    where = "fit(validation_data)"
    x_val, y_val, *w_val = args.validation_data
    x_val, y_val = samples_and_targets(model, x_val, y_val, where, args.check_finite)
    return x_val, y_val, checked_sample_weight(w_val[0] if w_val else None, len(y_val), where)


def _validation_split(
    model: Any, x: np.ndarray, y: np.ndarray, w: Optional[np.ndarray], args: FitArgs
) -> Tuple[Arrays, Optional[Arrays]]:
    """``((x, y, w), validation)``: the last ``validation_split`` of the rows held out when no
    ``validation_data`` was given, else that data (with its weights, if any) checked."""
    if args.validation_data is not None:
        return (x, y, w), _checked_validation(model, args)
    if not args.validation_split:
        return (x, y, w), None
    # Keras 3's split point (array_slicing.train_validation_split): the training rows are
    # floor(n * (1 - split)), so 11 rows at 0.3 hold out 4, not int(11 * 0.3) = 3
    at = math.floor(len(x) * (1.0 - args.validation_split))
    if at == 0 or at == len(x):
        raise DataError(
            where="fit",
            expected="validation_split leaving samples on both sides",
            got=f"{len(x)} samples, split {args.validation_split}",
            fix="use more data or a different validation_split",
        )
    keep = (x[:at], y[:at], None if w is None else w[:at])
    # class weights weight training only (Keras); sample weights go with their rows
    held_w = None if w is None or args.class_weight is not None else w[at:]
    return keep, (x[at:], y[at:], held_w)


def _callback_list(
    model: Any, args: FitArgs, steps: int, names: List[str], validation: Optional[Arrays]
) -> CallbackList:
    """The guard first (it decides about a diverged step before anyone else hears of it), a
    progress bar when verbose, the user's callbacks, and the ``History`` last (it records the
    logs as the other callbacks left them)."""
    progress = [ProgbarLogger(args.verbose)] if args.verbose else []
    callbacks = CallbackList([DivergenceGuard(), *progress, *args.callbacks, model.history])
    callbacks.set_model(model)
    validated = [f"val_{n}" for n in names] if validation is not None else []
    metrics = names + validated
    callbacks.set_params(
        {"epochs": args.epochs, "steps": steps, "verbose": args.verbose, "metrics": metrics}
    )
    return callbacks


def _train_epoch(
    model: Any, epoch_batches: Any, names: List[str], callbacks: CallbackList, data_checked: bool
) -> Optional[Dict[str, float]]:
    """One pass over the batches: the size-weighted mean logs of the steps applied, or None when
    training stopped at a diverged step (or no step could be applied)."""
    sums, seen = dict.fromkeys(names, 0.0), 0
    for step, (xb, yb, wb) in enumerate(epoch_batches):
        callbacks.on_train_batch_begin(step)
        try:
            logs = model._train_step(xb, yb, wb)
        except DivergenceError as err:  # the step was undone: the callbacks decide what next
            err = _blame_unchecked_data(err, xb, yb, data_checked)
            callbacks.on_train_batch_diverged(step, err)
            if model.stop_training:
                return None
            continue
        for k in names:
            sums[k] += logs[k] * len(xb)
        seen += len(xb)
        callbacks.on_train_batch_end(step, {k: sums[k] / seen for k in names})
        if model.stop_training:  # a callback may stop mid-epoch (Keras 3 checks per batch)
            break
    return {k: sums[k] / seen for k in names} if seen else None


def _blame_unchecked_data(
    err: DivergenceError, xb: np.ndarray, yb: np.ndarray, data_checked: bool
) -> DivergenceError:
    """``err``, its cause extended when ``check_finite=False`` let NaN/inf data into the batch
    (the scan is done only now, on the one batch that diverged)."""
    if data_checked or (all_finite(xb) and all_finite(yb)):
        return err
    return DivergenceError(
        err.message,
        where=err.where,
        expected=err.expected,
        got=f"{err.got} (this batch holds NaN/inf values: check_finite=False let them in)",
        fix=err.fix,
    )


__all__ = ["fit"]
