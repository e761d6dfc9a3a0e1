"""Spectroscopy: transmission and reflection of giant atoms (PHYSICS.md §3, §6, §7).

Oracles: energy conservation and reciprocity of the linear response, the explicit formula of
§7, closed forms for one (giant or small) atom, the single bright Lorentzian of a perfectly
correlated pair, the single-excitation modes ω̃ ± J − (i/2)(Γ ± Γ_coll), the optical Bloch
equations for the nonlinear response of a small atom, and the weak-drive limit of the
master-equation response.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import giantatoms as ga
from giantatoms.units import GHz, MHz, us

from tests.reference.analytic import (
    V,
    giant_atom_transmission,
    lorentzian_fwhm,
    two_level_scattering,
)
from tests.reference.random_models import random_giant_pair

GAMMA = 2 * MHz  # per-point rate of the presets
CENTRE = 5 * GHz


def lossless(device: ga.Device) -> ga.Device:
    """The same device with every intrinsic loss channel removed."""
    for name in device.atom_names:
        device = device.replace_atom(name, t1=None, t2=None, t_phi=None, n_thermal=0.0)
    return device


def preset(**changes) -> ga.Device:
    """The reconstructed chip with the same changes applied to both atoms."""
    device = ga.presets.load("sequential_pair")
    for name in device.atom_names:
        device = device.replace_atom(name, **changes)
    return device


def correlated_pair() -> tuple[ga.Device, float]:
    """Lossless preset with both atoms at the perfect-correlation frequency ω₀."""
    device = ga.presets.load("sequential_pair")
    w0 = ga.entangling_operating_point(device, 0.0).correlation_frequency
    device = lossless(device).with_frequencies([w0, w0])
    return device, w0


def longest_delay(device: ga.Device) -> float:
    """τ: propagation time across all coupling points of the device, s."""
    points = np.concatenate([np.ravel(a.points) for a in device.atoms])
    return float(np.ptp(points)) / device.waveguide.phase_velocity


def coherence_loss(atom: ga.Atom) -> float:
    """γ_nr(1 + 2n_th) + 2γ_φ: twice the intrinsic coherence decay rate."""
    return float(atom.intrinsic_decay_rate * (1 + 2 * atom.n_thermal) + 2 * atom.dephasing_rate)


def probe_grid(device: ga.Device, half_width: float, n: int = 201) -> np.ndarray:
    """Probe frequencies around the device's atoms, offset so no point hits a pole exactly."""
    centre = float(np.mean(device.frequencies))
    return centre + np.linspace(-half_width, half_width, n) + 0.01234567 * half_width / n


# --------------------------------------------------------------------------------------------
# Random devices: energy conservation, reciprocity, the formula of §7
# --------------------------------------------------------------------------------------------


@st.composite
def random_devices(draw, chiral: bool, lossy: bool):
    """1–4 atoms with 1–3 coupling points each, anywhere along 0.3 m of waveguide."""
    atoms = []
    for j in range(draw(st.integers(1, 4))):
        n_points = draw(st.integers(1, 3))
        points = draw(st.lists(st.floats(0.0, 0.3), min_size=n_points, max_size=n_points))
        rates = draw(st.lists(st.floats(0.2, 4.0), min_size=n_points, max_size=n_points))
        fraction = (
            draw(st.lists(st.floats(0.0, 1.0), min_size=n_points, max_size=n_points))
            if chiral
            else 0.5
        )
        loss = {}
        if lossy:
            loss = {
                "t1": draw(st.floats(0.2, 5.0)) * us,
                "t_phi": draw(st.floats(0.5, 10.0)) * us,
                "n_thermal": draw(st.floats(0.0, 0.2)),
            }
        atoms.append(
            ga.Atom(
                f"Q{j}",
                frequency=CENTRE + draw(st.floats(-30.0, 30.0)) * MHz,
                points=points,
                point_rates=np.array(rates) * MHz,
                right_fraction=fraction,
                **loss,
            )
        )
    return ga.Device(waveguide=ga.Waveguide(V), atoms=atoms)


PROBE = CENTRE + np.linspace(-60.0, 60.0, 241) * MHz + 0.0123 * MHz


