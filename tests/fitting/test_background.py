"""Backgrounds: the cable-delay estimate, removing a background, moving its reference."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.fitting import (
    Background,
    SpectroscopyData,
    estimate_cable_delay,
    remove_background,
    remove_cable_delay,
)
from giantatoms.units import GHz, ns


def test_cable_delay_estimate_and_removal():
    # 1 MHz steps: the phase advances 2π·1 MHz·63 ns = 0.4 rad per point (must stay below π).
    w = np.linspace(4.9, 5.1, 201) * GHz
    background = Background(0.6, 2.5, 63 * ns)
    data = SpectroscopyData(w, background(w), convention="engineering")
    assert estimate_cable_delay(data) == pytest.approx(63 * ns, rel=1e-9)
    flat = remove_cable_delay(data, 63 * ns)
    np.testing.assert_allclose(flat.s21, 0.6 * np.exp(2.5j), atol=1e-9)
    np.testing.assert_allclose(remove_background(data, background).s21, 1.0, atol=1e-12)
    # The same function of frequency about another reference.
    moved = Background(0.6, 2.5, 63 * ns, slope=0.1 / GHz).at_reference(5 * GHz)
    np.testing.assert_allclose(moved(w), Background(0.6, 2.5, 63 * ns, slope=0.1 / GHz)(w))
    # In the physics convention a delay is e^{+iωτ}: the same τ comes out.
    physics = SpectroscopyData(w, np.conj(background(w)), convention="physics")
    assert estimate_cable_delay(physics) == pytest.approx(63 * ns, rel=1e-9)
