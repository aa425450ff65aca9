"""Slots that follow the hyperparameters: ``opt.amsgrad = True`` or ``SGD.momentum`` from 0 to 0.9
after the first step needs a slot (``vhat``, ``velocity``) the earlier steps never made, and
switching it off leaves one the rule no longer reads. ``reconcile`` makes every created slot dict
hold exactly the slots the optimizer's settings ask for now - a new slot at its initial value, as
the first step would have made it - so the next step's rule finds what it reads (before: a raw
``KeyError: 'vhat'`` after Adam's first moments had already moved).

>>> import numpy as np
>>> s = [{"m": np.ones(2)}, None]
>>> reconcile(s, [np.zeros(2), np.zeros(3)], {"m": 0.0, "vhat": 0.0})
>>> sorted(s[0]), s[0]["vhat"].tolist(), s[1]
(['m', 'vhat'], [0.0, 0.0], None)
"""

from __future__ import annotations

import numpy as np


def reconcile(slots: list, arrays: list, wanted: dict[str, float]) -> None:
    """In place: each slot dict in ``slots`` (None: not created yet, left so) gets exactly the
    names of ``wanted`` - a missing one made like its parameter's array ``arrays[i]``, filled
    with its initial value; the others dropped."""
    for s, array in zip(slots, arrays):
        if s is None:
            continue
        for name in [k for k in s if k not in wanted]:
            del s[name]
        for name, value in wanted.items():
            if name not in s:
                s[name] = np.full_like(array, value)


__all__ = ["reconcile"]
