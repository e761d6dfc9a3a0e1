"""Liouvillian gap: the slowest relaxation rate towards the steady state.

The eigenvalues λ of a Lindblad generator have Re λ ≤ 0; a unique steady state is the single
eigenvalue λ₀ = 0. The gap is −Re λ₁, where λ₁ is the non-steady eigenvalue with the largest
real part; it sets the stabilisation time 1/gap of driven-dissipative protocols (PHYSICS.md §6:
it scales as √(γ_nr Γ) for the dark-state scheme).

Methods
-------
* ``"dense"`` (d² ≤ 400 with ``"auto"``): all eigenvalues of the real Liouvillian in the
  orthonormal Hermitian basis (orthogonally similar to L, real arithmetic), batched
  ``np.linalg.eigvals`` over chunks of the batch on a small thread pool.
* ``"sparse"``: ARPACK (``scipy.sparse.linalg.eigs``) in shift-invert mode around a shift σ
  just right of 0 (σ = 10⁻⁶ × the rms row norm of L; L itself is singular, so σ = 0 cannot be
  factorised). **Caveat:** shift-invert returns the eigenvalues *closest to σ in magnitude*,
  not those with the largest real part: a slowly decaying mode that also oscillates fast
  (|Im λ| ≫ |Re λ|) can be missed, and the gap is then overestimated. Increase
  ``n_eigenvalues`` or use the dense method when that matters.

In both, exactly one eigenvalue is taken as the steady one, the one closest to 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from giantatoms.solvers.liouvillian import (
    _hermitian_liouvillian_unnormalised,
    chunk_length,
    default_threads,
    map_chunks,
    sparse_liouvillian,
)

if TYPE_CHECKING:
    from giantatoms.model.lindblad import MasterEquation

__all__ = ["LiouvillianGap", "liouvillian_gap"]

GAP_METHODS = ("auto", "dense", "sparse")
#: ``"auto"`` diagonalises densely up to this d².
AUTO_DENSE_MAX = 400
#: Shift of the shift-invert mode, relative to the rms row norm ‖L‖_F/d of L.
RELATIVE_SHIFT = 1e-6


@dataclass(frozen=True, eq=False, repr=False)
class LiouvillianGap:
    """Slowest relaxation of a batch of master equations.

    Attributes
    ----------
    gap : ndarray, float, rad/s, shape (batch…)
        −Re λ₁ ≥ 0 (rounding below zero is clipped to 0; 0 signals a second steady state).
    eigenvalues : ndarray, complex, rad/s, shape (batch…, n_eigenvalues)
        ``eigenvalues[..., 0]`` is the steady eigenvalue (the one closest to 0),
        ``eigenvalues[..., 1:]`` the next slowest sorted by decreasing real part (then
        decreasing imaginary part), so ``gap == -eigenvalues[..., 1].real``. Padded with NaN
        when fewer eigenvalues exist or were computed.
    method : str
        ``"dense"`` or ``"sparse"``.
    """

    gap: NDArray[np.float64]
    eigenvalues: NDArray[np.complex128]
    method: str

    def __repr__(self) -> str:
        return (
            f"LiouvillianGap(method={self.method!r}, batch_shape={self.gap.shape}, "
            f"gap={np.array2string(np.asarray(self.gap), precision=4, threshold=6)} rad/s)"
        )


def liouvillian_gap(
    me: MasterEquation, method: str = "auto", *, n_eigenvalues: int = 6
) -> LiouvillianGap:
    """Liouvillian gap and slowest eigenvalues of a batch of master equations.

    Parameters
    ----------
    me : MasterEquation
        Batch shape (batch…), Hilbert dimension d.
    method : {"auto", "dense", "sparse"}
        ``"auto"``: dense for d² ≤ 400, sparse shift-invert above (see the module caveat).
    n_eigenvalues : int
        Number of eigenvalues reported (≥ 2), the steady one included; for the sparse method
        also the number ARPACK computes.

    Returns
    -------
    LiouvillianGap
        ``gap`` (rad/s) of shape (batch…), ``eigenvalues`` of shape (batch…, n_eigenvalues).

    Raises
    ------
    ValueError
        Unknown ``method`` or ``n_eigenvalues`` < 2.
    """
    if not isinstance(method, str) or method not in GAP_METHODS:
        raise ValueError(f"method must be one of {list(GAP_METHODS)}, got {method!r}")
    if not (isinstance(n_eigenvalues, int | np.integer) and n_eigenvalues >= 2):
        raise ValueError(f"n_eigenvalues must be an integer ≥ 2, got {n_eigenvalues!r}")
    n_eigenvalues = int(n_eigenvalues)
    d = me.dimension
    dd = d * d
    if method == "auto":
        method = "dense" if dd <= AUTO_DENSE_MAX else "sparse"
    # ARPACK needs k < d² − 1; tiny spaces are diagonalised densely anyway.
    if method == "sparse" and dd <= n_eigenvalues + 2:
        method = "dense"

    batch = me.batch_shape
    n = int(np.prod(batch, dtype=int))
    h = me.hamiltonian.reshape(n, d, d)
    c = me.jump_operators.reshape(n, me.n_jumps, d, d)
    eigenvalues = np.full((n, n_eigenvalues), np.nan + 0j)

    if method == "dense":

        def work(part: slice) -> None:
            r, _, _ = _hermitian_liouvillian_unnormalised(
                np.ascontiguousarray(h[part]), np.ascontiguousarray(c[part])
            )
            eigenvalues[part] = _slowest(np.linalg.eigvals(r), n_eigenvalues)

        map_chunks(work, n, chunk_length(d, None), default_threads())
    else:
        for i in range(n):
            lv = sparse_liouvillian(h[i], c[i]).tocsc()
            shift = RELATIVE_SHIFT * np.sqrt(np.sum(np.abs(lv.data) ** 2)) / d
            values = spla.eigs(
                lv,
                k=min(n_eigenvalues, dd - 2),
                sigma=shift if shift > 0 else 1.0,
                which="LM",
                return_eigenvectors=False,
            )
            eigenvalues[i] = _slowest(values[None, :], n_eigenvalues)[0]

    gap = np.maximum(-eigenvalues[:, 1].real, 0.0)
    gap[np.isnan(eigenvalues[:, 1])] = np.nan
    return LiouvillianGap(
        gap=gap.reshape(batch),
        eigenvalues=eigenvalues.reshape(*batch, n_eigenvalues),
        method=method,
    )


def _slowest(values: NDArray[np.complex128], count: int) -> NDArray[np.complex128]:
    """Steady eigenvalue first, then the slowest others; values (n, m) → (n, count).

    The steady eigenvalue is the one of smallest modulus; the others are sorted by decreasing
    real part, then decreasing imaginary part (conjugate pairs: +Im first). Missing entries
    are NaN.
    """
    n, m = values.shape
    rows = np.arange(n)
    steady = np.argmin(np.abs(values), axis=1)
    by_real = -values.real
    by_real[rows, steady] = np.inf  # the steady one sorts last and is dropped
    order = np.lexsort((-values.imag, by_real), axis=1)[:, : m - 1]
    out = np.full((n, count), np.nan + 0j)
    out[:, 0] = values[rows, steady]
    kept = min(count - 1, m - 1)
    out[:, 1 : 1 + kept] = np.take_along_axis(values, order[:, :kept], axis=1)
    return out
