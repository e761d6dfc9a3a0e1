import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import giantatoms as ga
from giantatoms.model.couplings import EmitterGeometry, coupling_matrix
from giantatoms.units import GHz, MHz

from tests.reference.analytic import V, closed_form, two_point_pair

GAMMA = 2 * MHz
SPACING = 0.02  # m


@pytest.mark.parametrize("configuration", ["separate", "braided", "nested"])
def test_closed_forms_of_two_point_pairs(configuration):
    # φ from 0 to 2π in steps that include the special points π/2 and π.
    phi = np.linspace(0.0, 2 * np.pi, 49)[1:]
    frequency = phi * V / SPACING
    device = two_point_pair(configuration, SPACING, GAMMA, frequency[0])
    c = device.couplings(frequency=frequency)
    expected = closed_form(configuration, phi, GAMMA)
    scale = GAMMA * 1e-12
    np.testing.assert_allclose(c.lamb_shift[:, 0], expected["lamb_A"], atol=scale)
    np.testing.assert_allclose(c.lamb_shift[:, 1], expected["lamb_B"], atol=scale)
    np.testing.assert_allclose(c.decay_rates[:, 0], expected["gamma_A"], atol=scale)
    np.testing.assert_allclose(c.decay_rates[:, 1], expected["gamma_B"], atol=scale)
    np.testing.assert_allclose(c.exchange[:, 0, 1], expected["J"], atol=scale)
    np.testing.assert_allclose(c.decay_matrix[:, 0, 1], expected["gamma_coll"], atol=scale)


def test_braided_decoherence_free_interaction():
    frequency = (np.pi / 2) * V / SPACING
    c = two_point_pair("braided", SPACING, GAMMA, frequency).couplings()
    np.testing.assert_allclose(c.decay_matrix, 0, atol=1e-9 * GAMMA)
    assert abs(abs(c.exchange[0, 1]) - GAMMA) < 1e-9 * GAMMA


@st.composite
def sequential_pairs(draw):
    n_a = draw(st.integers(1, 4))
    n_b = draw(st.integers(1, 4))
    xs = np.sort(
        draw(st.lists(st.floats(0, 0.5), min_size=n_a + n_b, max_size=n_a + n_b, unique=True))
    )
    rates = draw(st.lists(st.floats(0.1, 5), min_size=n_a + n_b, max_size=n_a + n_b))
    rates = np.array(rates) * MHz
    frequency = draw(st.floats(3.0, 7.0)) * GHz
    return ga.Device(
        waveguide=ga.Waveguide(V),
        atoms=[
            ga.Atom("A", frequency=frequency, points=xs[:n_a], point_rates=rates[:n_a]),
            ga.Atom("B", frequency=frequency, points=xs[n_a:], point_rates=rates[n_a:]),
        ],
    )


@settings(max_examples=60, deadline=None)
@given(sequential_pairs())
def test_sequential_identity_and_form_factors(device):
    c = device.couplings()
    g_a, g_b = c.decay_rates
    g_coll = np.real(c.decay_matrix[0, 1])
    j = np.real(c.exchange[0, 1])
    scale = (g_a + g_b) ** 2 + 1e-30
    assert abs(g_coll**2 + 4 * j**2 - g_a * g_b) <= 1e-10 * scale
    u_a, u_b = c.form_factors
    np.testing.assert_allclose(g_coll + 2j * j, np.conj(u_a) * u_b, atol=1e-10 * np.sqrt(scale))
    np.testing.assert_allclose([g_a, g_b], np.abs(c.form_factors) ** 2, rtol=1e-10, atol=1e-6)


def _explicit_bidirectional(device, frequency):
    """G_jk = Σ √(γγ′) e^{ik|x − x′|} written out point by point (PHYSICS.md §3)."""
    k = frequency / device.waveguide.phase_velocity
    n = device.n_atoms
    g = np.zeros((n, n), dtype=complex)
    for j, aj in enumerate(device.atoms):
        for m, am in enumerate(device.atoms):
            for x, rate in zip(aj.points, aj.rates_per_point, strict=True):
                for y, rate2 in zip(am.points, am.rates_per_point, strict=True):
                    g[j, m] += np.sqrt(rate * rate2) * np.exp(1j * k * abs(x - y))
    return g


