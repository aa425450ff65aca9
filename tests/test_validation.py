"""The shared argument checks (``tinygrad_edu.validation``) that the optimizers, schedules,
callbacks and the training API use: what each accepts (in its canonical form), what it refuses
(a ConfigError naming the argument, showing the value and its type, with a fix that ends in a
working example), and that nothing is reinterpreted (``True`` is not 1, ``"3"`` is not 3)."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import validation as check
from tinygrad_edu.errors import ConfigError

NOT_NUMBERS = [None, True, np.bool_(False), "3", b"3", [3], 3 + 0j]


def refusal(fn, *args, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        fn(*args, **kwargs)
    return err.value


# ---------------------------------------------------------------------- counts
@pytest.mark.parametrize("value", [0, 1, 7, np.int64(3), np.uint8(2)])
def test_non_negative_int_accepts_python_and_numpy_ints(value):
    got = check.non_negative_int("patience", value, "EarlyStopping")
    assert got == value and type(got) is int


@pytest.mark.parametrize("value", [-1, 2.5, 3.0, math.nan, *NOT_NUMBERS])
def test_non_negative_int_refuses_everything_else(value):
    err = refusal(check.non_negative_int, "patience", value, "EarlyStopping", "f(patience=5)")
    assert "patience as an int >= 0" in err.expected and repr(value) in err.got
    assert err.fix.endswith("e.g. f(patience=5)")


# ---------------------------------------------------------------------- verbosity
@given(st.one_of(st.integers(-3, 5), st.sampled_from(["auto", "1", True, False, 1.0, None])))
def test_verbosity_takes_a_level_or_auto_and_nothing_else(value):
    levels = (0, 1, 2)
    is_level = type(value) is int and value in levels
    if is_level or value == "auto":
        assert check.verbosity("verbose", value, "fit") == (1 if value == "auto" else value)
    else:
        err = refusal(check.verbosity, "verbose", value, "fit", "model.fit(x, y, verbose=1)")
        assert err.expected == "verbose as 0, 1, 2 or 'auto'" and "rather than True" in err.fix


def test_verbosity_with_two_levels_refuses_2_and_does_not_offer_it():
    err = refusal(check.verbosity, "verbose", 2, "ProgbarLogger", levels=(0, 1))
    assert err.expected == "verbose as 0, 1 or 'auto'" and "2 a line" not in err.fix
    assert check.verbosity("verbose", np.int64(1), "ProgbarLogger", levels=(0, 1)) == 1


# ---------------------------------------------------------------------- reals
def test_real_says_what_the_number_means_after_the_usual_mistake():
    why = "epsilon keeps the division finite"
    outside = refusal(
        check.real, "epsilon", 0, "Adam", "Adam(epsilon=1e-7)", low=0, low_open=True, why=why
    )
    quoted = refusal(check.real, "epsilon", "1e-7", "Adam", "Adam(epsilon=1e-7)", low=0, why=why)
    assert outside.fix == f"0 is outside: use a finite number > 0; {why}, e.g. Adam(epsilon=1e-7)"
    assert quoted.fix == f"remove the quotes; {why}, e.g. Adam(epsilon=1e-7)"


@pytest.mark.parametrize("value", [None, 0.5, np.float32(0.25), -3])
def test_real_with_allow_none_passes_none_and_checks_the_rest(value):
    got = check.real("baseline", value, "EarlyStopping", allow_none=True)
    assert got == (None if value is None else float(value))
    assert got is None or type(got) is float


@pytest.mark.parametrize("value", [math.nan, math.inf, "0.5", True, 10**400])
def test_real_with_allow_none_still_refuses_non_numbers(value):
    err = refusal(check.real, "baseline", value, "EarlyStopping", allow_none=True)
    assert err.expected == "baseline as a finite number (or None)"


def test_real_without_allow_none_refuses_none():
    err = refusal(check.real, "factor", None, "ReduceLROnPlateau", low=0)
    assert "None" in err.got and "(or None)" not in err.expected


# ---------------------------------------------------------------------- file paths
@pytest.mark.parametrize("value", ["m.keras", pathlib.Path("dir") / "m.keras"])
def test_file_path_gives_a_str(value):
    assert check.file_path("filepath", value, "ModelCheckpoint") == str(value)


@pytest.mark.parametrize("value", ["", b"m.keras", None, 3, ["m.keras"]])
def test_file_path_refuses_bytes_empty_and_non_paths(value):
    err = refusal(
        check.file_path, "filepath", value, "ModelCheckpoint", "ModelCheckpoint('m.keras')"
    )
    assert err.expected == "filepath as a non-empty str or pathlib.Path"
    assert ("bytes" in err.fix) == isinstance(value, bytes)
