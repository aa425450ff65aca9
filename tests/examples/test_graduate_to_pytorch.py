"""examples/graduate_to_pytorch.py (needs PyTorch): its --quick run shows its claims - to_torch and
from_torch predict the same class for every test image, both DDP ranks end with identical weights,
the loss fell after every epoch, the test accuracy reaches its floor (``check_graduation``).

Without torch the run is skipped, except under CI (env ``CI`` set, as ``.ci/run`` does), where it
fails - the same rule as tests/reference. The claim checker itself needs no torch: weak outputs
are refused everywhere.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os

import numpy as np
import pytest
from example_claims import EXAMPLES, MIN_QUICK_ACCURACY, NEEDS_TORCH, check_claim
from test_examples import run_quick

NAME = "graduate_to_pytorch.py"

GOOD = """\
generating 6,000 training and 1,000 test images of synthetic digits...
   same class for 1000 of 1000 test images, max |probability difference| 5.4e-07
   rank 0 and rank 1 end with identical weights: True (50,890 numbers)
   training loss before and after each epoch: 0.3318 -> 0.2929 -> 0.2658; kept falling: True
   same class for 1000 of 1000, max |probability difference| 6.0e-07
test accuracy: 0.9170
"""


def require_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        if os.environ.get("CI"):
            pytest.fail(f"torch is required under CI to run {NAME}: pip install torch==2.13.0")
        pytest.skip(f"{NAME} needs torch (pip install torch)")


def test_the_example_runs_quick_and_shows_its_claims():
    require_torch()
    assert NAME in NEEDS_TORCH  # so test_examples.py leaves it to this test
    check_claim(NAME, run_quick(NAME))


def test_each_rank_trains_its_own_copy(monkeypatch):
    """spawn hands tensors over in shared memory: ranks training the model they were given would
    share one set of weights (and the identical-weights claim could not fail), and would change
    the caller's model. The ranks train, agree, and leave the caller's model as it was."""
    require_torch()
    import torch

    monkeypatch.syspath_prepend(str(EXAMPLES))  # the spawned processes import the example
    example = importlib.import_module(NAME.removesuffix(".py"))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.Softmax(dim=-1))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    args = argparse.Namespace(batch_size=8, lr=0.1, seed=0)
    first, second, losses = example.train_with_ddp(net, x, y, args, epochs=1)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.equal(first["0.weight"], before["0.weight"])  # they trained
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # not the caller's
    assert losses[1] < losses[0]


def test_a_good_output_passes_the_claim():
    check_claim(NAME, GOOD)  # raises AssertionError on a weak output (the test below)
    assert MIN_QUICK_ACCURACY[NAME] < 0.9170  # the floor leaves room below the measured run


@pytest.mark.parametrize(
    "old, new",
    [
        ("identical weights: True", "identical weights: False"),
        ("0.2929 -> 0.2658", "0.2929 -> 0.3658"),  # a rising loss printed as falling
        ("for 1000 of 1000 test", "for 998 of 1000 test"),
        ("| 6.0e-07", "| 2.0e-03"),
        ("-> 0.2929 -> 0.2658", ""),  # one epoch is not a trend
        ("test accuracy: 0.9170", "test accuracy: 0.8170"),
    ],
)
def test_a_weak_output_fails_the_claim(old, new):
    assert old in GOOD
    with pytest.raises(AssertionError):
        check_claim(NAME, GOOD.replace(old, new))
