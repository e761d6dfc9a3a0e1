"""Tests of simulated counts: shapes, seeds, and the local phases of the protocols."""

from __future__ import annotations

import numpy as np

from giantatoms.measure.tomography import simulate_counts

from tests.measure.tomography._states import rand_rho


def test_simulated_counts_shapes_and_seeds(rng):
    rho = rand_rho(rng, 4, batch=(2, 3))
    data = simulate_counts(rho, settings="cardinal", shots=500, seed=42)
    assert data.counts.shape == (2, 3, 36, 4) and data.counts.dtype == np.int64
    assert np.all(data.shots == 500) and data.seed == 42 and not data.expected
    again = simulate_counts(rho, settings="cardinal", shots=500, seed=42)
    assert np.array_equal(data.counts, again.counts)
    drawn = simulate_counts(rho, shots=100)
    assert isinstance(drawn.seed, int)
    assert np.array_equal(simulate_counts(rho, shots=100, seed=drawn.seed).counts, drawn.counts)


def test_local_phases_follow_the_protocol_convention():
    # simulate_counts(ρ_drive, local_phases=φ) measures the atoms-frame state of run_protocol.
    import giantatoms as ga
    from giantatoms.units import MHz, ns, us

    chip = ga.presets.load("sequential_pair")
    protocol = ga.protocols.driven_dissipative(
        chip,
        power_dbm=-131.5,
        detuning=1 * MHz,
        t_drive=1 * us,
        ramp_time=10 * ns,
        t_store=0.1 * us,
    )
    t = np.array([1 * us + 10 * ns])
    drive = ga.run_protocol(chip, protocol, t, frame="drive")
    atoms = ga.run_protocol(chip, protocol, t, frame="atoms")
    phases = drive.local_phases[0]
    assert np.ptp(phases) > 0.1  # the phases matter here
    from_drive = simulate_counts(drive.rho[0], shots=None, local_phases=phases, dims=chip.dims)
    from_atoms = simulate_counts(atoms.rho[0], shots=None, dims=chip.dims)
    np.testing.assert_allclose(from_drive.counts, from_atoms.counts, atol=1e-10)