def test_equal_split_chiral_equals_bidirectional_formula():
    rng = np.random.default_rng(3)
    for _ in range(5):
        atoms = [
            ga.Atom(
                name,
                frequency=5 * GHz,
                points=rng.uniform(0, 0.3, size=rng.integers(1, 4)),
                point_rates=rng.uniform(0.5, 3) * MHz,
                right_fraction=0.5,
            )
            for name in "ABC"
        ]
        device = ga.Device(waveguide=ga.Waveguide(V), atoms=atoms)
        c = device.couplings()
        expected = _explicit_bidirectional(device, 5 * GHz)
        np.testing.assert_allclose(c.coupling_matrix, expected, atol=1e-9 * GAMMA)
        np.testing.assert_allclose(c.decay_matrix, expected.real, atol=1e-9 * GAMMA)
        np.testing.assert_allclose(c.lamb_shift, 0.5 * np.diag(expected).imag, atol=1e-9 * GAMMA)


def test_cascaded_atoms_do_not_act_upstream():
    device = ga.Device(
        waveguide=ga.Waveguide(V),
        atoms=[
            ga.Atom("A", frequency=5 * GHz, points=[0.0], point_rates=GAMMA, right_fraction=1),
            ga.Atom("B", frequency=5 * GHz, points=[0.05], point_rates=GAMMA, right_fraction=1),
        ],
    )
    c = device.couplings()
    # Effective non-Hermitian coupling −(i/2)G: B (downstream) never feeds back on A.
    assert c.coupling_matrix[0, 1] == 0
    assert abs(c.coupling_matrix[1, 0]) == pytest.approx(2 * GAMMA)
    h_eff = c.exchange - 0.5j * c.decay_matrix
    assert abs(h_eff[0, 1]) < 1e-12 * GAMMA
    assert abs(h_eff[1, 0]) == pytest.approx(GAMMA)


def test_decay_matrix_hermitian_psd_at_unequal_frequencies():
    rng = np.random.default_rng(7)
    for _ in range(20):
        atoms = [
            ga.Atom(
                name,
                frequency=rng.uniform(4, 6) * GHz,
                points=rng.uniform(0, 0.3, size=rng.integers(1, 4)),
                point_rates=rng.uniform(0.5, 3, size=1) * MHz,
                right_fraction=rng.uniform(0, 1),
            )
            for name in "ABC"
        ]
        c = ga.Device(waveguide=ga.Waveguide(V), atoms=atoms).couplings()
        gamma = c.decay_matrix
        np.testing.assert_allclose(gamma, gamma.conj().T, atol=1e-9 * GAMMA)
        assert np.linalg.eigvalsh(gamma).min() > -1e-9 * GAMMA
        np.testing.assert_allclose(c.exchange, c.exchange.conj().T, atol=1e-9 * GAMMA)


def _sequential_preset_like():
    return ga.Device(
        waveguide=ga.Waveguide(V),
        atoms=[
            ga.Atom("A", frequency=4.6 * GHz, points=[0.0, 0.084], point_rates=GAMMA),
            ga.Atom("B", frequency=4.6 * GHz, points=[0.1043, 0.1883], point_rates=GAMMA),
        ],
    )


