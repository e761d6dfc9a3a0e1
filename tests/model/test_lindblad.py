import numpy as np
import pytest
import qutip
import scipy.linalg

import giantatoms as ga
from giantatoms.solvers.liouvillian import liouvillian
from giantatoms.units import GHz, MHz, us

from tests.reference.analytic import (
    V,
    pure_dark_state,
    rank_one_dark_state,
    storage_fidelity,
)

GAMMA = 2 * MHz


def _random_two_level_device(rng, n_atoms, frequency):
    atoms = [
        ga.Atom(
            f"Q{j}",
            frequency=frequency,
            points=rng.uniform(0, 0.3, size=rng.integers(1, 4)),
            point_rates=rng.uniform(0.5, 3) * MHz,
            t1=rng.uniform(5, 50) * us,
            t_phi=rng.uniform(5, 50) * us,
            n_thermal=rng.uniform(0, 0.05),
        )
        for j in range(n_atoms)
    ]
    return ga.Device(waveguide=ga.Waveguide(V), atoms=atoms)


def _reference_qutip_model(device, drive, frequency):
    """PHYSICS.md §3–4 written out with QuTiP for two-level atoms at one frequency."""
    n = device.n_atoms
    k = frequency / device.waveguide.phase_velocity
    g = np.zeros((n, n), dtype=complex)
    u = np.zeros(n, dtype=complex)
    # The tone's phase α is referenced at the chip (the mean of the atoms' point centres).
    x0 = np.mean([np.mean(a.points) for a in device.atoms])
    for j, aj in enumerate(device.atoms):
        k_drive = drive.frequency / device.waveguide.phase_velocity
        u[j] = np.sum(np.sqrt(aj.rates_per_point) * np.exp(1j * k_drive * (aj.points - x0)))
        for m, am in enumerate(device.atoms):
            for x, r in zip(aj.points, aj.rates_per_point, strict=True):
                for y, r2 in zip(am.points, am.rates_per_point, strict=True):
                    g[j, m] += np.sqrt(r * r2) * np.exp(1j * k * abs(x - y))
    sm = [
        qutip.tensor([qutip.destroy(2) if i == j else qutip.qeye(2) for i in range(n)])
        for j in range(n)
    ]
    alpha = np.sqrt(drive.photon_flux)
    omega = alpha * u / np.sqrt(2)
    h = 0
    for j in range(n):
        h += (frequency + 0.5 * g[j, j].imag - drive.frequency) * sm[j].dag() * sm[j]
        h += omega[j] * sm[j].dag() + np.conj(omega[j]) * sm[j]
        for m in range(n):
            if m != j:
                h += 0.5 * g[j, m].imag * sm[j].dag() * sm[m]
    lam, vec = np.linalg.eigh(g.real)
    c_ops = []
    for i in range(n):
        if lam[i] > 1e-12 * GAMMA:
            c_ops.append(np.sqrt(lam[i]) * sum(np.conj(vec[kk, i]) * sm[kk] for kk in range(n)))
    for j, atom in enumerate(device.atoms):
        gnr, nth, gphi = atom.intrinsic_decay_rate, atom.n_thermal, atom.dephasing_rate
        c_ops.append(np.sqrt(gnr * (1 + nth)) * sm[j])
        c_ops.append(np.sqrt(gnr * nth) * sm[j].dag())
        sz = 2 * sm[j].dag() * sm[j] - 1
        c_ops.append(np.sqrt(gphi / 2) * sz)
    return h, c_ops


@pytest.mark.parametrize("n_atoms", [1, 2, 3])
def test_device_master_equation_matches_written_out_physics(n_atoms):
    rng = np.random.default_rng(n_atoms)
    for _ in range(3):
        frequency = rng.uniform(4, 6) * GHz
        device = _random_two_level_device(rng, n_atoms, frequency)
        drive = ga.Drive(frequency=frequency + rng.normal() * MHz, power_dbm=-125)
        me = ga.master_equation(device, drive)
        h_ref, c_ref = _reference_qutip_model(device, drive, frequency)
        l_ref = qutip.liouvillian(h_ref, c_ref).full()
        l_ours = qutip.liouvillian(*me.to_qutip()).full()
        np.testing.assert_allclose(l_ours, l_ref, atol=1e-9 * np.abs(l_ref).max())


