"""Liouvillian superoperators: conventions, QuTiP agreement, structural properties."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from giantatoms.solvers.liouvillian import (
    dense_liouvillian,
    liouvillian,
    real_liouvillian,
    sparse_liouvillian,
    unvectorize,
    unvectorize_hermitian,
    vectorize,
    vectorize_hermitian,
)

from tests.reference.random_models import (
    MHZ,
    random_dims,
    random_hermitian,
    random_master_equation,
)


def column_stacking_permutation(d: int) -> np.ndarray:
    """perm with vec_col = vec_row[perm] (QuTiP stacks columns, we stack rows)."""
    return np.arange(d * d).reshape(d, d).T.ravel()


def direct_generator(h, cs, rho):
    """dρ/dt = −i[H, ρ] + Σ (c ρ c† − ½{c†c, ρ}) written out."""
    out = -1j * (h @ rho - rho @ h)
    for c in cs:
        cdc = c.conj().T @ c
        out += c @ rho @ c.conj().T - 0.5 * (cdc @ rho + rho @ cdc)
    return out


def random_density_matrix(rng, d):
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


@pytest.mark.parametrize("seed", range(6))
def test_matches_qutip_up_to_the_stacking_permutation(seed):
    rng = np.random.default_rng(seed)
    me = random_master_equation(rng, random_dims(rng), n_random_jumps=int(rng.integers(0, 3)))
    d = me.dimension
    ours = liouvillian(me)
    h, cs = me.to_qutip()
    theirs = qutip.liouvillian(h, cs).full()
    perm = column_stacking_permutation(d)
    scale = np.abs(ours).max()
    np.testing.assert_allclose(theirs, ours[np.ix_(perm, perm)], rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("seed", range(4))
def test_sparse_equals_dense(seed):
    rng = np.random.default_rng(100 + seed)
    me = random_master_equation(rng, random_dims(rng), n_random_jumps=int(rng.integers(0, 3)))
    dense = liouvillian(me)
    sparse = liouvillian(me, sparse=True)
    assert sp.issparse(sparse) and sparse.format == "csr"
    np.testing.assert_allclose(sparse.toarray(), dense, rtol=0, atol=1e-13 * np.abs(dense).max())


def test_action_equals_the_direct_formula(rng):
    for _ in range(5):
        me = random_master_equation(rng, random_dims(rng), n_random_jumps=2)
        d = me.dimension
        rho = random_density_matrix(rng, d)
        expected = direct_generator(me.hamiltonian, me.jump_operators, rho)
        got = unvectorize(liouvillian(me) @ vectorize(rho), d)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * np.abs(expected).max())


def test_row_major_convention_vec_of_a_rho_b(rng):
    d = 3
    a, b, rho = (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)) for _ in range(3))
    np.testing.assert_allclose(vectorize(a @ rho @ b), np.kron(a, b.T) @ vectorize(rho))
    assert vectorize(rho)[1 * d + 2] == rho[1, 2]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_trace_and_hermiticity_preservation(seed):
    rng = np.random.default_rng(seed)
    me = random_master_equation(rng, random_dims(rng), n_random_jumps=int(rng.integers(0, 4)))
    d = me.dimension
    lv = liouvillian(me)
    scale = np.abs(lv).max()
    # trace preservation: vec(I)ᴴ L = 0
    np.testing.assert_allclose(vectorize(np.eye(d)).conj() @ lv, 0, atol=1e-12 * scale)
    # Hermiticity preservation: L maps Hermitian matrices to Hermitian matrices
    x = random_hermitian(rng, d, 1.0)
    out = unvectorize(lv @ vectorize(x), d)
    np.testing.assert_allclose(out, out.conj().T, atol=1e-12 * scale)


def test_batched_dense_equals_loop(rng):
    me = random_master_equation(rng, (2, 3), n_random_jumps=1, batch_shape=(2, 3))
    batched = liouvillian(me)
    assert batched.shape == (2, 3, 36, 36)
    for index in np.ndindex(2, 3):
        np.testing.assert_array_equal(batched[index], liouvillian(me[index]))
    # broadcasting of the kernel's batch axes
    one_h = dense_liouvillian(me.hamiltonian[0, 0], me.jump_operators[:, 0])
    np.testing.assert_allclose(
        one_h[1], dense_liouvillian(me.hamiltonian[0, 0], me.jump_operators[1, 0])
    )


def test_sparse_needs_a_single_master_equation(rng):
    me = random_master_equation(rng, (2,), batch_shape=(3, 2))
    with pytest.raises(ValueError, match=r"me\[0, 0\]"):
        liouvillian(me, sparse=True)
    assert liouvillian(me[1, 0], sparse=True).shape == (4, 4)


def test_sparse_builds_large_spaces_without_dense_superoperators():
    # d = 200: a dense d² × d² complex matrix would take 25.6 GB.
    d = 200
    levels = np.arange(d)
    h = np.diag(levels * 0.1 * MHZ).astype(complex)
    lowering = np.diag(np.sqrt(levels[1:]), k=1).astype(complex)
    lv = sparse_liouvillian(h, np.sqrt(1 * MHZ) * lowering[None])
    assert lv.shape == (d * d, d * d)
    assert lv.nnz < 3 * d * d
    rho = np.zeros((d, d), complex)
    rho[3, 3] = 1.0
    decay = unvectorize(lv @ vectorize(rho), d)
    assert decay[3, 3].real == pytest.approx(-3 * MHZ)
    assert decay[2, 2].real == pytest.approx(3 * MHZ)


def test_real_liouvillian_is_orthogonally_similar(rng):
    for dims in [(2,), (3,), (2, 2), (3, 2)]:
        me = random_master_equation(rng, dims, n_random_jumps=2)
        d = me.dimension
        lv = liouvillian(me)
        r = real_liouvillian(me.hamiltonian, me.jump_operators)
        assert r.dtype == np.float64
        assert np.linalg.norm(r) == pytest.approx(np.linalg.norm(lv), rel=1e-12)
        np.testing.assert_allclose(
            np.linalg.svd(r, compute_uv=False),
            np.linalg.svd(lv, compute_uv=False),
            rtol=1e-9,
            atol=1e-12 * np.abs(lv).max(),
        )
        rho = random_density_matrix(rng, d)
        np.testing.assert_allclose(
            r @ vectorize_hermitian(rho),
            vectorize_hermitian(unvectorize(lv @ vectorize(rho), d)),
            atol=1e-12 * np.abs(lv).max(),
        )


def test_hermitian_coordinates_round_trip_and_are_orthonormal(rng):
    d = 4
    rho = random_hermitian(rng, d, 1.0)
    x = vectorize_hermitian(rho)
    assert x.shape == (d * d,) and x.dtype == np.float64
    np.testing.assert_allclose(unvectorize_hermitian(x, d), rho, atol=1e-15)
    # isometry: the coordinates preserve the Hilbert–Schmidt norm
    assert np.linalg.norm(x) == pytest.approx(np.linalg.norm(rho))
    batch = random_hermitian(rng, d, 1.0, batch=(2, 3))
    np.testing.assert_allclose(unvectorize_hermitian(vectorize_hermitian(batch), d), batch)


def test_shape_errors_are_named():
    with pytest.raises(ValueError, match="hamiltonian"):
        dense_liouvillian(np.zeros((2, 3)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="jump_operators"):
        dense_liouvillian(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="index the batch"):
        sparse_liouvillian(np.zeros((2, 2)), np.zeros((3, 1, 2, 2)))
    with pytest.raises(ValueError, match="shape"):
        unvectorize(np.zeros(5), 2)
