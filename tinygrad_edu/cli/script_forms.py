"""Two forms of tutorial scripts the model reader follows (``cli/parse.py``), read with ``ast``
and never run:

- the model built inside a function, ``def baseline_model(): model = Sequential() ...
  return model`` (the classic Keras tutorials): the function's body is read as the model's code;
- the image layout set for the whole script, Keras 1's ``K.set_image_dim_ordering('th')`` or
  Keras 2's ``K.set_image_data_format('channels_first')``: the layers' default ``data_format``.

>>> import ast
>>> call = ast.parse("K.set_image_dim_ordering('th')").body[0].value
>>> data_format_call(call, lambda f: ("K", "set_image_dim_ordering"))
'channels_first'
"""

from __future__ import annotations

import ast
from typing import Callable, List, Optional, Tuple

#: the values the two Keras setters take, and the data_format each means
_LAYOUTS = {
    "set_image_dim_ordering": {"th": "channels_first", "tf": "channels_last"},
    "set_image_data_format": {"channels_first": "channels_first", "channels_last": "channels_last"},
}


def data_format_call(
    value: Optional[ast.expr], dotted: Callable[[ast.expr], Optional[tuple]]
) -> Optional[str]:
    """The data_format a ``*.set_image_dim_ordering('th')`` / ``*.set_image_data_format(...)``
    call sets (with one string literal), or None for any other expression."""
    if not (isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords):
        return None
    parts = dotted(value.func)
    setter = parts[-1] if parts else ""
    arg = value.args[0]
    if setter not in _LAYOUTS or not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        return None
    return _LAYOUTS[setter].get(arg.value.lower())


def model_function(
    stmt: ast.stmt, makes_layers: Callable[[ast.expr], bool]
) -> Optional[List[ast.stmt]]:
    """The body (without its ``return``) of a function without arguments that builds layers,
    or None. A function with parameters is not followed: its layers depend on the call."""
    if not isinstance(stmt, ast.FunctionDef) or stmt.args.args or stmt.args.vararg:
        return None
    calls = [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    if not any(makes_layers(call.func) for call in calls):
        return None
    return [inner for inner in stmt.body if not isinstance(inner, ast.Return)]


def value_and_targets(stmt: ast.stmt) -> Tuple[Optional[ast.expr], List[ast.expr]]:
    """``x = value`` -> (value, [x]); an expression statement -> (it, []); else (None, [])."""
    if isinstance(stmt, ast.Expr):
        return stmt.value, []
    if isinstance(stmt, ast.Assign):
        return stmt.value, list(stmt.targets)
    return None, []


__all__ = ["data_format_call", "model_function", "value_and_targets"]