@settings(max_examples=60, deadline=None)
@given(random_devices(chiral=True, lossy=False))
def test_lossless_chiral_devices_conserve_energy(device):
    s = ga.scattering(device, PROBE)
    assert s.method == "linear" and s.port == "both" and s.s21.shape == PROBE.shape
    np.testing.assert_allclose(np.abs(s.s21) ** 2 + np.abs(s.s11) ** 2, 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(s.s12) ** 2 + np.abs(s.s22) ** 2, 1.0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(random_devices(chiral=False, lossy=False), st.booleans())
def test_bidirectional_devices_are_reciprocal(device, with_loss):
    if with_loss:
        for name in device.atom_names:
            device = device.replace_atom(name, t1=2 * us, t_phi=5 * us, n_thermal=0.05)
    s = ga.scattering(device, PROBE)
    np.testing.assert_allclose(s.s21, s.s12, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(random_devices(chiral=True, lossy=True))
def test_absorption_equals_intrinsic_loss_of_the_driven_atoms(device):
    """1 − |t|² − |r|² = Σ_j loss_j |x_j|², x = (H_eff − ω)⁻¹ w (optical theorem).

    H_eff is assembled here from :func:`Device.couplings` at the probe frequency and solved
    with LAPACK, independently of the module's closed-form 2 × 2 solve.
    """
    n = device.n_atoms
    c = device.couplings(frequencies=PROBE[:, None] * np.ones(n))
    loss = np.array([coherence_loss(a) for a in device.atoms])
    h = c.exchange - 0.5j * c.decay_matrix
    idx = np.arange(n)
    h[:, idx, idx] += device.frequencies + c.lamb_shift - PROBE[:, None] - 0.5j * loss
    s = ga.scattering(device, PROBE)
    absorbed = []
    for w_in, t, r in (
        (c.form_factors_right, s.s21, s.s11),
        (c.form_factors_left, s.s12, s.s22),
    ):
        x = np.linalg.solve(h, w_in[..., None])[..., 0]
        expected = np.sum(loss * np.abs(x) ** 2, axis=-1)
        np.testing.assert_allclose(1 - np.abs(t) ** 2 - np.abs(r) ** 2, expected, atol=1e-9)
        absorbed.append(expected)
    # Some light is lost, none is created.
    assert np.all(np.array(absorbed) >= 0)
    assert np.max(absorbed) > 1e-4


def physics_section_7(device: ga.Device, probe: np.ndarray):
    """t and r of PHYSICS.md §7, written out for a bidirectional waveguide.

    G_jk = Σ √(γγ′) e^{ik|x − x′|}, u_j = Σ √γ e^{ikx}, H_eff = diag(ω_j) − (i/2)G − (i/2)L,
    t = 1 + (i/2) u†(H_eff − ω)⁻¹u, r = (i/2) uᵀ(H_eff − ω)⁻¹u, all at the probe frequency.
    """
    n = device.n_atoms
    loss = np.array([coherence_loss(a) for a in device.atoms])
    t, r = [], []
    for w in probe:
        k = w / device.waveguide.phase_velocity
        g = np.zeros((n, n), dtype=complex)
        u = np.zeros(n, dtype=complex)
        for j, aj in enumerate(device.atoms):
            for x, rate in zip(aj.points, aj.rates_per_point, strict=True):
                u[j] += np.sqrt(rate) * np.exp(1j * k * x)
                for m, am in enumerate(device.atoms):
                    for y, rate2 in zip(am.points, am.rates_per_point, strict=True):
                        g[j, m] += np.sqrt(rate * rate2) * np.exp(1j * k * abs(x - y))
        h = np.diag(device.frequencies - w - 0.5j * loss) - 0.5j * g
        x = np.linalg.solve(h, u)
        t.append(1 + 0.5j * np.conj(u) @ x)
        r.append(0.5j * u @ x)
    return np.array(t), np.array(r)


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_formula_of_physics_section_7(seed):
    rng = np.random.default_rng(seed)
    atoms = [
        ga.Atom(
            f"Q{j}",
            frequency=CENTRE + rng.uniform(-20, 20) * MHz,
            points=rng.uniform(0, 0.3, size=rng.integers(1, 4)),
            point_rates=rng.uniform(0.5, 3) * MHz,
            t1=rng.uniform(1, 10) * us,
            t_phi=rng.uniform(1, 10) * us,
            n_thermal=rng.uniform(0, 0.1),
        )
        for j in range(1 + seed % 4)
    ]
    device = ga.Device(waveguide=ga.Waveguide(V), atoms=atoms)
    probe = PROBE[::8]
    t, r = physics_section_7(device, probe)
    s = ga.scattering(device, probe)
    np.testing.assert_allclose(s.s21, t, atol=1e-12)
    np.testing.assert_allclose(s.s11, r, atol=1e-12)


def test_cascaded_atoms_do_not_reflect():
    atoms = [
        ga.Atom("A", frequency=CENTRE, points=[0.0, 0.07], point_rates=GAMMA, right_fraction=1),
        ga.Atom(
            "B", frequency=CENTRE + 3 * MHz, points=[0.03], point_rates=GAMMA, right_fraction=1
        ),
    ]
    s = ga.scattering(ga.Device(waveguide=ga.Waveguide(V), atoms=atoms), PROBE)
    np.testing.assert_allclose(s.s11, 0, atol=1e-14)
    np.testing.assert_allclose(s.s22, 0, atol=1e-14)
    np.testing.assert_allclose(np.abs(s.s21), 1, atol=1e-12)  # an all-pass filter
    np.testing.assert_allclose(s.s12, 1, atol=1e-14)  # light from the right never couples
    assert np.ptp(np.unwrap(np.angle(s.s21))) > np.pi  # but the phase winds through resonances


# --------------------------------------------------------------------------------------------
# One atom: closed forms
# --------------------------------------------------------------------------------------------


def giant_atom(frequency: float, **loss) -> ga.Device:
    """Atom A of the preset alone: two points 84 mm apart, 2 MHz each (DF point 5.000 GHz)."""
    atom = ga.Atom("A", frequency=frequency, points=[0.0, 0.084], point_rates=GAMMA, **loss)
    return ga.Device(waveguide=ga.Waveguide(V), atoms=[atom])


@pytest.mark.parametrize("frequency_ghz", [4.3, 4.6, 4.95, 5.6])
@pytest.mark.parametrize(
    "loss", [{}, {"t1": 2 * us, "t_phi": 3 * us, "n_thermal": 0.1}], ids=["lossless", "lossy"]
)
def test_one_giant_atom_closed_form(frequency_ghz, loss):
    device = giant_atom(frequency_ghz * GHz, **loss)
    atom = device.atoms[0]
    probe = probe_grid(device, 25 * MHz)
    c = device.couplings(frequency=probe)  # Γ(ω), δω(ω) at the probe frequency
    gamma, lamb, u = c.decay_rates[:, 0], c.lamb_shift[:, 0], c.form_factors[:, 0]
    expected = giant_atom_transmission(gamma, lamb, atom.frequency, probe, coherence_loss(atom))
    s = ga.scattering(device, probe)
    np.testing.assert_allclose(s.s21, expected, atol=1e-12)
    np.testing.assert_allclose(s.s12, expected, atol=1e-12)
    # r = −(u²/2)/(Γ₂ − iΔ): |r| = (Γ/2)/|Γ₂ − iΔ|, with the phase of the two points.
    np.testing.assert_allclose(s.s11, (expected - 1) * u**2 / np.abs(u) ** 2, atol=1e-12)
    np.testing.assert_allclose(np.abs(s.s22), np.abs(s.s11), atol=1e-12)


@pytest.mark.parametrize("frequency_ghz", [4.3, 4.6, 5.6])
def test_lossless_giant_atom_extinguishes_transmission_on_its_shifted_resonance(frequency_ghz):
    device = giant_atom(frequency_ghz * GHz)
    omega = device.frequencies[0]

    def detuning(w: float) -> float:  # ω − (ω_a + δω(ω))
        return w - omega - float(device.couplings(frequency=w).lamb_shift[0])

    resonance = brentq(detuning, omega - 20 * MHz, omega + 20 * MHz, xtol=1e-6, rtol=1e-15)
    s = ga.scattering(device, [resonance])
    assert abs(s.s21[0]) < 1e-8
    assert abs(s.s11[0]) == pytest.approx(1, abs=1e-8)
    # At the bare frequency the probe misses by the Lamb shift: |t| = |δω|/|Γ/2 − iδω|.
    c = device.couplings()
    gamma, lamb = c.decay_rates[0], c.lamb_shift[0]
    bare = abs(ga.scattering(device, [omega]).s21[0])
    assert bare == pytest.approx(abs(lamb) / abs(gamma / 2 - 1j * lamb), rel=0.05)
    if abs(lamb) > gamma / 4:  # φ away from 2mπ (4.6, 5.6 GHz): no extinction at all
        assert bare > 0.2


def test_small_atom_reflection_linewidth_is_twice_gamma_2():
    gamma_nr, n_th, gamma_phi = 0.3 * MHz, 0.2, 0.25 * MHz
    atom = ga.Atom(
        "Q",
        frequency=CENTRE,
        points=[0.0],
        point_rates=GAMMA,
        t1=1 / gamma_nr,
        t_phi=1 / gamma_phi,
        n_thermal=n_th,
    )
    device = ga.Device(waveguide=ga.Waveguide(V), atoms=[atom])
    probe = probe_grid(device, 30 * MHz, 60001)
    s = ga.scattering(device, probe)
    # Linear response: the atom stays in |g⟩ and the thermal rate only widens the line, so
    # the Bloch solution with all of Γ₂ − Γ/2 as dephasing is the reference.
    gamma_2 = (GAMMA + gamma_nr * (1 + 2 * n_th)) / 2 + gamma_phi
    t, r = two_level_scattering(GAMMA, probe - CENTRE, dephasing=gamma_2 - GAMMA / 2)
    np.testing.assert_allclose(s.s21, t, atol=1e-12)
    np.testing.assert_allclose(s.s11, r, atol=1e-12)
    assert lorentzian_fwhm(probe, np.abs(s.s11) ** 2) == pytest.approx(2 * gamma_2, rel=1e-4)


# --------------------------------------------------------------------------------------------
# Two perfectly correlated atoms: one bright Lorentzian, twice as wide
# --------------------------------------------------------------------------------------------


def test_correlated_pair_shows_one_bright_lorentzian_twice_as_wide():
    device, w0 = correlated_pair()
    c = device.couplings()
    gamma = c.decay_rates[0]
    assert c.correlation[0, 1] == pytest.approx(1, abs=1e-12)
    assert abs(c.exchange[0, 1]) < 1e-6 * gamma
    dressed = w0 + c.lamb_shift[0]
    probe = dressed + np.linspace(-10, 10, 40001) * gamma + 1e-4 * gamma * np.pi

    # Exact Markovian statement: Γ(ω₀) is rank one, Γ = Γ_b|B⟩⟨B| with Γ_b = 2Γ, and the
    # emitted field w^L(ω₀) lies along |B⟩, so only the bright pole appears:
    # r(ω) = i (w^L(ω₀)†B)(B†w^R(ω)) / (ω̃ − ω − iΓ_b/2). Compared in modulus: the phase of r
    # depends on where the reference planes are.
    values, vectors = np.linalg.eigh(c.decay_matrix)
    gamma_b, bright = values[-1], vectors[:, -1]
    assert gamma_b == pytest.approx(2 * gamma, rel=1e-12)
    w_in = device.couplings(frequency=probe).form_factors_right
    numerator = 1j * (np.conj(c.form_factors_left) @ bright) * (w_in @ np.conj(bright))
    expected = numerator / (dressed - probe - 0.5j * gamma_b)
    s = ga.scattering(device, probe, couplings_at="atoms")
    np.testing.assert_allclose(np.abs(s.s11), np.abs(expected), atol=1e-6)
    fwhm_pair = lorentzian_fwhm(probe, np.abs(s.s11) ** 2)
    assert fwhm_pair == pytest.approx(2 * gamma, rel=1e-3)

    # One atom alone: width Γ (= 2Γ₂, lossless).
    single = ga.Device(waveguide=device.waveguide, atoms=device.atoms[:1])
    fwhm_single = lorentzian_fwhm(
        probe, np.abs(ga.scattering(single, probe, couplings_at="atoms").s11) ** 2
    )
    assert fwhm_single == pytest.approx(gamma, rel=1e-3)
    assert fwhm_pair / fwhm_single == pytest.approx(2, rel=2e-3)

    # Couplings at the probe frequency (PHYSICS.md §7, exact for linear scattering): the same
    # bright Lorentzian up to O(Γτ), except for a narrow Fano resonance of the quasi-dark mode.
    # Away from ω₀ the decay is no longer perfectly correlated, so the dark mode, sitting at
    # ω̃ = ω₀ + δω rather than at ω₀, has a small width there and shows up in |r|.
    gamma_tau = gamma * longest_delay(device)
    dark = ga.single_excitation_modes(device, evaluation_frequency=dressed)
    w_dark, kappa_dark = dark.frequencies[1], dark.linewidths[1]
    assert 0 < kappa_dark < gamma_tau**2 * gamma
    s_probe = ga.scattering(device, probe)
    outside = np.abs(probe - w_dark) > 0.01 * gamma
    difference = np.max(np.abs(s_probe.s11 - s.s11)[outside])
    assert 0.05 * gamma_tau < difference < gamma_tau
    fine = w_dark + np.linspace(-20, 20, 4001) * kappa_dark
    assert np.min(np.abs(ga.scattering(device, fine).s11)) < 0.5  # the Fano dip of |r|
    assert np.min(np.abs(ga.scattering(device, fine, couplings_at="atoms").s11)) > 0.99
    assert lorentzian_fwhm(probe, np.abs(s_probe.s11) ** 2) == pytest.approx(
        2 * gamma, rel=gamma_tau
    )


def test_probe_and_atom_couplings_differ_by_order_gamma_tau():
    device, _ = correlated_pair()
    differences = []
    for scale in (1.0, 0.5, 0.25):
        scaled = device
        for name in device.atom_names:
            scaled = scaled.replace_atom(name, point_rates=scale * GAMMA)
        c = scaled.couplings()
        gamma = c.decay_rates[0]
        probe = scaled.frequencies[0] + c.lamb_shift[0] + np.linspace(-6, 6, 601) * gamma
        a = ga.scattering(scaled, probe, couplings_at="atoms")
        p = ga.scattering(scaled, probe, couplings_at="probe")
        differences.append(np.max(np.abs(a.s21 - p.s21)))
        assert differences[-1] < gamma * longest_delay(scaled)
    # O(Γτ): halving every rate halves the difference.
    assert differences[1] / differences[0] == pytest.approx(0.5, rel=0.15)
    assert differences[2] / differences[1] == pytest.approx(0.5, rel=0.1)

    # A single small atom at the origin has no delay at all: the two agree exactly.
    atom = ga.Atom("Q", frequency=CENTRE, points=[0.0], point_rates=GAMMA)
    small = ga.Device(waveguide=ga.Waveguide(V), atoms=[atom])
    a = ga.scattering(small, PROBE, couplings_at="atoms")
    p = ga.scattering(small, PROBE)
    for name in ("s21", "s11", "s12", "s22"):
        np.testing.assert_allclose(getattr(a, name), getattr(p, name), atol=1e-14)


# --------------------------------------------------------------------------------------------
# Single-excitation modes
# --------------------------------------------------------------------------------------------


def test_modes_of_identical_atoms():
    device = preset()  # with intrinsic T1, T2 and thermal population
    frequencies = np.linspace(4.3, 5.7, 57) * GHz
    c = device.couplings(frequency=frequencies)
    gamma, lamb = c.decay_rates[:, 0], c.lamb_shift[:, 0]
    g_coll, j = np.real(c.decay_matrix[:, 0, 1]), np.real(c.exchange[:, 0, 1])
    keep = np.abs(g_coll) > 1e-6 * GAMMA  # the order of the modes is ambiguous otherwise
    loss = coherence_loss(device.atoms[0])

    modes = ga.single_excitation_modes(device, frequencies=frequencies[:, None] * np.ones(2))
    assert modes.frequencies.shape == (57, 2) and modes.vectors.shape == (57, 2, 2)
    sign = np.sign(g_coll)  # the bright mode first: (1, ±1)/√2 with Γ + |Γ_coll|
    for m, s in enumerate((sign, -sign)):
        value = frequencies + lamb + s * (j - 0.5j * g_coll) - 0.5j * (gamma + loss)
        np.testing.assert_allclose(modes.frequencies[keep, m], value.real[keep], atol=1e-6)
        np.testing.assert_allclose(modes.linewidths[keep, m], -2 * value.imag[keep], atol=1e-6)
        radiative = gamma + s * g_coll
        np.testing.assert_allclose(modes.radiative_linewidths[keep, m], radiative[keep], atol=1e-6)
        np.testing.assert_allclose(
            modes.brightness[keep, m], radiative[keep] / (2 * gamma[keep]), atol=1e-9
        )
        overlap = np.abs(modes.vectors[keep, 0, m] * np.conj(modes.vectors[keep, 1, m]))
        np.testing.assert_allclose(overlap, 0.5, atol=1e-9)
    np.testing.assert_allclose(modes.point_rate, GAMMA)
    np.testing.assert_allclose(
        modes.broadening, modes.radiative_linewidths[:, 0] / GAMMA, rtol=1e-12
    )


def test_modes_at_perfect_correlation():
    device = preset()
    w0 = ga.entangling_operating_point(device, 0.0).correlation_frequency
    modes = ga.single_excitation_modes(device, frequencies=[w0, w0])
    gamma = device.couplings(frequency=w0).decay_rates[0]
    np.testing.assert_allclose(modes.brightness, [1, 0], atol=1e-9)
    assert modes.radiative_linewidths[0] == pytest.approx(2 * gamma, rel=1e-9)
    # The dark mode keeps only the intrinsic losses.
    assert modes.linewidths[1] == pytest.approx(coherence_loss(device.atoms[0]), rel=1e-6)
    assert modes.broadening == pytest.approx(2 * gamma / GAMMA, rel=1e-9)  # 4.71 at 4.602 GHz
    assert "Modes(" in repr(modes)

    # evaluation_frequency is where G is taken, independent of the atom frequencies.
    moved = ga.single_excitation_modes(
        device, frequencies=[w0 + 30 * MHz, w0 + 30 * MHz], evaluation_frequency=w0
    )
    np.testing.assert_allclose(moved.radiative_linewidths, modes.radiative_linewidths, atol=1e-6)
    np.testing.assert_allclose(moved.frequencies, modes.frequencies + 30 * MHz, atol=1e-6)


def test_bright_mode_broadening_reaches_eight_gamma():
    """The abstract's "8×": 2Γ = 8γ for two in-phase (Γ = 4γ) perfectly correlated atoms.

    The preset is not exactly in phase where kD = nπ; the maximum over the band (as in
    ``experiment.py``) is 7.97 at 5.74 GHz, between φ = 8π (5.714 GHz) and kD = 10π.
    """
    device = preset()
    w0 = ga.entangling_operating_point(device, 0.0).correlation_frequency
    band = np.linspace(0.8 * w0, 1.25 * w0, 4001)
    modes = ga.single_excitation_modes(device, frequencies=band[:, None] * np.ones(2))
    bright = np.linalg.eigvalsh(device.couplings(frequency=band).decay_matrix)[:, -1]
    np.testing.assert_allclose(modes.broadening, bright / GAMMA, rtol=1e-9, atol=1e-9)
    best = int(np.argmax(modes.broadening))
    assert modes.broadening[best] == pytest.approx(7.97, abs=0.01)
    assert np.all(modes.broadening <= 8 + 1e-9)  # Γ_b ≤ Γ_A + Γ_B ≤ 8γ
    assert band[best] / GHz == pytest.approx(5.74, abs=0.01)
    rates = device.couplings(frequency=band[best]).decay_rates
    np.testing.assert_allclose(rates / GAMMA, 4, atol=0.02)  # nearly in phase: Γ ≈ 4γ


# --------------------------------------------------------------------------------------------
# Nonlinear (steady-state) response
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["left", "right"])
def test_weak_drive_response_is_the_linear_response(port):
    device = preset(n_thermal=0.0)  # three levels, intrinsic T1 and T2
    c = device.couplings()
    probe = device.frequencies[0] + c.lamb_shift[0] + np.linspace(-20, 20, 41) * MHz
    linear = ga.scattering(device, probe, couplings_at="atoms")
    weak = ga.scattering(device, probe, power_dbm=-190, port=port)
    assert weak.method == "steady-state" and weak.port == port
    assert weak.t.shape == probe.shape
    t, r = (linear.s21, linear.s11) if port == "left" else (linear.s12, linear.s22)
    np.testing.assert_allclose(weak.t, t, atol=1e-5)
    np.testing.assert_allclose(weak.r, r, atol=1e-5)
    other = (weak.s12, weak.s22) if port == "left" else (weak.s21, weak.s11)
    assert np.all(np.isnan(other))
    assert np.min(np.abs(weak.t)) < 0.05  # the probe does see the resonance


@pytest.mark.parametrize("seed", range(4))
def test_weak_drive_response_of_random_pairs(seed):
    device = random_giant_pair(np.random.default_rng(seed), levels=2 + seed % 2)
    for name in device.atom_names:
        device = device.replace_atom(name, n_thermal=0.0)
    probe = float(np.mean(device.frequencies)) + np.linspace(-25, 25, 21) * MHz
    linear = ga.scattering(device, probe, couplings_at="atoms")
    for port, t in (("left", linear.s21), ("right", linear.s12)):
        weak = ga.scattering(device, probe, power_dbm=-200, port=port)
        np.testing.assert_allclose(weak.t, t, atol=1e-5)


def test_small_atom_nonlinear_response_follows_the_optical_bloch_equations():
    gamma_nr, n_th, gamma_phi = 0.7 * MHz, 0.3, 0.4 * MHz
    atom = ga.Atom(
        "Q",
        frequency=CENTRE,
        points=[0.0],
        point_rates=GAMMA,
        t1=1 / gamma_nr,
        t_phi=1 / gamma_phi,
        n_thermal=n_th,
    )
    device = ga.Device(waveguide=ga.Waveguide(V), atoms=[atom])
    probe = CENTRE + np.linspace(-6, 6, 13) * MHz
    powers = np.array([-190.0, -150.0, -135.0, -125.0, -110.0])
    s = ga.scattering(device, probe, power_dbm=powers)  # the probe axis is appended
    assert s.t.shape == (5, 13)
    alpha = ga.Drive(frequency=probe, power_dbm=powers[:, None]).amplitude
    t, r = two_level_scattering(
        GAMMA,
        probe - CENTRE,
        intrinsic_decay=gamma_nr,
        thermal_occupation=n_th,
        dephasing=gamma_phi,
        drive_amplitude=alpha,
    )
    np.testing.assert_allclose(s.t, t, atol=1e-10)
    np.testing.assert_allclose(s.r, r, atol=1e-10)
    # Thermal excitation lowers the weak-probe contrast by 1 − 2p_e (not in linear response).
    excited = gamma_nr * n_th / (GAMMA + gamma_nr * (1 + 2 * n_th))
    linear = ga.scattering(device, probe)
    np.testing.assert_allclose(1 - s.t[0], (1 - 2 * excited) * (1 - linear.s21), atol=1e-5)
    # Saturation: strong probes pass.
    assert np.all(np.abs(1 - s.t[-1]) < 0.02)


def test_thermal_population_lowers_the_contrast_of_the_pair():
    contrast = {}
    for n_th in (0.0, 0.05, 0.1):
        device = preset(n_thermal=n_th)
        c = device.couplings()
        probe = device.frequencies[0] + c.lamb_shift[0] + np.linspace(-3, 3, 31) * MHz
        s = ga.scattering(device, probe, power_dbm=-180)
        contrast[n_th] = 1 - np.min(np.abs(s.t))
        # The linear response keeps the atoms in |g⟩: its contrast hardly moves.
        linear = ga.scattering(device, probe)
        assert 1 - np.min(np.abs(linear.s21)) > 0.99
    assert contrast[0.0] > 0.95
    for n_th in (0.05, 0.1):
        # At most the whole pair at the bath's population p ≤ n/(1 + 2n): factor ≥ 1 − 2p.
        ratio = contrast[n_th] / contrast[0.0]
        assert 1 - 2 * n_th / (1 + 2 * n_th) < ratio < 0.995
    assert contrast[0.1] < contrast[0.05]


def test_strong_drive_saturates_the_pair():
    device = preset(n_thermal=0.0)
    c = device.couplings()
    resonance = device.frequencies[0] + c.lamb_shift[0]
    powers = np.array([-150.0, -130.0, -100.0, -80.0])
    s = ga.scattering(device, [resonance], power_dbm=powers[:, None])
    residual = np.abs(1 - s.t[:, 0])
    assert residual[0] > 0.9  # weak: extinction
    assert np.all(np.diff(residual) < 0)
    assert residual[-1] < 1e-3  # strong: the atoms are transparent
    # The steady state's own power balance: reflected power falls with saturation too.
    assert np.all(np.diff(np.abs(s.r[:, 0])) < 0)


def test_drive_object_port_and_phase():
    device = preset(n_thermal=0.0)
    probe = device.frequencies[0] + np.linspace(-5, 5, 5) * MHz
    shorthand = ga.scattering(device, probe, power_dbm=-150, port="right")
    tone = ga.Drive(frequency=1 * GHz, power_dbm=-150, port="right", phase=1.3)
    explicit = ga.scattering(device, probe, tone)  # frequency replaced, phase irrelevant
    np.testing.assert_allclose(explicit.t, shorthand.t, atol=1e-12)
    np.testing.assert_allclose(explicit.r, shorthand.r, atol=1e-12)
    np.testing.assert_array_equal(explicit.s12, explicit.t)
    assert explicit.port == "right" and float(explicit.power_dbm) == -150.0
    assert "GHz" in repr(explicit) and "steady-state" in repr(explicit)


# --------------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------------


def chain(n_atoms: int) -> ga.Device:
    """n two-point giant atoms in a row (n = 1, 2, 3 exercise every solver branch)."""
    atoms = [
        ga.Atom(
            f"Q{j}",
            frequency=4.6 * GHz,
            points=[0.11 * j, 0.11 * j + 0.084],
            point_rates=GAMMA,
            right_fraction=[0.5, 0.7],
            t1=20 * us,
            t_phi=40 * us,
        )
        for j in range(n_atoms)
    ]
    return ga.Device(waveguide=ga.Waveguide(V), atoms=atoms)


@pytest.mark.parametrize("n_atoms", [1, 2, 3])
@pytest.mark.parametrize("couplings_at", ["probe", "atoms"])
def test_flux_map_equals_a_loop(n_atoms, couplings_at):
    device = chain(n_atoms)
    flux = np.linspace(0, 1, 7)
    frequencies = (4.5 + 0.2 * np.stack([np.cos(flux + j) ** 2 for j in range(n_atoms)], -1)) * GHz
    probe = np.linspace(4.45, 4.75, 33) * GHz
    s = ga.scattering(device, probe, frequencies=frequencies, couplings_at=couplings_at)
    assert s.s21.shape == (7, 33)
    for f in range(7):
        row = ga.scattering(
            device.with_frequencies(frequencies[f]), probe, couplings_at=couplings_at
        )
        for name in ("s21", "s11", "s12", "s22"):
            np.testing.assert_allclose(getattr(s, name)[f], getattr(row, name), atol=1e-12)


def test_device_array_parameters_batch_in_linear_response():
    device = chain(2)
    rates = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 0.5]]) * MHz
    t1 = np.array([5.0, 20.0, 80.0]) * us
    batched = device.replace_atom("Q0", point_rates=rates).replace_atom("Q1", t1=t1)
    probe = np.linspace(4.55, 4.65, 21) * GHz
    s = ga.scattering(batched, probe)
    assert s.s21.shape == (3, 21)
    for i in range(3):
        one = device.replace_atom("Q0", point_rates=rates[i]).replace_atom("Q1", t1=t1[i])
        np.testing.assert_allclose(s.s21[i], ga.scattering(one, probe).s21, atol=1e-12)
    # Frequencies (F, 1, n) against the device batch (3,): (F, 3, P).
    frequencies = np.array([[4.58, 4.6], [4.6, 4.62]])[:, None, :] * GHz
    grid = ga.scattering(batched, probe, frequencies=frequencies)
    assert grid.s21.shape == (2, 3, 21)
    one = device.replace_atom("Q0", point_rates=rates[2]).replace_atom("Q1", t1=t1[2])
    expected = ga.scattering(one, probe, frequencies=frequencies[1, 0]).s11
    np.testing.assert_allclose(grid.s11[1, 2], expected, atol=1e-12)


