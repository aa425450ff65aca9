"""Keras 1 code that ports: old argument names and call forms, translated the way Keras 2 did.

Keras 2 renamed many arguments and kept accepting the old names with a warning. This module is the
one place that does the same here. ``layers/arguments.py`` applies ``translate`` to every layer
call before the layer's own ``__init__`` runs, and ``Model.fit`` applies ``fit_epochs``. Each old
name is accepted with ONE ``KerasLegacyWarning`` that prints the modern spelling (and the whole
call in it). Where the old meaning cannot be kept, a ``ConfigError`` gives the exact rewrite.
An old name is translated only when the layer does not take that name itself, so a custom layer
with its own ``init=`` argument keeps it.

===================================  ==========================================================
Keras 1                              Keras 2 (what the layers here take)
===================================  ==========================================================
``output_dim=10``                    ``units=10``
``nb_filter=32``                     ``filters=32``
``nb_row=3, nb_col=3``               ``kernel_size=(3, 3)``
``Convolution2D(32, 3, 3)``          ``Conv2D(32, (3, 3))``: rows and columns of the kernel
``init='uniform'``                   ``kernel_initializer='random_uniform'`` (also 'normal',
                                     'zero', 'one' -> 'random_normal', 'zeros', 'ones')
``inner_init``, ``inner_activation`` ``recurrent_initializer``, ``recurrent_activation``
``border_mode='same'``               ``padding='same'`` ('full' is refused: pad the data first)
``subsample=(2, 2)``                 ``strides=(2, 2)``
``atrous_rate=(2, 2)``               ``dilation_rate=(2, 2)``
``dim_ordering='th'`` / ``'tf'``     ``data_format='channels_first'`` / ``'channels_last'``
``dim_ordering='default'``           ``data_format=None`` (``config.image_data_format()``)
``W_regularizer``, ``b_regularizer`` ``kernel_regularizer``, ``bias_regularizer``
``U_regularizer``                    ``recurrent_regularizer``
``dropout_W``, ``dropout_U``         ``dropout``, ``recurrent_dropout``
``bias=False``                       ``use_bias=False``
``Dropout(p=0.5)``                   ``Dropout(rate=0.5)``
``beta_init``, ``gamma_init``        ``beta_initializer``, ``gamma_initializer``
``forget_bias_init='one'``           ``unit_forget_bias=True`` ('zero': False)
``BatchNormalization(mode=0)``       ``BatchNormalization()`` (modes 1 and 2 are refused)
``input_dim=64, input_length=10``    ``input_shape=(10, 64)`` on recurrent layers
``fit(..., nb_epoch=10)``            ``fit(..., epochs=10)``
===================================  ==========================================================

>>> import warnings
>>> from tinygrad_edu.layers import Dense
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     layer = Dense(output_dim=10, init="uniform")
>>> layer.units, [str(w.message).split(";")[0] for w in caught]
(10, ["Dense(output_dim=10) is Keras 1's spelling: units=10", "Dense(init='uniform') is Keras 1's spelling: kernel_initializer='random_uniform'"])
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import validation as check
from ..errors import ConfigError
from .code_text import code_repr


class KerasLegacyWarning(UserWarning):
    """An old (Keras 1) argument name or call form was translated; the message gives the modern
    spelling to write instead."""


#: Keras 1's initializer names that Keras 2 renamed (same distributions)
KERAS1_INITIALIZERS = {
    "uniform": "random_uniform",
    "normal": "random_normal",
    "zero": "zeros",
    "one": "ones",
}

_DIM_ORDERING_NOTE = (
    "Keras 1 read dim_ordering for every layer from keras.json, so for a model ported from "
    "Theano-ordered code call tinygrad_edu.config.set_image_data_format('channels_first') once "
    "before building it: the layers without the argument (the next Conv2D, MaxPooling2D, "
    "Flatten) then agree"
)


@dataclass(frozen=True)
class Rename:
    """One old argument name: its modern name, old values that changed (old -> new), and values
    whose meaning cannot be kept (old -> the fix that says what to write)."""

    modern: str
    values: Mapping[Any, Any] = field(default_factory=dict)
    refused: Mapping[Any, str] = field(default_factory=dict)
    only_listed_values: bool = False  # True: a value not in ``values`` is refused
    note: str = ""
    example_value: Any = None  # the value the example call of a refusal shows


RENAMES: Dict[str, Rename] = {
    "output_dim": Rename("units"),
    "nb_filter": Rename("filters"),
    "init": Rename("kernel_initializer", KERAS1_INITIALIZERS),
    "inner_init": Rename("recurrent_initializer", KERAS1_INITIALIZERS),
    "inner_activation": Rename("recurrent_activation"),
    "border_mode": Rename(
        "padding",
        refused={
            "full": "border_mode='full' (an output larger than the image) has no Keras 2 "
            "padding: pad the images yourself - for a 3x3 kernel "
            "x = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0))) - and convolve with padding='valid'"
        },
        example_value="valid",
    ),
    "subsample": Rename("strides"),
    "atrous_rate": Rename("dilation_rate"),
    "dim_ordering": Rename(
        "data_format",
        {"th": "channels_first", "tf": "channels_last", "default": None},
        only_listed_values=True,
        note=_DIM_ORDERING_NOTE,
        example_value="channels_first",
    ),
    "W_regularizer": Rename("kernel_regularizer"),
    "b_regularizer": Rename("bias_regularizer"),
    "U_regularizer": Rename("recurrent_regularizer"),
    "dropout_W": Rename("dropout"),
    "dropout_U": Rename("recurrent_dropout"),
    "bias": Rename("use_bias"),
    "p": Rename("rate"),
    "beta_init": Rename("beta_initializer", KERAS1_INITIALIZERS),
    "gamma_init": Rename("gamma_initializer", KERAS1_INITIALIZERS),
    "forget_bias_init": Rename(
        "unit_forget_bias",
        {"one": True, "zero": False},
        only_listed_values=True,
        example_value=True,
    ),
}

#: fit's old argument names
FIT_RENAMES = {"nb_epoch": "epochs"}

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn(message: str, category: type = KerasLegacyWarning) -> None:
    """``warnings.warn`` pointing at the user's line: the first frame outside this package."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


