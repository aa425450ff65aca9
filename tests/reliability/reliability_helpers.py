"""Helpers shared by the reliability tests: field checks on our errors."""

from __future__ import annotations

import re
from typing import Iterable, List

from tinygrad_edu.errors import TinygradEduError


def ints_in(text: str | None) -> List[int]:
    """Every integer written in ``text`` (to check an error names counts/rows/labels without
    depending on its wording)."""
    return [int(m) for m in re.findall(r"-?\d+", text or "")]


def assert_teaches(err: TinygradEduError, *, where: Iterable[str] = ()) -> None:
    """An error of ours carries the fields that teach: where, expected/got, and a fix."""
    assert isinstance(err, TinygradEduError)
    assert err.where, f"{type(err).__name__} without 'where': {err}"
    assert err.expected is not None or err.got is not None, f"no expected/got: {err}"
    assert err.fix, f"{type(err).__name__} without a fix: {err}"
    for piece in where:
        assert piece in err.where, f"{piece!r} not in where={err.where!r}"
    assert str(err).startswith(type(err).__name__)
