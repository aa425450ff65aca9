"""``gradcheck``: compare every analytic gradient with central finite differences, in float64.

The analytic side runs ``fn`` once and back-propagates ``L = sum(out * r)`` with a random
upstream gradient ``r`` (seeded). A random ``r`` is stronger than ``out.sum()``: it mixes every
output element with a different weight, so a backward that swaps or transposes elements cannot
pass by symmetry. The numeric side perturbs one input element at a time by ``+-h`` and takes
the central difference of ``L``, refined by Richardson extrapolation:

    D(h)     = sum((fn(x + h e_i) - fn(x - h e_i)) * r) / 2h  =  dL/dx_i + c h^2 + O(h^4)
    dL/dx_i ~= (4 D(h/2) - D(h)) / 3                            (the h^2 term cancels)

Differencing the outputs before weighting them with ``r`` means outputs that ``x_i`` does not
move cancel exactly, so only the moved ones carry rounding. With ``h = eps = 1e-4`` the
truncation error is ~h^4 and the rounding ~1e-12 * |out|: the result is good to ~1e-10, and the
default tolerance ``|analytic - numeric| <= 1e-8 + 1e-6 * |numeric|`` catches a backward
wrong by 1e-4 relative. Where D(h) and D(h/2) disagree beyond that tolerance (and beyond what
curvature explains), a kink (relu at 0, a clip bound, a max tie) lies within ``eps`` of the
input, and the element is differenced again with h/100; a kink closer still is reported (move
the input away from it, or pass a smaller ``eps`` and a looser ``atol``).

Which inputs are checked:

- a float numpy array, a list or a Python number -> checked;
- a ``Tensor`` with ``requires_grad=True`` -> checked;
- a ``Tensor`` with ``requires_grad=False`` -> a constant: given to ``fn`` (as float64) but never
  perturbed and its gradient never compared;
- an integer or boolean numpy array (an index, a mask) -> given to ``fn`` unchanged, as is.

Every float input is copied to float64 (the caller's data is never modified); float32 data
triggers a ``GradcheckPrecisionWarning`` because finite differences need float64 to be meaningful.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from .errors import ConfigError, GradcheckError
from .tensor import Tensor, is_grad_enabled, no_grad


class GradcheckPrecisionWarning(UserWarning):
    """``gradcheck`` was given float32 data (it computes in float64, the model may not)."""


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-4,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    max_elements: int = 200,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s analytic gradients against central differences; True or ``GradcheckError``.

    fn: takes one Tensor per input (constants included) and returns a Tensor of any shape.
    inputs: Tensors or arrays (see the module docstring for which ones are checked).
    eps: the finite-difference step h (Richardson also uses h/2; see the module docstring).
    atol, rtol: an element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    max_elements: an input with more elements has only a seeded random sample of
        ``max_elements`` of them differenced (every element of smaller inputs is).
    seed: seeds the upstream gradient ``r`` and the element sample (reproducible results).

    The ``GradcheckError`` reports the worst element: its fields ``input_index``,
    ``element_index`` (a tuple into that input's shape), ``analytic``, ``numeric``, ``tolerance``,
    and ``mismatches`` (how many checked elements failed in all), besides where/expected/got/fix.

    >>> import numpy as np
    >>> from tinygrad_edu import GradcheckError, gradcheck
    >>> rng = np.random.default_rng(0)
    >>> gradcheck(lambda x, w: (x @ w).tanh(), rng.normal(size=(3, 4)), rng.normal(size=(4, 2)))
    True
    >>> try:                            # relu has a kink at 0: the two sides disagree there
    ...     gradcheck(lambda x: x.relu(), np.array([-1.0, 0.0, 2.0]))
    ... except GradcheckError as err:
    ...     print(err.input_index, err.element_index)
    0 (1,)
    """
    _check_options(eps, max_elements)
    args, checked = _prepare(inputs)
    rng = np.random.default_rng(seed)

    out = _call(fn, args)
    r = rng.standard_normal(out.shape)
    if out.dtype != np.float64:
        warnings.warn(
            f"gradcheck: fn returned {out.dtype} from float64 inputs, so a constant inside fn is "
            "lower precision; finite differences may be too coarse to agree",
            GradcheckPrecisionWarning,
            stacklevel=2,
        )
    if out.requires_grad:
        out.backward(r.astype(out.dtype))
    _compare(fn, args, checked, r, rng, eps, atol, rtol, int(max_elements))
    return True