def test_nonlinear_response_batches_power_and_frequencies():
    device = preset(n_thermal=0.0, levels=2)
    probe = np.linspace(4.59, 4.615, 6) * GHz
    frequencies = np.array([[4.6, 4.6], [4.598, 4.604], [4.61, 4.59]]) * GHz
    powers = np.array([-150.0, -125.0])
    s = ga.scattering(device, probe, power_dbm=powers[:, None], frequencies=frequencies)
    assert s.t.shape == (2, 3, 6)
    for p, power in enumerate(powers):
        for f in range(3):
            one = ga.scattering(device.with_frequencies(frequencies[f]), probe, power_dbm=power)
            np.testing.assert_allclose(s.t[p, f], one.t, atol=1e-10)
            np.testing.assert_allclose(s.r[p, f], one.r, atol=1e-10)


def test_nonlinear_response_batches_device_array_parameters():
    """Array parameters of the device are batch axes, the probe axis comes last (as linear).

    Fails: ``_nonlinear`` appends the probe axis to the atom frequencies and the drive only,
    so a device batch of R points meets P probes as (R,) against (P,): a broadcasting error
    for R ≠ P and, silently, the diagonal (point i with probe i) for R = P.
    """
    device = preset(n_thermal=0.0, levels=2)
    rates = np.array([1.0, 2.0, 3.0])[:, None] * MHz
    batched = device.replace_atom("A", point_rates=rates)
    probe = np.linspace(4.59, 4.615, 4) * GHz
    s = ga.scattering(batched, probe, power_dbm=-150)
    assert s.t.shape == (3, 4)
    for i in range(3):
        one = ga.scattering(device.replace_atom("A", point_rates=rates[i]), probe, power_dbm=-150)
        np.testing.assert_allclose(s.t[i], one.t, atol=1e-10)