def test_decoherence_free_point_of_sequential_atom_decouples_everything():
    device = _sequential_preset_like()
    df = ga.decoherence_free_frequencies(device, "A", (4 * GHz, 6 * GHz))
    # φ = ωΔx/v = (2m+1)π: 7π at 5 GHz is the only one in the band.
    np.testing.assert_allclose(df, [5 * GHz], rtol=1e-12)
    for other in (5 * GHz, 4.6 * GHz, 4.7 * GHz):
        c = device.couplings(frequencies=[df[0], other])
        assert c.decay_rates[0] < 1e-18 * GAMMA
        assert abs(c.decay_matrix[0, 1]) < 1e-9 * GAMMA
        assert abs(c.exchange[0, 1]) < 1e-9 * GAMMA
    drive = ga.Drive(frequency=df[0], power_dbm=-120)
    omega = ga.drive_amplitudes(device, drive)
    # Both atoms have Δx = 84 mm, so both are at their DF point and neither is driven.
    scale = np.sqrt(drive.photon_flux * GAMMA)
    assert np.all(np.abs(omega) < 1e-12 * scale)


def test_unequal_rates_leave_residual_decay_at_df_point():
    device = ga.Device(
        waveguide=ga.Waveguide(V),
        atoms=[
            ga.Atom("A", frequency=5 * GHz, points=[0.0, 0.084], point_rates=[2 * MHz, 1.8 * MHz])
        ],
    )
    df = ga.decoherence_free_frequencies(device, "A", (4.5 * GHz, 5.5 * GHz))
    assert df.size == 1
    residual = device.couplings(frequency=df[0]).decay_rates[0]
    expected = (np.sqrt(2 * MHz) - np.sqrt(1.8 * MHz)) ** 2
    assert residual == pytest.approx(expected, rel=1e-9)


def test_perfect_correlation_frequencies_are_kd_multiples_of_pi():
    device = _sequential_preset_like()
    found = ga.perfect_correlation_frequencies(device, ("A", "B"), (3 * GHz, 7 * GHz))
    distance = 0.1043 + 0.042 - 0.042  # centre-to-centre
    expected = np.arange(1, 40) * np.pi * V / distance
    expected = expected[(expected > 3 * GHz) & (expected < 7 * GHz)]
    # exclude the DF point of the atoms (5 GHz is not a kD multiple here anyway)
    np.testing.assert_allclose(found, expected, rtol=1e-8)  # 1 − C² cancels at ~1e-16
    c = device.couplings(frequency=found)
    np.testing.assert_allclose(c.correlation[:, 0, 1], 1, atol=1e-9)
    np.testing.assert_allclose(c.exchange[:, 0, 1], 0, atol=1e-6 * GAMMA)


def test_entangling_operating_point_places_drive_at_dressed_centre():
    device = _sequential_preset_like()
    delta = np.array([0.5, 1.0, 3.0]) * MHz
    op = ga.entangling_operating_point(device, delta)
    dressed = op.dressed_frequencies
    np.testing.assert_allclose(dressed[:, 0] - dressed[:, 1], 2 * delta, rtol=1e-10)
    c = device.couplings(frequencies=op.frequencies)
    np.testing.assert_allclose(c.lamb_shift, op.lamb_shift)
    # J cos θ in its gauge-invariant form Re(J e^{−iθ}) (θ = arg Γ_coll).
    j_cos = np.real(c.exchange[:, 0, 1] * np.exp(-1j * op.theta))
    # atol: one ulp of ω ≈ 2.9e10 rad/s is 3.8e-6 rad/s.
    np.testing.assert_allclose(
        0.5 * (dressed[:, 0] + dressed[:, 1]) - op.drive_frequency, j_cos, atol=1e-5
    )
    # The Lamb shift (≈ γ sin φ ≈ 2 MHz here) is what a bare-frequency drive would miss.
    assert np.all(np.abs(op.drive_frequency - op.correlation_frequency) > 1.5 * MHz)
    assert op.dark_state == "psi-"
    assert np.all(op.correlation > 0.999)


