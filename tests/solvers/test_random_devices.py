"""Whole-chain cross-checks: random devices → master equation → steady state / gap vs QuTiP."""

import numpy as np
import pytest
import qutip

import giantatoms as ga
from giantatoms.units import GHz, MHz, us


def random_device(rng: np.random.Generator, n_atoms: int) -> ga.Device:
    atoms = []
    for j in range(n_atoms):
        levels = int(rng.integers(2, 4))
        n_points = int(rng.integers(1, 4))
        atoms.append(
            ga.Atom(
                f"Q{j}",
                frequency=rng.uniform(4.4, 4.8) * GHz,
                points=np.sort(rng.uniform(0, 0.4, size=n_points)),
                point_rates=rng.uniform(0.3, 3, size=n_points) * MHz,
                right_fraction=rng.choice([0.5, rng.uniform(0, 1)]),
                levels=levels,
                anharmonicity=rng.uniform(-300, -150) * MHz if levels == 3 else None,
                t1=rng.uniform(5, 60) * us,
                t_phi=rng.uniform(5, 100) * us,
                n_thermal=rng.uniform(0, 0.05),
            )
        )
    return ga.Device(waveguide=ga.Waveguide(rng.uniform(1.0e8, 1.3e8)), atoms=atoms)


def random_drive(rng, device, size=None):
    centre = float(np.mean(device.frequencies))
    return ga.Drive(
        frequency=centre + rng.uniform(-5, 5, size=size) * MHz,
        power_dbm=rng.uniform(-140, -120, size=size),
        port=str(rng.choice(["left", "right"])),
        phase=rng.uniform(0, 2 * np.pi),
    )


@pytest.mark.parametrize("seed", range(12))
def test_steady_state_and_gap_of_random_devices_match_qutip(seed):
    rng = np.random.default_rng(100 + seed)
    device = random_device(rng, n_atoms=1 + seed % 3)
    me = ga.master_equation(device, random_drive(rng, device, size=2))
    ss = ga.steady_state(me)
    gap = ga.liouvillian_gap(me)
    for i in range(2):
        h, c_ops = me.to_qutip((i,))
        reference = qutip.steadystate(h, c_ops).full()
        np.testing.assert_allclose(ss.rho[i], reference, atol=1e-8)
        eigenvalues = np.linalg.eigvals(qutip.liouvillian(h, c_ops).full())
        eigenvalues = eigenvalues[np.argsort(-eigenvalues.real)]
        # The steady state's eigenvalue is the one closest to 0; the gap is the next one.
        rest = np.delete(eigenvalues, np.argmin(np.abs(eigenvalues)))
        expected_gap = -rest.real.max()
        assert gap.gap[i] == pytest.approx(expected_gap, rel=1e-8)


def test_random_devices_give_physical_steady_states():
    rng = np.random.default_rng(7)
    for n_atoms in (1, 2, 3):
        device = random_device(rng, n_atoms)
        me = ga.master_equation(device, random_drive(rng, device, size=(3, 2)))
        ss = ga.steady_state(me)
        assert ss.rho.shape == (3, 2, me.dimension, me.dimension)
        np.testing.assert_allclose(np.trace(ss.rho, axis1=-2, axis2=-1), 1, atol=1e-12)
        np.testing.assert_allclose(ss.rho, np.conj(np.swapaxes(ss.rho, -1, -2)), atol=1e-12)
        assert np.all(ss.min_eigenvalue > -1e-10)
        assert np.all(ss.converged) and np.all(ss.unique)