def test_hamiltonian_hermitian_and_jump_labels():
    device = ga.presets.load("sequential_pair")
    me = ga.master_equation(device, ga.Drive(frequency=4.6 * GHz, power_dbm=-130))
    np.testing.assert_allclose(me.hamiltonian, me.hamiltonian.conj().T, atol=0)
    assert me.dims == (3, 3)
    assert me.jump_labels[:2] == ("waveguide:right", "waveguide:left")
    assert {"decay:A", "excitation:B", "dephasing:A"} <= set(me.jump_labels)


def test_third_level_makes_singlet_bright_and_doubles_ef_rate():
    device = ga.presets.load("sequential_pair")
    drive = ga.Drive(frequency=4.6 * GHz, power_dbm=-130)
    me = ga.master_equation(device, drive)
    idx = {label: i for i, label in enumerate(ga.operators.basis_labels(me.dims))}
    singlet = np.zeros(9, complex)
    singlet[idx["eg"]], singlet[idx["ge"]] = 1 / np.sqrt(2), -1 / np.sqrt(2)
    # (b_A† + b_B†)|Ψ⁻⟩ = |fg⟩ − |gf⟩: the drive connects the singlet to the f states.
    coupled = me.hamiltonian @ singlet
    assert abs(coupled[idx["fg"]]) > 0.1 * np.abs(me.info["drive_amplitudes"]).max()

    # A lone undriven three-level atom: |f⟩ decays at 2Γ(ω+α) + 2γ_nr (√2 matrix element).
    atom = device.atoms[0].replace(n_thermal=0.0, t_phi=None, t2=None)
    single = ga.Device(waveguide=device.waveguide, atoms=[atom])
    me1 = ga.master_equation(single)
    lv = liouvillian(me1)
    f_pop = np.zeros(9)
    f_pop[8] = 1.0  # vec(|f⟩⟨f|), row-major
    decay_rate = -(lv @ f_pop)[8].real
    gamma_ef = single.couplings(frequency=atom.frequency + atom.anharmonicity).decay_rates[0]
    expected = 2 * gamma_ef + 2 * atom.intrinsic_decay_rate
    assert decay_rate == pytest.approx(expected, rel=1e-12)


def test_resonance_fluorescence_of_a_giant_atom_peaks_at_the_lamb_shift():
    # One two-point atom: Lamb shift γ sin φ; ρ_ee = |Ω|²/(Δ² + Γ²/4 + 2|Ω|²), Δ = ω̃ − ω_d.
    atom = ga.Atom("A", frequency=4.6 * GHz, points=[0.0, 0.084], point_rates=GAMMA)
    device = ga.Device(waveguide=ga.Waveguide(V), atoms=[atom])
    c = device.couplings()
    dressed = 4.6 * GHz + c.lamb_shift[0]
    drive_f = dressed + np.linspace(-10, 10, 41) * MHz
    drive = ga.Drive(frequency=drive_f, power_dbm=-132)
    me = ga.master_equation(device, drive)
    assert me.batch_shape == (41,)
    rho = ga.steady_state(me).rho
    omega = np.abs(me.info["drive_amplitudes"][:, 0])
    gamma = c.decay_rates[0]
    expected = omega**2 / ((dressed - drive_f) ** 2 + gamma**2 / 4 + 2 * omega**2)
    np.testing.assert_allclose(rho[:, 1, 1].real, expected, rtol=1e-9, atol=1e-14)
    assert np.argmax(rho[:, 1, 1].real) == 20


