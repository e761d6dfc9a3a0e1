"""Quasi-static frequency noise in the Ramsey and echo experiments: envelopes, seeds, chunks."""

from __future__ import annotations

import numpy as np
import pytest

from giantatoms.measure.coherence import echo_experiment, ramsey_experiment
from giantatoms.units import GHz, MHz, us

from tests.measure.coherence._devices import DF


def test_ramsey_envelope_with_quasi_static_noise(small_atom) -> None:
    sigma = 0.03 * MHz
    times = np.linspace(0, 15 * us, 31)
    noisy = ramsey_experiment(small_atom, 0, times, frequency_noise=sigma, samples=40)
    clean = ramsey_experiment(small_atom, 0, times)
    assert noisy.fit.kind == "gaussian_exponential"
    envelope = np.exp(-times / clean.t2_star - 0.5 * (sigma * times) ** 2)
    np.testing.assert_allclose(noisy.coherence, clean.fit.value("amplitude") * envelope, atol=1e-8)
    for fitted, error, true in (
        (noisy.t2_star, noisy.t2_star_error, clean.expected.t2),
        (noisy.gaussian_rate, noisy.gaussian_rate_error, sigma),
    ):
        assert abs(fitted - true) <= max(3 * error, 1e-7 * true)
    echo = echo_experiment(small_atom, 0, times, frequency_noise=sigma, samples=40)
    assert echo.t2_echo == pytest.approx(clean.t2_star, rel=1e-6)
    assert noisy.coherence[-1] < 0.5 * echo.coherence[-1]  # the echo refocused the noise


def test_ramsey_noise_on_a_giant_atom_is_scaled_by_the_lamb_shift_slope(pair) -> None:
    """The Lamb shift δω(ω) moves with the atom: the dressed frequency fluctuates by
    σ·(1 + dδω/dω), 0.9912σ at the DF point of the preset (dδω/dω = γ cos φ·Δx/v)."""
    sigma = 0.02 * MHz
    frequencies = np.array([DF, 5.5 * GHz])
    h = 1e-4 * MHz
    shifts = np.array([[-h, 0.0], [h, 0.0]])
    lamb = pair.couplings(frequencies=frequencies + shifts).lamb_shift[:, 0]
    slope = (lamb[1] - lamb[0]) / (2 * h)
    assert slope == pytest.approx(-2 * MHz * 0.084 / 1.2e8, rel=1e-6)
    times = np.linspace(0, 40 * us, 31)
    ramsey = ramsey_experiment(pair, "A", times, frequencies=frequencies, frequency_noise=sigma)
    assert ramsey.gaussian_rate == pytest.approx(sigma * (1 + slope), rel=1e-6)
    assert ramsey.t2_star == pytest.approx(ramsey.expected.t2, rel=1e-5)
    echo = echo_experiment(pair, "A", times, frequencies=frequencies, frequency_noise=sigma)
    assert echo.t2_echo == pytest.approx(ramsey.expected.t2, rel=1e-5)


@pytest.mark.parametrize("sampling", ["stratified", "random"])
def test_same_seed_gives_identical_results(small_atom, sampling: str) -> None:
    times = np.linspace(0, 15 * us, 11)
    kwargs = {"frequency_noise": 0.03 * MHz, "samples": 24, "noise_sampling": sampling}
    first = ramsey_experiment(small_atom, 0, times, seed=5, **kwargs)
    again = ramsey_experiment(small_atom, 0, times, seed=5, **kwargs)
    other = ramsey_experiment(small_atom, 0, times, seed=6, **kwargs)
    np.testing.assert_array_equal(first.coherence, again.coherence)
    np.testing.assert_array_equal(first.fringe, again.fringe)
    np.testing.assert_array_equal(first.fit.parameters, again.fit.parameters)
    assert first.seed == 5
    assert not np.allclose(first.coherence[1:], other.coherence[1:], rtol=1e-9, atol=0)
    drawn = echo_experiment(small_atom, 0, times, **kwargs)
    replay = echo_experiment(small_atom, 0, times, seed=drawn.seed, **kwargs)
    assert drawn.seed is not None
    np.testing.assert_array_equal(drawn.frequency_offsets, replay.frequency_offsets)
    np.testing.assert_array_equal(drawn.coherence, replay.coherence)


def test_stratified_sampling_approximates_the_gaussian_average(small_atom) -> None:
    sigma = 0.03 * MHz
    times = np.linspace(0, 15 * us, 21)
    exact = ramsey_experiment(small_atom, 0, times, frequency_noise=sigma, samples=40)
    sampled = ramsey_experiment(
        small_atom,
        0,
        times,
        frequency_noise=sigma,
        samples=200,
        seed=1,
        noise_sampling="stratified",
    )
    np.testing.assert_allclose(sampled.coherence, exact.coherence, atol=5e-3)
    assert sampled.gaussian_rate == pytest.approx(sigma, rel=0.03)
    offsets = sampled.frequency_offsets
    assert offsets.shape == (200,)
    assert np.std(offsets) == pytest.approx(sigma, rel=0.05)


def test_noise_samples_in_chunks_equal_one_pass(small_atom, monkeypatch) -> None:
    """The sample axis is processed in memory-bounded chunks; the average must not change."""
    from giantatoms import flux
    from giantatoms.measure.coherence import _noise

    transmon = flux.TunableTransmon(6 * GHz, asymmetry=0.2)
    flux_bias = transmon.flux_for_frequency(np.array([5.0, 5.2]) * GHz)
    noise = transmon.frequency_noise(flux_bias, 2e-6)
    frequencies = transmon.frequency(flux_bias)[:, None]
    times = np.linspace(0, 5 * us, 7)
    kwargs = {"frequencies": frequencies, "frequency_noise": noise, "samples": 30}
    whole = echo_experiment(small_atom, 0, times, **kwargs)
    ramsey = ramsey_experiment(small_atom, 0, times, **kwargs)
    monkeypatch.setattr(_noise, "_SAMPLE_CHUNK_ELEMENTS", 1000)
    np.testing.assert_allclose(
        echo_experiment(small_atom, 0, times, **kwargs).coherence, whole.coherence, atol=1e-13
    )
    np.testing.assert_allclose(
        ramsey_experiment(small_atom, 0, times, **kwargs).coherence, ramsey.coherence, atol=1e-13
    )
    assert ramsey.frequency_offsets.shape == (30, 2)