@dataclass
class Translation:
    """A call after translation, and one note per old name (each becomes one warning)."""

    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]
    notes: List[str] = field(default_factory=list)
    example: Callable[..., str] = field(default=lambda **changes: "")  # a working call, changed


def translate(
    cls_name: str,
    expected_ndim: Optional[int],
    args: Sequence[Any],
    kwargs: Dict[str, Any],
    accepted: Sequence[str],
    positional: Sequence[str] = (),
    example: Callable[..., str] = lambda **changes: "",
) -> Translation:
    """The call ``cls_name(*args, **kwargs)`` with every old name the class does not take itself
    rewritten in Keras 2's spelling (``accepted``: the names the class takes; ``positional``:
    those ``args`` give; ``example(**changes)``: a working call of the class, for the fixes)."""
    out = Translation(tuple(args), dict(kwargs), example=example)
    where = f"{cls_name}()"
    if expected_ndim == 3:  # a recurrent layer: (batch, timesteps, features)
        _sequence_shape(out, where, accepted)
    if "nb_row" in out.kwargs or "nb_col" in out.kwargs:
        _kernel_size(out, where, accepted)
    if "mode" in out.kwargs and "mode" not in accepted and "moving_mean_initializer" in accepted:
        _batchnorm_mode(out, where)
    for old in [k for k in out.kwargs if k in RENAMES and k not in accepted]:
        rule = RENAMES[old]
        if rule.modern not in accepted:
            continue  # not this layer's argument in any spelling: the unknown-name error says so
        if rule.modern in out.kwargs or rule.modern in positional:
            _given_twice(out, where, old, rule.modern)
        value = out.kwargs.pop(old)
        out.kwargs[rule.modern] = _new_value(out, where, old, value, rule)
        note = f"{cls_name}({old}={code_repr(value)}) is Keras 1's spelling: "
        new = code_repr(out.kwargs[rule.modern])
        out.notes.append(note + f"{rule.modern}={new}" + _and(rule.note))
    return out


