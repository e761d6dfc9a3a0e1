"""Quick fits of one resonance in transmission: fit_lorentzian and fit_fano recover the
parameters of synthetic network-analyser data in either sign convention."""

from __future__ import annotations

import math

import numpy as np
import pytest

from giantatoms.fitting import SpectroscopyData, fit_fano, fit_lorentzian
from giantatoms.units import GHz, MHz, ns

from tests.fitting.conftest import (
    BG_GIANT,
    BG_SMALL,
    GIANT,
    SIGMA,
    SMALL_TRUE,
    W_GIANT,
    W_SMALL,
    assert_within,
    measured,
    noise,
    small_atom_data,
)


@pytest.mark.parametrize("seed", range(5))
def test_lorentzian_recovers_small_atom(seed):
    fit = fit_lorentzian(small_atom_data(seed))
    assert fit.success and not fit.warnings
    truth = dict(SMALL_TRUE)
    truth.update({"s21.amplitude": 0.8, "s21.phase": 1.0, "s21.delay": 45 * ns})
    assert_within(fit, truth)
    assert 0.8 < fit.reduced_chi2 < 1.2
    assert fit.p_value > 1e-4
    assert fit.fixed == {"s21.slope": 0.0}


def test_lorentzian_of_giant_atom_sees_lamb_shift_and_interference():
    # PHYSICS.md §3.2: one two-point atom is a Lorentzian at ω + γ sin φ of width 2γ(1 + cos φ).
    data = SpectroscopyData.from_arrays(
        W_GIANT,
        **measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, np.random.default_rng(11)),
        unit="rad/s",
        convention="engineering",
        sigma=SIGMA,
    )
    fit = fit_lorentzian(data)
    gamma, phi = 1.5 * MHz, 5.3 * GHz * 0.02 / 1.2e8
    assert_within(
        fit,
        {
            "frequency": 5.3 * GHz + gamma * math.sin(phi),
            "radiative_rate": 2 * gamma * (1 + math.cos(phi)),
            "nonradiative_rate": 0.4 * MHz,
        },
    )


@pytest.mark.parametrize("seed", range(3))
def test_fano_recovers_mismatch_angle(seed):
    rng = np.random.default_rng(100 + seed)
    w0, gamma, loss, theta = 5.0 * GHz, 2 * MHz, 0.8 * MHz, 0.4
    # Engineering convention, as in Khalil et al.: 1 − (Γ/2)(1 + i tan θ)/(Γ₂ + iΔ).
    line = 1 - 0.5 * gamma * (1 + 1j * math.tan(theta)) / (
        0.5 * (gamma + loss) + 1j * (W_SMALL - w0)
    )
    s21 = BG_SMALL(W_SMALL) * line + noise(rng, W_SMALL.size)
    data = SpectroscopyData(W_SMALL, s21, convention="engineering", sigma=SIGMA)
    fit = fit_fano(data)
    assert_within(
        fit,
        {
            "frequency": w0,
            "radiative_rate": gamma,
            "nonradiative_rate": loss,
            "mismatch_angle": theta,
            "s21.delay": 45 * ns,
        },
    )
    # The symmetric line cannot describe it.
    assert fit_lorentzian(data).reduced_chi2 > 2


def test_physics_convention_data_fit_the_same():
    engineering = small_atom_data(3)
    physics = SpectroscopyData(
        engineering.frequencies, np.conj(engineering.s21), convention="physics", sigma=SIGMA
    )
    a, b = fit_lorentzian(engineering), fit_lorentzian(physics)
    np.testing.assert_allclose(b.values, a.values, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.model(), np.conj(a.model()), atol=1e-9)
    # Declaring the wrong convention mirrors the resonance circle: no background can fix it.
    wrong = SpectroscopyData(engineering.frequencies, physics.s21, convention="engineering")
    assert fit_lorentzian(wrong, initial=a.parameters).residual_rms > 5 * a.residual_rms
