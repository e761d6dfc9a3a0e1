"""Time evolution: evolve_constant and evolve against QuTiP, analytic results and each other."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st

import giantatoms
from giantatoms.model.lindblad import MasterEquation
from giantatoms.model.operators import lowering
from giantatoms.solvers.evolution import Evolution, evolve, evolve_constant
from giantatoms.solvers.steady_state import steady_state

from tests.reference.random_models import (
    MHZ,
    decaying_dephasing_qubit,
    random_dims,
    random_master_equation,
)

QUTIP_OPTIONS = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100_000}
US = 1e-6


def qutip_evolution(me: MasterEquation, rho0, times, index=(), options=QUTIP_OPTIONS):
    """ρ(t) of one batch point from qutip.mesolve; ``times`` must start at 0."""
    h, cs = me.to_qutip(index)
    dims = [list(me.dims), list(me.dims)]
    result = qutip.mesolve(h, qutip.Qobj(np.asarray(rho0), dims=dims), times, cs, options=options)
    return np.array([state.full() for state in result.states])


def random_state(rng: np.random.Generator, d: int, rank: int = 2) -> np.ndarray:
    a = rng.normal(size=(d, rank)) + 1j * rng.normal(size=(d, rank))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def check_states(ev: Evolution, *, atol: float = 1e-10) -> None:
    """Trace one, Hermitian and positive (to rounding) at every save time."""
    assert np.all(ev.trace_error <= atol)
    assert np.all(ev.hermiticity_error <= atol)
    assert np.all(ev.min_eigenvalue >= -atol)
    trace = np.trace(ev.rho, axis1=-2, axis2=-1)
    np.testing.assert_allclose(trace, 1.0, atol=atol)
    np.testing.assert_allclose(ev.rho, np.swapaxes(ev.rho, -1, -2).conj(), atol=atol)


# --------------------------------------------------------------------------------------------
# Time-independent generators
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [(2,), (2, 2), (3, 2)])
@pytest.mark.parametrize("method", ["eigen", "expm", "krylov"])
def test_constant_matches_qutip_on_random_models(rng, dims, method):
    me = random_master_equation(rng, dims, batch_shape=(2,))
    d = me.dimension
    rho0 = random_state(rng, d)
    times = np.linspace(0.0, 2 * US, 9)
    ev = evolve_constant(me, rho0, times, method=method)
    assert ev.rho.shape == (2, times.size, d, d)
    assert ev.trace_error.shape == ev.min_eigenvalue.shape == (2, times.size)
    assert ev.method == method
    assert list(ev.point_method) == [method, method]
    np.testing.assert_array_equal(ev.times, times)
    for i in range(2):
        reference = qutip_evolution(me, rho0, times, (i,))
        np.testing.assert_allclose(ev.rho[i], reference, atol=1e-7, rtol=0)
    np.testing.assert_allclose(ev.rho[:, 0], np.broadcast_to(rho0, (2, d, d)), atol=1e-12)


@pytest.mark.parametrize("method", ["eigen", "expm"])
def test_long_times_reach_the_steady_state(rng, method):
    me = random_master_equation(rng, (3, 2), batch_shape=(3,))
    rho0 = random_state(rng, me.dimension)
    times = np.array([0.0, 0.3 * US, 1e-3])  # non-uniform: one exponential per interval
    ev = evolve_constant(me, rho0, times, method=method)
    expected = steady_state(me).rho
    np.testing.assert_allclose(ev.rho[:, -1], expected, atol=1e-8, rtol=0)
    # and it is not there yet at the first save time after t = 0
    assert np.abs(ev.rho[:, 1] - expected).max() > 1e-3


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["eigen", "expm", "krylov"]),
    span=st.floats(0.01, 20.0),
)
def test_trace_hermiticity_positivity_preserved(seed, method, span):
    rng = np.random.default_rng(seed)
    dims = random_dims(rng, max_dimension=12)
    me = random_master_equation(rng, dims, batch_shape=(2,))
    rho0 = random_state(rng, me.dimension, rank=1)  # pure: positivity is tight at t = 0
    times = np.sort(rng.uniform(0.0, span * US, size=6))
    ev = evolve_constant(me, rho0, times, method=method)
    check_states(ev)


@pytest.mark.parametrize("method", ["eigen", "expm", "krylov"])
def test_decaying_dephasing_qubit_analytic(method):
    gamma, dephasing, detuning = 1.0 * MHZ, 0.3 * MHZ, 2.0 * MHZ
    me = decaying_dephasing_qubit(gamma, dephasing, detuning)
    times = np.linspace(0.0, 3 * US, 31)
    plus = np.full((2, 2), 0.5, dtype=complex)
    excited = np.diag([0.0, 1.0]).astype(complex)
    ev = evolve_constant(me, np.stack([plus, excited]), times, method=method)
    # basis order: index 0 = g, 1 = e
    np.testing.assert_allclose(ev.rho[0, :, 1, 1], 0.5 * np.exp(-gamma * times), atol=1e-12)
    coherence = 0.5 * np.exp((-1j * detuning - gamma / 2 - dephasing) * times)
    np.testing.assert_allclose(ev.rho[0, :, 1, 0], coherence, atol=1e-12)
    np.testing.assert_allclose(
        np.abs(ev.rho[0, :, 1, 0]), 0.5 * np.exp(-(gamma / 2 + dephasing) * times), atol=1e-12
    )
    np.testing.assert_allclose(ev.rho[1, :, 1, 1], np.exp(-gamma * times), atol=1e-12)


def driven_qubit(detuning: float, drive: float, decay: float, batch=()) -> MasterEquation:
    return MasterEquation.from_coefficients(
        dims=(2,),
        detunings=np.full((*batch, 1), detuning),
        drive_amplitudes=np.full((*batch, 1), drive),
        intrinsic_decay=np.full((*batch, 1), decay),
    )


def test_rabi_oscillation():
    drive = 2.0 * MHZ
    times = np.linspace(0.0, 1 * US, 41)
    ground = np.diag([1.0, 0.0]).astype(complex)
    # lossless and resonant: Rabi frequency 2Ω
    ev = evolve_constant(driven_qubit(0.0, drive, 0.0), ground, times)
    np.testing.assert_allclose(ev.rho[:, 1, 1].real, np.sin(drive * times) ** 2, atol=1e-10)
    # detuned and decaying: against QuTiP
    me = driven_qubit(1.5 * MHZ, drive, 0.7 * MHZ)
    ev = evolve_constant(me, ground, times)
    np.testing.assert_allclose(ev.rho, qutip_evolution(me, ground, times), atol=1e-8)


def test_stiff_transmon_pair_matches_qutip():
    device = giantatoms.model.presets.load("sequential_pair")
    drive = giantatoms.Drive(frequency=device.atoms[0].frequency, power_dbm=-130)
    me = giantatoms.master_equation(device, drive)
    alpha = abs(device.atoms[0].anharmonicity)
    assert alpha / np.real(me.info["decay_matrix"][0, 0]) > 30  # the stiffness of the test
    d = me.dimension
    rho0 = np.zeros((d, d), complex)
    rho0[0, 0] = 1.0
    times = np.linspace(0.0, 2 * US, 5)
    ev = evolve_constant(me, rho0, times)
    assert ev.method == "eigen"
    # QuTiP's default Adams integrator needs minutes on this stiff problem; DOP853 at the same
    # tolerances takes about a second.
    reference = qutip_evolution(me, rho0, times, options=QUTIP_OPTIONS | {"method": "dop853"})
    np.testing.assert_allclose(ev.rho, reference, atol=1e-6, rtol=0)
    check_states(ev)


def test_batched_equals_loop(rng):
    me = random_master_equation(rng, (2, 2), batch_shape=(2, 3))
    rho0 = np.stack([[random_state(rng, 4) for _ in range(3)] for _ in range(2)])
    times = np.array([0.1, 0.2, 0.5, 1.3]) * US
    ev = evolve_constant(me, rho0, times, chunk_size=2)  # several chunks on the thread pool
    assert ev.rho.shape == (2, 3, 4, 4, 4)
    assert ev.point_method.shape == ev.condition_estimate.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            single = evolve_constant(me[i, j], rho0[i, j], times)
            np.testing.assert_allclose(ev.rho[i, j], single.rho, atol=1e-13)


@pytest.mark.parametrize(
    "times",
    [np.linspace(0.0, 2 * US, 11), np.array([0.05, 0.1, 0.4, 0.45, 1.7, 2.0]) * US],
    ids=["uniform", "irregular"],
)
def test_expm_path_agrees_with_eigen_path(rng, times):
    me = random_master_equation(rng, (3, 2), batch_shape=(4,))
    rho0 = random_state(rng, me.dimension)
    eigen = evolve_constant(me, rho0, times, method="eigen")
    assert eigen.method == "eigen"
    assert np.all(eigen.condition_estimate < 1e6)
    expm = evolve_constant(me, rho0, times, method="expm")
    np.testing.assert_allclose(expm.rho, eigen.rho, atol=1e-11)
    # a threshold below every condition number sends every point down the fallback
    forced = evolve_constant(me, rho0, times, max_condition=1.0001)
    assert forced.method == "expm"
    assert list(forced.point_method) == ["expm"] * 4
    np.testing.assert_allclose(forced.rho, expm.rho, atol=1e-14)


def test_defective_generator_falls_back_to_expm():
    # Critically damped Rabi oscillation (decay γ = 8Ω, resonant): the Bloch equations have a
    # Jordan block, the eigenvectors are nearly parallel and W e^{Λt} W⁻¹ loses accuracy.
    drive = 1.0 * MHZ
    me = MasterEquation.from_coefficients(
        dims=(2,),
        detunings=[[0.0], [0.0]],
        drive_amplitudes=[[drive], [drive]],
        intrinsic_decay=[[8 * drive], [3 * drive]],  # second point: underdamped, fine
    )
    ground = np.diag([1.0, 0.0]).astype(complex)
    times = np.linspace(0.0, 1 * US, 11)
    ev = evolve_constant(me, ground, times)
    assert ev.condition_estimate[0] > 1e6
    assert ev.condition_estimate[1] < 1e3
    assert list(ev.point_method) == ["expm", "eigen"]
    assert ev.method == "eigen+expm"
    for i in range(2):
        np.testing.assert_allclose(ev.rho[i], qutip_evolution(me, ground, times, (i,)), atol=1e-8)
    # long times: the Bloch steady state ρ_ee = Ω²/(γ²/4 + 2Ω²) = 1/18
    late = evolve_constant(me[0], ground, [1e-3])
    np.testing.assert_allclose(late.rho[0, 1, 1].real, 1 / 18, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Time-dependent generators
# --------------------------------------------------------------------------------------------

RAMP_START, RAMP_RATE = -20.0 * MHZ, 40.0 * MHZ / US  # Δ(t) = Δ₀ + βt, −20 → +20 MHz in 1 µs
RAMP_DRIVE, RAMP_DECAY = 3.0 * MHZ, 0.5 * MHZ


def ramp_generator(t: float) -> MasterEquation:
    return MasterEquation.from_coefficients(
        dims=(2,),
        detunings=[RAMP_START + RAMP_RATE * t],
        drive_amplitudes=[RAMP_DRIVE],
        intrinsic_decay=[RAMP_DECAY],
    )


@pytest.fixture(scope="module")
def ramp_reference():
    times = np.linspace(0.0, 1 * US, 11)
    h0, cs = ramp_generator(0.0).to_qutip()
    sigma = lowering(2)
    number = qutip.Qobj(sigma.conj().T @ sigma)
    hamiltonian = qutip.QobjEvo([h0, [number, lambda t: RAMP_RATE * t]])
    ground = qutip.Qobj(np.diag([1.0, 0.0]).astype(complex))
    result = qutip.mesolve(hamiltonian, ground, times, cs, options=QUTIP_OPTIONS)
    return times, np.array([state.full() for state in result.states])


def trace_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(np.linalg.eigvalsh(a - b)).sum(axis=-1)


def test_time_dependent_ramp_matches_qutip(ramp_reference):
    times, reference = ramp_reference
    ground = np.diag([1.0, 0.0]).astype(complex)
    errors = {}
    for rtol in (1e-5, 1e-9):
        ev = evolve(ramp_generator, ground, times, rtol=rtol, atol=rtol * 1e-2)
        assert ev.method == "magnus4"
        assert ev.steps >= times.size - 1
        assert ev.rejected_steps >= 0
        np.testing.assert_array_equal(ev.times, times)
        check_states(ev)
        true_error = trace_distance(ev.rho, reference)
        # the reported global error is an upper bound to leading order: never 10× too small
        assert np.all(true_error <= 10 * ev.error_estimate + 1e-9)
        assert np.all(np.diff(ev.error_estimate) >= 0)
        errors[rtol] = true_error.max()
    assert errors[1e-5] > 1e-8  # the ramp is hard enough for the loose run to show an error
    assert errors[1e-9] < 1e-7
    assert errors[1e-9] < errors[1e-5] / 10


def test_time_dependent_with_constant_generator_is_exact(rng):
    me = random_master_equation(rng, (3, 2), batch_shape=(3,))
    rho0 = random_state(rng, me.dimension)
    times = np.array([0.2, 0.7, 1.0]) * US
    ev = evolve(lambda t: me, rho0, times, rtol=1e-6)
    exact = evolve_constant(me, rho0, times)
    np.testing.assert_allclose(ev.rho, exact.rho, atol=1e-12)
    assert ev.rejected_steps == 0
    assert ev.error_estimate.shape == (3, times.size)


def test_time_dependent_batched_with_t0_and_max_step(rng):
    # Two ramps at once (different drives), starting at t0 ≠ 0, vs QuTiP per point.
    t0 = 0.5 * US
    drives = np.array([[2.0], [4.0]]) * MHZ

    def generator(t):
        return MasterEquation.from_coefficients(
            dims=(2,),
            detunings=np.full((2, 1), RAMP_START + RAMP_RATE * t),
            drive_amplitudes=drives,
            intrinsic_decay=np.full((2, 1), RAMP_DECAY),
        )

    times = t0 + np.array([0.0, 0.3, 0.6]) * US
    ground = np.diag([1.0, 0.0]).astype(complex)
    ev = evolve(generator, ground, times, t0=t0, max_step=0.05 * US)
    assert ev.rho.shape == (2, 3, 2, 2)
    assert ev.steps >= 12
    assert np.all(ev.info["step_sizes"] <= 0.05 * US * (1 + 1e-12))
    sigma = lowering(2)
    number = qutip.Qobj(sigma.conj().T @ sigma)
    for i in range(2):
        h0, cs = generator(0.0).to_qutip((i,))
        hamiltonian = qutip.QobjEvo([h0, [number, lambda t: RAMP_RATE * t]])
        result = qutip.mesolve(hamiltonian, qutip.Qobj(ground), times, cs, options=QUTIP_OPTIONS)
        reference = np.array([state.full() for state in result.states])
        np.testing.assert_allclose(ev.rho[i], reference, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@pytest.fixture
def qubit():
    return decaying_dephasing_qubit(1.0 * MHZ, 0.2 * MHZ)


GROUND = np.diag([1.0, 0.0]).astype(complex)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"times": [-1e-6, 1e-6]}, "times must be ≥"),
        ({"times": [0.0, 2e-6, 1e-6]}, "strictly increasing"),
        ({"times": [0.0, 1e-6, 1e-6]}, "strictly increasing"),
        ({"times": [[0.0, 1e-6]]}, "1-D"),
        ({"times": []}, "non-empty"),
        ({"times": [0.0, np.nan]}, "finite"),
        ({"rho0": np.eye(3) / 3}, "rho0 must have shape"),
        ({"rho0": np.eye(2)}, "rho0 must have unit trace"),
        ({"rho0": np.array([[0.5, 0.1], [0.0, 0.5]])}, "rho0 must be Hermitian"),
        ({"method": "rk45"}, "method must be one of"),
        ({"max_condition": 0.5}, "max_condition"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_evolve_constant_validation(qubit, kwargs, match):
    arguments = {"rho0": GROUND, "times": [0.0, 1e-6]} | kwargs
    with pytest.raises(ValueError, match=match):
        evolve_constant(qubit, **arguments)


def test_rho0_batch_must_broadcast(rng):
    me = random_master_equation(rng, (2,), batch_shape=(2,))
    with pytest.raises(ValueError, match="rho0 has batch shape"):
        evolve_constant(me, np.stack([GROUND] * 3), [1e-6])
    with pytest.raises(ValueError, match="rho0 has batch shape"):
        evolve(lambda t: me, np.stack([GROUND] * 3), [1e-6])
    # one generator, several initial states: the batch axes broadcast
    ev = evolve_constant(me[:, None], np.stack([GROUND, np.eye(2) / 2, GROUND[::-1, ::-1]]), [1e-6])
    assert ev.rho.shape == (2, 3, 1, 2, 2)
    np.testing.assert_allclose(
        ev.rho[1, 2], evolve_constant(me[1], GROUND[::-1, ::-1], [1e-6]).rho, atol=1e-14
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"times": [1e-7, 1e-6], "t0": 2e-7}, "times must be ≥ t0"),
        ({"rtol": 0.0}, "rtol must be > 0"),
        ({"atol": -1.0}, "atol"),
        ({"max_step": -1e-9}, "max_step must be > 0"),
        ({"max_steps": 0}, "max_steps"),
        ({"rho0": 2 * GROUND}, "unit trace"),
    ],
)
def test_evolve_validation(qubit, kwargs, match):
    arguments = {"rho0": GROUND, "times": [0.0, 1e-6]} | kwargs
    with pytest.raises(ValueError, match=match):
        evolve(lambda t: qubit, **arguments)


def test_evolve_rejects_bad_generators(qubit):
    with pytest.raises(TypeError, match="MasterEquation"):
        evolve(lambda t: qubit.hamiltonian, GROUND, [1e-6])
    other = random_master_equation(np.random.default_rng(0), (2,), batch_shape=(2,))
    with pytest.raises(RuntimeError, match="batch shape"):
        evolve(lambda t: qubit if t == 0 else other, GROUND, [1e-6])
    with pytest.raises(RuntimeError, match="max_steps"):
        evolve(ramp_generator, GROUND, [1e-6], max_steps=3)
