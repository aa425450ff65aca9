"""examples/graduate_to_pytorch.py (needs PyTorch): its --quick run shows its claims - to_torch and
from_torch predict the same class for every test image, both DDP ranks end with identical weights,
the loss fell after every epoch, the test accuracy reaches its floor (``check_graduation``).

Without torch the run is skipped, except under CI (env ``CI`` set, as ``.ci/run`` does), where it
fails - the same rule as tests/reference. The claim checker itself needs no torch: weak outputs
are refused everywhere.
"""

from __future__ import annotations

import importlib.util
import os

import pytest
from example_claims import MIN_QUICK_ACCURACY, NEEDS_TORCH, check_claim
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
