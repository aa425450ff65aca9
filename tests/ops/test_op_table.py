"""The op table's tests: forward vs numpy (float64 and float32), float64 gradcheck, and coverage.

Entries live in ``entries_*.py`` beside this file (see ``op_table.py`` for how to add some).
"""

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

if str(Path(__file__).parent) not in sys.path:  # op_table and entries_* sit beside this file
    sys.path.insert(0, str(Path(__file__).parent))

from op_table import TIGHT, OpEntry, all_entries  # noqa: E402

import tinygrad_edu.ops  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.function import Function  # noqa: E402
from tinygrad_edu.testing import check_op, ops_in_graph  # noqa: E402

ENTRIES = all_entries()

#: Known engine/op bugs, (test, entry name) -> reason; each is reported and xfail(strict=True).
KNOWN_BUGS: dict = {}


def _params(test, entries, want=lambda e: True):
    out = []
    for e in entries:
        if not want(e):
            continue
        bug = KNOWN_BUGS.get((test, e.name))
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        out.append(pytest.param(e, id=e.name, marks=marks))
    return out


def _as_float32(value):
    if isinstance(value, (np.ndarray, np.floating)) and value.dtype.kind == "f":
        return value.astype(np.float32)
    return value


@pytest.mark.parametrize("entry", _params("forward", ENTRIES, lambda e: e.reference is not None))
@given(data=st.data())
def test_forward_matches_numpy(entry: OpEntry, data):
    c = data.draw(entry.inputs, label="case")
    out = entry.run(*[Tensor(a, requires_grad=True) for a in c.arrays], **c.params)
    expected = np.asarray(entry.reference(*c.arrays, **c.params))
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=entry.forward_rtol, atol=entry.forward_atol)
    assert entry.op in ops_in_graph(out), f"{entry.name} never ran {entry.op.__name__}"


@pytest.mark.parametrize(
    "entry", _params("float32", ENTRIES, lambda e: e.reference is not None and e.float32)
)
@given(data=st.data())
def test_forward_keeps_float32(entry: OpEntry, data):
    c = data.draw(entry.inputs, label="case")
    params32 = {k: _as_float32(v) for k, v in c.params.items()}
    out = entry.run(*[Tensor(a.astype(np.float32)) for a in c.arrays], **params32)
    assert out.dtype == np.float32
    expected = np.asarray(entry.reference(*c.arrays, **c.params))
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("entry", _params("float32-grad", ENTRIES, lambda e: e.grad and e.float32))
@given(data=st.data())
def test_backward_keeps_float32(entry: OpEntry, data):
    """An op's gradients are in the dtype of the gradient it gets: Maximum/Minimum (a 0.5
    share on ties) and Max (/ an int count of ties) gave float64 for float32, so the eager
    backward ran the ops after them in float64 while a replay (jit) writes float32 buffers -
    not byte-equal (Dot(normalize=True) models diverged by 1e-9)."""
    c = data.draw(entry.inputs, label="case")
    params32 = {k: _as_float32(v) for k, v in c.params.items()}
    seen, backward = [], entry.op.backward

    def recorded(self, grad):
        out = backward(self, grad)
        seen.extend(
            (grad.dtype, g.dtype)
            for g in (out if isinstance(out, tuple) else (out,))
            if g is not None
        )
        return out

    entry.op.backward = recorded
    try:
        out = entry.run(
            *[Tensor(a.astype(np.float32), requires_grad=True) for a in c.arrays], **params32
        )
        out.backward(np.ones(out.shape, np.float32))
    finally:
        entry.op.backward = backward
    assert all(g == given for given, g in seen), seen  # (DrawMask's None: nothing to compare)


@pytest.mark.parametrize("entry", _params("gradcheck", ENTRIES, lambda e: e.grad))
@given(data=st.data())
def test_gradcheck(entry: OpEntry, data):
    c = data.draw(entry.inputs, label="case")
    tolerance = {"atol": entry.atol, "rtol": entry.rtol, "eps": entry.eps}
    assert check_op(entry.run, *c.arrays, **tolerance, **c.params)


@pytest.mark.parametrize("entry", _params("tolerance", ENTRIES, lambda e: e.grad))
def test_gradcheck_tolerance_is_tight_or_explained(entry: OpEntry):
    """rtol 1e-6 / atol 1e-8 for every entry; a looser one names its reason (approximate math),
    so a tolerance loosened to hide a wrong backward does not pass unnoticed."""
    atol, rtol = TIGHT
    if entry.atol > atol or entry.rtol > rtol:
        assert len(entry.tolerance_reason) > 20, (
            f"{entry.name}: gradcheck tolerance atol={entry.atol}, rtol={entry.rtol} is looser "
            f"than atol={atol}, rtol={rtol}; set tolerance_reason to say why"
        )


def function_classes_in_ops() -> dict:
    """name -> class for every concrete ``Function`` subclass defined in ``tinygrad_edu.ops``."""
    pkg = tinygrad_edu.ops
    modules = [pkg] + [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
    ]
    found = {}
    for mod in modules:
        for obj in vars(mod).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Function)
                and obj is not Function
                and obj.__module__ == mod.__name__
                and not obj.__name__.startswith(("_", "BinaryBroadcast"))
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


#: Ops committed by other engineers whose op-table entries (their ``entries_*.py``) have not landed
#: yet: xfail(strict=False) keeps the suite green meanwhile and turns into a pass once covered.
#: Delete a name here when its entries exist; never add one for a new op - write its entries.
AWAITING_ENTRIES: set = set()
COVERED = {e.op for e in ENTRIES}


def _coverage_params():
    out = []
    for name, cls in sorted(function_classes_in_ops().items()):
        marks = []
        if cls.__name__ in AWAITING_ENTRIES and cls not in COVERED:
            marks = [pytest.mark.xfail(strict=False, reason="entries awaited from the op's owner")]
        out.append(pytest.param(cls, id=name.replace("tinygrad_edu.ops.", ""), marks=marks))
    return out


@pytest.mark.parametrize("op", _coverage_params())
def test_every_op_has_an_entry(op):
    assert op in COVERED, (
        f"{op.__module__}.{op.__name__} has no op-table entry. Add an OpEntry to OP_ENTRIES in "
        "a tests/ops/entries_<module>.py file (see tests/ops/op_table.py)"
    )


def test_coverage_walk_finds_the_core_ops():
    names = {cls.__name__ for cls in function_classes_in_ops().values()}
    assert {"Add", "MatMul", "Softmax", "GetItem", "Max", "Min", "DropoutMask"} <= names
    assert not any(n.startswith(("_", "BinaryBroadcast")) for n in names)


def test_entries_are_well_formed():
    names = [e.name for e in ENTRIES]
    assert len(names) == len(set(names)), "entry names must be unique (they are test ids)"
    for e in ENTRIES:
        assert inspect.isclass(e.op) and issubclass(e.op, Function), e.name
        assert isinstance(e.inputs, st.SearchStrategy), e.name