# --------------------------------------------------------------------------------------------
# Where the response must not depend on the arbitrary origin of coordinates
# --------------------------------------------------------------------------------------------


def shifted(device: ga.Device, distance: float) -> ga.Device:
    """The same chip with every coupling point moved by ``distance`` (m)."""
    for atom in device.atoms:
        device = device.replace_atom(atom.name, points=np.asarray(atom.points) + distance)
    return device


@pytest.mark.parametrize("response", ["probe", "atoms", "steady-state"])
def test_response_does_not_depend_on_the_origin_of_coordinates(response):
    """Moving the whole chip by X leaves t unchanged and multiplies r by e^{2ik_pX}.

    Holds for couplings at the probe frequency. Fails for ``couplings_at="atoms"`` and for the
    steady-state response: the emitted field is taken as Σ conj(w^R_t(ω_t)) σ_t with each
    transition's form factor (absolute positions) at the *atom* frequency ω_t while the atoms
    are driven with w^R(ω_p), so t picks up e^{i(k_p − k_t)X}: the Markov replacement
    k_p → k_t is applied to the distance from the arbitrary origin, not only to propagation
    across the chip. The coherent field radiated in the steady state oscillates at ω_p, so the
    chip's offset from the reference planes must carry k_p. For the preset moved by 1 m the
    error is 0.25 in |Δt| (the docstring promises O(Γτ) ≈ 0.05, τ across the atoms).
    """
    device = preset(n_thermal=0.0, levels=2)
    moved = shifted(device, 1.0)
    c = device.couplings()
    probe = device.frequencies[0] + c.lamb_shift[0] + np.array([-20, -5, 0, 5, 20]) * MHz
    if response == "steady-state":
        here = ga.scattering(device, probe, power_dbm=-170)
        there = ga.scattering(moved, probe, power_dbm=-170)
    else:
        here = ga.scattering(device, probe, couplings_at=response)
        there = ga.scattering(moved, probe, couplings_at=response)
    k = probe / device.waveguide.phase_velocity
    np.testing.assert_allclose(there.t, here.t, atol=1e-6)
    np.testing.assert_allclose(there.r, here.r * np.exp(2j * k * 1.0), atol=1e-6)
    if response != "steady-state":  # and from the right port: r′ → r′e^{−2ik_pX}
        np.testing.assert_allclose(there.s12, here.s12, atol=1e-6)
        np.testing.assert_allclose(there.s22, here.s22 * np.exp(-2j * k * 1.0), atol=1e-6)


