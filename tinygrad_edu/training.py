"""Keras' training API for models: ``compile``, ``fit``, ``evaluate``, ``train_on_batch``.

One training step is the PyTorch loop, spelled out in ``train_on_batch``::

    out = model(x, training=True)          # forward, recording the graph
    loss = loss_fn(y, out) + penalties     # regularizers add their penalties
    loss.backward()                        # dL/dw for every weight
    optimizer.step(); zero the grads       # w <- update(w, dL/dw)

Divergence never leaves NaN/inf weights behind. Before each step, everything the step may change
(every weight, moving statistics included, the optimizer's state and step count) is copied into
buffers reused from step to step; a step whose loss, gradients or updated weights are NaN/inf is
undone from them. ``fit`` then stops with a message (also in ``History.stop_reason``);
``train_on_batch`` raises ``DivergenceError``. The copy is one pass over those arrays per step
(a few percent of a small MLP's step), the price of an exact undo.

Every argument is checked before any work: ints are ints (not ``32.5``, ``"3"`` or ``True``),
flags are bools, and what is not supported (sample weights) is refused, never ignored.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from ._rng import global_rng
from ._shapes import as_numeric_array
from .callbacks import Callback, CallbackList, History, ProgbarLogger
from .callbacks._args import check_flag, check_int, check_verbose, is_int
from .datasets import batches
from .errors import ConfigError, DataError, DivergenceError, NotBuiltError
from .optimizers.base import all_finite
from .tensor import Tensor, no_grad


class TrainingMixin:
    """Adds compile/fit/evaluate/train_on_batch to a model with ``__call__`` and weights."""

    def __init__(self) -> None:
        self.optimizer = None
        self.loss_fn = None
        self.metric_fns: List[Tuple[str, Any]] = []
        self.stop_training = False
        self.diverged = False  # True after a fit that stopped on a NaN/inf
        self.history: Optional[History] = None
        self._undo = _UndoBuffer()

    # ------------------------------------------------------------------ compile
    def compile(
        self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Optional[Sequence[Any]] = None
    ) -> None:
        """Choose the optimizer, the loss and the metrics (Keras strings or objects)."""
        if loss is None:
            raise ConfigError(
                where=f"model '{self.name}'.compile",
                expected="a loss",
                got="loss=None",
                fix="e.g. loss='sparse_categorical_crossentropy'",
            )
        # resolve everything first: a bad argument must leave the previous compile intact
        new_optimizer = _optimizers.get(optimizer)
        loss_fn = _losses.get(loss)
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ConfigError(
                where=f"model '{self.name}'.compile",
                expected="metrics as a list of names or functions",
                got=repr(metrics),
                fix="e.g. metrics=['accuracy']",
            )
        metric_fns = []
        for m in metrics or []:
            name = m if isinstance(m, str) else getattr(m, "__name__", "metric")
            metric_fns.append((name, _metrics.get(m, loss_name=loss_fn.name)))
        self.optimizer, self.loss_fn, self.metric_fns = new_optimizer, loss_fn, metric_fns
        if self.built and self.trainable_weights:
            self.optimizer.set_params(self.trainable_weights)

    def _require_compiled(self, what: str) -> None:
        if self.loss_fn is None:
            raise NotBuiltError(
                where=f"model '{self.name}'.{what}",
                expected="a compiled model",
                got="no optimizer/loss yet",
                fix="call model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
            )

    # ------------------------------------------------------------------ one step
    def train_on_batch(
        self, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None
    ) -> Dict[str, float]:
        """One optimizer step on one batch; returns the batch's loss and metrics.

        A step whose loss, gradients or updated weights are NaN/inf is not applied (the
        weights and the optimizer's state stay as they were) and raises ``DivergenceError``.
        """
        where = f"model '{self.name}'.train_on_batch"
        self._require_compiled("train_on_batch")
        _refuse_weighting(where, sample_weight=sample_weight, class_weight=class_weight)
        # the NaN/inf scan of the data costs a pass over it: done only if the step diverges
        x, y = self._check_xy(x, y, "train_on_batch", check_finite=False)
        self._prepare_optimizer(x, "train_on_batch")
        try:
            return self._train_step(x, y)
        except DivergenceError as err:
            self._check_xy(x, y, "train_on_batch", check_finite=True)  # bad data? say so
            raise DivergenceError(
                "the step was not applied: the weights and the optimizer state are unchanged",
                where=where,
                expected=err.expected,
                got=err.got,
                fix=err.fix,
            ) from None

    def _prepare_optimizer(self, x: np.ndarray, where: str = "fit") -> None:
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

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> Dict[str, float]:
        """One training step as fit runs it: forward, backward, update - undone entirely when it
        fails (a NaN/inf, or an interrupt halfway through the update), so that the weights and
        the optimizer are then as before the step."""
        weights = self.weights
        self._undo.save(weights, self.optimizer)
        try:
            return self._unguarded_step(x, y, weights)
        except DivergenceError as err:
            self._undo_step()
            raise self._with_advice(err) from None  # the rate now is the failed step's again
        except BaseException:
            self._undo_step()
            raise

    def _undo_step(self) -> None:
        self._undo.restore()
        self.optimizer.zero_grad()  # no stale (NaN) gradient for the next backward

    def _unguarded_step(
        self, x: np.ndarray, y: np.ndarray, weights: List[Tensor]
    ) -> Dict[str, float]:
        out = self(x, training=True)
        loss = self.loss_fn(y, out)
        penalties = self.regularization_losses()
        for p in penalties:
            loss = loss + p
        value = float(loss._data)
        if not math.isfinite(value):
            raise DivergenceError(expected="a finite loss", got=f"the loss became {value}")
        loss.backward()
        try:
            self.optimizer.step()  # checks every gradient for NaN/inf before any update
        except DivergenceError as err:  # named by the model: 'dense/kernel', not 'kernel'
            name = self._weight_name(getattr(err, "parameter", None))
            bad = getattr(err, "bad_values", "NaN/inf")
            raise DivergenceError(
                expected=err.expected, got=f"{bad} in the gradient of {name}"
            ) from None
        self.optimizer.zero_grad()
        for w in weights:  # the update (or the forward pass: moving statistics) may overflow
            if not all_finite(w._data):
                raise DivergenceError(
                    expected="finite weights after the update",
                    got=f"the update made {self._weight_name(w)} NaN/inf",
                )
        logs = {"loss": value}
        for name, fn in self.metric_fns:
            logs[name] = fn(y, out._data)
        return logs

    def _with_advice(self, err: DivergenceError) -> DivergenceError:
        """``err`` with where, what happened to the step, and what to do."""
        return DivergenceError(
            "the step was undone",
            where=f"model '{self.name}'",
            expected=err.expected,
            got=err.got,
            fix=f"the learning rate ({self.optimizer.learning_rate}) is probably too high: try "
            "it 10x smaller, and scale your inputs/targets (e.g. x / 255, standardize y)",
        )

    def _weight_name(self, tensor: Any) -> str:
        """``weight 'dense/kernel' of shape (3, 1)``, for messages about one weight."""
        for name, w in self.named_weights().items():
            if w is tensor:
                return f"weight {name!r} of shape {w._data.shape}"
        return "a weight"

    # ------------------------------------------------------------------ fit
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
        callbacks: Optional[Sequence[Callback]] = None,
        initial_epoch: int = 0,
        check_finite: bool = True,
        seed: Optional[int] = None,
        sample_weight: Any = None,
        class_weight: Any = None,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches; returns a ``History``.

        ``check_finite=False`` skips the NaN/inf scan of the data (for those who mean it).
        A step whose loss, gradients or updated weights are NaN/inf is undone and training stops
        there, with a message (also in ``History.stop_reason``): the weights are the last finite
        ones, those the step started from. ``sample_weight``/``class_weight`` and validation
        sample weights are not supported and are refused (``ConfigError``).
        """
        self._require_compiled("fit")
        verbose = _check_fit_args(
            batch_size, epochs, verbose, validation_split, shuffle, initial_epoch, check_finite
        )
        seed = _check_seed(seed)
        _refuse_weighting("fit", sample_weight=sample_weight, class_weight=class_weight)
        callbacks = _check_callbacks(callbacks)
        _check_validation_data_form(validation_data)
        x, y = self._check_xy(x, y, "fit", check_finite)
        if seed is None:  # shuffling follows set_seed() too
            seed = int(global_rng().integers(2**31))
        x, y, validation_data = self._validation_set(
            x, y, validation_data, validation_split, check_finite
        )
        self._prepare_optimizer(x, "fit")
        self._check_targets(y)  # wrong labels for the loss: say so before the first epoch
        if validation_data is not None:
            self._check_targets(validation_data[1])
        names = ["loss", *(n for n, _ in self.metric_fns)]
        self.history = History()
        cbs = self._fit_callbacks(
            callbacks, verbose, epochs, -(-len(x) // batch_size), names, validation_data is not None
        )
        self.stop_training = self.diverged = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            batch_iter = batches(x, y, batch_size, shuffle=shuffle, seed=seed + epoch)
            epoch_logs = self._fit_epoch(batch_iter, names, cbs, epoch, check_finite)
            if epoch_logs is None:  # diverged: the step was undone and the reason printed
                break
            if validation_data is not None:
                val = self._evaluate_arrays(*validation_data, batch_size)
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return self.history

    def _validation_set(
        self, x: np.ndarray, y: np.ndarray, validation_data: Any, split: float, check: bool
    ) -> tuple:
        """``(x, y, validation_data)``: the last ``split`` of the rows held out when no
        ``validation_data`` was given, the validation arrays checked as the training ones."""
        if validation_data is None and split:
            n_val = int(len(x) * split)
            if n_val == 0 or n_val == len(x):
                raise DataError(
                    where="fit",
                    expected="validation_split leaving samples on both sides",
                    got=f"{len(x)} samples, split {split}",
                    fix="use more data or a different validation_split",
                )
            return x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
        if validation_data is not None:
            validation_data = self._check_xy(*validation_data, "fit(validation_data)", check)
        return x, y, validation_data

    def _fit_callbacks(
        self,
        callbacks: List[Callback],
        verbose: int,
        epochs: int,
        steps: int,
        names: List[str],
        validating: bool,
    ) -> CallbackList:
        """The user's callbacks, then the History (and a progress bar first when verbose)."""
        cbs = CallbackList([*callbacks, self.history])
        if verbose:
            cbs.callbacks.insert(0, ProgbarLogger(verbose))
        cbs.set_model(self)
        cbs.set_params(
            {
                "epochs": epochs,
                "steps": steps,
                "verbose": verbose,
                "metrics": names + ([f"val_{n}" for n in names] if validating else []),
            }
        )
        return cbs

    def _fit_epoch(
        self, batch_iter: Any, names: List[str], cbs: CallbackList, epoch: int, data_checked: bool
    ) -> Optional[Dict[str, float]]:
        """One pass over the batches: the epoch's size-weighted mean logs, or None when a step
        diverged (undone, reported, and ``stop_training`` set)."""
        sums, seen = dict.fromkeys(names, 0.0), 0
        for step, (xb, yb) in enumerate(batch_iter):
            cbs.on_train_batch_begin(step)
            try:
                logs = self._train_step(xb, yb)
            except DivergenceError as err:
                self._stop_diverged(err, epoch, step, data_checked, xb, yb)
                return None
            for k in names:
                sums[k] += logs[k] * len(xb)
            seen += len(xb)
            cbs.on_train_batch_end(step, {k: sums[k] / seen for k in names})
            if self.stop_training:  # a callback may stop mid-epoch (Keras 3 checks per batch)
                break
        return {k: sums[k] / seen for k in names}

    def _stop_diverged(
        self,
        err: DivergenceError,
        epoch: int,
        step: int,
        data_checked: bool,
        xb: np.ndarray,
        yb: np.ndarray,
    ) -> None:
        """TerminateOnNaN, always on: say what happened and what to do, and stop. The step was
        undone already, so the weights are the last finite ones."""
        cause = err.got
        if not data_checked and not (all_finite(xb) and all_finite(yb)):
            cause += " (this batch holds NaN/inf values: check_finite=False let them in)"
        reason = (
            f"Training stopped: {cause} at epoch {epoch + 1}, batch {step + 1}. "
            "That step was undone: the weights are the last finite ones, from before this "
            f"batch. Fix: {err.fix}."
        )
        print(reason)
        self.history.stop_reason = reason
        self.stop_training = True
        self.diverged = True

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        verbose: Any = 0,
        return_dict: bool = False,
        check_finite: bool = True,
        sample_weight: Any = None,
    ) -> Any:
        """Loss (and metrics) on ``(x, y)`` in inference mode: a float, or ``[loss, *metrics]``
        when metrics were compiled (Keras' return shape), or a dict with ``return_dict=True``.
        Changes no weight (no graph, moving statistics only read)."""
        self._require_compiled("evaluate")
        check_batch_size(batch_size, "evaluate")
        verbose = check_verbose("evaluate", verbose)
        check_flag("evaluate", "return_dict", return_dict)
        check_flag("evaluate", "check_finite", check_finite)
        _refuse_weighting("evaluate", sample_weight=sample_weight)
        x, y = self._check_xy(x, y, "evaluate", check_finite)
        self._check_targets(y)
        if not self.built:
            self.build((None, *x.shape[1:]))
        results = self._evaluate_arrays(x, y, batch_size)
        if verbose:
            from .callbacks.progress import format_logs

            print(f"{len(x)} samples{format_logs(results)}")
        if return_dict:
            return results
        values = list(results.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_arrays(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> Dict[str, float]:
        totals: Dict[str, float] = {}
        with no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                out = self(xb, training=False)
                loss = self.loss_fn(yb, out)
                for p in self.regularization_losses():
                    loss = loss + p
                batch = {"loss": float(loss._data)}
                batch.update({name: fn(yb, out._data) for name, fn in self.metric_fns})
                for k, v in batch.items():
                    totals[k] = totals.get(k, 0.0) + v * len(xb)
        return {k: v / len(x) for k, v in totals.items()}

    # ------------------------------------------------------------------ data checks
    def _check_targets(self, y: np.ndarray) -> None:
        """Run the loss's own target checks on all of ``y`` against the model's output shape
        (a stand-in output of zeros: cheap), so label mistakes surface before training."""
        out_shape = self.output_shape
        if (
            out_shape is None
            or any(d is None for d in out_shape[1:])
            or not (
                isinstance(out_shape, tuple)
                and all(isinstance(d, (int, type(None))) for d in out_shape)
            )
        ):
            return
        with no_grad():
            self.loss_fn(y, Tensor(np.full((len(y), *out_shape[1:]), 0.5, dtype=np.float32)))

    def _check_xy(self, x: Any, y: Any, where: str, check_finite: bool):
        if y is None:
            raise DataError(
                where=f"model '{self.name}'.{where}",
                expected="targets y",
                got="y=None",
                fix=f"call {where}(x, y, ...)",
            )
        x = self._check_x(x, where)
        y = y.data if isinstance(y, Tensor) else as_numeric_array(y, f"model '{self.name}'.{where}")
        if y.ndim == 0:
            raise DataError(
                where=f"model '{self.name}'.{where}",
                expected=f"one target per sample ({len(x)})",
                got=f"a scalar {y!r}",
                fix="pass an array of targets, e.g. y of shape (n,) or (n, classes)",
            )
        if len(y) != len(x):
            raise DataError(
                where=f"model '{self.name}'.{where}",
                expected=f"one target per sample ({len(x)})",
                got=f"{len(y)} targets",
                fix="x and y must have the same length",
            )
        if check_finite:
            for name, arr in (("x", x), ("y", y)):
                _check_finite(arr, name, f"model '{self.name}'.{where}")
        return x, y


class _UndoBuffer:
    """Copies of what one training step may change, to undo that step exactly: every weight's
    array (moving statistics included), the optimizer's state arrays and its step count. The
    copy buffers are kept and reused, so saving allocates nothing after the first step."""

    def __init__(self) -> None:
        self._weights: List[Tensor] = []
        self._sources: List[np.ndarray] = []
        self._copies: List[np.ndarray] = []
        self._optimizer: Any = None
        self._iterations = 0

    def save(self, weights: List[Tensor], optimizer: Any) -> None:
        sources = [w._data for w in weights] + optimizer.state_arrays()
        if not _same_arrays(self._sources, sources) and not _same_layout(self._copies, sources):
            self._copies = [np.empty_like(a) for a in sources]  # new weights or optimizer
        for copy, source in zip(self._copies, sources):
            np.copyto(copy, source)
        self._weights, self._sources = weights, sources
        self._optimizer, self._iterations = optimizer, optimizer.iterations

    def restore(self) -> None:
        for copy, source in zip(self._copies, self._sources):
            np.copyto(source, copy)
        for w in self._weights:
            w._bump_version()  # an in-place write by the library: graphs before it are stale
        self._optimizer.iterations = self._iterations


def _same_arrays(before: List[np.ndarray], now: List[np.ndarray]) -> bool:
    """The very same array objects (the common case, and cheaper to tell than their layout)."""
    return len(before) == len(now) and all(map(operator.is_, before, now))


def _same_layout(copies: List[np.ndarray], sources: List[np.ndarray]) -> bool:
    return len(copies) == len(sources) and all(
        c.shape == s.shape and c.dtype == s.dtype for c, s in zip(copies, sources)
    )


def _check_finite(arr: np.ndarray, name: str, where: str) -> None:
    if arr.dtype.kind != "f" or np.isfinite(arr).all():
        return
    bad_rows = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))
    raise DataError(
        where=where,
        expected=f"finite values in {name}",
        got=f"{int((~np.isfinite(arr)).sum())} NaN/inf values in {len(bad_rows)} rows "
        f"(first rows: {bad_rows[:5].tolist()})",
        fix=f"clean or drop those rows (e.g. {name}[np.isfinite({name}).all(axis=1)]), "
        "or pass check_finite=False if you mean it",
    )


def _check_callbacks(callbacks: Any) -> List[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    bad = [c for c in callbacks if not isinstance(c, Callback)]
    if bad:
        raise ConfigError(
            where="fit(callbacks=...)",
            expected="Callback instances",
            got=repr(bad[0]),
            fix="e.g. callbacks=[EarlyStopping(patience=3)] "
            "(note the parentheses: an instance, not the class)",
        )
    return list(callbacks)


def check_batch_size(batch_size: Any, where: str) -> None:
    """``batch_size`` must be a positive int (not ``32.5``, ``"32"`` or ``True``)."""
    if not is_int(batch_size) or batch_size <= 0:
        raise ConfigError(
            where=where,
            expected="batch_size as a positive int",
            got=repr(batch_size),
            fix="use e.g. batch_size=32",
        )


def _check_fit_args(
    batch_size: Any,
    epochs: Any,
    verbose: Any,
    validation_split: Any,
    shuffle: Any,
    initial_epoch: Any,
    check_finite: Any,
) -> int:
    """Check fit's scalar arguments; returns ``verbose`` as a level (``"auto"`` is 1)."""
    check_batch_size(batch_size, "fit")
    check_int("fit", "epochs", epochs, low=0, example="epochs=5")
    if not is_int(initial_epoch) or not 0 <= initial_epoch <= epochs:
        raise ConfigError(
            where="fit",
            expected=f"initial_epoch as an int with 0 <= initial_epoch <= epochs ({epochs})",
            got=repr(initial_epoch),
            fix="initial_epoch counts epochs already done, e.g. initial_epoch=0",
        )
    if (
        isinstance(validation_split, (bool, np.bool_))
        or not isinstance(validation_split, numbers.Real)
        or not 0 <= validation_split < 1
    ):
        raise ConfigError(
            where="fit",
            expected="validation_split in [0, 1)",
            got=repr(validation_split),
            fix="e.g. validation_split=0.1",
        )
    check_flag("fit", "shuffle", shuffle)
    check_flag("fit", "check_finite", check_finite)
    return check_verbose("fit", verbose)


def _check_seed(seed: Any) -> Optional[int]:
    if seed is None:
        return None
    return check_int("fit", "seed", seed, low=0, example="seed=0, or seed=None for a random one")


def _check_validation_data_form(validation_data: Any) -> None:
    """``(x_val, y_val)``: anything else - a third item (sample weights) included - is refused
    rather than ignored, so the reported val_loss always means what it says."""
    if validation_data is None:
        return
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
        return
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 3:
        raise ConfigError(
            "validation sample weights are not supported (fit has no sample_weight either)",
            where="fit",
            expected="validation_data=(x_val, y_val)",
            got="(x_val, y_val, sample_weight)",
            fix="pass validation_data=(x_val, y_val); to weight samples, repeat the ones that "
            "should count more (np.repeat) in both sets",
        )
    length = (
        f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else ""
    )
    raise ConfigError(
        where="fit",
        expected="validation_data=(x_val, y_val)",
        got=f"a {type(validation_data).__name__}{length}",
        fix="pass a tuple of inputs and targets",
    )


def _refuse_weighting(where: str, **given: Any) -> None:
    """Per-sample and per-class weights are not supported: refused, never silently ignored."""
    for name, value in given.items():
        if value is not None:
            raise ConfigError(
                f"{name} is not supported: every sample counts the same in the loss and metrics",
                where=where,
                expected=f"{name}=None",
                got=f"a {type(value).__name__}",
                fix="leave it out; to make some samples count more, repeat them "
                "(x = np.repeat(x, counts, axis=0), same for y)",
            )


__all__ = ["TrainingMixin", "check_batch_size"]
