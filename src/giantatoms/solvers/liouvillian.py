"""Liouvillian superoperators of Lindblad master equations (PHYSICS.md §2–3).

Vectorisation convention
------------------------
Density matrices are stacked **row by row** (C order)::

    vec(ρ)[i*d + j] = ρ[i, j],        i.e. vec(ρ) = rho.reshape(..., d*d),

so that vec(A ρ B) = (A ⊗ Bᵀ) vec(ρ). With the effective Hamiltonian
H_eff = H − (i/2) Σ_k c_k† c_k the Liouvillian of dρ/dt = −i[H, ρ] + Σ_k 𝒟[c_k]ρ is

    L = −i H_eff ⊗ I + i I ⊗ conj(H_eff) + Σ_k c_k ⊗ conj(c_k).

QuTiP stacks columns instead (vec_col(ρ)[j*d + i] = ρ[i, j]); the two are related by the
permutation vec_col = P vec_row, L_qutip = P L Pᵀ.

Hermitian (real) representation
-------------------------------
A Lindblad generator maps Hermitian matrices to Hermitian matrices, so it is also a *real*
linear map on the d² real coordinates of a Hermitian matrix. In the orthonormal basis

    E_ii,   (E_ij + E_ji)/√2,   i(E_ij − E_ji)/√2        (i < j, pairs in ``np.triu_indices``
                                                          order)

the coordinates of ρ are x = [ρ_ii; √2 Re ρ_ij; √2 Im ρ_ij] (:func:`vectorize_hermitian`) and
the Liouvillian becomes the real matrix R = Vᴴ L V with V unitary. R is orthogonally similar to
L: same eigenvalues, singular values and Frobenius norm, at a quarter of the cost of complex
arithmetic in LU and eigenvalue solvers. :func:`real_liouvillian` returns it; the steady-state
and gap solvers use the same construction internally.

All operators are in rad/s (jump operators in √(rad/s)), so every Liouvillian is in rad/s.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from giantatoms.model.lindblad import MasterEquation

__all__ = [
    "dense_liouvillian",
    "liouvillian",
    "real_liouvillian",
    "sparse_liouvillian",
    "unvectorize",
    "unvectorize_hermitian",
    "vectorize",
    "vectorize_hermitian",
]


# --------------------------------------------------------------------------------------------
# Vectorisation
# --------------------------------------------------------------------------------------------


def vectorize(rho: ArrayLike) -> NDArray:
    """Stack density matrices row by row: vec(ρ)[i*d + j] = ρ[i, j].

    Parameters
    ----------
    rho : array_like, shape (..., d, d)

    Returns
    -------
    ndarray, shape (..., d²)
        A view of ``rho`` when it is C-contiguous.
    """
    rho = np.asarray(rho)
    if rho.ndim < 2 or rho.shape[-1] != rho.shape[-2]:
        raise ValueError(f"rho must have shape (..., d, d), got {rho.shape}")
    return rho.reshape(*rho.shape[:-2], rho.shape[-1] ** 2)


def unvectorize(vec: ArrayLike, d: int) -> NDArray:
    """Inverse of :func:`vectorize`.

    Parameters
    ----------
    vec : array_like, shape (..., d²)
    d : int
        Hilbert-space dimension.

    Returns
    -------
    ndarray, shape (..., d, d)
    """
    vec = np.asarray(vec)
    if vec.ndim < 1 or vec.shape[-1] != d * d:
        raise ValueError(f"vec must have shape (..., {d * d}) for d = {d}, got {vec.shape}")
    return vec.reshape(*vec.shape[:-1], d, d)


def vectorize_hermitian(rho: ArrayLike) -> NDArray[np.float64]:
    """Real coordinates of Hermitian matrices in the orthonormal Hermitian basis.

    Parameters
    ----------
    rho : array_like, complex, shape (..., d, d)
        Hermitian matrices (only the diagonal and upper triangle are read).

    Returns
    -------
    ndarray, float, shape (..., d²)
        [ρ_ii (d entries); √2 Re ρ_ij; √2 Im ρ_ij (i < j, ``np.triu_indices`` order)].
    """
    rho = np.asarray(rho)
    if rho.ndim < 2 or rho.shape[-1] != rho.shape[-2]:
        raise ValueError(f"rho must have shape (..., d, d), got {rho.shape}")
    d = rho.shape[-1]
    iu, ju = np.triu_indices(d, 1)
    upper = rho[..., iu, ju] * np.sqrt(2.0)
    diag = np.diagonal(rho, axis1=-2, axis2=-1).real
    return np.concatenate([diag, upper.real, upper.imag], axis=-1)


def unvectorize_hermitian(x: ArrayLike, d: int) -> NDArray[np.complex128]:
    """Inverse of :func:`vectorize_hermitian`.

    Parameters
    ----------
    x : array_like, float, shape (..., d²)
    d : int

    Returns
    -------
    ndarray, complex, shape (..., d, d)
        Hermitian matrices.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim < 1 or x.shape[-1] != d * d:
        raise ValueError(f"x must have shape (..., {d * d}) for d = {d}, got {x.shape}")
    return _rho_from_coordinates(x, d, scale=1.0 / np.sqrt(2.0))


