"""Poles of the delayed dynamics and trapped states: Lambert W, 1/(1 + γτ)², residues."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.solvers import delay

from tests.solvers.delay._devices import GAMMA, V, braided_pair, two_point_atom


@pytest.mark.parametrize("phase", [0.0, 0.4, np.pi / 2, 2.0, 3.0])
@pytest.mark.parametrize("gamma_tau", [0.02, 0.3, 1.0, 2.5])
def test_two_point_atom_poles_are_lambert_w(gamma_tau, phase):
    found = delay.poles(two_point_atom(gamma_tau, phase))
    tau = gamma_tau / GAMMA
    expected = delay.two_point_pole(GAMMA, tau, phase)
    assert found.converged.all()
    # The slowest pole is the principal branch; where the Lambert-W argument is real and below
    # −1/e (φ = 0, γτe^{γτ} > 1/e) branches 0 and −1 are a conjugate pair, equally slow.
    twin = delay.two_point_pole(GAMMA, tau, phase, branch=-1)
    assert min(abs(found.values[0] - expected), abs(found.values[0] - twin)) < 1e-9 * GAMMA
    assert found.values[0].real == pytest.approx(expected.real, abs=1e-9 * GAMMA)


def test_lambert_w_with_loss_and_the_branch_ladder():
    tau, phase = 0.7 / GAMMA, 1.3
    principal = delay.two_point_pole(GAMMA, tau, phase)
    other = delay.two_point_pole(GAMMA, tau, phase, branch=1)
    # Both solve s + γ + γe^{iφ}e^{−sτ} = 0; the principal branch decays slowest.
    for s in (principal, other):
        assert abs(s + GAMMA + GAMMA * np.exp(1j * phase) * np.exp(-s * tau)) < 1e-6 * GAMMA
    assert principal.real > other.real
    with pytest.raises(ValueError, match="delay"):
        delay.two_point_pole(GAMMA, 0.0, phase)


def test_the_dde_decays_at_the_dominant_pole():
    gamma_tau, phase = 0.6, 2.2
    dev = two_point_atom(gamma_tau, phase)
    s0 = delay.two_point_pole(GAMMA, gamma_tau / GAMMA, phase)
    t = np.linspace(6 / GAMMA, 9 / GAMMA, 2)
    c = delay.single_excitation(dev, "A", t).amplitudes[:, 0]
    rate = np.log(abs(c[1]) / abs(c[0])) / (t[1] - t[0])
    assert rate == pytest.approx(s0.real, rel=2e-3)


@pytest.mark.parametrize("gamma_tau", [0.05, 0.5, 2.0, 5.0])
def test_trapped_population_at_the_decoherence_free_point(gamma_tau):
    trapped = delay.trapped_state(two_point_atom(gamma_tau, np.pi), "A")
    assert trapped.population == pytest.approx(1 / (1 + gamma_tau) ** 2, rel=1e-9)
    assert trapped.markov_population == pytest.approx(1.0)
    assert np.isfinite(trapped.bound_poles).sum() == 1


def test_nothing_is_trapped_away_from_the_decoherence_free_point():
    trapped = delay.trapped_state(two_point_atom(0.5, 2.0), "A")
    assert trapped.population == 0.0 and trapped.markov_population == 0.0


def test_trapped_state_of_two_atoms_is_the_long_time_limit_of_the_dde():
    """Two identical small atoms d = λ apart, bidirectional: the subradiant state is bound."""
    d = 0.3
    w = 2 * np.pi * V / d * 40  # kd = 80π: Ψ⁻ of the two atoms is dark
    dev = ga.Device(ga.Waveguide(V), [ga.Atom("A", w, [0.0], GAMMA), ga.Atom("B", w, [d], GAMMA)])
    trapped = delay.trapped_state(dev, "A")
    t = np.array([0.0, 50 / GAMMA])
    late = delay.single_excitation(dev, "A", t).amplitudes[-1]
    np.testing.assert_allclose(np.abs(late), np.abs(trapped.amplitudes), atol=5e-5)
    gamma_tau = GAMMA * d / V
    # Markovian: half the excitation is trapped; with delays, (1 − T/2)⁻¹ weights it down.
    assert trapped.markov_population == pytest.approx(0.5)
    assert trapped.population == pytest.approx(0.5 / (1 + gamma_tau / 2) ** 2, rel=1e-9)


def test_batched_poles_and_trapped_states():
    dev = braided_pair()
    freqs = 2 * np.pi * (4.6e9 + np.array([[0.0, 0.0], [1e6, -1e6], [3e6, 2e6]]))
    found = delay.poles(dev, freqs)
    assert found.values.shape == (3, 2) and found.converged.all()
    for k in range(3):
        one = delay.poles(dev, freqs[k])
        np.testing.assert_allclose(found.values[k], one.values, atol=1e-6)
    # Slowest first, and close to the first-order corrected poles of the diagnostics.
    assert np.all(np.diff(found.values.real, axis=-1) <= 0)
    diag = delay.diagnostics(dev, frequencies=freqs)
    first = np.abs(diag.corrected_poles - found.values).max()
    markov = np.abs(diag.markov_poles - found.values).max()
    assert first < markov


def test_bad_tolerance_is_refused():
    with pytest.raises(ValueError, match="tol"):
        delay.poles(two_point_atom(0.5, 1.0), tol=0.1)
