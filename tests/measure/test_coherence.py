"""Simulated T1 / Ramsey / echo experiments and the decay fits (PHYSICS.md §3, §6)."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.measure.coherence import (
    _propagate_each,
    coherence_times,
    echo_experiment,
    fit_exponential_decay,
    fit_gaussian_exponential_decay,
    ramsey_experiment,
    t1_experiment,
)
from giantatoms.units import GHz, MHz, ns, us

DF = 5.0 * GHz  # decoherence-free point of both atoms of the preset
T_LONG = np.linspace(0.0, 60 * us, 31)


def two_level(device: ga.Device, **changes) -> ga.Device:
    for name in device.atom_names:
        device = device.replace_atom(name, levels=2, **changes)
    return device


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


def intrinsic_rates(atom: ga.Atom) -> tuple[float, float]:
    """(1/T1, 1/T2) of the intrinsic bath of a two-level atom."""
    gamma1 = float(atom.intrinsic_decay_rate * (1 + 2 * atom.n_thermal))
    return gamma1, 0.5 * gamma1 + float(atom.dephasing_rate)


# --------------------------------------------------------------------------------------------
# The experiments recover the input times
# --------------------------------------------------------------------------------------------


def test_waveguide_contribution_vanishes_at_the_decoherence_free_point(pair) -> None:
    frequencies = [DF, 5.5 * GHz]
    gamma1, gamma2 = intrinsic_rates(pair.atom("A"))
    t1 = t1_experiment(pair, "A", T_LONG, frequencies=frequencies)
    ramsey = ramsey_experiment(pair, "A", T_LONG, frequencies=frequencies)
    echo = echo_experiment(pair, "A", T_LONG, frequencies=frequencies)
    assert t1.expected.waveguide_decay_rate == pytest.approx(0.0, abs=1e-6 * MHz)
    assert t1.t1 == pytest.approx(1 / gamma1, rel=1e-6)
    assert ramsey.t2_star == pytest.approx(1 / gamma2, rel=1e-6)
    assert echo.t2_echo == pytest.approx(1 / gamma2, rel=1e-6)
    assert t1.t1 == pytest.approx(t1.expected.t1, rel=1e-6)
    assert ramsey.t2_star == pytest.approx(ramsey.expected.t2, rel=1e-6)
    # The fitted uncertainty is honest for noiseless data: tiny.
    assert t1.t1_error < 1e-6 * t1.t1 and ramsey.t2_star_error < 1e-6 * ramsey.t2_star
    assert ramsey.fit.kind == "exponential" and ramsey.samples == 1 and ramsey.seed is None


def test_three_level_preset_at_the_decoherence_free_point(preset) -> None:
    """The preset's transmons: exact with a cold bath; the f level shifts T2 by O(n_th)."""
    cold = preset
    for name in preset.atom_names:
        cold = cold.replace_atom(name, n_thermal=0.0)
    frequencies = [DF, 5.5 * GHz]
    gamma1, gamma2 = intrinsic_rates(cold.atom("A"))
    assert t1_experiment(cold, "A", T_LONG, frequencies=frequencies).t1 == pytest.approx(
        1 / gamma1, rel=1e-6
    )
    assert ramsey_experiment(cold, "A", T_LONG, frequencies=frequencies).t2_star == pytest.approx(
        1 / gamma2, rel=1e-6
    )
    warm = ramsey_experiment(preset, "A", T_LONG, frequencies=frequencies)
    assert warm.t2_star == pytest.approx(warm.expected.t2, rel=2e-2)
    assert t1_experiment(preset, "A", T_LONG, frequencies=frequencies).t1 == pytest.approx(
        warm.expected.t1, rel=1e-3
    )


def test_waveguide_decay_at_the_entangling_point(pair) -> None:
    """At 4.6 GHz, with B parked at its own DF point, T1 = 1/(Γ_A + γ_nr(1 + 2n_th))."""
    frequencies = [4.6 * GHz, DF]
    gamma_a = pair.couplings(frequencies=frequencies).decay_rates[0]
    assert gamma_a == pytest.approx(2 * (2 * MHz) * (1 + np.cos(7 * np.pi * 4.6 / 5)), rel=1e-3)
    gamma1, _ = intrinsic_rates(pair.atom("A"))
    dephasing = float(pair.atom("A").dephasing_rate)
    times = np.linspace(0, 150 * ns, 31)
    t1 = t1_experiment(pair, "A", times, frequencies=frequencies)
    assert t1.t1 == pytest.approx(1 / (gamma_a + gamma1), rel=1e-6)
    assert t1.t1 < 2e-3 / gamma1  # the waveguide dominates
    echo = echo_experiment(pair, "A", times, frequencies=frequencies)
    assert echo.t2_echo == pytest.approx(1 / (0.5 * (gamma_a + gamma1) + dephasing), rel=1e-6)


