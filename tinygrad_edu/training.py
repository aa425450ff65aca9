"""Keras' training API for models: ``compile``, ``fit``, ``evaluate``, ``train_on_batch``.

One training step is the PyTorch loop, spelled out in ``train_on_batch``::

    out = model(x, training=True)          # forward, recording the graph
    loss = loss_fn(y, out) + penalties     # regularizers add their penalties
    loss.backward()                        # dL/dw for every weight
    optimizer.step(); zero the grads       # w <- update(w, dL/dw)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from .callbacks import Callback, CallbackList, History, ProgbarLogger
from ._rng import global_rng
from ._shapes import as_numeric_array
from .datasets import batches
from .errors import ConfigError, DataError, NotBuiltError, TinygradEduError
from .tensor import Tensor, no_grad


class TrainingMixin:
    """Adds compile/fit/evaluate/train_on_batch to a model with ``__call__`` and weights."""

    def __init__(self) -> None:
        self.optimizer = None
        self.loss_fn = None
        self.metric_fns: List[Tuple[str, Any]] = []
        self.stop_training = False
        self.history: Optional[History] = None

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
    def train_on_batch(self, x: Any, y: Any) -> Dict[str, float]:
        """One optimizer step on one batch; returns the batch's loss and metrics."""
        self._require_compiled("train_on_batch")
        # the NaN/inf scan of the data costs a pass over it: done only if the loss is not finite
        x, y = self._check_xy(x, y, "train_on_batch", check_finite=False)
        self._prepare_optimizer(x, "train_on_batch")
        try:
            return self._train_step(x, y)
        except _Diverged as err:
            self._check_xy(x, y, "train_on_batch", check_finite=True)  # bad data? say so
            raise TinygradEduError(
                "the step was not applied; the weights are unchanged",
                where=f"model '{self.name}'.train_on_batch",
                expected="a finite loss",
                got=f"loss {err.value}",
                fix="lower the learning rate (try 10x smaller) and scale inputs/targets",
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
        out = self(x, training=True)
        loss = self.loss_fn(y, out)
        penalties = self.regularization_losses()
        for p in penalties:
            loss = loss + p
        value = float(loss.data)
        if not math.isfinite(value):
            raise _Diverged(value)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        logs = {"loss": value}
        for name, fn in self.metric_fns:
            logs[name] = fn(y, out.data)
        return logs

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int = 1,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        callbacks: Optional[Sequence[Callback]] = None,
        initial_epoch: int = 0,
        check_finite: bool = True,
        seed: Optional[int] = None,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches; returns a ``History``.

        ``check_finite=False`` skips the NaN/inf scan of the data (for those who mean it).
        A NaN/inf loss stops training before that step's update, so the weights are the ones
        that produced the last finite loss; in the rare case an update itself overflowed the
        weights, they are restored to their values at the start of the epoch.
        """
        self._require_compiled("fit")
        x, y = self._check_xy(x, y, "fit", check_finite)
        _check_fit_args(batch_size, epochs, validation_split, initial_epoch)
        callbacks = _check_callbacks(callbacks)
        if seed is None:  # shuffling follows set_seed() too
            seed = int(global_rng().integers(2**31))
        if validation_data is None and validation_split:
            n_val = int(len(x) * validation_split)
            if n_val == 0 or n_val == len(x):
                raise DataError(
                    where="fit",
                    expected="validation_split leaving samples on both sides",
                    got=f"{len(x)} samples, split {validation_split}",
                    fix="use more data or a different validation_split",
                )
            x, y, validation_data = x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ConfigError(
                    where="fit",
                    expected="validation_data=(x_val, y_val)",
                    got=f"a {type(validation_data).__name__}"
                    + (
                        f" of length {len(validation_data)}"
                        if isinstance(validation_data, (tuple, list))
                        else ""
                    ),
                    fix="pass a tuple of inputs and targets",
                )
            validation_data = self._check_xy(
                *validation_data[:2], "fit(validation_data)", check_finite
            )
        self._prepare_optimizer(x, "fit")
        self._check_targets(y)  # wrong labels for the loss: say so before the first epoch
        if validation_data is not None:
            self._check_targets(validation_data[1])
        steps = -(-len(x) // batch_size)
        self.history = History()
        cbs = CallbackList([*(callbacks or []), self.history])
        if verbose:
            cbs.callbacks.insert(0, ProgbarLogger(verbose))
        cbs.set_model(self)
        names = ["loss", *(n for n, _ in self.metric_fns)]
        cbs.set_params(
            {
                "epochs": epochs,
                "steps": steps,
                "verbose": verbose,
                "metrics": names + ([f"val_{n}" for n in names] if validation_data else []),
            }
        )
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            snapshot = [w.data.copy() for w in self.weights]
            sums, seen = dict.fromkeys(names, 0.0), 0
            for step, (xb, yb) in enumerate(
                batches(x, y, batch_size, shuffle=shuffle, seed=(seed + epoch))
            ):
                cbs.on_train_batch_begin(step)
                try:
                    logs = self._train_step(xb, yb)
                except _Diverged as err:
                    self._stop_diverged(err.value, epoch, step, snapshot)
                    cbs.on_train_end()
                    return self.history
                for k in names:
                    sums[k] += logs[k] * len(xb)
                seen += len(xb)
                cbs.on_train_batch_end(step, {k: sums[k] / seen for k in names})
                if self.stop_training:  # a callback may stop mid-epoch (Keras 3 checks per batch)
                    break
            epoch_logs = {k: sums[k] / seen for k in names}
            if validation_data is not None:
                val = self._evaluate_arrays(*validation_data, batch_size)
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return self.history

    def _stop_diverged(
        self, value: float, epoch: int, step: int, snapshot: List[np.ndarray]
    ) -> None:
        """TerminateOnNaN, always on: stop, and never leave non-finite weights behind."""
        restored = ""
        if not all(np.all(np.isfinite(w.data)) for w in self.weights):
            for w, good in zip(self.weights, snapshot):
                w.data[...] = good
            restored = " Weights were restored to the start of this epoch."
        lr = getattr(self.optimizer, "learning_rate", None)
        print(
            f"Training stopped: the loss became {value} at epoch {epoch + 1}, batch {step + 1}."
            f"{restored} The learning rate ({lr}) is probably too high: try it 10x smaller, "
            "and scale your inputs/targets (e.g. x / 255, standardize y)."
        )
        self.stop_training = True
        self.diverged = True

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        verbose: int = 0,
        return_dict: bool = False,
        check_finite: bool = True,
    ) -> Any:
        """Loss (and metrics) on ``(x, y)`` in inference mode: a float, or ``[loss, *metrics]``
        when metrics were compiled (Keras' return shape), or a dict with ``return_dict=True``."""
        self._require_compiled("evaluate")
        x, y = self._check_xy(x, y, "evaluate", check_finite)
        self._check_targets(y)
        check_batch_size(batch_size, "evaluate")
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
                batch = {"loss": float(loss.data)}
                batch.update({name: fn(yb, out.data) for name, fn in self.metric_fns})
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


class _Diverged(TinygradEduError):
    def __init__(self, value: float) -> None:
        super().__init__("non-finite loss")
        self.value = value


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


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


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
    if not _is_int(batch_size) or batch_size <= 0:
        raise ConfigError(
            where=where,
            expected="batch_size as a positive int",
            got=repr(batch_size),
            fix="use e.g. batch_size=32",
        )


def _check_fit_args(
    batch_size: Any, epochs: Any, validation_split: Any, initial_epoch: Any
) -> None:
    check_batch_size(batch_size, "fit")
    if not _is_int(epochs) or epochs < 0:
        raise ConfigError(
            where="fit", expected="epochs as an int >= 0", got=repr(epochs), fix="e.g. epochs=5"
        )
    if not _is_int(initial_epoch) or not 0 <= initial_epoch <= epochs:
        raise ConfigError(
            where="fit",
            expected="0 <= initial_epoch <= epochs",
            got=repr(initial_epoch),
            fix="initial_epoch counts epochs already done",
        )
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, numbers.Real)
        or not 0 <= validation_split < 1
    ):
        raise ConfigError(
            where="fit",
            expected="validation_split in [0, 1)",
            got=repr(validation_split),
            fix="e.g. validation_split=0.1",
        )


__all__ = ["TrainingMixin", "check_batch_size"]
