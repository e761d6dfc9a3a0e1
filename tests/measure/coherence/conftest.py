"""Shared fixtures of the coherence tests: the packaged pair, its two-level twin, a small atom."""

from __future__ import annotations

import pytest

import giantatoms as ga
from giantatoms.units import GHz, MHz, us

from tests.measure.coherence._devices import two_level


@pytest.fixture(scope="module")
def preset() -> ga.Device:
    return ga.presets.load("sequential_pair")


@pytest.fixture(scope="module")
def pair(preset) -> ga.Device:
    """The preset with two-level atoms: T1, T2 are then exactly the rate formulas."""
    return two_level(preset)


@pytest.fixture(scope="module")
def small_atom() -> ga.Device:
    """One small atom: Γ and the Lamb shift do not depend on frequency."""
    atom = ga.Atom("Q", 5 * GHz, [0.0], 0.5 * MHz, t1=20 * us, t2=15 * us, n_thermal=0.02)
    return ga.Device(ga.Waveguide(), [atom])
