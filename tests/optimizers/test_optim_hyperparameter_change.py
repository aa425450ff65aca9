"""A hyperparameter changed after the first step brings its slots along (``optimizers/slots.py``):
before, ``opt.amsgrad = True`` or ``SGD.momentum`` from 0 to 0.9 raised a raw ``KeyError``
('vhat', 'velocity') at the next step - Adam's first moments already moved - and switching
momentum off kept a slot the rule no longer reads in ``state_arrays`` and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.optimizers import SGD, Adam, RMSprop

G = np.array([1.0, -2.0])


def _stepped(opt_cls, **settings):
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = opt_cls([w], 0.1, **settings)
    w.grad = G.copy()
    opt.step()
    return w, opt


def _step(w, opt):
    w.grad = G.copy()
    opt.step()


def test_momentum_switched_on_starts_its_velocity_at_zero():
    w, opt = _stepped(SGD)
    before = w.numpy().copy()
    opt.momentum = 0.9
    _step(w, opt)
    np.testing.assert_allclose(w.numpy(), before - 0.1 * G)  # velocity = 0.9 * 0 - lr * g
    np.testing.assert_allclose(opt.state_arrays()[0], -0.1 * G)


def test_momentum_switched_off_drops_its_slot():
    w, opt = _stepped(SGD, momentum=0.9)
    opt.momentum = 0.0
    before = w.numpy().copy()
    _step(w, opt)
    np.testing.assert_allclose(w.numpy(), before - 0.1 * G)
    assert opt.state_arrays() == []
    assert not any("velocity" in key for key in opt.state_dict())


def test_amsgrad_switched_on_takes_the_step_plain_adam_would():
    """vhat starts at 0, so max(vhat, v) = v: the first amsgrad step equals plain Adam's."""
    w, opt = _stepped(Adam)
    twin_w, twin = _stepped(Adam)
    opt.amsgrad = True
    _step(w, opt)
    _step(twin_w, twin)
    np.testing.assert_array_equal(w.numpy(), twin_w.numpy())
    assert sorted(opt._slots[0]) == ["m", "v", "vhat"]


@pytest.mark.parametrize("setting", [("centered", True), ("momentum", 0.5)])
def test_rmsprop_settings_switched_on_make_their_slots(setting):
    w, opt = _stepped(RMSprop)
    setattr(opt, *setting)
    _step(w, opt)
    fresh_w, fresh = _stepped(RMSprop, **dict([setting]))
    assert sorted(opt._slots[0]) == sorted(fresh._slots[0])
    assert np.all(np.isfinite(w.numpy()))
    opt.load_state_dict(opt.state_dict())  # a checkpoint of the new slots round-trips
