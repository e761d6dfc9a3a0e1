"""Shared fixtures: seeded generators and random Lindblad models (tests/reference/)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.reference.random_models import random_master_equation


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh seeded generator per test (reproducible, independent of test order)."""
    return np.random.default_rng(20260613)


@pytest.fixture
def random_model(rng):
    """Factory of random master equations: ``random_model(dims, **kwargs)``."""

    def make(dims=(2, 2), **kwargs):
        return random_master_equation(rng, dims, **kwargs)

    return make
