"""Simulated T1 / Ramsey / echo experiments recover the input times (PHYSICS.md §3, §6)."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.measure.coherence import (
    _propagate_each,
    echo_experiment,
    ramsey_experiment,
    t1_experiment,
)
from giantatoms.units import GHz, MHz, ns, us

from tests.measure.coherence._devices import DF, T_LONG, intrinsic_rates, two_level

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
