"""``fit``, in named steps: the arguments were checked (``arguments.check_fit_args``); then

1. ``_validation_split`` - the data checked, the held-out rows (or ``validation_data``) set aside;
2. ``_callback_list`` - the ``DivergenceGuard`` first, a progress bar, the user's callbacks,
   the ``History`` last;
3. the epoch loop: ``_train_epoch`` runs the steps and returns the epoch's size-weighted mean
   logs, then the validation logs are added and the callbacks hear ``on_epoch_end``.

A step that diverges was undone by the step itself (``steps.train_step``); ``_train_epoch`` tells
the callbacks (``on_train_batch_diverged``) and the guard stops training there - that epoch is
not recorded, the weights are the last finite ones.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .._rng import global_rng
from ..callbacks import CallbackList, DivergenceGuard, History, ProgbarLogger
from ..datasets import batches
from ..errors import DataError, DivergenceError
from .arguments import FitArgs
from .data import check_targets, samples_and_targets
from .steps import all_finite, evaluate_batches

Arrays = Tuple[np.ndarray, np.ndarray]


def fit(model: Any, x: Any, y: Any, args: FitArgs) -> History:
    """Train ``model`` for ``args.epochs`` passes over ``(x, y)``; returns its ``History``."""
    x, y = samples_and_targets(model, x, y, "fit", args.check_finite)
    seed = args.seed if args.seed is not None else int(global_rng().integers(2**31))
    (x, y), validation = _validation_split(model, x, y, args)
    model._prepare_optimizer(x, "fit")
    check_targets(model, y)  # wrong labels for the loss: say so before the first epoch
    if validation is not None:
        check_targets(model, validation[1])
    names = ["loss", *(name for name, _ in model.metric_fns)]
    model.history = History()
    steps = -(-len(x) // args.batch_size)  # batches per epoch (the last one may be short)
    callbacks = _callback_list(model, args, steps, names, validation)
    model.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(args.initial_epoch, args.epochs):
        callbacks.on_epoch_begin(epoch)
        epoch_batches = batches(x, y, args.batch_size, shuffle=args.shuffle, seed=seed + epoch)
        logs = _train_epoch(model, epoch_batches, names, callbacks, args.check_finite)
        if logs is None:  # stopped at a diverged step: the epoch is not recorded
            break
        if validation is not None:
            val = evaluate_batches(model, *validation, args.batch_size)
            logs.update({f"val_{k}": v for k, v in val.items()})
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model.history


def _validation_split(
    model: Any, x: np.ndarray, y: np.ndarray, args: FitArgs
) -> Tuple[Arrays, Optional[Arrays]]:
    """``((x, y), validation)``: the last ``validation_split`` of the rows held out when no
    ``validation_data`` was given, else that data checked as the training data was."""
    if args.validation_data is not None:
        checked = samples_and_targets(
            model, *args.validation_data, "fit(validation_data)", args.check_finite
        )
        return (x, y), checked
    if not args.validation_split:
        return (x, y), None
    n_val = int(len(x) * args.validation_split)
    if n_val == 0 or n_val == len(x):
        raise DataError(
            where="fit",
            expected="validation_split leaving samples on both sides",
            got=f"{len(x)} samples, split {args.validation_split}",
            fix="use more data or a different validation_split",
        )
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


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
    for step, (xb, yb) in enumerate(epoch_batches):
        callbacks.on_train_batch_begin(step)
        try:
            logs = model._train_step(xb, yb)
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