def test_detuned_neighbour_shifts_t1_through_dissipative_coupling(pair) -> None:
    """B at 5.5 GHz is not decoupled: T1 follows the single-excitation H_eff, not Γ_A alone.

    The eigenvalue of H_eff = diag(ω̃) + J − (i/2)(Γ + γ_nr) shifts the decay of A by
    ~J·Γ_coll/Δ (first order in 1/Δ, ≈ 0.3 % here), which the simulation reproduces.
    """
    cold = two_level(pair, n_thermal=0.0)
    frequencies = np.array([4.6 * GHz, 5.5 * GHz])
    c = cold.couplings(frequencies=frequencies)
    gamma_nr = np.array([float(a.intrinsic_decay_rate) for a in cold.atoms])
    h_eff = (
        np.diag(frequencies + c.lamb_shift)
        + c.exchange
        - 0.5j * (c.decay_matrix + np.diag(gamma_nr))
    )
    eigenvalues = np.linalg.eigvals(h_eff)
    lam = eigenvalues[np.argmin(np.abs(eigenvalues.real - frequencies[0]))]
    times = np.linspace(0, 150 * ns, 31)
    t1 = t1_experiment(cold, "A", times, frequencies=frequencies)
    assert t1.t1 == pytest.approx(1 / (-2 * lam.imag), rel=1e-4)
    assert abs(t1.t1 / t1.expected.t1 - 1) > 1e-3


# --------------------------------------------------------------------------------------------
# Quasi-static noise
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Signals and batching
# --------------------------------------------------------------------------------------------


def test_ramsey_fringe_and_echo_population(small_atom) -> None:
    times = np.linspace(0, 10 * us, 21)
    delta = 0.3 * MHz
    ramsey = ramsey_experiment(small_atom, "Q", times, detuning=delta)
    assert ramsey.fringe[0] == pytest.approx(1.0)
    assert ramsey.coherence[0] == pytest.approx(1.0)
    np.testing.assert_allclose(
        ramsey.fringe, 0.5 * (1 + ramsey.coherence * np.cos(delta * times)), atol=1e-10
    )
    cold = ga.Device(small_atom.waveguide, [small_atom.atoms[0].replace(n_thermal=0.0)])
    echo = echo_experiment(cold, 0, times)
    np.testing.assert_allclose(echo.population, 0.5 * (1 + echo.coherence), atol=1e-10)


def test_batched_frequencies_equal_a_loop(preset) -> None:
    frequencies = np.array([[DF, 5.5 * GHz], [4.9 * GHz, 5.5 * GHz], [5.1 * GHz, DF]])
    times = np.linspace(0, 2 * us, 9)
    noise = np.array([0.0, 0.2 * MHz, 0.1 * MHz])
    batched = {
        "t1": t1_experiment(preset, "A", times, frequencies=frequencies),
        "ramsey": ramsey_experiment(
            preset,
            "A",
            times,
            frequencies=frequencies,
            frequency_noise=noise,
            samples=20,
            detuning=1 * MHz,
        ),
        "echo": echo_experiment(
            preset, "A", times, frequencies=frequencies, frequency_noise=noise, samples=20
        ),
    }
    assert batched["t1"].population.shape == (3, 9)
    assert batched["ramsey"].coherence.shape == (3, 9)
    assert batched["echo"].t2_echo.shape == (3,)
    for i, f in enumerate(frequencies):
        single_t1 = t1_experiment(preset, "A", times, frequencies=f)
        np.testing.assert_allclose(batched["t1"].population[i], single_t1.population, atol=1e-12)
        np.testing.assert_allclose(batched["t1"].t1[i], single_t1.t1, rtol=1e-8)
        single = ramsey_experiment(
            preset,
            "A",
            times,
            frequencies=f,
            frequency_noise=noise[i],
            samples=20,
            detuning=1 * MHz,
            fit_model="gaussian_exponential",
        )
        np.testing.assert_allclose(batched["ramsey"].coherence[i], single.coherence, atol=1e-12)
        np.testing.assert_allclose(batched["ramsey"].fringe[i], single.fringe, atol=1e-12)
        echo = echo_experiment(
            preset, "A", times, frequencies=f, frequency_noise=noise[i], samples=20
        )
        np.testing.assert_allclose(batched["echo"].coherence[i], echo.coherence, atol=1e-12)
        np.testing.assert_allclose(batched["echo"].population[i], echo.population, atol=1e-12)


