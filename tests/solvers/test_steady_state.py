"""Steady states: every method against QuTiP, analytic results and each other."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st

from giantatoms.model.lindblad import MasterEquation
from giantatoms.model.operators import embed, lowering
from giantatoms.solvers.liouvillian import liouvillian
from giantatoms.solvers.steady_state import (
    DenseSolver,
    DirectSolver,
    IterativeSolver,
    SteadyState,
    SteadyStateError,
    steady_state,
)

from tests.reference.random_models import (
    MHZ,
    collective_decay_pair,
    random_dims,
    random_master_equation,
)

METHODS = [
    "dense",
    "direct",
    "iterative",
    DenseSolver(chunk_size=1, threads=2),
    DirectSolver(permc_spec="MMD_AT_PLUS_A"),
    IterativeSolver(krylov="bicgstab"),
]
METHOD_IDS = ["dense", "direct", "iterative", "dense-chunk1", "direct-mmd", "bicgstab"]


def qutip_steady_state(me: MasterEquation, index=()) -> np.ndarray:
    h, cs = me.to_qutip(index)
    return qutip.steadystate(h, cs).full()


def check_solver(method, me: MasterEquation, reference: np.ndarray, *, atol: float = 1e-8):
    """Conformance suite every steady-state method must pass on a model with a unique state.

    Trace one, Hermitian, positive to tolerance, small residual (rechecked against the dense
    Liouvillian), consistent diagnostics, agreement with a reference density matrix.
    """
    result = steady_state(me, method)
    assert isinstance(result, SteadyState)
    rho = result.rho
    batch = me.batch_shape
    assert rho.shape == (*batch, me.dimension, me.dimension)
    for name in (
        "residual",
        "relative_residual",
        "trace_error",
        "hermiticity_error",
        "min_eigenvalue",
        "condition_estimate",
        "unique",
        "converged",
    ):
        assert np.shape(getattr(result, name)) == batch, name
    assert result.method in ("dense", "direct", "iterative", "matrix-free")
    assert result.dims == me.dims
    assert np.all(result.converged) and np.all(result.unique)
    np.testing.assert_allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, atol=1e-10)
    assert np.all(result.trace_error < 1e-10)
    np.testing.assert_allclose(rho, np.swapaxes(rho, -1, -2).conj(), atol=1e-10)
    assert np.all(result.hermiticity_error < 1e-10)
    assert np.all(result.min_eigenvalue > -1e-10)
    np.testing.assert_allclose(
        result.min_eigenvalue,
        np.linalg.eigvalsh(0.5 * (rho + np.swapaxes(rho, -1, -2).conj()))[..., 0],
        atol=1e-12,
    )
    assert np.all(result.relative_residual < 1e-12)
    # the reported residual is ‖L vec ρ‖₂ in rad/s
    lv = liouvillian(me)
    direct = np.linalg.norm(np.einsum("...ij,...j->...i", lv, rho.reshape(*batch, -1)), axis=-1)
    np.testing.assert_allclose(result.residual, direct, rtol=1e-6, atol=1e-13 * np.abs(lv).max())
    np.testing.assert_allclose(
        result.relative_residual,
        result.residual / np.linalg.norm(lv, axis=(-2, -1)),
        rtol=1e-9,
    )
    assert np.all(np.isfinite(result.condition_estimate))
    assert np.all(result.condition_estimate >= 1)
    np.testing.assert_allclose(rho, reference, rtol=0, atol=atol)
    return result


@pytest.mark.parametrize("seed", range(8))
def test_matches_qutip_on_random_models(seed):
    rng = np.random.default_rng(seed)
    me = random_master_equation(rng, random_dims(rng), n_random_jumps=int(rng.integers(0, 3)))
    result = steady_state(me)
    assert np.abs(result.rho - qutip_steady_state(me)).max() < 1e-8
    # "auto": dense up to d² = 400, the matrix-free solver above (issue 13).
    assert result.method == ("dense" if me.dimension**2 <= 400 else "matrix-free")


@pytest.mark.parametrize("method", METHODS, ids=METHOD_IDS)
def test_every_method_conforms(method):
    rng = np.random.default_rng(7)
    for dims in [(2,), (3,), (2, 2), (3, 2), (3, 3), (2, 2, 2)]:
        me = random_master_equation(rng, dims, n_random_jumps=int(rng.integers(0, 3)))
        check_solver(method, me, qutip_steady_state(me))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_random_jumps=st.integers(0, 3),
    energy_mhz=st.floats(0.01, 50.0),
)
def test_steady_states_are_physical(seed, n_random_jumps, energy_mhz):
    rng = np.random.default_rng(seed)
    me = random_master_equation(
        rng, random_dims(rng), n_random_jumps=n_random_jumps, energy_scale=energy_mhz * MHZ
    )
    result = steady_state(me)
    rho = result.rho
    assert result.converged
    assert abs(np.trace(rho) - 1) < 1e-10
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-12)
    assert np.linalg.eigvalsh(rho)[0] > -1e-10
    assert result.relative_residual < 1e-12


def test_batched_result_equals_the_loop_over_points(rng):
    me = random_master_equation(rng, (3, 2), n_random_jumps=2, batch_shape=(3, 4))
    batched = steady_state(me, DenseSolver(chunk_size=5, threads=2))
    assert batched.rho.shape == (3, 4, 6, 6)
    assert batched.converged.shape == (3, 4)
    for index in np.ndindex(3, 4):
        single = steady_state(me[index])
        np.testing.assert_allclose(batched.rho[index], single.rho, rtol=0, atol=1e-13)
        assert batched.residual[index] == pytest.approx(single.residual, rel=1e-3, abs=1e-6)
    # sparse methods loop over the batch too
    direct = steady_state(me[:2, :2], "direct")
    np.testing.assert_allclose(direct.rho, batched.rho[:2, :2], atol=1e-12)
    assert direct.rho.shape == (2, 2, 6, 6)


def test_resonance_fluorescence_of_a_driven_qubit():
    # ρ_ee = |Ω|² / (Δ² + Γ²/4 + 2|Ω|²) for H = Δ σ†σ + Ω σ† + Ω* σ and decay Γ.
    gamma, omega = 1.7 * MHZ, (0.6 + 0.3j) * MHZ
    detuning = np.linspace(-5, 5, 11) * MHZ
    sigma = lowering(2)
    h = detuning[:, None, None] * (sigma.T @ sigma) + omega * sigma.T + np.conj(omega) * sigma
    me = MasterEquation(
        hamiltonian=h,
        jump_operators=np.sqrt(gamma) * sigma[None],
        dims=(2,),
        atom_names=("A",),
        jump_labels=("decay:A",),
    )
    for method in ("dense", "direct", "iterative", "matrix-free"):
        rho = steady_state(me, method).rho
        expected = abs(omega) ** 2 / (detuning**2 + gamma**2 / 4 + 2 * abs(omega) ** 2)
        np.testing.assert_allclose(rho[:, 1, 1].real, expected, rtol=1e-10)


def _degenerate_pairs() -> MasterEquation:
    """Batch of 3: unique, degenerate (collective decay only), unique."""
    rng = np.random.default_rng(3)
    unique_model = random_master_equation(rng, (2, 2), n_random_jumps=0)
    degenerate = collective_decay_pair()
    k = unique_model.n_jumps
    jumps = np.zeros((3, k, 4, 4), complex)
    jumps[0] = unique_model.jump_operators
    jumps[2] = unique_model.jump_operators
    jumps[1, 0] = degenerate.jump_operators[0]
    h = np.stack([unique_model.hamiltonian, degenerate.hamiltonian, unique_model.hamiltonian])
    return MasterEquation(
        hamiltonian=h,
        jump_operators=jumps,
        dims=(2, 2),
        atom_names=("A", "B"),
        jump_labels=unique_model.jump_labels,
    )


@pytest.mark.parametrize("method", ["dense", "direct", "iterative"])
def test_degenerate_steady_states_are_detected(method):
    me = _degenerate_pairs()
    flagged = steady_state(me, method, on_failure="flag")
    np.testing.assert_array_equal(flagged.unique, [True, False, True])
    np.testing.assert_array_equal(flagged.converged, [True, False, True])
    assert flagged.condition_estimate[1] > 1e12
    with pytest.raises(SteadyStateError, match=r"\(1,\)") as info:
        steady_state(me, method)
    assert info.value.indices == [(1,)]
    assert "steady state" in info.value.reasons[0]
    assert isinstance(info.value, RuntimeError)
    np.testing.assert_array_equal(info.value.result.converged, [True, False, True])


def test_degenerate_with_hamiltonian_is_detected():
    # Equal detunings and exchange keep the singlet dark and steady beside |gg⟩.
    dims = (2, 2)
    a, b = embed(lowering(2), 0, dims), embed(lowering(2), 1, dims)
    h = 0.37 * MHZ * (a.T @ a + b.T @ b) + 0.77 * MHZ * (a.T @ b + b.T @ a)
    me = MasterEquation(
        hamiltonian=h,
        jump_operators=collective_decay_pair(1.3 * MHZ).jump_operators,
        dims=dims,
        atom_names=("A", "B"),
        jump_labels=("collective",),
    )
    for method in ("dense", "direct", "iterative", "matrix-free"):
        assert not steady_state(me, method, on_failure="flag").unique


def test_exactly_singular_points_get_nan_and_do_not_spoil_the_chunk():
    me = _degenerate_pairs()
    result = steady_state(me, DenseSolver(chunk_size=3, threads=1), on_failure="flag")
    # the collective-decay Liouvillian is exactly singular in floating point: the chunk's
    # batched solve raises, the chunk is redone point by point, only point 1 is lost
    assert result.info["singular_chunks"] == 1
    assert np.isnan(result.rho[1]).all()
    assert result.condition_estimate[1] == np.inf
    assert np.isfinite(result.rho[[0, 2]]).all()
    np.testing.assert_allclose(result.rho[0], qutip_steady_state(me, (0,)), atol=1e-9)


def test_non_finite_input_is_flagged():
    rng = np.random.default_rng(5)
    me = random_master_equation(rng, (2,), batch_shape=(2,))
    h = me.hamiltonian.copy()
    h[1, 0, 0] = np.nan
    bad = dataclasses.replace(me, hamiltonian=h)
    result = steady_state(bad, on_failure="flag")
    np.testing.assert_array_equal(result.converged, [True, False])
    with pytest.raises(SteadyStateError, match="non-finite"):
        steady_state(bad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "lu"}, "method must be one of"),
        ({"method": 3}, "method must be one of"),
        ({"on_failure": "ignore"}, "on_failure must be one of"),
        ({"tol": 0.0}, "tol"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    me = collective_decay_pair()
    with pytest.raises(ValueError, match=match):
        steady_state(me, **kwargs)


def test_solver_objects_validate_their_parameters():
    with pytest.raises(ValueError, match="max_condition"):
        DenseSolver(max_condition=0.5)
    with pytest.raises(ValueError, match="threads"):
        DenseSolver(threads=0)
    with pytest.raises(ValueError, match="permc_spec"):
        DirectSolver(permc_spec="AMD")
    with pytest.raises(ValueError, match="krylov"):
        IterativeSolver(krylov="cg")
    with pytest.raises(ValueError, match="rtol"):
        IterativeSolver(rtol=2.0)
    assert DenseSolver() == DenseSolver()  # plain parameter holders


def test_auto_picks_by_liouvillian_size(rng):
    assert steady_state(random_master_equation(rng, (3, 3))).method == "dense"
    # Above d² = 400 the matrix-free solver (issue 13; the sparse ones stay selectable).
    assert steady_state(random_master_equation(rng, (3, 3, 3))).method == "matrix-free"
    result = steady_state(random_master_equation(rng, (3, 3)), chunk_size=7)
    assert result.info["chunk_size"] == 7


def test_medium_model_sparse_methods_agree_with_dense_and_qutip():
    # Five two-level atoms: d² = 1024.
    rng = np.random.default_rng(11)
    me = random_master_equation(rng, (2, 2, 2, 2, 2), n_random_jumps=1)
    reference = qutip_steady_state(me)
    dense = check_solver("dense", me, reference)
    direct = check_solver("direct", me, reference)
    iterative = check_solver("iterative", me, reference)
    matrix_free = check_solver("matrix-free", me, reference)
    assert not matrix_free.info["fallback"].any()
    np.testing.assert_allclose(direct.rho, dense.rho, atol=1e-10)
    np.testing.assert_allclose(iterative.rho, dense.rho, atol=1e-10)
    assert iterative.info["krylov_info"] == 0
    assert iterative.info["iterations"] > 0


def test_repr_summarises_the_result(rng):
    result = steady_state(random_master_equation(rng, (2,), batch_shape=(4,)))
    text = repr(result)
    assert "converged=4/4" in text and "dense" in text


def _driven_giant_atoms(n: int, **extra) -> MasterEquation:
    """n driven two-level giant atoms (two points each) with collective channels, T1, T_φ."""
    import giantatoms as ga
    from giantatoms.units import GHz, MHz, us

    atoms = [
        ga.Atom(f"Q{j}", frequency=4.6 * GHz, points=[0.3 * j, 0.3 * j + 0.084],
                point_rates=2 * MHz, t1=30 * us, t_phi=60 * us, **extra)
        for j in range(n)
    ]  # fmt: skip
    device = ga.Device(waveguide=ga.Waveguide(1.2e8), atoms=atoms)
    drive = ga.Drive(frequency=4.6 * GHz + 2 * MHz, power_dbm=-128)
    return ga.master_equation(device, drive, check_delays=False)


@pytest.mark.parametrize("extra", [{}, {"n_thermal": 0.05}, {"right_fraction": 0.8}])
def test_matrix_free_agrees_with_the_sparse_direct_solution(extra):
    me = _driven_giant_atoms(6, **extra)  # d² = 4096
    direct = steady_state(me, "direct")
    free = steady_state(me, "matrix-free")
    assert free.method == "matrix-free" and not free.info["fallback"]
    np.testing.assert_allclose(free.rho, direct.rho, atol=1e-9)
    assert free.relative_residual < 1e-12 and free.trace_error < 1e-12
    assert free.info["krylov_info"] == 0 and free.info["iterations"] > 0


def test_matrix_free_falls_back_where_a_state_never_decays_without_jumps():
    """Undriven atoms: |g…g⟩ does not decay under H_eff, so S is singular; the sparse direct
    solver takes that point and the result says so."""
    import giantatoms as ga
    from giantatoms.units import GHz, MHz, us

    atoms = [ga.Atom(f"Q{j}", 4.6 * GHz, [0.3 * j], 2 * MHz, t1=30 * us) for j in range(5)]
    me = ga.master_equation(ga.Device(ga.Waveguide(1.2e8), atoms), check_delays=False)
    result = steady_state(me, "matrix-free")
    assert result.info["fallback"]
    assert result.rho[0, 0] == pytest.approx(1.0, abs=1e-10)  # the ground state
    assert result.converged


def test_matrix_free_solver_parameters_are_checked():
    from giantatoms.solvers.steady_state import MatrixFreeSolver

    with pytest.raises(ValueError, match="rtol"):
        MatrixFreeSolver(rtol=0.0)
    with pytest.raises(ValueError, match="restart"):
        MatrixFreeSolver(restart=0)


def _null_dimension(me: MasterEquation) -> int:
    """Independent count: the complex Liouvillian's singular values below 1e-10 × largest."""
    from giantatoms.solvers.liouvillian import liouvillian

    s = np.linalg.svd(np.asarray(liouvillian(me)), compute_uv=False)
    return int(np.sum(s <= 1e-10 * s[0]))


