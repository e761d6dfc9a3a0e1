"""The distance study: storage of Ψ⁻ against separation, exact with delays and Markovian."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.experiments.distance import distance_study, storage_frequencies, summary_lines
from giantatoms.units import us


def test_small_atoms_lose_the_dark_state_as_1_over_1_plus_gamma_tau_half_squared():
    device = ga.presets.load("small_atoms_one_wavelength")
    study = distance_study(device, times=np.linspace(0, 3 * us, 4), points=5)
    ds = study.dataset
    gamma = float(device.atoms[0].point_rates)
    d = float(np.asarray(device.atoms[1].points)[0]) + ds.separation.values
    expected = 1 / (1 + gamma * d / device.waveguide.phase_velocity / 2) ** 2
    np.testing.assert_allclose(ds.trapped_bell_fidelity_optimized, expected, rtol=1e-8)
    np.testing.assert_allclose(ds.bell_fidelity_optimized[:, -1], expected, atol=1e-4)
    np.testing.assert_allclose(ds.markov_bell_fidelity_optimized[:, -1], 1.0, atol=1e-9)
    assert ds.error.max() < 1e-6
    # Whole wavelengths: the propagation phases are those of the preset.
    assert np.allclose(
        ds.separation / ds.attrs["wavelength_m"], np.round(ds.separation / ds.attrs["wavelength_m"])
    )


def test_giant_atoms_at_the_df_point_store_independently_of_their_separation():
    device = ga.presets.load("sequential_pair")
    study = distance_study(device, times=np.linspace(0, 1 * us, 3), points=4)
    ds = study.dataset
    assert np.allclose(study.storage_frequencies, 2 * np.pi * 5e9, rtol=1e-4)
    final = ds.bell_fidelity_optimized[:, -1].values
    assert np.ptp(final) < 1e-3
    # Each atom keeps 1/(1 + γτ_own)² of its excitation (τ_own: its two points, 84 mm).
    gamma = 2 * np.pi * 2e6
    own = 1 / (1 + gamma * 0.084 / device.waveguide.phase_velocity) ** 2
    np.testing.assert_allclose(ds.trapped_bell_fidelity_optimized, own, rtol=1e-3)
    markov = ds.markov_bell_fidelity_optimized[:, -1].values
    np.testing.assert_allclose(final, markov * own, atol=2e-3)
    assert "Ψ⁻ stored at 5.0000 GHz" in summary_lines(study)[0]


def test_storage_frequencies_and_bad_input():
    chip = ga.presets.load("sequential_pair")
    assert storage_frequencies(chip, (0, 1)) == pytest.approx([2 * np.pi * 5e9] * 2, rel=1e-4)
    small = ga.presets.load("small_atoms_one_wavelength")
    np.testing.assert_allclose(storage_frequencies(small, (0, 1)), small.frequencies)
    with pytest.raises(ValueError, match="different atoms"):
        distance_study(chip, pair=(0, 0))
    with pytest.raises(ValueError, match="separations"):
        distance_study(chip, separations=[-1.0])
    with pytest.raises(TypeError, match="Device"):
        distance_study("sequential_pair")


def test_fast_transfers_lose_the_own_leg_factor_and_slow_ones_more():
    from giantatoms.experiments.distance import transfer_study

    chip = ga.presets.load("sequential_pair")
    ds = transfer_study(chip, np.array([2e-9, 40e-9]), store_time=0.05 * us)
    exact = ds.bell_fidelity_optimized[0].values
    markov = ds.markov_bell_fidelity_optimized[0].values
    assert exact[1] < exact[0] and markov[1] < markov[0]
    own = 1 / (1 + 2 * np.pi * 2e6 * 0.084 / chip.waveguide.phase_velocity) ** 2
    assert exact[0] / markov[0] == pytest.approx(own, abs=3e-3)
    assert ds.error.max() < 1e-6


def test_transfer_delay_effects_are_first_order_in_the_rates():
    """Exact (moving DDE) and Markov (ODE with G at the instantaneous frequencies) are
    independent codes; their difference must fall ~10× when the rates fall 10×."""
    from giantatoms.experiments.distance import transfer_study

    chip = ga.presets.load("sequential_pair")
    gaps = []
    for scale in (1.0, 0.1):
        atoms = [a.replace(point_rates=np.asarray(a.point_rates) * scale) for a in chip.atoms]
        ds = transfer_study(
            ga.Device(chip.waveguide, atoms), np.array([20e-9]), store_time=0.05 * us
        )
        gaps.append(
            abs(float(ds.bell_fidelity_optimized[0, 0] - ds.markov_bell_fidelity_optimized[0, 0]))
        )
    assert 6 < gaps[0] / gaps[1] < 15


def test_transfer_bad_input():
    from giantatoms.experiments.distance import transfer_study

    chip = ga.presets.load("sequential_pair")
    with pytest.raises(ValueError, match="ramp_times"):
        transfer_study(chip, [0.0])
    with pytest.raises(ValueError, match="store_time"):
        transfer_study(chip, [1e-8], store_time=-1.0)
