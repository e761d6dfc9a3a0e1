"""The decay fits: exact on noiseless curves, calibrated uncertainties, input validation."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.coherence import fit_exponential_decay, fit_gaussian_exponential_decay
from giantatoms.units import MHz, us


def test_fits_recover_noiseless_parameters() -> None:
    t = np.linspace(0, 50 * us, 40)
    y = 0.9 * np.exp(-t / (20 * us)) + 0.05
    fit = fit_exponential_decay(t, y)
    np.testing.assert_allclose(fit.parameters, [0.9, 20 * us, 0.05], rtol=1e-8)
    np.testing.assert_allclose(fit.model(t), y, atol=1e-10)
    sigma = 0.04 * MHz
    g = 0.8 * np.exp(-t / (30 * us) - 0.5 * (sigma * t) ** 2)
    gfit = fit_gaussian_exponential_decay(t, g, with_offset=False)
    assert gfit.parameter_names == ("amplitude", "decay_time", "gaussian_rate")
    np.testing.assert_allclose(gfit.parameters, [0.8, 30 * us, sigma], rtol=1e-7)
    assert gfit.value("offset") == 0.0 and fit.gaussian_rate == 0.0


@pytest.mark.parametrize("kind", ["exponential", "gaussian_exponential"])
def test_fits_recover_parameters_within_their_uncertainties(kind: str) -> None:
    """Over 40 seeds of white noise the reported errors are calibrated."""
    rng = np.random.default_rng(11)
    t = np.linspace(0, 60 * us, 50)
    true = {"amplitude": 0.95, "decay_time": 25 * us, "offset": 0.03}
    sigma = 0.03 * MHz
    clean = true["amplitude"] * np.exp(-t / true["decay_time"]) + true["offset"]
    fitter = fit_exponential_decay
    if kind == "gaussian_exponential":
        true["gaussian_rate"] = sigma
        clean = true["amplitude"] * np.exp(-t / 25e-6 - 0.5 * (sigma * t) ** 2) + 0.03
        fitter = fit_gaussian_exponential_decay
    data = clean + 0.01 * rng.standard_normal((40, t.size))
    fit = fitter(t, data)
    assert fit.success.all() and fit.batch_shape == (40,)
    for name, value in true.items():
        z = (fit.value(name) - value) / fit.error(name)
        assert np.all(np.abs(z) < 5), name
        assert np.mean(np.abs(z) < 2) >= 0.8, name
    # The same fit with known uncertainties gives absolute errors close to the scaled ones.
    absolute = fitter(t, data, uncertainties=0.01)
    np.testing.assert_allclose(absolute.parameters, fit.parameters, rtol=1e-6)
    ratio = absolute.decay_time_error / fit.decay_time_error
    assert 0.7 < np.median(ratio) < 1.3
    # Batched equals one curve at a time.
    single = fitter(t, data[3])
    np.testing.assert_allclose(single.parameters, fit.parameters[3], rtol=1e-10)


def test_fit_input_validation() -> None:
    t = np.linspace(0, 1e-5, 6)
    with pytest.raises(ValueError, match="more than 3 samples"):
        fit_exponential_decay(t[:3], np.ones(3))
    with pytest.raises(ValueError, match="do not match"):
        fit_exponential_decay(t, np.ones(5))
    with pytest.raises(ValueError, match="values must not be NaN"):
        fit_exponential_decay(t, np.full(6, np.nan))
    with pytest.raises(ValueError, match="uncertainties must be > 0"):
        fit_exponential_decay(t, np.exp(-t / 3e-6), uncertainties=0.0)
    with pytest.raises(TypeError, match="with_offset must be a bool"):
        fit_exponential_decay(t, np.exp(-t / 3e-6), with_offset="yes")
    fit = fit_exponential_decay(t, np.exp(-t / 3e-6))
    with pytest.raises(ValueError, match="unknown parameter"):
        fit.value("frequency")