def test_degenerate_kernels_are_counted():
    me = collective_decay_pair()
    result = steady_state(me, on_failure="flag")
    assert not result.unique
    assert result.kernel_dimension == _null_dimension(me) == 4  # |gg⟩, |S⟩ and coherences
    assert np.isinf(result.relaxation_time) or result.relaxation_time > 0
    with pytest.raises(SteadyStateError, match="kernel dimension 4"):
        steady_state(me)


def test_initial_state_gives_the_long_time_limit():
    """Collective decay from |eg⟩: half stays in the singlet, half decays to |gg⟩; the same
    as a long exact propagation."""
    from giantatoms.solvers.evolution import evolve_constant

    me = collective_decay_pair()
    eg = np.zeros((4, 4), complex)
    eg[1, 1] = 1.0
    result = steady_state(me, initial=eg)
    assert result.converged and not result.unique and result.kernel_dimension == 4
    late = evolve_constant(me, eg, [200e-6]).rho[-1]
    np.testing.assert_allclose(result.rho, late, atol=1e-9)
    singlet = np.array([0, 1, -1, 0]) / np.sqrt(2)
    assert np.real(singlet @ result.rho @ singlet) == pytest.approx(0.5)
    assert result.rho[0, 0].real == pytest.approx(0.5)
    # A unique steady state is the limit from any initial state.
    unique_model = random_master_equation(np.random.default_rng(5), (2, 2))
    plain = steady_state(unique_model)
    started = steady_state(unique_model, initial=np.eye(4) / 4)
    np.testing.assert_allclose(started.rho, plain.rho, atol=1e-12)
    with pytest.raises(ValueError, match="initial"):
        steady_state(me, initial=np.eye(3))