def _and(note: str) -> str:
    return f" ({note})" if note else ""


def _new_value(out: Translation, where: str, old: str, value: Any, rule: Rename) -> Any:
    example = out.example(
        **({} if rule.example_value is None else {rule.modern: rule.example_value})
    )
    try:
        if value in rule.refused:
            raise ConfigError(
                where=where,
                expected=f"a {old} Keras 2 can express as {rule.modern}",
                got=f"{old}={value!r}",
                fix=f"{rule.refused[value]}, e.g. {example}",
            )
        if value in rule.values:
            return rule.values[value]
    except TypeError:  # an unhashable value: not an old spelling, the layer checks it
        pass
    if rule.only_listed_values:
        choices = ", ".join(f"{old}={v!r}" for v in rule.values)
        new = ", ".join(f"{rule.modern}={v!r}" for v in rule.values.values())
        raise ConfigError(
            where=where,
            expected=f"one of {choices}",
            got=f"{old}={value!r}",
            fix=f"write it in Keras 2's spelling, one of {new}, e.g. {example}",
        )
    return value


def _given_twice(out: Translation, where: str, old: str, modern: str) -> None:
    raise ConfigError(
        where=where,
        expected=f"{modern} given once",
        got=f"both {old} (Keras 1's name) and {modern}",
        fix=f"keep {modern}=... only, e.g. {out.example()}",
    )


def _kernel_size(out: Translation, where: str, accepted: Sequence[str]) -> None:
    """``nb_row=3, nb_col=3`` -> ``kernel_size=(3, 3)`` (both needed: they are one argument)."""
    if "kernel_size" not in accepted or "nb_row" in accepted:
        return
    rows, cols = out.kwargs.pop("nb_row", None), out.kwargs.pop("nb_col", None)
    if rows is None or cols is None or "kernel_size" in out.kwargs:
        raise ConfigError(
            where=where,
            expected="the kernel's size given once, as nb_row and nb_col together (Keras 1)",
            got=f"nb_row={rows!r}, nb_col={cols!r}"
            + (", kernel_size too" if "kernel_size" in out.kwargs else ""),
            fix=f"write kernel_size=(rows, cols), e.g. {out.example(kernel_size=(3, 3))}",
        )
    out.kwargs["kernel_size"] = (rows, cols)
    out.notes.append(
        f"{where[:-2]}(nb_row={rows!r}, nb_col={cols!r}) is Keras 1's spelling: "
        f"kernel_size={(rows, cols)!r}"
    )


def _sequence_shape(out: Translation, where: str, accepted: Sequence[str]) -> None:
    """Recurrent layers: Keras 1/2's ``input_dim`` (features per step) and ``input_length``
    (timesteps) -> ``input_shape=(input_length, input_dim)``; None timesteps vary."""
    kw = out.kwargs
    given = "input_length" in kw or "input_dim" in kw
    if not given or "input_length" in accepted:
        return
    length, dim = kw.pop("input_length", None), kw.pop("input_dim", None)
    if length is None and dim is None:
        return  # given as None: not given
    if kw.get("input_shape") is not None or kw.get("batch_input_shape") is not None:
        _given_twice(out, where, "input_dim/input_length", "input_shape")
    if dim is None:
        raise ConfigError(
            where=where,
            expected="input_length with input_dim (the number of features per step)",
            got=f"input_length={length!r} alone",
            fix="write input_shape=(timesteps, features) - for one feature per step, "
            f"e.g. {out.example(input_shape=(length, 1))}",
        )
    # checked under the names the user wrote, before the warning shows a translation of them
    example = out.example(input_shape=(None, 8))
    dim = check.positive_int("input_dim", dim, where, example)
    length = check.positive_int("input_length", length, where, example, allow_none=True)
    kw["input_shape"] = (length, dim)
    old = f"input_dim={dim!r}" + (f", input_length={length!r}" if length is not None else "")
    steps = "timesteps" if length is None else f"{length} timesteps"
    out.notes.append(
        f"{where[:-2]}({old}) is Keras 1's spelling: input_shape={(length, dim)!r} "
        f"({steps} of {dim} features)"
    )