def test_thermal_intrinsic_bath_alone():
    atom = ga.Atom(
        "A", frequency=5 * GHz, points=[0.0], point_rates=0.0, t1=20 * us, n_thermal=0.03
    )
    me = ga.master_equation(ga.Device(waveguide=ga.Waveguide(V), atoms=[atom]))
    rho = ga.steady_state(me).rho
    assert rho[1, 1].real == pytest.approx(0.03 / 1.06, rel=1e-10)


def test_pure_dark_state_formula():
    rng = np.random.default_rng(11)
    for _ in range(10):
        gamma, delta, omega = rng.uniform(0.5, 2), rng.uniform(0.2, 3), rng.uniform(0.1, 2)
        me = ga.MasterEquation.from_coefficients(
            (2, 2),
            detunings=[delta, -delta],
            decay_matrix=gamma * np.ones((2, 2)),
            drive_amplitudes=[omega, omega],
        )
        rho = ga.steady_state(me).rho
        dark = pure_dark_state(delta, omega)
        np.testing.assert_allclose(rho, np.outer(dark, dark.conj()), atol=1e-9)
        fidelity = ga.bell_fidelity(rho, "psi-")
        assert fidelity == pytest.approx(2 * omega**2 / (delta**2 + 2 * omega**2), abs=1e-9)


def test_rank_one_general_dark_state():
    rng = np.random.default_rng(12)
    for _ in range(10):
        gamma, delta = rng.uniform(0.5, 2), rng.uniform(0.2, 3)
        exchange, theta = rng.uniform(-1, 1), rng.uniform(0, 2 * np.pi)
        omega = rng.uniform(0.1, 2) * np.exp(1j * rng.uniform(0, 2 * np.pi))
        a = np.sqrt(gamma) * np.array([1, np.exp(1j * theta)])
        mean = exchange * np.cos(theta)
        me = ga.MasterEquation.from_coefficients(
            (2, 2),
            detunings=[mean + delta, mean - delta],
            exchange=[[0, exchange], [exchange, 0]],
            decay_matrix=np.conj(a)[:, None] * a[None, :],
            drive_amplitudes=[omega, omega * np.exp(-1j * theta)],
        )
        rho = ga.steady_state(me).rho
        dark = rank_one_dark_state(delta, omega, exchange, theta)
        np.testing.assert_allclose(rho, np.outer(dark, dark.conj()), atol=1e-9)


def test_entangling_operating_point_gives_the_dark_state_on_the_device():
    # Two-level version of the reconstructed chip with no intrinsic loss: at the operating
    # point the steady state is the pure dark state with F = 2Ω²/(δ² + 2Ω²) up to the tiny
    # residual J and correlation defect of the geometry (|1 − C| ~ 5e-5).
    base = ga.presets.load("sequential_pair")
    atoms = [
        a.replace(levels=2, anharmonicity=None, t1=None, t2=None, t_phi=None, n_thermal=0.0)
        for a in base.atoms
    ]
    device = ga.Device(waveguide=base.waveguide, atoms=atoms)
    op = ga.entangling_operating_point(device, 2 * MHz)
    me = ga.master_equation(device, op.drive(-128), frequencies=op.frequencies)
    rho = ga.steady_state(me).rho
    omega = np.abs(me.info["drive_amplitudes"]).mean()
    expected = 2 * omega**2 / (op.detuning**2 + 2 * omega**2)
    assert ga.bell_fidelity(rho, op.dark_state) == pytest.approx(expected, abs=2e-3)
    # A drive at the bare correlation frequency misses the Lamb-shifted resonance.
    bare = ga.master_equation(
        device,
        ga.Drive(frequency=op.correlation_frequency, power_dbm=-128),
        frequencies=op.frequencies,
    )
    assert ga.bell_fidelity(ga.steady_state(bare).rho, "psi-") < expected - 0.2