def test_nearly_degenerate_chains_are_flagged_with_their_relaxation_time():
    """A bidirectional chain at kd = π with alternating ±δ: unique, but reached only after
    ~10 ms (the condition estimate passes any uniqueness threshold); chirality lifts it."""
    import giantatoms as ga
    from giantatoms.units import GHz

    lam = 1.2e8 / 4.6e9

    def chain(fraction):
        atoms = [
            ga.Atom(f"A{j}", 4.6 * GHz + 2 * MHZ * (-1) ** j, [0.5 * lam * j], 2 * MHZ,
                    right_fraction=fraction)
            for j in range(3)
        ]  # fmt: skip
        device = ga.Device(ga.Waveguide(1.2e8), atoms)
        return ga.master_equation(device, ga.Drive(4.6 * GHz, -130.0), check_delays=False)

    bidirectional = steady_state(chain(0.5))
    assert bidirectional.unique and bidirectional.near_degenerate
    assert bidirectional.relaxation_time > 1e-3  # s, against µs decay times
    chiral = steady_state(chain(0.6))
    assert chiral.unique and not chiral.near_degenerate and np.isnan(chiral.relaxation_time)


def _kd_pi_chain(n: int, right: float = 0.5, drive: float = 0.3) -> MasterEquation:
    """n small atoms at kd = π, phases at one common frequency (the textbook master equation),
    detunings ±δ/2 alternating, a weak drive following the propagation phase; ``right`` is
    the fraction of each atom's rate γ into the right-going channel."""
    gamma = 2 * MHZ
    x = np.arange(n) * np.pi  # k·x_j
    g = np.empty((n, n), complex)
    for j in range(n):
        for k in range(n):
            if j > k:
                g[j, k] = 2 * gamma * right * np.exp(1j * (x[j] - x[k]))
            elif j < k:
                g[j, k] = 2 * gamma * (1 - right) * np.exp(-1j * (x[j] - x[k]))
            else:
                g[j, k] = gamma
    decay = 0.5 * (g + g.conj().T)
    coherent = 0.25j * (g.conj().T - g)
    return MasterEquation.from_coefficients(
        dims=(2,) * n,
        detunings=0.5 * gamma * (-1.0) ** np.arange(n) + np.real(np.diag(coherent)),
        exchange=coherent - np.diag(np.diag(coherent)),
        decay_matrix=decay,
        drive_amplitudes=drive * gamma * np.sqrt(right) * np.exp(1j * x),
    )


@pytest.mark.parametrize(("n", "dimension"), [(3, 2), (4, 6)])
def test_bidirectional_kd_pi_chains_have_several_steady_states(n, dimension):
    from giantatoms.solvers.evolution import evolve_constant

    me = _kd_pi_chain(n)
    result = steady_state(me, on_failure="flag")
    assert not result.unique and result.kernel_dimension == dimension == _null_dimension(me)
    # From the ground state: a definite long-time limit, the one a long propagation reaches.
    ground = np.zeros((2**n, 2**n), complex)
    ground[0, 0] = 1.0
    limit = steady_state(me, initial=ground)
    assert limit.converged and limit.min_eigenvalue > -1e-9
    late = evolve_constant(me, ground, [400e-6]).rho[-1]
    np.testing.assert_allclose(limit.rho, late, atol=1e-7)
    # Any chirality makes the steady state unique again.
    chiral = steady_state(_kd_pi_chain(n, right=0.6))
    assert chiral.unique and chiral.kernel_dimension == 1
