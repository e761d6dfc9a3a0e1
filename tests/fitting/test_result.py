"""FitResult and Bootstrap: calibrated uncertainties, bootstrap errors, the model and the
summary, and fits that converge but are not a result (success False with the reason)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from giantatoms.fitting import SpectroscopyData, fit_device, fit_lorentzian
from giantatoms.units import GHz, MHz

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


def test_uncertainties_are_calibrated_over_noise_realisations():
    # σ not given: estimated from the residuals. 40 realisations: the scatter of the fitted
    # values must match the mean reported error (the sample std is good to ~11 %).
    fits = [fit_lorentzian(small_atom_data(seed, sigma=None)) for seed in range(40)]
    for name in ("frequency", "radiative_rate", "nonradiative_rate", "s21.delay"):
        values = np.array([f.parameters[name] for f in fits])
        reported = np.mean([f.errors[name] for f in fits])
        ratio = np.std(values, ddof=1) / reported
        assert 1 / 1.5 < ratio < 1.5, (name, ratio)
    noise_levels = np.array([f.noise for f in fits])
    np.testing.assert_allclose(noise_levels, SIGMA, rtol=0.1)
    assert all(f.noise_estimated and f.reduced_chi2 == pytest.approx(1) for f in fits)
    assert all(math.isnan(f.p_value) for f in fits)


def test_bootstrap_agrees_with_covariance_and_is_reproducible():
    fit = fit_lorentzian(small_atom_data(7))
    boot = fit.bootstrap(100, seed=5)
    assert boot.n_failed == 0 and boot.samples.shape == (100, len(fit.names))
    for name in fit.names:
        ratio = boot.errors[name] / fit.errors[name]
        assert 1 / 1.5 < ratio < 1.5, (name, ratio)
    again = fit.bootstrap(100, seed=5)
    np.testing.assert_array_equal(again.samples, boot.samples)
    residual = fit.bootstrap(60, seed=6, method="residual")
    for name in fit.names:
        assert 1 / 1.5 < residual.errors[name] / fit.errors[name] < 1.5, name
    low, high = boot.interval()["frequency"]
    assert low < fit.parameters["frequency"] < high
    assert "bootstrap error" in repr(boot)


def test_result_model_and_summary():
    data = small_atom_data(1)
    fit = fit_lorentzian(data, vary_background=("amplitude", "phase", "delay", "slope"))
    assert "s21.slope" in fit.names and not fit.fixed
    np.testing.assert_allclose(data.s21 - fit.residuals["s21"], fit.model(), atol=1e-14)
    dense = np.linspace(4.99, 5.01, 7) * GHz
    assert fit.model(dense).shape == (7,)
    text = fit.summary()
    for piece in ("frequency", "GHz", "MHz", "ns", "χ²", "reduced"):
        assert piece in text
    assert repr(fit) == text
    assert fit.correlation.shape == (len(fit.names),) * 2
    np.testing.assert_allclose(np.diag(fit.correlation), 1.0)


def test_good_trace_fits_and_reports_success():
    fit = fit_lorentzian(small_atom_data(2))
    assert fit.success and fit.converged and fit.reason == ""
    assert "NOT A VALID FIT" not in fit.summary()
    assert_within(fit, SMALL_TRUE)


def test_line_outside_the_band_is_not_a_success():
    # Only the tail of a wide line 30 MHz above a 40 MHz window: the fit puts the resonance
    # outside the band, which the data cannot locate.
    w0, gamma = 5.05 * GHz, 20 * MHz
    line = 1 - 0.5 * gamma / (0.5 * 1.2 * gamma + 1j * (W_SMALL - w0))
    s21 = BG_SMALL(W_SMALL) * line + noise(np.random.default_rng(3), W_SMALL.size, 1e-3)
    fit = fit_lorentzian(SpectroscopyData(W_SMALL, s21, convention="engineering", sigma=1e-3))
    assert fit.converged and not fit.success
    assert "outside the measured band" in fit.reason
    assert "NOT A VALID FIT" in fit.summary()


def test_singular_covariance_is_not_a_success():
    # Moving both points of an atom together leaves S21 unchanged: a null direction.
    rng = np.random.default_rng(4)
    traces = measured(GIANT, W_GIANT, {"s21": BG_GIANT["s21"]}, rng)
    data = SpectroscopyData(W_GIANT, **traces, convention="engineering", sigma=SIGMA)
    fit = fit_device(data, GIANT, ["atoms.A.points[0]", "atoms.A.points[1]"])
    assert not fit.success
    assert "singular" in fit.reason
    assert any("singular Jacobian" in w for w in fit.warnings)
