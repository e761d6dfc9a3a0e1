"""Stabilisation analysis: fitted approach time against 1/gap and a closed-form relaxation."""

from __future__ import annotations

import numpy as np
import pytest

import giantatoms as ga
from giantatoms.protocols import stabilisation

GHZ = ga.units.GHz
MHZ = ga.units.MHz
US = 1e-6


def test_thermalising_atom_relaxes_at_its_total_rate() -> None:
    """One undriven qubit from |g⟩: D(t) = p_ss e^{−γ_tot t} exactly."""
    atom = ga.Atom(
        name="Q",
        frequency=5.0 * GHZ,
        points=[0.0],
        point_rates=1.0 * MHZ,
        t1=20 * US,
        n_thermal=0.05,
    )
    device = ga.Device(waveguide=ga.Waveguide(phase_velocity=1.2e8), atoms=[atom])
    off = ga.Drive(frequency=5.0 * GHZ, power_dbm=-np.inf)
    result = stabilisation(device, off, target="psi-", fit_window=(1e-1, 1e-5))
    gamma_nr = 1 / (20 * US)
    total = 1.0 * MHZ + gamma_nr * (1 + 2 * 0.05)
    p_ss = gamma_nr * 0.05 / total
    np.testing.assert_allclose(result.distance, p_ss * np.exp(-total * result.times), atol=1e-10)
    # D starts at p_ss ≈ 4e-5, below the window's upper bound, so the fit sees the pure
    # exponential.
    np.testing.assert_allclose(result.fitted_time, 1 / total, rtol=1e-6)
    # The gap is the slower coherence decay γ_tot/2, which |g⟩ does not excite: the fit and
    # 1/gap differ by exactly 2 here (the reason both are reported).
    np.testing.assert_allclose(result.gap_time, 2 / total, rtol=1e-6)
    np.testing.assert_allclose(result.ratio, 0.5, rtol=1e-6)
    assert np.isnan(result.time_to_90)


def test_fitted_time_matches_the_gap_on_the_paper_device() -> None:
    device = ga.presets.load("sequential_pair")
    op = ga.entangling_operating_point(device, np.array([1.0, 2.5]) * MHZ)
    drive = op.drive(np.array([-129.0, -125.0])[:, None])
    result = stabilisation(device, drive, frequencies=op.frequencies)
    assert result.fitted_time.shape == (2, 2)
    np.testing.assert_allclose(result.ratio, 1.0, rtol=1e-3)
    assert np.all(result.fit_points >= 3)
    # Stabilisation takes microseconds here (PHYSICS.md §1: ~1/√(γ_nr Γ)).
    assert np.all((result.gap_time > 0.05 * US) & (result.gap_time < 20 * US))
    # The fidelity settles: within 10 % of its change by time_to_90, which lies in the window.
    assert np.all(result.time_to_90 > 0)
    assert np.all(result.time_to_90 <= result.times[-1])
    np.testing.assert_allclose(
        result.fidelity[..., -1], result.steady_fidelity, atol=1e-3 * np.max(result.fidelity)
    )


def test_batched_equals_loop() -> None:
    device = ga.presets.load("sequential_pair")
    deltas = np.array([1.0, 3.0]) * MHZ
    op = ga.entangling_operating_point(device, deltas)
    times = np.linspace(0, 3 * US, 50)
    batched = stabilisation(device, op.drive(-127.0), frequencies=op.frequencies, times=times)
    for i, delta in enumerate(deltas):
        single_op = ga.entangling_operating_point(device, delta)
        single = stabilisation(
            device, single_op.drive(-127.0), frequencies=single_op.frequencies, times=times
        )
        np.testing.assert_allclose(batched.distance[i], single.distance, atol=1e-10)
        np.testing.assert_allclose(batched.gap_time[i], single.gap_time, rtol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fit_window": (1e-6, 1e-1)}, "fit_window"),
        ({"fit_window": (2.0, 1e-3)}, "fit_window"),
        ({"n_times": 3}, "n_times"),
    ],
)
def test_bad_options_fail_early(kwargs: dict, match: str) -> None:
    device = ga.presets.load("sequential_pair")
    op = ga.entangling_operating_point(device, 2 * MHZ)
    with pytest.raises(ValueError, match=match):
        stabilisation(device, op.drive(-127.0), frequencies=op.frequencies, **kwargs)