def gradcheck_tensors(
    fn: Callable[[], Tensor],
    tensors: Sequence[Tensor],
    *,
    eps: float = 1e-4,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    max_elements: int = 200,
    seed: int = 0,
) -> bool:
    """``gradcheck`` for tensors that already exist: a layer's weights, a model's parameters.

    fn: takes no arguments and returns a Tensor computed from ``tensors`` (e.g.
        ``lambda: layer(x)``); it is called once with recording on (the analytic gradients) and
        then with each checked element moved by +-h in place, under ``no_grad``.
    tensors: float64 Tensors with ``requires_grad=True`` (``layer.cast("float64")`` first).
    Their values and ``.grad`` are exactly as before when this returns (or raises). The other
    arguments and the ``GradcheckError`` are those of ``gradcheck``.

    >>> import numpy as np
    >>> from tinygrad_edu import Tensor
    >>> w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
    >>> x = Tensor(np.array([[0.1, 0.2]]))
    >>> gradcheck_tensors(lambda: (x @ w).tanh(), [w])
    True
    """
    _check_options(eps, max_elements)
    tensors = _existing_tensors(tensors)
    rng = np.random.default_rng(seed)
    kept = [t.grad for t in tensors]
    try:
        for t in tensors:
            t.grad = None
        out = _call(lambda: fn(), [])
        r = rng.standard_normal(out.shape)
        if out.requires_grad:
            out.backward(r.astype(out.dtype))
        _compare(
            lambda *_: fn(),
            tensors,
            range(len(tensors)),
            r,
            rng,
            eps,
            atol,
            rtol,
            int(max_elements),
        )
    finally:
        for t, g in zip(tensors, kept):
            t.grad = g
    return True


def _check_options(eps: float, max_elements: int) -> None:
    if not eps > 0 or int(max_elements) < 1:
        raise ConfigError(
            where="gradcheck",
            expected="eps > 0 and max_elements >= 1",
            got=f"eps={eps}, max_elements={max_elements}",
            fix="gradcheck(fn, x, eps=1e-4, max_elements=200)",
        )
    if not is_grad_enabled():
        raise ConfigError(
            where="gradcheck",
            expected="gradient recording switched on",
            got="a call inside no_grad()",
            fix="call gradcheck outside the no_grad() block",
        )


def _existing_tensors(tensors: Any) -> List[Tensor]:
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else None
    bad = (
        tensors is None
        or not tensors
        or any(
            not isinstance(t, Tensor) or t.dtype != np.float64 or not t.requires_grad
            for t in tensors
        )
    )
    if bad:
        raise ConfigError(
            where="gradcheck_tensors",
            expected="a non-empty list of float64 Tensors with requires_grad=True",
            got=repr(tensors)[:200],
            fix="cast first: layer.cast('float64'); then gradcheck_tensors(lambda: layer(x), "
            "layer.weights)",
        )
    return tensors


def _compare(fn, args, checked, r, rng, eps, atol, rtol, max_elements) -> None:
    """Every checked input's analytic gradient (its ``.grad``) against the numeric one, element
    by element (a seeded sample of ``max_elements`` of larger inputs); raises for the worst."""
    worst: Optional[Tuple[float, dict]] = None
    mismatches = 0
    for k in checked:
        x = args[k]
        analytic = np.zeros(x.shape) if x.grad is None else np.asarray(x.grad, dtype=np.float64)
        no_path = x.grad is None
        for flat in _sample(x.size, max_elements, rng):
            numeric = _numeric(fn, args, x, flat, r, eps, atol, rtol)
            a = float(analytic.flat[flat])
            tol = atol + rtol * abs(numeric)
            err = abs(a - numeric)
            if err <= tol:  # False for NaN too
                continue
            mismatches += 1
            excess = np.inf if np.isnan(err) else err / tol
            if worst is None or excess > worst[0]:
                idx = tuple(int(i) for i in np.unravel_index(flat, x.shape))
                worst = (excess, dict(k=k, idx=idx, a=a, n=numeric, tol=tol, no_path=no_path))
    if worst is not None:
        raise _failure(worst[1], mismatches, eps)


def _prepare(inputs: Sequence[Any]) -> Tuple[List[Any], List[int]]:
    """Fresh float64 leaves for the checked inputs, float64 constants for the rest."""
    if not inputs:
        raise ConfigError(
            where="gradcheck",
            expected="at least one input",
            got="none",
            fix="pass the inputs after fn: gradcheck(fn, x, w)",
        )
    args, checked, low = [], [], []
    for k, x in enumerate(inputs):
        is_tensor = isinstance(x, Tensor)
        data = x.data if is_tensor else np.asarray(x)
        if isinstance(x, np.ndarray) and x.dtype.kind in "biu":
            args.append(x)  # an index or a mask: passed through untouched
            continue
        if data.dtype.kind not in "fiu":
            raise ConfigError(
                where="gradcheck",
                expected="Tensors or float arrays",
                got=f"input {k} of dtype {data.dtype}",
                fix="convert the input to a float64 numpy array",
            )
        if data.dtype.kind == "f" and data.dtype.itemsize < 8:
            low.append(k)
        grad = x.requires_grad if is_tensor else True
        args.append(Tensor(np.array(data, dtype=np.float64), requires_grad=grad))
        if grad:
            checked.append(k)
    if low:
        warnings.warn(
            f"gradcheck: inputs {low} are float32; they are checked as float64 copies, because "
            "finite differences in float32 lose most digits. Pass float64 arrays to silence this",
            GradcheckPrecisionWarning,
            stacklevel=3,
        )
    if not checked:
        raise ConfigError(
            where="gradcheck",
            expected="at least one input to differentiate",
            got="only constants (Tensors with requires_grad=False or int arrays)",
            fix="pass float arrays, or Tensors with requires_grad=True",
        )
    return args, checked


