"""Flux model of a tunable transmon (Koch et al. 2007): forward, inverse, derivative, noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giantatoms.model.flux import TunableTransmon
from giantatoms.units import GHz, MHz

ALPHA = -200 * MHz


def test_frequency_at_the_offset_is_the_maximum() -> None:
    transmon = TunableTransmon(6 * GHz, ALPHA, asymmetry=0.3, flux_offset=0.12, flux_period=2.5)
    assert transmon.frequency(0.12) == pytest.approx(6 * GHz, rel=1e-15)
    grid = np.linspace(-3, 3, 2001)
    assert np.max(transmon.frequency(grid)) <= 6 * GHz * (1 + 1e-15)


def test_symmetric_squid_reaches_its_minimum_at_half_a_period() -> None:
    transmon = TunableTransmon(6 * GHz, ALPHA, flux_offset=0.1, flux_period=2.0)
    half = 0.1 + 1.0
    assert transmon.minimum_frequency == pytest.approx(200 * MHz * -1)
    assert transmon.frequency(half) == pytest.approx(-200 * MHz, abs=1e-6 * GHz)
    low, high = transmon.reachable_range
    assert low == 0.0
    assert high == 6 * GHz


def test_asymmetric_minimum() -> None:
    d = 0.35
    transmon = TunableTransmon(6 * GHz, ALPHA, asymmetry=d)
    expected = (6 * GHz + 200 * MHz) * np.sqrt(d) - 200 * MHz
    assert transmon.minimum_frequency == pytest.approx(expected, rel=1e-14)
    assert transmon.frequency(0.5) == pytest.approx(expected, rel=1e-14)
    grid = np.linspace(0, 1, 4001)
    assert np.min(transmon.frequency(grid)) == pytest.approx(expected, rel=1e-12)
    assert transmon.reachable_range[0] == pytest.approx(expected)


def test_koch_form_with_tan_agrees_away_from_half_period() -> None:
    d, x = 0.2, np.linspace(-0.45, 0.45, 31)
    transmon = TunableTransmon(5 * GHz, ALPHA, asymmetry=d)
    ec = 200 * MHz
    ej_ratio = np.abs(np.cos(np.pi * x)) * np.sqrt(1 + d**2 * np.tan(np.pi * x) ** 2)
    np.testing.assert_allclose(
        transmon.frequency(x), (5 * GHz + ec) * np.sqrt(ej_ratio) - ec, rtol=1e-13
    )


@settings(max_examples=60, deadline=None)
@given(
    max_ghz=st.floats(3.0, 9.0),
    alpha_mhz=st.floats(-350.0, -50.0),
    d=st.floats(0.0, 0.9),
    offset=st.floats(-0.5, 0.5),
    period=st.floats(0.2, 5.0),
    fraction=st.floats(0.01, 0.49),
)
def test_inverse_of_forward_is_the_identity_on_both_branches(
    max_ghz, alpha_mhz, d, offset, period, fraction
) -> None:
    transmon = TunableTransmon(max_ghz * GHz, alpha_mhz * MHz, d, offset, period)
    for sign, branch in ((1, "positive"), (-1, "negative")):
        flux = offset + sign * fraction * period
        omega = transmon.frequency(flux)
        if omega <= 0:  # beyond the transmon regime of a nearly symmetric SQUID
            continue
        back = transmon.flux_for_frequency(omega, branch=branch)
        assert back == pytest.approx(flux, abs=1e-7 * period)
        assert transmon.frequency(back) == pytest.approx(omega, rel=1e-12)


def test_inverse_is_batched_and_covers_the_whole_range() -> None:
    transmon = TunableTransmon(6 * GHz, ALPHA, asymmetry=0.4)
    low, high = transmon.reachable_range
    omega = np.linspace(low, high, 101)
    flux = transmon.flux_for_frequency(omega)
    assert flux.shape == (101,)
    assert flux[0] == pytest.approx(0.5) and flux[-1] == 0.0
    np.testing.assert_allclose(transmon.frequency(flux), omega, rtol=1e-12)
    assert np.all(np.diff(flux) < 0)
    np.testing.assert_allclose(transmon.flux_for_frequency(omega, "negative"), -flux)


@pytest.mark.parametrize("d", [0.0, 0.1, 0.6])
def test_sensitivity_matches_finite_differences(d: float) -> None:
    transmon = TunableTransmon(5.5 * GHz, ALPHA, asymmetry=d, flux_offset=0.05, flux_period=1.7)
    flux = np.linspace(-0.7, 0.75, 37)
    h = 1e-6
    numeric = (transmon.frequency(flux + h) - transmon.frequency(flux - h)) / (2 * h)
    np.testing.assert_allclose(transmon.sensitivity(flux), numeric, rtol=1e-6, atol=1e-6 * GHz)


def test_sensitivity_vanishes_at_sweet_spots() -> None:
    transmon = TunableTransmon(6 * GHz, ALPHA, asymmetry=0.3, flux_offset=0.2, flux_period=3.0)
    spots = np.array([0.2, 0.2 + 1.5, 0.2 - 1.5, 0.2 + 3.0])
    np.testing.assert_allclose(transmon.sensitivity(spots), 0.0, atol=1e-6 * GHz)
    np.testing.assert_allclose(transmon.frequency_noise(spots, 1e-3), 0.0, atol=1e-9 * GHz)


def test_frequency_noise_is_first_order() -> None:
    transmon = TunableTransmon(6 * GHz, ALPHA, asymmetry=0.2)
    flux = np.array([0.1, 0.25, -0.3])
    sigma = np.array([[1e-6], [5e-6]])
    noise = transmon.frequency_noise(flux, sigma)
    assert noise.shape == (2, 3)
    np.testing.assert_allclose(noise, np.abs(transmon.sensitivity(flux)) * sigma)
    # Small quasi-static flux offsets: the frequency spread matches.
    rng = np.random.default_rng(3)
    offsets = 1e-6 * rng.standard_normal(20000)
    spread = np.std(transmon.frequency(0.25 + offsets))
    assert spread == pytest.approx(float(transmon.frequency_noise(0.25, 1e-6)), rel=0.03)


def test_periodicity_and_symmetry() -> None:
    transmon = TunableTransmon(5 * GHz, ALPHA, asymmetry=0.15, flux_offset=0.3, flux_period=1.3)
    flux = np.linspace(-1, 1, 41)
    base = transmon.frequency(flux)
    for k in (-2, 1, 3):
        np.testing.assert_allclose(transmon.frequency(flux + k * 1.3), base, rtol=1e-12)
    np.testing.assert_allclose(transmon.frequency(0.3 + flux), transmon.frequency(0.3 - flux))
    np.testing.assert_allclose(
        transmon.sensitivity(0.3 + flux), -transmon.sensitivity(0.3 - flux), atol=1e-3
    )


def test_array_parameters_broadcast() -> None:
    transmon = TunableTransmon(np.array([5.0, 6.0, 7.0])[:, None] * GHz, ALPHA, asymmetry=0.3)
    assert transmon.batch_shape == (3, 1)
    flux = np.linspace(0, 0.5, 4)
    out = transmon.frequency(flux)
    assert out.shape == (3, 4)
    for i, wmax in enumerate((5.0, 6.0, 7.0)):
        single = TunableTransmon(wmax * GHz, ALPHA, asymmetry=0.3)
        np.testing.assert_allclose(out[i], single.frequency(flux), rtol=1e-15)
        np.testing.assert_allclose(
            transmon.sensitivity(flux)[i], single.sensitivity(flux), rtol=1e-15
        )
    assert transmon.minimum_frequency.shape == (3, 1)


def test_from_frequency_range() -> None:
    transmon = TunableTransmon.from_frequency_range(6 * GHz, 4 * GHz, ALPHA, flux_offset=0.1)
    assert transmon.frequency(0.1) == pytest.approx(6 * GHz)
    assert transmon.frequency(0.6) == pytest.approx(4 * GHz)
    assert transmon.minimum_frequency == pytest.approx(4 * GHz)
    with pytest.raises(ValueError, match="min_frequency must be < max_frequency"):
        TunableTransmon.from_frequency_range(4 * GHz, 6 * GHz)


def test_equality_and_replace() -> None:
    a = TunableTransmon(6 * GHz, ALPHA, asymmetry=0.2)
    assert a == TunableTransmon(6 * GHz, ALPHA, asymmetry=0.2)
    assert a != a.replace(asymmetry=0.3)
    with pytest.raises(ValueError, match="asymmetry"):
        a.replace(asymmetry=1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_frequency": 0.0}, "max_frequency must be > 0"),
        ({"max_frequency": -1.0}, "max_frequency"),
        ({"anharmonicity": 10 * MHz}, "anharmonicity must be ≤ 0"),
        ({"asymmetry": 1.0}, r"asymmetry must be in \[0, 1\)"),
        ({"asymmetry": -0.1}, "asymmetry must be ≥ 0"),
        ({"flux_period": 0.0}, "flux_period must be > 0"),
        ({"flux_offset": np.nan}, "flux_offset must not be NaN"),
        ({"max_frequency": np.ones(3), "asymmetry": np.zeros(2)}, "do not broadcast"),
    ],
)
def test_bad_parameters_raise(kwargs: dict, match: str) -> None:
    params = {"max_frequency": 6 * GHz, **kwargs}
    with pytest.raises(ValueError, match=match):
        TunableTransmon(**params)


def test_bad_inputs_raise() -> None:
    transmon = TunableTransmon(6 * GHz, ALPHA, asymmetry=0.3)
    with pytest.raises(ValueError, match=r"reachable range \[ω_min, ω_max\]"):
        transmon.flux_for_frequency(7 * GHz)
    with pytest.raises(ValueError, match="reachable range"):
        transmon.flux_for_frequency([5 * GHz, 2 * GHz])
    symmetric = TunableTransmon(6 * GHz, ALPHA)
    with pytest.raises(ValueError, match="must be > 0"):
        symmetric.flux_for_frequency(-0.1 * GHz)
    assert symmetric.flux_for_frequency(0.05 * GHz) < 0.5
    with pytest.raises(ValueError, match="branch must be one of"):
        transmon.flux_for_frequency(5 * GHz, branch="left")
    with pytest.raises(ValueError, match="flux_noise_rms must be ≥ 0"):
        transmon.frequency_noise(0.1, -1e-6)
    with pytest.raises(TypeError, match="flux must be real"):
        transmon.frequency("a quarter")
    with pytest.raises(TypeError, match="max_frequency must be real"):
        TunableTransmon(6 * GHz + 1j)