def test_drive_amplitude_magnitude_and_port_phase():
    device = _sequential_preset_like()
    drive = ga.Drive(frequency=4.6 * GHz, power_dbm=-130)
    flux = ga.units.dbm_to_photon_flux(-130, 4.6 * GHz)
    omega = ga.drive_amplitudes(device, drive)
    rates = device.couplings(frequency=4.6 * GHz).decay_rates
    np.testing.assert_allclose(np.abs(omega), np.sqrt(flux * rates / 2), rtol=1e-12)
    # Relative phase of Ω_A, Ω_B = phase of Γ_coll + 2iJ = conj(u_A) u_B (PHYSICS.md §4).
    u = device.couplings(frequency=4.6 * GHz).form_factors
    np.testing.assert_allclose(
        np.angle(np.conj(omega[0]) * omega[1]), np.angle(np.conj(u[0]) * u[1]), atol=1e-9
    )
    right = ga.drive_amplitudes(device, ga.Drive(frequency=4.6 * GHz, power_dbm=-130, port="right"))
    np.testing.assert_allclose(
        np.angle(np.conj(right[0]) * right[1]), -np.angle(np.conj(u[0]) * u[1]), atol=1e-9
    )


def test_batched_couplings_equal_loop():
    device = _sequential_preset_like()
    rng = np.random.default_rng(0)
    freqs = rng.uniform(4, 6, size=(3, 4, 2)) * GHz
    c = device.couplings(frequencies=freqs)
    for idx in np.ndindex(3, 4):
        single = device.couplings(frequencies=freqs[idx])
        np.testing.assert_allclose(c.decay_matrix[idx], single.decay_matrix)
        np.testing.assert_allclose(c.exchange[idx], single.exchange)
        np.testing.assert_allclose(c.lamb_shift[idx], single.lamb_shift)


def test_batched_geometry_broadcasts():
    rates = np.array([1.0, 2.0, 3.0])[:, None] * MHz  # batch of per-point rates, shape (3, 1)
    atom = ga.Atom("A", frequency=5 * GHz, points=[0.0, 0.03], point_rates=rates)
    geo = EmitterGeometry.of(atom)
    g = coupling_matrix([geo], np.full((3, 1), 5 * GHz), V)
    assert g.shape == (3, 1, 1)
    np.testing.assert_allclose(g[:, 0, 0] / rates[:, 0], g[0, 0, 0] / rates[0, 0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"band": (5 * GHz, 4 * GHz)}, "band"),
        ({"band": (-1.0, 4 * GHz)}, "band"),
    ],
)
def test_search_helpers_validate(kwargs, match):
    device = _sequential_preset_like()
    with pytest.raises(ValueError, match=match):
        ga.decoherence_free_frequencies(device, "A", **kwargs)


def test_couplings_argument_errors():
    device = _sequential_preset_like()
    with pytest.raises(ValueError, match="frequencies"):
        device.couplings(frequencies=[1 * GHz])
    with pytest.raises(ValueError, match="either"):
        device.couplings(frequency=1 * GHz, frequencies=[1 * GHz, 1 * GHz])
    with pytest.raises(ValueError, match="unknown atom"):
        ga.decoherence_free_frequencies(device, "Z", (4 * GHz, 6 * GHz))
    with pytest.raises(ValueError, match="pair"):
        ga.perfect_correlation_frequencies(device, ("A", "A"), (4 * GHz, 6 * GHz))
    with pytest.raises(ValueError, match="no perfect-correlation"):
        ga.entangling_operating_point(device, 1 * MHz, band=(4.0 * GHz, 4.01 * GHz))


@pytest.mark.parametrize("band_ghz", [(2.76, 6.44), (3.0, 7.0), (4.0, 5.0)])
def test_perfect_correlation_of_small_atoms_at_a_kink_between_grid_points(band_ghz):
    # Small atoms: the correlation deficit is |sin kd|, a kink at kd = 2π. When two grid
    # points straddle it with equal values there is no strict bracket; the minimum must
    # still be found (this raised a SciPy bracket error, or returned nothing).
    device = ga.presets.load("small_atoms_one_wavelength")
    found = ga.perfect_correlation_frequencies(device, (0, 1), tuple(b * GHz for b in band_ghz))
    assert np.min(np.abs(found / GHz - 4.6)) < 1e-6