def _call(fn: Callable[..., Any], args: List[Any]) -> Tensor:
    out = fn(*args)
    if not isinstance(out, Tensor):
        raise ConfigError(
            where="gradcheck",
            expected="fn(*inputs) to return a Tensor",
            got=f"a {type(out).__module__}.{type(out).__qualname__}",
            fix="return the Tensor itself (not .numpy(), .item() or .data), built with Tensor "
            "ops so that gradients can flow back to the inputs",
        )
    return out


def _sample(size: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    if size <= limit:
        return np.arange(size)
    return np.sort(rng.choice(size, size=limit, replace=False))


def _numeric(fn, args, x: Tensor, flat: int, r: np.ndarray, eps: float, atol, rtol) -> float:
    """dL/dx of element ``flat`` of ``x``: Richardson's (4 D(h/2) - D(h)) / 3 with h = ``eps``.

    When D(h) and D(h/2) differ by more than the tolerance and more than 1e-6 of the gradient's
    scale (the sum of |contributions|, before they cancel), fn is not smooth within ``eps`` of
    x - a kink: relu near 0, a clip bound, a max tie - and the estimate is retried with h/100.
    """
    for h in (eps, eps / 100):
        full, scale = _central(fn, args, x, flat, r, h)
        half, _ = _central(fn, args, x, flat, r, h / 2)
        estimate = (4 * half - full) / 3
        if abs(half - full) <= max(atol + rtol * abs(estimate), 1e-6 * scale):
            break
    return estimate


def _central(fn, args, x: Tensor, flat: int, r: np.ndarray, h: float) -> tuple:
    """D(h) = sum((fn(x + h e) - fn(x - h e)) * r) / (the step actually taken, after rounding),
    and the same sum of absolute values (the scale of D before its terms cancel)."""
    data = x._data  # moved in place and put back exactly (no graph is alive to notice)
    orig = data.flat[flat]
    outs = []
    try:
        with no_grad():
            for step in (h, -h):
                data.flat[flat] = orig + step
                outs.append(np.array(_call(fn, args)._data, dtype=np.float64))  # a copy
    finally:
        data.flat[flat] = orig
    plus, minus = outs
    with np.errstate(invalid="ignore"):  # inf - inf where x did not move it: masked to 0
        moved = np.where(plus == minus, 0.0, plus - minus) * r
    width = float((orig + h) - (orig - h))
    return float(np.sum(moved)) / width, float(np.sum(np.abs(moved))) / width


def _failure(w: dict, mismatches: int, eps: float) -> GradcheckError:
    a, n = w["a"], w["n"]
    if w["no_path"]:
        fix = (
            f"input {w['k']} got no gradient at all: the output does not reach it through the "
            "graph. Did fn leave the graph (.numpy(), .data, Tensor(x.data), no_grad())?"
        )
    elif n != 0 and np.isclose(a, -n, rtol=1e-2, atol=0):
        fix = "the analytic gradient has the wrong sign: check the backward for a flipped sign"
    elif n != 0 and np.isfinite(a / n) and abs(a / n - 1) < 1e-2:
        fix = (
            f"analytic and numeric differ by {abs(a / n - 1):.1e} relative: a backward slightly "
            "off (a constant, an approximate formula), float32 rounding inside fn, or a step "
            "too small for float64 (eps below ~1e-6 needs a looser atol)"
        )
    elif n != 0 and a != 0 and np.isfinite(a / n) and abs(a / n - round(a / n)) < 1e-2:
        fix = (
            f"analytic = {a / n:.3g} x numeric: a constant factor is wrong in a backward, or "
            "a gradient is counted twice"
        )
    else:
        fix = (
            "compare each op's backward formula with its derivative; if the function has a "
            f"kink (relu, abs, max/min ties, clip bounds) within {eps:g} of this input, move "
            "the input away from it"
        )
    err = GradcheckError(
        f"{mismatches} element(s) disagree beyond atol + rtol*|numeric|; the worst is shown",
        where=f"gradcheck: input {w['k']}, element {w['idx']}",
        expected=f"the numeric gradient {n:.8g} (tolerance {w['tol']:.3g})",
        got=f"the analytic gradient {a:.8g}",
        fix=fix,
    )
    err.input_index, err.element_index = w["k"], w["idx"]
    err.analytic, err.numeric, err.tolerance, err.mismatches = a, n, w["tol"], mismatches
    return err


__all__ = ["gradcheck", "gradcheck_tensors", "GradcheckPrecisionWarning"]