def _batchnorm_mode(out: Translation, where: str) -> None:
    mode = out.kwargs.pop("mode")
    if check.is_int(mode) and mode == 0:
        out.notes.append(
            f"{where[:-2]}(mode=0) is Keras 1's spelling of what BatchNormalization always "
            "does in Keras 2 (normalize each feature): BatchNormalization() without mode"
        )
        return
    raise ConfigError(
        where=where,
        expected="mode=0 (Keras 1's feature-wise normalization, the only one Keras 2 kept)",
        got=f"mode={mode!r}",
        fix="Keras 2 kept only mode 0: BatchNormalization() normalizes each feature (Keras 1's "
        "mode 0), e.g. BatchNormalization(axis=-1)",
    )


def keras1_conv_call(
    args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> Tuple[tuple, dict, Optional[str]]:
    """``Convolution2D(32, 3, 3, ...)`` (Keras 1: filters, kernel rows, kernel columns) as
    ``Conv2D(32, (3, 3), ...)``, and the note the warning prints (None: a Keras 2 call, passed
    unchanged)."""
    kwargs = dict(kwargs)
    rows = args[1] if len(args) > 1 else None
    if len(args) == 2 and check.is_int(rows) and "nb_col" in kwargs:
        args = (args[0], rows, kwargs.pop("nb_col"))
    if len(args) < 3 or not (check.is_int(args[1]) and check.is_int(args[2])):
        return tuple(args), kwargs, None
    if len(args) > 3:
        raise ConfigError(
            where="Convolution2D()",
            expected="at most 3 positional arguments (filters, kernel rows, kernel columns)",
            got=f"{len(args)} positional arguments",
            fix="name the others, e.g. Convolution2D(32, 3, 3, kernel_initializer='he_normal')",
        )
    filters, rows, cols = args
    note = (
        f"Convolution2D({filters!r}, {rows!r}, {cols!r}) is Keras 1's form: {rows!r} and "
        f"{cols!r} are the kernel's rows and columns, read here as in Keras 1 and 2 "
        f"(tf.keras would read Conv2D({filters!r}, {rows!r}, {cols!r}) as a {rows}x{rows} "
        f"kernel with strides={cols!r})"
    )
    return (filters, (rows, cols)), kwargs, note


def positional_strides_note(call: str, strides: Any, as_kernel: str) -> str:
    """The warning for ``Conv2D(32, 3, 3)``: tf.keras' reading (strides) is kept, and said;
    ``as_kernel`` is the call that means Keras 1's reading (a kernel of rows x columns)."""
    return (
        f"{call} reads its third positional argument as strides={strides!r} (a stride, as in "
        "tf.keras), not as Keras 1 did - Keras 1's Convolution2D(32, 3, 3) meant a 3x3 kernel. "
        f"For that kernel write {as_kernel}; to keep the stride, write strides={strides!r} by name"
    )


def fit_epochs(epochs: Any, legacy: Dict[str, Any], accepted: Sequence[str]) -> Any:
    """``fit(..., nb_epoch=10)`` -> ``epochs=10`` with a warning; any other unknown name is a
    ``ConfigError`` naming the closest real argument."""
    for old, value in legacy.items():
        if old in FIT_RENAMES:
            warn(f"fit(nb_epoch={value!r}) is Keras 1's spelling: fit(..., epochs={value!r})")
            epochs = value
            continue
        close = difflib.get_close_matches(old, accepted, n=1)
        hint = f"did you mean {close[0]}=? " if close else ""
        raise ConfigError(
            where="fit",
            expected="fit's arguments: " + ", ".join(accepted),
            got=f"{old}={value!r}",
            fix=f"{hint}e.g. model.fit(x, y, epochs=5, batch_size=32)",
        )
    return epochs


__all__ = [
    "KerasLegacyWarning",
    "KERAS1_INITIALIZERS",
    "RENAMES",
    "FIT_RENAMES",
    "Rename",
    "Translation",
    "translate",
    "keras1_conv_call",
    "positional_strides_note",
    "fit_epochs",
    "warn",
]