def test_storage_at_df_point_follows_analytic_formula():
    base = ga.presets.load("sequential_pair")
    atoms = [a.replace(levels=2, anharmonicity=None, n_thermal=0.0) for a in base.atoms]
    device = ga.Device(waveguide=base.waveguide, atoms=atoms)
    df = ga.decoherence_free_frequencies(device, "A", (4.8 * GHz, 5.2 * GHz))[0]
    me = ga.master_equation(device, frequencies=[df, df])
    np.testing.assert_allclose(me.info["decay_matrix"], 0, atol=1e-12 * GAMMA)
    lv = liouvillian(me)
    singlet = np.array([0, -1, 1, 0]) / np.sqrt(2)
    rho0 = np.outer(singlet, singlet).reshape(-1)
    times = np.array([0.0, 5, 20, 60]) * us
    t1 = [1 / a.intrinsic_decay_rate for a in device.atoms]
    t2 = [1 / (a.intrinsic_decay_rate / 2 + a.dephasing_rate) for a in device.atoms]
    for t, expected in zip(times, storage_fidelity(times, t1[0], t1[1], t2[0], t2[1]), strict=True):
        rho_t = (scipy.linalg.expm(lv * t) @ rho0).reshape(4, 4)
        assert ga.bell_fidelity(rho_t, "psi-") == pytest.approx(expected, abs=1e-10)


def test_batched_master_equation_equals_loop():
    device = ga.presets.load("sequential_pair")
    rng = np.random.default_rng(5)
    freqs = rng.uniform(4.55, 4.65, size=(2, 3, 2)) * GHz
    drive = ga.Drive(frequency=4.6 * GHz, power_dbm=np.array([-135.0, -125.0])[:, None])
    me = ga.master_equation(device, drive, frequencies=freqs)
    assert me.batch_shape == (2, 3)
    for idx in np.ndindex(2, 3):
        single = ga.master_equation(
            device,
            ga.Drive(frequency=4.6 * GHz, power_dbm=drive.power_dbm[idx[0], 0]),
            frequencies=freqs[idx],
        )
        np.testing.assert_allclose(me.hamiltonian[idx], single.hamiltonian, atol=1e-6)
        np.testing.assert_allclose(me.jump_operators[idx], single.jump_operators, atol=1e-9)
        sub = me[idx]
        np.testing.assert_allclose(sub.hamiltonian, single.hamiltonian, atol=1e-6)


def test_batched_atom_parameters_broadcast():
    device = ga.presets.load("sequential_pair")
    t1 = np.array([20.0, 30.0, 100.0]) * us
    device = device.replace_atom("A", t1=t1)
    me = ga.master_equation(device, ga.Drive(frequency=4.6 * GHz, power_dbm=-130))
    assert me.batch_shape == (3,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dims": (4, 2)}, "dims"),
        ({"detunings": [1.0, 2.0, 3.0]}, "detunings"),
        ({"decay_matrix": [[1.0, 0.0], [0.0, -1.0]]}, "positive semidefinite"),
        ({"decay_matrix": [[1.0, 2.0], [0.0, 1.0]]}, "Hermitian"),
        ({"exchange": [[0.0, 1.0], [2.0, 0.0]]}, "Hermitian"),
        ({"intrinsic_decay": [-1.0, 0.0]}, "intrinsic_decay"),
        ({"dephasing": [np.nan, 0.0]}, "dephasing"),
        ({"dims": (3, 3)}, "anharmonicities"),
    ],
)
def test_from_coefficients_rejects_bad_input(kwargs, match):
    args = {"dims": (2, 2), "detunings": [0.0, 0.0]}
    args.update(kwargs)
    dims = args.pop("dims")
    with pytest.raises(ValueError, match=match):
        ga.MasterEquation.from_coefficients(dims, **args)


def test_master_equation_argument_errors():
    device = ga.presets.load("sequential_pair")
    with pytest.raises(ValueError, match="frequencies"):
        ga.master_equation(device, frequencies=[4.6 * GHz])
    with pytest.raises(ValueError, match="frequencies"):
        ga.master_equation(device, frequencies=[-1.0, 4.6 * GHz])