def test_noise_samples_in_chunks_equal_one_pass(small_atom, monkeypatch) -> None:
    """The sample axis is processed in memory-bounded chunks; the average must not change."""
    from giantatoms import coherence, flux

    transmon = flux.TunableTransmon(6 * GHz, asymmetry=0.2)
    flux_bias = transmon.flux_for_frequency(np.array([5.0, 5.2]) * GHz)
    noise = transmon.frequency_noise(flux_bias, 2e-6)
    frequencies = transmon.frequency(flux_bias)[:, None]
    times = np.linspace(0, 5 * us, 7)
    kwargs = {"frequencies": frequencies, "frequency_noise": noise, "samples": 30}
    whole = echo_experiment(small_atom, 0, times, **kwargs)
    ramsey = ramsey_experiment(small_atom, 0, times, **kwargs)
    monkeypatch.setattr(coherence, "_SAMPLE_CHUNK_ELEMENTS", 1000)
    np.testing.assert_allclose(
        echo_experiment(small_atom, 0, times, **kwargs).coherence, whole.coherence, atol=1e-13
    )
    np.testing.assert_allclose(
        ramsey_experiment(small_atom, 0, times, **kwargs).coherence, ramsey.coherence, atol=1e-13
    )
    assert ramsey.frequency_offsets.shape == (30, 2)


def test_echo_kernel_fallback_matches_the_eigen_path(preset) -> None:
    me = ga.master_equation(preset, None, frequencies=[[4.6 * GHz, 5.5 * GHz], [DF, DF]])
    rng = np.random.default_rng(0)
    psi = rng.normal(size=(2, 3, 9)) + 1j * rng.normal(size=(2, 3, 9))
    psi /= np.linalg.norm(psi, axis=-1, keepdims=True)
    rho = np.einsum("...i,...j->...ij", psi, psi.conj())
    durations = np.array([0.0, 20 * ns, 1 * us])
    eigen = _propagate_each(me, rho, durations)
    expm = _propagate_each(me, rho, durations, max_condition=1.0)
    np.testing.assert_allclose(eigen, expm, atol=1e-10)
    np.testing.assert_allclose(eigen[:, 0], rho[:, 0], atol=1e-12)
    reference = ga.evolve_constant(me, rho[:, 2], durations[1:]).rho[:, 1]
    np.testing.assert_allclose(eigen[:, 2], reference, atol=1e-10)


def test_coherence_times_broadcast(pair) -> None:
    frequencies = np.stack([np.linspace(4.5, 5.5, 5) * GHz, np.full(5, 5.5 * GHz)], axis=-1)
    times = coherence_times(pair, "A", frequencies=frequencies)
    assert times.t1.shape == (5,)
    rates = pair.couplings(frequencies=frequencies).decay_rates[:, 0]
    gamma1, _ = intrinsic_rates(pair.atom("A"))
    np.testing.assert_allclose(times.t1, 1 / (rates + gamma1))
    dephasing = pair.atom("A").dephasing_rate
    np.testing.assert_allclose(times.t2, 1 / (0.5 * (rates + gamma1) + dephasing))


# --------------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Validation of the experiments
# --------------------------------------------------------------------------------------------


def test_experiment_input_validation(pair, small_atom) -> None:
    times = np.linspace(0, 1 * us, 6)
    with pytest.raises(TypeError, match="device must be a Device"):
        t1_experiment("sequential_pair", "A", times)
    with pytest.raises(ValueError, match="unknown atom 'C'"):
        ramsey_experiment(pair, "C", times)
    with pytest.raises(ValueError, match="at least 5 entries"):
        echo_experiment(pair, "A", times[:4])
    with pytest.raises(ValueError, match="strictly increasing"):
        t1_experiment(pair, "A", times[::-1])
    with pytest.raises(ValueError, match=r"frequencies must have shape \(\.\.\., 2\)"):
        t1_experiment(pair, "A", times, frequencies=[5 * GHz])
    with pytest.raises(ValueError, match="frequency_noise must be ≥ 0"):
        ramsey_experiment(pair, "A", times, frequency_noise=-1.0)
    with pytest.raises(ValueError, match="noise_sampling must be one of"):
        ramsey_experiment(pair, "A", times, frequency_noise=MHz, noise_sampling="sobol")
    with pytest.raises(ValueError, match="fit_model must be one of"):
        ramsey_experiment(pair, "A", times, fit_model="lorentzian")
    with pytest.raises(ValueError, match="samples must be ≥ 2"):
        echo_experiment(pair, "A", times, frequency_noise=MHz, samples=1)
    with pytest.raises(ValueError, match=r"use samples ≥ \d+"):
        ramsey_experiment(small_atom, 0, np.linspace(0, 40 * us, 6), frequency_noise=MHz)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        ramsey_experiment(pair, "A", times, frequency_noise=MHz, seed=-3)
    with pytest.raises(ValueError, match="detuning of shape"):
        ramsey_experiment(pair, "A", times, detuning=np.ones(3))
    with pytest.raises(ValueError, match="frequency_noise of shape"):
        ramsey_experiment(pair, "A", times, frequency_noise=np.ones(3) * MHz)