def _rho_from_coordinates(x: NDArray[np.float64], d: int, scale: float) -> NDArray:
    """ρ from [ρ_ii; a; b] with ρ_ij = scale·(a + i b) for i < j (scale 1 or 1/√2)."""
    iu, ju = np.triu_indices(d, 1)
    m = iu.size
    rho = np.zeros((*x.shape[:-1], d, d), dtype=complex)
    upper = (x[..., d : d + m] + 1j * x[..., d + m :]) * scale
    rho[..., iu, ju] = upper
    rho[..., ju, iu] = upper.conj()
    idx = np.arange(d)
    rho[..., idx, idx] = x[..., :d]
    return rho


def state_diagnostics(rho: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """Diagnostics of density matrices: |tr ρ − 1|, max |ρ − ρ†|, λ_min of the Hermitian part.

    Parameters
    ----------
    rho : ndarray, complex, shape (..., d, d)

    Returns
    -------
    (ndarray, ndarray, ndarray), float, shape (...) each
        NaN as the smallest eigenvalue where ρ is not finite.
    """
    trace_error = np.abs(np.trace(rho, axis1=-2, axis2=-1) - 1.0)
    adjoint = np.swapaxes(rho, -1, -2).conj()
    hermiticity_error = np.abs(rho - adjoint).max(axis=(-2, -1))
    min_eigenvalue = np.full(rho.shape[:-2], np.nan)
    finite = np.isfinite(rho).all(axis=(-2, -1))
    if finite.any():
        min_eigenvalue[finite] = np.linalg.eigvalsh(0.5 * (rho[finite] + adjoint[finite]))[:, 0]
    return trace_error, hermiticity_error, min_eigenvalue


# --------------------------------------------------------------------------------------------
# Dense kernels
# --------------------------------------------------------------------------------------------


def _as_operator_arrays(
    hamiltonian: ArrayLike, jump_operators: ArrayLike
) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """Check shapes and broadcast the batch axes of H (…, d, d) and c (…, K, d, d)."""
    h = np.asarray(hamiltonian, dtype=complex)
    c = np.asarray(jump_operators, dtype=complex)
    if h.ndim < 2 or h.shape[-1] != h.shape[-2]:
        raise ValueError(f"hamiltonian must have shape (..., d, d), got {h.shape}")
    d = h.shape[-1]
    if c.ndim < 3 or c.shape[-2:] != (d, d):
        raise ValueError(f"jump_operators must have shape (..., K, {d}, {d}), got {c.shape}")
    batch = np.broadcast_shapes(h.shape[:-2], c.shape[:-3])
    return np.broadcast_to(h, (*batch, d, d)), np.broadcast_to(c, (*batch, c.shape[-3], d, d))


def _effective_hamiltonian(h: NDArray, c: NDArray) -> NDArray[np.complex128]:
    """H_eff = H − (i/2) Σ_k c_k† c_k for h (n, d, d), c (n, K, d, d)."""
    n, k, d, _ = c.shape
    stacked = c.reshape(n, k * d, d)
    heff = np.matmul(np.swapaxes(stacked, -1, -2).conj(), stacked)
    heff *= -0.5j
    heff += h
    return heff


def _realigned_liouvillian(
    h: NDArray, c: NDArray, *, with_norm: bool = False
) -> tuple[NDArray, ...]:
    """The Liouvillian in "realigned" (Choi) layout, X[(i,a), (j,b)] = L[(i,j), (a,b)].

    In that layout every term of L is a sum of outer products of vectorised operators,
    X = Σ_k vec(c_k) vec(c̄_k)ᵀ + vec(−i H_eff) vec(I)ᵀ + vec(I) vec(i H̄_eff)ᵀ,
    so the whole Liouvillian is one batched matrix product with inner dimension K + 2.

    Parameters
    ----------
    h : ndarray, complex, shape (n, d, d)
    c : ndarray, complex, shape (n, K, d, d)
    with_norm : bool
        Also return ‖L‖_F = ‖X‖_F, from the small Gram matrices of the two factors
        (‖AᵀB‖²_F = tr[(ĀAᵀ)(BBᴴ)]) instead of a pass over X.

    Returns
    -------
    x : ndarray, complex, shape (n, d², d²)
    heff : ndarray, complex, shape (n, d, d)
    frobenius : ndarray, float, shape (n,)
        Only with ``with_norm``.
    """
    n, k, d, _ = c.shape
    dd = d * d
    heff = _effective_hamiltonian(h, c)
    left = np.empty((n, k + 2, dd), dtype=complex)
    right = np.empty((n, k + 2, dd), dtype=complex)
    left[:, :k] = c.reshape(n, k, dd)
    np.multiply(heff.reshape(n, dd), -1j, out=left[:, k])
    left[:, k + 1] = np.eye(d).reshape(dd)
    np.conjugate(left[:, :k], out=right[:, :k])
    right[:, k] = left[:, k + 1]
    np.conjugate(left[:, k], out=right[:, k + 1])  # conj(−i H_eff) = i conj(H_eff)
    x = np.matmul(np.swapaxes(left, 1, 2), right)
    if not with_norm:
        return x, heff
    gram_left = np.matmul(left.conj(), np.swapaxes(left, 1, 2))
    gram_right = np.matmul(right, np.swapaxes(right, 1, 2).conj())
    squared = np.einsum("nkl,nlk->n", gram_left, gram_right).real
    return x, heff, np.sqrt(np.maximum(squared, 0.0))


def dense_liouvillian(hamiltonian: ArrayLike, jump_operators: ArrayLike) -> NDArray:
    """Dense row-major Liouvillian of a batch of Lindblad generators.

    Parameters
    ----------
    hamiltonian : array_like, complex, rad/s, shape (batch…, d, d)
    jump_operators : array_like, complex, √(rad/s), shape (batch…, K, d, d)
        The batch axes of the two arrays are broadcast together.

    Returns
    -------
    ndarray, complex, rad/s, shape (batch…, d², d²)
        L with (L @ vec(ρ)) = vec(dρ/dt) in the row-major convention of this module.
    """
    h, c = _as_operator_arrays(hamiltonian, jump_operators)
    batch, d = h.shape[:-2], h.shape[-1]
    n = int(np.prod(batch, dtype=int))
    x, _ = _realigned_liouvillian(h.reshape(n, d, d), c.reshape(n, c.shape[-3], d, d))
    # X[n, i, a, j, b] → L[n, i, j, a, b]
    out = x.reshape(n, d, d, d, d).transpose(0, 1, 3, 2, 4)
    return np.ascontiguousarray(out).reshape(*batch, d * d, d * d)


@lru_cache(maxsize=32)
def _hermitian_gather_tables(d: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index tables turning the realigned Liouvillian into the real Hermitian representation.

    The *unnormalised* Hermitian basis E_ii, E_ij + E_ji, i(E_ij − E_ji) (i < j) is used, with
    output rows Re(Lρ)_ii, Re(Lρ)_ij, Im(Lρ)_ij. With z1 = L[(i,j),(a,b)] and
    z2 = L[(i,j),(b,a)] the columns are L(E_aa) = z1, L(E_ab + E_ba) = z1 + z2 and
    L(i(E_ab − E_ba)) = i z1 − i z2, so every entry is ±(Re or Im of z1) ± (Re or Im of z2).
    The realigned X is Hermitian (it is the Choi matrix of a Hermiticity-preserving map), so
    −Im z = Im conj(z) is read at the mirrored position; the only negative *real* parts are
    the −Re z2 of the (Im row, i(E−Eᵀ) column) block, negated after the gather.

    Returns
    -------
    first : ndarray, int, shape (d², d²)
        Positions in the interleaved float view of X (length 2d⁴) of the z1 terms.
    second : ndarray, int, shape (d², d² − d)
        The same for the z2 terms of the non-diagonal columns.
    """
    dd = d * d
    iu, ju = np.triu_indices(d, 1)
    m = iu.size
    first = np.concatenate([np.arange(d), iu, iu])
    second = np.concatenate([np.arange(d), ju, ju])
    kind = np.concatenate([np.zeros(d, int), np.ones(m, int), np.full(m, 2)])  # diag / Re / Im
    pi, pj, rk = first[:, None], second[:, None], kind[:, None]  # output row (i, j)
    qa, qb, ck = first[None, :], second[None, :], kind[None, :]  # basis column (a, b)
    ones = np.ones((dd, dd), dtype=int)
    # flat positions in X[(i,a),(j,b)] of z1, z2 and of their mirrors conj(z1), conj(z2)
    z1 = ((pi * d + qa) * dd + pj * d + qb) * ones
    z1_mirror = ((pj * d + qb) * dd + pi * d + qa) * ones
    z2 = ((pi * d + qb) * dd + pj * d + qa) * ones
    z2_mirror = ((pj * d + qa) * dd + pi * d + qb) * ones
    col1 = np.where(ck == 2, 1j, 1.0 + 0j)
    col2 = np.where(ck == 0, 0j, np.where(ck == 2, -1j, 1.0 + 0j))
    row = np.where(rk == 2, -1j, 1.0 + 0j)  # Im w = Re(−i w)

    def encode(coef: NDArray, flat: NDArray, mirror: NDArray) -> NDArray[np.intp]:
        # coef ∈ {±1, ±i}: Re(coef·z) = ±Re z or ∓Im z
        real = np.abs(coef.real) > 0.5
        sign = np.where(real, coef.real, -coef.imag)
        return np.where(real, 2 * flat, np.where(sign > 0, 2 * flat + 1, 2 * mirror + 1))

    return (
        encode(row * col1, z1, z1_mirror).astype(np.intp),
        encode(row * col2, z2, z2_mirror)[:, d:].astype(np.intp),
    )


def _hermitian_liouvillian_unnormalised(
    h: NDArray, c: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.complex128]]:
    """Real Liouvillian in the unnormalised Hermitian basis (see `_hermitian_gather_tables`).

    It is similar to L through a diagonal scaling (same eigenvalues). With coordinates
    x = [ρ_ii; Re ρ_ij; Im ρ_ij] it maps x(ρ) to x(Lρ).

    Parameters
    ----------
    h : ndarray, complex, shape (n, d, d)
    c : ndarray, complex, shape (n, K, d, d)

    Returns
    -------
    r : ndarray, float, shape (n, d², d²)
    frobenius : ndarray, float, shape (n,)
        ‖L‖_F of each point (rad/s).
    heff : ndarray, complex, shape (n, d, d)
        Effective Hamiltonian H − (i/2) Σ c†c.
    """
    n, _, d, _ = c.shape
    dd = d * d
    m = d * (d - 1) // 2
    x, heff, frobenius = _realigned_liouvillian(h, c, with_norm=True)
    flat = x.reshape(n, -1).view(np.float64)
    first, second = _hermitian_gather_tables(d)
    r = np.empty((n, dd, dd))
    z2 = np.empty((n, dd, dd - d))
    np.take(flat, first, axis=1, out=r, mode="clip")
    np.take(flat, second, axis=1, out=z2, mode="clip")
    z2[:, d + m :, m:] *= -1.0
    r[:, :, d:] += z2
    return r, frobenius, heff


def real_liouvillian(hamiltonian: ArrayLike, jump_operators: ArrayLike) -> NDArray[np.float64]:
    """The Liouvillian as a real matrix on the orthonormal Hermitian basis.

    R = Vᴴ L V with V the unitary whose columns are E_ii, (E_ij + E_ji)/√2, i(E_ij − E_ji)/√2;
    ``R @ vectorize_hermitian(ρ) == vectorize_hermitian(L ρ)`` for Hermitian ρ. R has the same
    eigenvalues, singular values and Frobenius norm as L.

    Parameters
    ----------
    hamiltonian : array_like, complex, rad/s, shape (batch…, d, d)
    jump_operators : array_like, complex, √(rad/s), shape (batch…, K, d, d)

    Returns
    -------
    ndarray, float, rad/s, shape (batch…, d², d²)
    """
    h, c = _as_operator_arrays(hamiltonian, jump_operators)
    batch, d = h.shape[:-2], h.shape[-1]
    n = int(np.prod(batch, dtype=int))
    r, _, _ = _hermitian_liouvillian_unnormalised(
        h.reshape(n, d, d), c.reshape(n, c.shape[-3], d, d)
    )
    scale = np.concatenate([np.ones(d), np.full(d * d - d, np.sqrt(2.0))])
    r *= scale[:, None] / scale[None, :]
    return r.reshape(*batch, d * d, d * d)


# --------------------------------------------------------------------------------------------
# Sparse kernel
# --------------------------------------------------------------------------------------------


def sparse_liouvillian(hamiltonian: ArrayLike, jump_operators: ArrayLike) -> sp.csr_array:
    """Sparse row-major Liouvillian of one Lindblad generator.

    Built from sparse Kronecker products with sparse identities; no dense d² × d² array is
    formed, so it scales to Hilbert spaces of a few hundred states.

    Parameters
    ----------
    hamiltonian : array_like or sparse, complex, rad/s, shape (d, d)
    jump_operators : array_like, complex, √(rad/s), shape (K, d, d), or a sequence of K
        sparse (d, d) matrices

    Returns
    -------
    scipy.sparse.csr_array, complex, rad/s, shape (d², d²)
    """
    h = sp.csr_array(hamiltonian, dtype=complex)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ValueError(f"hamiltonian must have shape (d, d), got {h.shape}")
    d = h.shape[0]
    if sp.issparse(jump_operators) or (
        isinstance(jump_operators, Sequence) and any(sp.issparse(op) for op in jump_operators)
    ):
        ops = [sp.csr_array(op, dtype=complex) for op in jump_operators]
    else:
        dense = np.asarray(jump_operators, dtype=complex)
        if dense.ndim != 3 or dense.shape[-2:] != (d, d):
            raise ValueError(
                f"jump_operators must have shape (K, {d}, {d}) for one master equation, got "
                f"{dense.shape}; index the batch first"
            )
        ops = [sp.csr_array(op) for op in dense]
    for op in ops:
        if op.shape != (d, d):
            raise ValueError(f"every jump operator must have shape ({d}, {d}), got {op.shape}")
    eye = sp.identity(d, dtype=complex, format="csr")
    heff = h.copy()
    for op in ops:
        heff = heff - 0.5j * (op.conj().T @ op)
    heff = sp.csr_array(heff)
    out = -1j * sp.kron(heff, eye, format="csr") + 1j * sp.kron(eye, heff.conj(), format="csr")
    for op in ops:
        out = out + sp.kron(op, op.conj(), format="csr")
    out = sp.csr_array(out)
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def liouvillian(me: MasterEquation, *, sparse: bool = False) -> NDArray | sp.csr_array:
    """Liouvillian superoperator of a master equation (row-major vectorisation).

    Parameters
    ----------
    me : MasterEquation
        Batch shape (batch…); a single equation (batch shape ``()``) when ``sparse=True``.
    sparse : bool
        Return a ``scipy.sparse.csr_array`` built without any dense d² × d² array.

    Returns
    -------
    ndarray, complex, rad/s, shape (batch…, d², d²), or scipy.sparse.csr_array (d², d²)

    Raises
    ------
    ValueError
        ``sparse=True`` on a batched master equation.
    """
    if sparse:
        if me.batch_shape != ():
            example = "me[" + ", ".join("0" for _ in me.batch_shape) + "]"
            raise ValueError(
                f"sparse Liouvillians are built for one master equation at a time; this one has "
                f"batch shape {me.batch_shape}: index the batch first, e.g. {example}"
            )
        return sparse_liouvillian(me.hamiltonian, me.jump_operators)
    return dense_liouvillian(me.hamiltonian, me.jump_operators)


# --------------------------------------------------------------------------------------------
# Batching helpers shared by the dense solvers
# --------------------------------------------------------------------------------------------

#: Largest chunk of dense Liouvillians held at once, bytes of complex L (hard limit).
MAX_CHUNK_BYTES = 200 * 2**20
#: Working-set target of one chunk, bytes of complex L (cache-friendly default).
TARGET_CHUNK_BYTES = 4 * 2**20
#: Most batch points per default chunk (tiny Hilbert spaces).
MAX_CHUNK_POINTS = 2048


def default_threads() -> int:
    """Worker threads of the dense batched solvers: the CPU count, at most 8.

    The environment variable ``GIANTATOMS_THREADS`` overrides it; the sweep layer sets it to 1
    in its worker processes, where the parallelism is across processes.
    """
    pinned = os.environ.get("GIANTATOMS_THREADS", "")
    if pinned.isdigit() and int(pinned) > 0:
        return int(pinned)
    return max(1, min(os.cpu_count() or 1, 8))


def chunk_length(d: int, chunk_size: int | None) -> int:
    """Number of batch points per chunk for Hilbert dimension ``d``.

    ``chunk_size`` (if given) is clipped so that one chunk of complex Liouvillians stays below
    :data:`MAX_CHUNK_BYTES`; the default aims at :data:`TARGET_CHUNK_BYTES` (cache-sized).
    """
    per_point = 16 * d**4
    limit = max(1, MAX_CHUNK_BYTES // per_point)
    if chunk_size is None:
        return int(max(1, min(MAX_CHUNK_POINTS, TARGET_CHUNK_BYTES // per_point)))
    return int(max(1, min(int(chunk_size), limit)))


@lru_cache(maxsize=1)
def _openblas_thread_controls() -> tuple[tuple[Any, Any], ...]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (Linux).

    The fallback when threadpoolctl is not installed: numpy's wheels bundle OpenBLAS with
    prefixed symbols (e.g. ``scipy_openblas_set_num_threads64_``); they are found through
    ``/proc/self/maps``. Returns an empty tuple where that is not possible.
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted(
                {
                    line.split()[-1]
                    for line in maps
                    if "openblas" in line.lower() and line.split()[-1].startswith("/")
                }
            )
    except OSError:
        return ()
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
            getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                setter.restype = None
                controls.append((getter, setter))
                break
    return tuple(controls)


@contextmanager
def _blas_single_thread() -> Iterator[None]:
    """Run BLAS/LAPACK single-threaded inside the block, restoring the setting afterwards.

    The dense kernels make many small BLAS calls (81 × 81 LU, 81 × 8 × 81 products) for which
    OpenBLAS's own threads cost more than they gain (measured ≈ 1.4× slower on two cores), and
    our chunks already run on a thread pool. Uses threadpoolctl when it is installed, otherwise
    the OpenBLAS thread setters directly; does nothing when neither is available.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        controls = _openblas_thread_controls()
        previous = [getter() for getter, _ in controls]
        for _, setter in controls:
            setter(1)
        try:
            yield
        finally:
            for (_, setter), value in zip(controls, previous, strict=True):
                setter(value)
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def map_chunks(work: Callable[[slice], None], n_points: int, chunk: int, threads: int) -> None:
    """Call ``work(slice)`` on consecutive chunks of ``range(n_points)``, on a thread pool.

    ``work`` must write its results in place; numpy's linear-algebra kernels release the GIL,
    so chunks run concurrently. BLAS inner threading is pinned to one thread meanwhile (see
    `_blas_single_thread`), which avoids oversubscription.
    """
    slices = [slice(start, min(start + chunk, n_points)) for start in range(0, n_points, chunk)]
    threads = max(1, min(threads, len(slices)))
    with _blas_single_thread():
        if threads == 1:
            for part in slices:
                work(part)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(work, part) for part in slices]:
                future.result()