@pytest.mark.parametrize("couplings_at", ["probe", "atoms"])
def test_lossless_small_atom_anywhere_conserves_energy(couplings_at):
    """A small atom has no internal delay: its response is exact at any position.

    Fails for ``"atoms"`` (same cause as above): one lossless two-level atom at x = 0.5 m
    gives |t|² + |r|² = 1.01 off resonance — more light out than in.
    """
    atom = ga.Atom("Q", frequency=CENTRE, points=[0.5], point_rates=GAMMA)
    device = ga.Device(waveguide=ga.Waveguide(V), atoms=[atom])
    s = ga.scattering(device, PROBE[::10], couplings_at=couplings_at)
    t, _ = two_level_scattering(GAMMA, PROBE[::10] - CENTRE)
    np.testing.assert_allclose(s.s21, t, atol=1e-12)
    np.testing.assert_allclose(np.abs(s.s21) ** 2 + np.abs(s.s11) ** 2, 1, atol=1e-12)


@pytest.mark.parametrize("n_atoms", [2, 3])
def test_exactly_dark_mode_at_the_probe_frequency(n_atoms):
    """Identical lossless small atoms at one point: a dark mode of zero width at ω_a.

    The dark mode is decoupled from both channels, so the response is finite there: the
    bright mode alone, t = 0, r = −1 on resonance. Fails: (H_eff − ω) is singular at the
    probe ω = ω_a; the 2 × 2 closed form returns NaN (with divide-by-zero warnings) and the
    LAPACK path (n ≥ 3) raises ``LinAlgError``.
    """
    atoms = [
        ga.Atom(f"Q{j}", frequency=CENTRE, points=[0.0], point_rates=GAMMA) for j in range(n_atoms)
    ]
    device = ga.Device(waveguide=ga.Waveguide(V), atoms=atoms)
    s = ga.scattering(device, [CENTRE, CENTRE + 1 * MHz])
    gamma_b = n_atoms * GAMMA
    t, r = two_level_scattering(gamma_b, np.array([0.0, 1 * MHz]))
    np.testing.assert_allclose(s.s21, t, atol=1e-12)
    np.testing.assert_allclose(s.s11, r, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"probe_frequencies": [[4.6e9, 4.7e9]]}, ValueError, "1-D"),
        ({"probe_frequencies": []}, ValueError, "non-empty"),
        ({"probe_frequencies": 4.6 * GHz}, ValueError, "1-D"),
        ({"probe_frequencies": [4.6 * GHz, -1.0]}, ValueError, "probe_frequencies"),
        ({"probe_frequencies": [4.6 * GHz, 0.0]}, ValueError, "probe_frequencies"),
        ({"probe_frequencies": [np.nan]}, ValueError, "NaN"),
        ({"probe_frequencies": [1j]}, TypeError, "real"),
        ({"frequencies": [4.6 * GHz] * 3}, ValueError, "one per atom"),
        ({"frequencies": np.ones((4, 3)) * GHz}, ValueError, "one per atom"),
        ({"frequencies": [4.6 * GHz, -1.0]}, ValueError, "> 0"),
        ({"couplings_at": "middle"}, ValueError, "couplings_at"),
        ({"power_dbm": -150, "port": "up"}, ValueError, "port"),
        ({"power_dbm": -np.inf}, ValueError, "finite"),
        ({"power_dbm": -150, "drive": ga.Drive(frequency=1.0)}, ValueError, "not both"),
        ({"drive": "loud"}, TypeError, "Drive"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, error, match):
    arguments = {"probe_frequencies": [4.6 * GHz]} | kwargs
    probe = arguments.pop("probe_frequencies")
    with pytest.raises(error, match=match):
        ga.scattering(preset(levels=2), probe, **arguments)


def test_bad_device_and_evaluation_frequency():
    with pytest.raises(TypeError, match="Device"):
        ga.scattering("chip", [4.6 * GHz])
    with pytest.raises(ValueError, match="one per atom"):
        ga.single_excitation_modes(preset(), frequencies=[4.6 * GHz])
    with pytest.raises(ValueError, match="evaluation_frequency"):
        ga.single_excitation_modes(preset(), evaluation_frequency=-1.0)
