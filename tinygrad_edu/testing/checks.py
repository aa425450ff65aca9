"""``check_op``: one call that tests an op (or any Tensor function) the way the library's own op
table does - forward against a numpy reference, then a float64 gradient check."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import numpy as np

from ..function import Function
from ..gradcheck import gradcheck
from ..tensor import Tensor, tensor_from_op


def _as_callable(op: Union[type, Callable[..., Tensor]], params: dict) -> Callable[..., Tensor]:
    if isinstance(op, type) and issubclass(op, Function):
        return lambda *ts: tensor_from_op(op, *ts, **params)
    return lambda *ts: op(*ts, **params)


def _float64(x: Any) -> Any:
    if isinstance(x, Tensor):
        return Tensor(np.array(x.data, dtype=np.float64), requires_grad=x.requires_grad)
    return np.array(x, dtype=np.float64)


def check_op(
    op: Union[type, Callable[..., Tensor]],
    *inputs: Any,
    reference: Optional[Callable[..., Any]] = None,
    forward_rtol: float = 1e-7,
    forward_atol: float = 1e-10,
    check_grad: bool = True,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 200,
    **params: Any,
) -> bool:
    """Check ``op`` on ``inputs`` in float64: forward == ``reference`` (if given), then gradcheck.

    op: a ``Function`` subclass (run as ``tensor_from_op(op, *tensors, **params)``) or a callable
        ``op(*tensors, **params) -> Tensor``.
    inputs: arrays (or Tensors) - one per tensor input of the op; all are gradient-checked except
        Tensors with ``requires_grad=False`` (constants). Non-tensor arguments go in ``params``.
    reference: ``reference(*numpy_arrays, **params) -> array``, e.g. ``np.sum`` for ``ops.Sum``
        with ``axis=`` and ``keepdims=``; a lambda when the argument names differ.
    forward_rtol, forward_atol: the forward tolerance (float64 on both sides, so it is tight).
    eps, atol, rtol, max_elements: passed to ``tinygrad_edu.gradcheck``.

    Returns True; raises ``AssertionError`` for a wrong forward (value, shape or dtype) and
    ``GradcheckError`` (an ``AssertionError`` too) for a wrong backward.

    >>> import numpy as np
    >>> from tinygrad_edu import ops
    >>> x = np.array([[0.5, -1.0, 2.0]])
    >>> check_op(ops.Sum, x, reference=np.sum, axis=1, keepdims=True)
    True
    >>> check_op(lambda t: t.tanh() * 3, x, reference=lambda a: np.tanh(a) * 3)
    True
    """
    call = _as_callable(op, params)
    name = getattr(op, "__name__", repr(op))
    args = [_float64(x) for x in inputs]
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in args]
    out = call(*tensors)
    if not isinstance(out, Tensor):
        raise AssertionError(f"check_op({name}): expected a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise AssertionError(
            f"check_op({name}): float64 inputs gave a {out.dtype} output; "
            "an op should keep its input's dtype"
        )
    if reference is not None:
        arrays = [x.data if isinstance(x, Tensor) else x for x in args]
        expected = np.asarray(reference(*arrays, **params))
        shown = ", ".join(str(a.shape) for a in arrays)
        if np.shape(out.data) != expected.shape:
            raise AssertionError(
                f"check_op({name}): output shape {np.shape(out.data)} != the "
                f"reference's {expected.shape} for input shapes {shown}"
            )
        np.testing.assert_allclose(
            np.asarray(out.data),
            expected,
            rtol=forward_rtol,
            atol=forward_atol,
            err_msg=f"check_op({name}): forward differs from the reference for input shapes "
            f"{shown} and params {params}",
        )
    if check_grad:
        gradcheck(call, *args, eps=eps, atol=atol, rtol=rtol, max_elements=max_elements)
    return True


__all__ = ["check_op"]
