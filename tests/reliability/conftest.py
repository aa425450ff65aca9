"""Fixtures shared by the reliability tests: tiny compiled models and data."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import set_seed
from tinygrad_edu.layers import Dense
from tinygrad_edu.models import Sequential


@pytest.fixture
def classifier():
    """Dense(4) -> Dense(3, softmax) on 5 features, compiled for integer labels."""
    set_seed(0)
    model = Sequential(
        [Dense(4, activation="relu", input_shape=(5,)), Dense(3, activation="softmax")]
    )
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def regressor():
    """Dense(1) on 3 features, compiled with MSE."""
    set_seed(0)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    return model


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 5)).astype(np.float32), rng.integers(0, 3, size=12)
