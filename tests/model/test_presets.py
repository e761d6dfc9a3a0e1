"""Shipped presets: they load, round-trip, document themselves, and have the stated geometry.

The geometric checks use positions and the phase velocity only; the small G-matrix helper
below is the textbook formula of PHYSICS.md §3 (bidirectional points), written out here so the
presets are checked independently of ``giantatoms.model.couplings``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from giantatoms import presets
from giantatoms.model.device import Device
from giantatoms.units import GHz, MHz, us

ALL = presets.names()


def test_expected_presets_exist():
    assert {"sequential_pair", "braided_pair", "small_atoms_one_wavelength"} <= set(ALL)
    assert sorted(ALL) == ALL
    assert presets.DEFAULT in ALL
    assert set(presets.ALIASES.values()) <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_preset_loads_round_trips_and_documents_itself(name):
    device = presets.load(name)
    assert isinstance(device, Device)
    assert Device.from_toml(device.to_toml()) == device  # exact, to the last bit
    assert device.description.strip()
    assert device.assumptions and all(a.strip() for a in device.assumptions)
    text = presets.text(name)
    assert text.startswith("#")  # comment header explaining the device
    assert Device.from_toml(text) == device
    assert presets.path(name).is_file()
    assert presets.path(name).read_text(encoding="utf-8") == text
    summary = presets.describe(name)
    assert name in summary
    assert all(a in summary for a in device.assumptions)


def test_presets_are_package_resources():
    files = {f.name for f in resources.files("giantatoms.model.presets").iterdir()}
    assert {f"{name}.toml" for name in ALL} <= files


def test_aliases_and_default():
    assert presets.load("almanakly2026") == presets.load("sequential_pair")
    assert presets.load("Almanakly2026") == presets.load()
    assert presets.text("almanakly2026") == presets.text("sequential_pair")
    assert "almanakly2026" in presets.describe("sequential_pair")


def test_unknown_preset_lists_available_names():
    with pytest.raises(ValueError, match="unknown preset 'nope'") as info:
        presets.load("nope")
    for name in [*ALL, "almanakly2026"]:
        assert name in str(info.value)
    for function in (presets.path, presets.text, presets.describe):
        with pytest.raises(ValueError, match="available presets"):
            function("nope")


# --- geometry, from positions alone ---------------------------------------------------------


def wavenumber(device: Device, frequency: float) -> float:
    return frequency / device.waveguide.phase_velocity


def g_matrix(device: Device, frequency: float) -> np.ndarray:
    """G_jk = Σ_nm √(γ_jn γ_km) exp(ik|x_jn − x_km|) (PHYSICS.md §3, bidirectional)."""
    k = wavenumber(device, frequency)
    n = device.n_atoms
    g = np.zeros((n, n), dtype=complex)
    for j, a in enumerate(device.atoms):
        for m, b in enumerate(device.atoms):
            distance = np.abs(a.points[:, None] - b.points[None, :])
            rates = np.sqrt(a.rates_per_point[:, None] * b.rates_per_point[None, :])
            g[j, m] = np.sum(rates * np.exp(1j * k * distance))
    return g


def test_sequential_pair_geometry():
    device = presets.load("sequential_pair")
    a, b = device.atoms
    assert a.points.max() < b.points.min()  # sequential order A1 A2 B1 B2
    k_df = wavenumber(device, 5.0 * GHz)
    k_ent = wavenumber(device, 4.6 * GHz)
    for atom in device.atoms:
        phi = k_df * np.ptp(atom.points)
        # φ = 7π at 5.000 GHz to 1e-15 relative: 7.000000000000001π
        assert phi / np.pi == pytest.approx(7.0, rel=1e-14)
    centre_distance = b.points.mean() - a.points.mean()
    kd = k_ent * centre_distance
    # D = 104.3 mm is rounded (exact would be 104.348 mm): kD = 7.996333π, 4.6e-4 below 8π
    assert kd / np.pi == pytest.approx(8.0, rel=1e-3)
    assert kd / np.pi == pytest.approx(7.996333333, rel=1e-9)


def test_sequential_pair_rates_from_geometry():
    device = presets.load("sequential_pair")
    gamma = 2 * MHz
    g_ent = g_matrix(device, 4.6 * GHz)
    total = g_ent.real.diagonal()
    # Γ = 2γ(1 + cos φ) with φ = 6.44π: Γ/2π = 4.7495 MHz; Lamb shift γ sin φ ≈ 1.96 MHz
    np.testing.assert_allclose(total / MHz, 4.749525258, rtol=1e-8)
    np.testing.assert_allclose(0.5 * g_ent.imag.diagonal() / MHz, 1.964574501, rtol=1e-8)
    # near-perfect correlation: Γ_coll/Γ = cos kD = 0.99993, J/2π ≈ −27 kHz
    assert g_ent[0, 1].real / total[0] == pytest.approx(0.99993366, rel=1e-6)
    assert abs(0.5 * g_ent[0, 1].imag) < 0.03 * MHz
    # at the DF point everything waveguide-mediated vanishes
    np.testing.assert_allclose(g_matrix(device, 5.0 * GHz), 0, atol=1e-12 * gamma)


def test_sequential_pair_parameters_match_physics_md():
    device = presets.load("sequential_pair")
    assert device.waveguide.phase_velocity == 1.2e8
    assert "2606.13375" in device.description
    for atom in device.atoms:
        assert atom.frequency == 4.6 * GHz
        np.testing.assert_array_equal(atom.rates_per_point, [2 * MHz, 2 * MHz])
        assert atom.levels == 3
        assert atom.anharmonicity == -200 * MHz
        assert atom.t1 == 30 * us
        assert atom.t2 == 29.5 * us
        assert atom.n_thermal == 0.01
    assert any("29.5" in a and "T2" in a for a in device.assumptions)
    assert "assum" in presets.text("sequential_pair").lower()


def test_braided_pair_geometry():
    device = presets.load("braided_pair")
    a, b = device.atoms
    x = np.concatenate([a.points, b.points])
    order = np.argsort(x)
    assert [("A", "A", "B", "B")[i] for i in order] == ["A", "B", "A", "B"]  # braided
    spacings = np.diff(x[order])
    frequency = float(a.frequency)
    assert frequency == float(b.frequency) == 4.6 * GHz
    phi = wavenumber(device, frequency) * spacings
    np.testing.assert_allclose(phi / (np.pi / 2), 1.0, rtol=1e-14)
    # decoherence-free interaction: Γ = Γ_coll = 0, |J| = γ, no Lamb shift
    gamma = 2 * MHz
    g = g_matrix(device, frequency)
    np.testing.assert_allclose(g.real, 0, atol=1e-12 * gamma)
    np.testing.assert_allclose(g.imag.diagonal(), 0, atol=1e-12 * gamma)
    assert abs(0.5 * g[0, 1].imag) == pytest.approx(gamma, rel=1e-12)


def test_small_atoms_one_wavelength_geometry():
    device = presets.load("small_atoms_one_wavelength")
    a, b = device.atoms
    assert a.n_points == b.n_points == 1
    frequency = float(a.frequency)
    assert frequency == float(b.frequency) == 4.6 * GHz
    distance = abs(b.points[0] - a.points[0])
    assert distance == 1.2e8 / 4.6e9  # v/f, bit for bit
    kd = wavenumber(device, frequency) * distance
    assert kd / (2 * np.pi) == pytest.approx(1.0, rel=1e-15)
    gamma = 2 * MHz
    g = g_matrix(device, frequency)
    np.testing.assert_allclose(g.real, gamma, rtol=1e-13)  # Γ_A = Γ_B = Γ_coll = γ
    np.testing.assert_allclose(g.imag, 0, atol=1e-12 * gamma)  # J = 0, no Lamb shift
