"""Tests of giantatoms.measure.metrics against analytic oracles and QuTiP."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giantatoms.measure.metrics import (
    BELL_STATES,
    bell_fidelity,
    bell_state,
    concurrence,
    excited_population,
    log_negativity,
    negativity,
    optimal_phases,
    partial_trace,
    populations,
    purity,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import qutip

ATOL = 1e-10


# ---------------------------------------------------------------------------- helpers


def rand_rho(rng, d, batch=(), rank=None):
    """Random density matrices (Ginibre), shape (*batch, d, d)."""
    k = d if rank is None else rank
    g = rng.normal(size=(*batch, d, k)) + 1j * rng.normal(size=(*batch, d, k))
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    tr = np.trace(rho, axis1=-2, axis2=-1)
    return rho / tr[..., None, None]


def dm(vec):
    vec = np.asarray(vec, dtype=complex)
    return np.outer(vec, vec.conj())


def embed_qubits(rho4):
    """Embed two-qubit density matrices (..., 4, 4) into two qutrits (..., 9, 9)."""
    idx = np.array([0, 1, 3, 4])  # gg, ge, eg, ee for dims (3, 3)
    out = np.zeros((*rho4.shape[:-2], 9, 9), dtype=complex)
    out[..., idx[:, None], idx[None, :]] = rho4
    return out


def z_rot(phi_a, phi_b, levels=2):
    ua = np.eye(levels, dtype=complex)
    ub = np.eye(levels, dtype=complex)
    ua[1, 1] = np.exp(1j * phi_a)
    ub[1, 1] = np.exp(1j * phi_b)
    return np.kron(ua, ub)


def werner(p):
    psi = dm(bell_state("psi-"))
    return p * psi + (1 - p) * np.eye(4) / 4


# ---------------------------------------------------------------------------- Bell states


def test_bell_state_vectors_and_sign_convention():
    s = 1 / np.sqrt(2)
    # index = 2*level_A + level_B: gg=0, ge=1, eg=2, ee=3
    np.testing.assert_allclose(bell_state("psi-"), [0, -s, s, 0])
    np.testing.assert_allclose(bell_state("psi+"), [0, s, s, 0])
    np.testing.assert_allclose(bell_state("phi+"), [s, 0, 0, s])
    np.testing.assert_allclose(bell_state("phi-"), [s, 0, 0, -s])
    # qutrit embedding: eg = 3, ge = 1
    v = bell_state("Psi-", dims=(3, 3))
    assert v.shape == (9,)
    assert v[3] == pytest.approx(s) and v[1] == pytest.approx(-s)
    np.testing.assert_allclose(bell_state("Ψ-"), bell_state("psi-"))
    np.testing.assert_allclose(bell_state("Φ+"), bell_state("phi+"))


@pytest.mark.parametrize("dims", [(2, 2), (3, 3), (2, 3)])
def test_bell_fidelity_orthonormal(dims):
    for a in BELL_STATES:
        rho = dm(bell_state(a, dims))
        for b in BELL_STATES:
            f = bell_fidelity(rho, b, dims=dims)
            assert f == pytest.approx(1.0 if a == b else 0.0, abs=ATOL)
            assert np.isrealobj(f)


def test_product_ground_state():
    rho = dm([1, 0, 0, 0])
    assert concurrence(rho) == pytest.approx(0, abs=ATOL)
    assert negativity(rho) == pytest.approx(0, abs=ATOL)
    assert log_negativity(rho) == pytest.approx(0, abs=ATOL)
    assert purity(rho) == pytest.approx(1, abs=ATOL)
    pops = populations(rho)
    assert pops["gg"] == pytest.approx(1)
    assert pops["leakage"] == 0.0
    assert pops["phi+"] == pytest.approx(0.5)


@pytest.mark.parametrize("name", BELL_STATES)
@pytest.mark.parametrize("dims", [(2, 2), (3, 3)])
def test_bell_states_maximally_entangled(name, dims):
    rho = dm(bell_state(name, dims))
    assert concurrence(rho, dims=dims) == pytest.approx(1, abs=1e-9)
    assert negativity(rho, dims=dims) == pytest.approx(0.5, abs=ATOL)
    assert log_negativity(rho, dims=dims) == pytest.approx(1, abs=ATOL)
    assert purity(rho) == pytest.approx(1, abs=ATOL)


@pytest.mark.parametrize("p", [0.0, 0.2, 1 / 3, 0.5, 0.8, 1.0])
def test_werner_state(p):
    rho = werner(p)
    assert concurrence(rho) == pytest.approx(max(0, (3 * p - 1) / 2), abs=1e-9)
    assert negativity(rho) == pytest.approx(max(0, (3 * p - 1) / 4), abs=ATOL)
    assert bell_fidelity(rho) == pytest.approx((1 + 3 * p) / 4, abs=ATOL)
    assert bell_fidelity(rho, optimize_phases=True) == pytest.approx((1 + 3 * p) / 4, abs=ATOL)
    assert purity(rho) == pytest.approx((1 + 3 * p**2) / 4, abs=ATOL)


def test_werner_batched_over_p():
    p = np.linspace(0, 1, 11)
    rho = werner(p[:, None, None])
    np.testing.assert_allclose(concurrence(rho), np.maximum(0, (3 * p - 1) / 2), atol=1e-9)
    np.testing.assert_allclose(negativity(rho), np.maximum(0, (3 * p - 1) / 4), atol=ATOL)
    np.testing.assert_allclose(bell_fidelity(rho), (1 + 3 * p) / 4, atol=ATOL)


@pytest.mark.parametrize("c", [-1.0, -0.6, 0.0, 0.3, 1.0])
def test_dephased_singlet(c):
    """ρ = ½(|eg⟩⟨eg| + |ge⟩⟨ge|) + (c/2)(|eg⟩⟨ge| + h.c.): C = |c|, N = |c|/2."""
    rho = np.zeros((4, 4), dtype=complex)
    rho[1, 1] = rho[2, 2] = 0.5
    rho[1, 2] = rho[2, 1] = c / 2
    assert concurrence(rho) == pytest.approx(abs(c), abs=1e-9)
    assert negativity(rho) == pytest.approx(abs(c) / 2, abs=ATOL)
    assert bell_fidelity(rho, "psi-") == pytest.approx((1 - c) / 2, abs=ATOL)
    assert bell_fidelity(rho, "psi+") == pytest.approx((1 + c) / 2, abs=ATOL)
    assert bell_fidelity(rho, "psi+", optimize_phases=True) == pytest.approx((1 + abs(c)) / 2)


# ---------------------------------------------------------------------------- phase optimisation


@pytest.mark.parametrize("name", BELL_STATES)
@pytest.mark.parametrize("levels", [2, 3])
def test_optimised_fidelity_undoes_local_z(name, levels):
    rng = np.random.default_rng(7)
    dims = (levels, levels)
    rho0 = dm(bell_state(name, dims))
    # the fidelity depends on φ_A − φ_B (Ψ±) or φ_A + φ_B (Φ±): keep that away from 0 mod 2π
    theta = rng.uniform(0.5, 2 * np.pi - 0.5, size=5)
    phi_a = rng.uniform(0, 2 * np.pi, size=5)
    phi_b = phi_a - theta if name.startswith("psi") else theta - phi_a
    u = np.stack([z_rot(a, b, levels) for a, b in zip(phi_a, phi_b, strict=True)])
    rho = u @ rho0 @ np.conj(np.swapaxes(u, -1, -2))
    plain = bell_fidelity(rho, name, dims=dims)
    best = bell_fidelity(rho, name, optimize_phases=True, dims=dims)
    assert np.all(plain < 1 - 1e-3)
    np.testing.assert_allclose(best, 1.0, atol=ATOL)
    # the returned phase, applied on the second atom, restores the Bell state
    ph = optimal_phases(rho, name, dims=dims)
    v = np.stack([z_rot(0.0, x, levels) for x in ph])
    fixed = v @ rho @ np.conj(np.swapaxes(v, -1, -2))
    np.testing.assert_allclose(bell_fidelity(fixed, name, dims=dims), 1.0, atol=ATOL)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(BELL_STATES),
    rank=st.integers(1, 4),
)
def test_optimised_fidelity_is_maximum(seed, name, rank):
    rng = np.random.default_rng(seed)
    rho = rand_rho(rng, 4, rank=rank)
    plain = bell_fidelity(rho, name)
    best = bell_fidelity(rho, name, optimize_phases=True)
    assert best >= plain - 1e-12
    # brute force over a grid of local phases never beats the closed form
    grid = np.linspace(0, 2 * np.pi, 73)
    a, b = np.meshgrid(grid[::6], grid, indexing="ij")
    # U = diag(1, e^{ia}) ⊗ diag(1, e^{ib}) has diagonal phases a·n_A + b·n_B
    phase = a[..., None] * np.array([0, 0, 1, 1]) + b[..., None] * np.array([0, 1, 0, 1])
    u_diag = np.exp(1j * phase)
    rot = u_diag[..., :, None] * rho * np.conj(u_diag[..., None, :])
    brute = bell_fidelity(rot, name)
    assert brute.max() <= best + 1e-12
    assert brute.max() >= best - 5e-3
    # optimal_phases attains it
    phi = optimal_phases(rho, name)
    v = z_rot(0.0, float(phi))
    assert bell_fidelity(v @ rho @ v.conj().T, name) == pytest.approx(float(best), abs=1e-12)


# ---------------------------------------------------------------------------- QuTiP cross-checks


def test_concurrence_and_purity_vs_qutip():
    for seed in range(10):
        q = qutip.rand_dm([2, 2], seed=seed, rank=1 + seed % 4)
        assert concurrence(q.full()) == pytest.approx(qutip.concurrence(q), abs=1e-7)
        assert purity(q.full()) == pytest.approx((q * q).tr().real, abs=ATOL)
        assert concurrence(q) == pytest.approx(qutip.concurrence(q), abs=1e-7)  # Qobj input


@pytest.mark.parametrize("dims", [(2, 2), (3, 3), (2, 3), (3, 2)])
def test_negativity_vs_qutip(dims):
    for seed in range(5):
        q = qutip.rand_dm(list(dims), seed=seed, distribution="pure" if seed == 0 else "ginibre")
        rho = q.full()
        ref = qutip.negativity(q, 1, method="eigenvalues")
        assert negativity(rho, dims=dims) == pytest.approx(ref, abs=1e-9)
        ref_log = qutip.negativity(q, 1, method="eigenvalues", logarithmic=True)
        assert log_negativity(rho, dims=dims) == pytest.approx(ref_log, abs=1e-9)
        # negativity is symmetric under transposing the other party
        assert negativity(rho, dims=dims, atoms=(1, 0)) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize(
    ("dims", "keep"),
    [
        ((2, 2), (0,)),
        ((2, 2), (1,)),
        ((3, 3), (1, 0)),
        ((2, 3, 2), (0, 2)),
        ((2, 3, 2), (2, 0)),
        ((2, 3, 2), (1,)),
        ((3, 2, 3), (2, 1)),
        ((3, 2, 3), (0, 1, 2)),
        ((3, 2, 3), (1, 2, 0)),
        ((2, 2, 3, 2), (3, 1)),
    ],
)
def test_partial_trace_vs_qutip(dims, keep):
    q = qutip.rand_dm(list(dims), seed=3)
    ref = q.ptrace(sorted(keep))
    order = [sorted(keep).index(k) for k in keep]
    if len(keep) > 1:
        ref = ref.permute(order)
    np.testing.assert_allclose(partial_trace(q.full(), dims, keep), ref.full(), atol=ATOL)


def test_partial_trace_batched_and_empty_keep():
    rng = np.random.default_rng(0)
    dims = (2, 3, 2)
    rho = rand_rho(rng, 12, batch=(3, 4))
    red = partial_trace(rho, dims, (2, 1))
    assert red.shape == (3, 4, 6, 6)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(red[i, j], partial_trace(rho[i, j], dims, (2, 1)))
    tr = partial_trace(rho, dims, ())
    assert tr.shape == (3, 4, 1, 1)
    np.testing.assert_allclose(tr[..., 0, 0], 1.0, atol=ATOL)


def test_excited_population_vs_qutip():
    dims = [2, 3, 3]
    q = qutip.rand_dm(dims, seed=11)
    for atom, n in enumerate(dims):
        proj_g = qutip.tensor(
            *[qutip.basis(m, 0).proj() if k == atom else qutip.qeye(m) for k, m in enumerate(dims)]
        )
        ref = 1 - qutip.expect(proj_g, q)
        assert excited_population(q.full(), atom, dims) == pytest.approx(ref, abs=ATOL)
        assert n >= 2
    assert excited_population(dm(bell_state("psi-")), 0) == pytest.approx(0.5)


# ---------------------------------------------------------------------------- batching


def _all_metrics(rho, dims=None, atoms=None):
    out = {
        "F": bell_fidelity(rho, "psi-", dims=dims, atoms=atoms),
        "Fopt": bell_fidelity(rho, "phi+", optimize_phases=True, dims=dims, atoms=atoms),
        "phase": optimal_phases(rho, "psi+", dims=dims, atoms=atoms),
        "C": concurrence(rho, dims=dims, atoms=atoms),
        "N": negativity(rho, dims=dims, atoms=atoms),
        "EN": log_negativity(rho, dims=dims, atoms=atoms),
        "P": purity(rho),
        "exc": excited_population(rho, 0, dims),
    }
    for k, v in populations(rho, dims=dims, atoms=atoms).items():
        out["pop_" + k] = v
    return out


@pytest.mark.parametrize(
    ("dims", "atoms"), [((2, 2), None), ((3, 3), None), ((2, 3, 2), (2, 0)), ((3, 2, 3), (0, 2))]
)
def test_batched_equals_loop(dims, atoms):
    rng = np.random.default_rng(42)
    d = int(np.prod(dims))
    rho = rand_rho(rng, d, batch=(3, 4), rank=2)
    batched = _all_metrics(rho, dims, atoms)
    for key, val in batched.items():
        assert val.shape == (3, 4), key
        assert np.isrealobj(val), key
    for i in range(3):
        for j in range(4):
            single = _all_metrics(rho[i, j], dims, atoms)
            for key, val in single.items():
                assert val.shape == (), key
                np.testing.assert_allclose(batched[key][i, j], val, atol=1e-9, err_msg=key)


# ---------------------------------------------------------------------------- qutrit embedding


def test_qubit_state_embedded_in_qutrits_gives_same_metrics():
    rng = np.random.default_rng(5)
    rho4 = rand_rho(rng, 4, batch=(6,))
    rho9 = embed_qubits(rho4)
    m4 = _all_metrics(rho4)
    m9 = _all_metrics(rho9)
    for key in m4:
        np.testing.assert_allclose(m9[key], m4[key], atol=1e-9, err_msg=key)
    np.testing.assert_array_equal(m4["pop_leakage"], 0.0)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.4])
@pytest.mark.parametrize("leak_state", [(2, 0), (0, 2), (2, 2), (1, 2)])
def test_leakage_population(p, leak_state):
    dims = (3, 3)
    leak = np.zeros(9)
    leak[np.ravel_multi_index(leak_state, dims)] = 1
    rho = (1 - p) * dm(bell_state("psi-", dims)) + p * dm(leak)
    pops = populations(rho)
    assert pops["leakage"] == pytest.approx(p, abs=ATOL)
    assert pops["psi-"] == pytest.approx(1 - p, abs=ATOL)
    assert bell_fidelity(rho) == pytest.approx(1 - p, abs=ATOL)
    assert bell_fidelity(rho, optimize_phases=True) == pytest.approx(1 - p, abs=ATOL)
    # concurrence on the unrenormalised qubit block: leakage counts as lost entanglement
    assert concurrence(rho) == pytest.approx(1 - p, abs=1e-9)
    q = sum(pops[k] for k in ("gg", "ge", "eg", "ee"))
    assert q + pops["leakage"] == pytest.approx(1.0, abs=ATOL)


# ---------------------------------------------------------------------------- multi-atom


def test_three_atoms_bell_pair_on_outer_atoms():
    dims = (3, 2, 3)
    bell = bell_state("psi-", (3, 3)).reshape(3, 3)  # [level_0, level_2]
    mid = np.array([0.6, 0.8])
    psi = np.einsum("ac,b->abc", bell, mid).reshape(-1)
    rho = dm(psi)
    assert bell_fidelity(rho, dims=dims, atoms=(0, 2)) == pytest.approx(1.0, abs=ATOL)
    # swapping the pair flips the sign of Ψ⁻ only (global), and swaps ge and eg
    assert bell_fidelity(rho, dims=dims, atoms=(2, 0)) == pytest.approx(1.0, abs=ATOL)
    assert concurrence(rho, dims=dims, atoms=(0, 2)) == pytest.approx(1.0, abs=1e-9)
    assert concurrence(rho, dims=dims, atoms=(0, 1)) == pytest.approx(0.0, abs=1e-9)
    assert negativity(rho, dims=dims, atoms=(1, 2)) == pytest.approx(0.0, abs=ATOL)
    assert negativity(rho, dims=dims, atoms=(2, 0)) == pytest.approx(0.5, abs=ATOL)
    assert excited_population(rho, 1, dims) == pytest.approx(0.64, abs=ATOL)

    rng = np.random.default_rng(1)
    r = rand_rho(rng, 18)
    a = populations(r, dims=dims, atoms=(0, 2))
    b = populations(r, dims=dims, atoms=(2, 0))
    assert a["ge"] == pytest.approx(b["eg"])
    assert a["leakage"] == pytest.approx(b["leakage"])


# ---------------------------------------------------------------------------- validation


def test_bad_inputs_raise_value_error():
    rho4 = np.eye(4) / 4
    with pytest.raises(ValueError, match="rho"):
        concurrence(np.ones((4, 3)))
    with pytest.raises(ValueError, match="rho"):
        purity(np.ones(4))
    with pytest.raises(ValueError, match="dims"):
        negativity(np.eye(8) / 8)
    with pytest.raises(ValueError, match="dims"):
        bell_fidelity(rho4, dims=(3, 3))
    with pytest.raises(ValueError, match="dims"):
        partial_trace(rho4, (2, 3), (0,))
    with pytest.raises(ValueError, match="atoms"):
        concurrence(rho4, atoms=(0, 2))
    with pytest.raises(ValueError, match="atoms"):
        concurrence(rho4, atoms=(1, 1))
    with pytest.raises(ValueError, match="atoms"):
        negativity(np.eye(8) / 8, dims=(2, 2, 2))
    with pytest.raises(ValueError, match="keep"):
        partial_trace(rho4, (2, 2), (2,))
    with pytest.raises(ValueError, match="keep"):
        partial_trace(rho4, (2, 2), (0, 0))
    with pytest.raises(ValueError, match="atom"):
        excited_population(rho4, 2)
    with pytest.raises(ValueError, match=r"state.*phi\+.*psi-"):
        bell_fidelity(rho4, "singlet")
    with pytest.raises(ValueError, match="psi"):
        bell_state("bell")
    with pytest.raises(ValueError, match="dims"):
        bell_state("psi-", dims=(2, 2, 2))


def test_concurrence_pure_states_analytic():
    """Pure |ψ⟩ = a|gg⟩ + b|ge⟩ + c|eg⟩ + d|ee⟩ has C = 2|ad − bc|, also at rank 1 to 1e-12."""
    rng = np.random.default_rng(3)
    v = rng.normal(size=(200, 4)) + 1j * rng.normal(size=(200, 4))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    rho = np.einsum("bi,bj->bij", v, v.conj())
    ref = 2 * np.abs(v[:, 0] * v[:, 3] - v[:, 1] * v[:, 2])
    np.testing.assert_allclose(concurrence(rho), ref, atol=1e-12)
    # product states: exactly (to round-off) zero
    prod = np.einsum("bi,bj->bij", v[:, :2], v[:, 2:]).reshape(200, 4)
    prod /= np.linalg.norm(prod, axis=1, keepdims=True)
    rho_p = np.einsum("bi,bj->bij", prod, prod.conj())
    np.testing.assert_allclose(concurrence(rho_p), 0.0, atol=1e-12)


def test_qobj_input_infers_dims():
    q = qutip.rand_dm([2, 3, 2], seed=4)
    ref = partial_trace(q.full(), (2, 3, 2), (0, 2))
    assert bell_fidelity(q, atoms=(0, 2)) == pytest.approx(float(bell_fidelity(ref)))
    assert negativity(q, atoms=(0, 2)) == pytest.approx(float(negativity(ref)))


# ---------------------------------------------------------------------------- state checks


def _metric_calls():
    """Every public function that takes ``rho``, as (name, call) pairs."""
    return [
        ("bell_fidelity", lambda r, **kw: bell_fidelity(r, **kw)),
        ("bell_fidelity_opt", lambda r, **kw: bell_fidelity(r, optimize_phases=True, **kw)),
        ("optimal_phases", lambda r, **kw: optimal_phases(r, **kw)),
        ("concurrence", lambda r, **kw: concurrence(r, **kw)),
        ("negativity", lambda r, **kw: negativity(r, **kw)),
        ("log_negativity", lambda r, **kw: log_negativity(r, **kw)),
        ("purity", lambda r, **kw: purity(r, **kw)),
        ("populations", lambda r, **kw: populations(r, **kw)),
        ("excited_population", lambda r, **kw: excited_population(r, 0, **kw)),
        ("partial_trace", lambda r, **kw: partial_trace(r, None, (0,), **kw)),
    ]


def _bad_states():
    nan = np.eye(4, dtype=complex) / 4
    nan[1, 2] = np.nan
    inf = np.eye(4, dtype=complex) / 4
    inf[0, 0] = np.inf
    non_hermitian = dm(bell_state("psi-"))
    non_hermitian[1, 2] += 0.3
    return {
        "minus_identity": (-np.eye(4), "trace"),
        "non_hermitian": (non_hermitian, "Hermitian"),
        "upper_triangular": (np.triu(np.ones((4, 4))) / 4, "Hermitian"),
        "imaginary_diagonal": (np.eye(4) / 4 + 0.1j * np.diag([1, 0, 0, 0]), "Hermitian"),
        "unnormalised": (2 * dm(bell_state("psi-")), "trace"),
        "zero": (np.zeros((4, 4)), "trace"),
        "nan": (nan, "finite"),
        "inf": (inf, "finite"),
    }


@pytest.mark.parametrize("case", list(_bad_states()))
@pytest.mark.parametrize(("name", "call"), _metric_calls(), ids=[n for n, _ in _metric_calls()])
def test_metrics_refuse_invalid_density_matrices(case, name, call):
    rho, what = _bad_states()[case]
    with pytest.raises(ValueError, match=rf"rho.*{what}") as info:
        call(rho)
    assert "rho" in str(info.value), name


def test_bell_fidelity_of_the_reported_non_density_matrices_raises():
    # the hostile-user report: −1.5 and 0 used to come back
    with pytest.raises(ValueError, match=r"rho must have unit trace.*\|tr ρ − 1\| = 5"):
        bell_fidelity(-np.eye(4))
    with pytest.raises(ValueError, match=r"rho must have unit trace.*tr ρ = -4"):
        concurrence(-np.eye(4))
    with pytest.raises(ValueError, match=r"rho must be Hermitian.*= 3\b"):
        bell_fidelity(np.array([[0, 0, 0, 0], [0, 0, -2, 0], [0, 1, 1, 0], [0, 0, 0, 0]]))


def test_strongly_negative_states_raise_in_concurrence():
    # Hermitian, unit trace, eigenvalue −0.5: only the eigen-decomposition sees it
    rho = np.diag([1.5, -0.5, 0.0, 0.0]).astype(complex)
    with pytest.raises(ValueError, match=r"rho must be positive semidefinite.*-0\.5"):
        concurrence(rho)
    # just beyond the tolerance, in a qutrit pair
    bad = dm(bell_state("psi-", (3, 3)))
    bad[0, 0] -= 1e-5
    bad[8, 8] += 1e-5
    with pytest.raises(ValueError, match=r"rho must be positive semidefinite"):
        concurrence(bad)
    assert float(concurrence(bad, atol=1e-4)) == pytest.approx(1.0, abs=1e-4)


def test_violation_is_located_in_the_batch():
    rng = np.random.default_rng(2)
    rho = rand_rho(rng, 4, batch=(3, 5))
    rho[2, 1] *= 1.5
    with pytest.raises(ValueError, match=r"rho.*trace.*= 0\.5.*batch index \(2, 1\)"):
        bell_fidelity(rho, optimize_phases=True)
    rho = rand_rho(rng, 4, batch=(3, 5))
    rho[1, 4, 0, 3] = np.nan
    with pytest.raises(ValueError, match=r"rho must be finite.*1 of 15.*batch index \(1, 4\)"):
        purity(rho)
    rho = rand_rho(rng, 4, batch=(3, 5))
    rho[0, 3, 2, 1] += 0.01
    with pytest.raises(ValueError, match=r"rho must be Hermitian.*0\.01.*batch index \(0, 3\)"):
        negativity(rho)
    rho = rand_rho(rng, 4, batch=(3, 5))
    w, v = np.linalg.eigh(rho[1, 1])
    w = np.array([-0.2, 0.2, 0.4, 0.6])
    rho[1, 1] = (v * w) @ v.conj().T
    with pytest.raises(ValueError, match=r"positive semidefinite.*-0\.2.*batch index \(1, 1\)"):
        concurrence(rho)


def test_invalid_point_in_a_large_batch_is_found():
    """The chunked check sees a bad point anywhere (first, middle and last chunk)."""
    rng = np.random.default_rng(3)
    rho = rand_rho(rng, 9, batch=(2500,), rank=3)
    bell_fidelity(rho)  # all valid
    for k in (0, 1234, 2499):
        bad = rho.copy()
        bad[k, 4, 0] += 1e-4
        with pytest.raises(ValueError, match=rf"Hermitian.*batch index \({k},\)"):
            bell_fidelity(bad)
        bad = rho.copy()
        bad[k, 8, 8] = np.inf
        with pytest.raises(ValueError, match=rf"finite.*batch index \({k},\)"):
            concurrence(bad)


@pytest.mark.parametrize(("name", "call"), _metric_calls(), ids=[n for n, _ in _metric_calls()])
def test_numerically_integrated_states_with_small_errors_pass(name, call):
    """Errors like those of time evolution (1e-9 … 1e-8, λ_min ~ −1e-9) are accepted."""
    rng = np.random.default_rng(11)
    rho = rand_rho(rng, 9, batch=(50,), rank=2)
    rho = np.concatenate([rho, embed_qubits(dm(bell_state("psi-"))[None])])
    noise = 1e-9 * (rng.normal(size=rho.shape) + 1j * rng.normal(size=rho.shape))
    noisy = rho + noise  # not exactly Hermitian, trace off by ~1e-8
    noisy[-1, 0, 0] -= 1e-9  # the pure state gets an eigenvalue ~ −1e-9
    out = call(noisy)
    ref = call(rho)
    if isinstance(out, dict):
        out, ref = out["psi-"], ref["psi-"]
    np.testing.assert_allclose(out, ref, atol=1e-6, err_msg=name)


def test_atol_keyword_and_constant():
    from giantatoms.measure.metrics import RHO_ATOL

    assert RHO_ATOL == 1e-6
    rho = dm(bell_state("psi-"))
    rho[0, 0] += 1e-4  # trace 1 + 1e-4
    with pytest.raises(ValueError, match="atol=1e-06"):
        bell_fidelity(rho)
    assert float(bell_fidelity(rho, atol=1e-3)) == pytest.approx(1.0)
    assert float(purity(rho, atol=np.inf)) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="finite"):
        purity(np.full((4, 4), np.nan), atol=np.inf)  # finiteness is always checked
    for bad in (-1e-6, np.nan, "1e-6", True, None):
        with pytest.raises(ValueError, match="atol"):
            bell_fidelity(np.eye(4) / 4, atol=bad)


def test_empty_batch_passes():
    rho = np.zeros((0, 4, 4), dtype=complex)
    assert bell_fidelity(rho).shape == (0,)
    assert purity(rho).shape == (0,)
