"""``Callback`` with Keras' hook names, the list that dispatches to them, and ``History``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

Logs = Optional[Dict[str, float]]


class Callback:
    """Override any hook; ``self.model`` and ``self.params`` are set before training starts.

    ``params`` holds ``epochs``, ``steps`` (batches per epoch), ``verbose`` and ``metrics``
    (the names that will appear in ``logs``). Set ``self.model.stop_training = True`` to stop.

    ``on_train_batch_diverged(batch, error)`` is ours, not Keras': ``fit`` calls it instead of
    ``on_train_batch_end`` when a step met a NaN/inf (``error``, a ``DivergenceError``) and was
    undone. A callback that sets ``model.stop_training`` there ends training at once and the
    epoch is not recorded; otherwise ``fit`` goes on with the next batch. The built-in
    ``DivergenceGuard`` stops.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: Dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: Dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs = None) -> None: ...
    def on_train_end(self, logs: Logs = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None: ...
    def on_train_batch_diverged(self, batch: int, error: Exception) -> None: ...
    def on_test_begin(self, logs: Logs = None) -> None: ...
    def on_test_end(self, logs: Logs = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None: ...
    def on_predict_begin(self, logs: Logs = None) -> None: ...
    def on_predict_end(self, logs: Logs = None) -> None: ...


class CallbackList(Callback):
    """Calls the same hook on every callback, in order."""

    def __init__(self, callbacks: Sequence[Callback] = ()) -> None:
        super().__init__()
        self.callbacks: List[Callback] = list(callbacks)

    def set_model(self, model: Any) -> None:
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: Dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.set_params(params)

    def _each(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._each("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._each("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._each("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._each("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._each("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._each("on_train_batch_end", batch, logs)

    def on_train_batch_diverged(self, batch, error):
        self._each("on_train_batch_diverged", batch, error)

    def on_test_begin(self, logs=None):
        self._each("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._each("on_test_end", logs)


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is the list of epoch losses.

    ``stop_reason`` is None, or the message of ``fit``'s ``DivergenceGuard`` when training
    stopped because it diverged (a NaN/inf loss, gradient or weight); that epoch is not recorded.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: Dict[str, List[float]] = {}
        self.epoch: List[int] = []
        self.stop_reason: Optional[str] = None

    def on_train_begin(self, logs: Logs = None) -> None:
        self.epoch = []
        self.history = {}
        self.stop_reason = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


__all__ = ["Callback", "CallbackList", "History"]
