"""Stationary states beyond the unique case: kernel dimension, relaxation time, ρ(∞) from ρ(0).

A Lindbladian can have several stationary states (a degenerate kernel: bidirectional chains at
kd = nπ, dark states protected by a symmetry) or one that is only *nearly* degenerate (a tiny
Liouvillian gap: the state the solver returns is approached on a time 1/gap that may exceed any
experiment). For the points where the linear solve looks ill-conditioned, this module takes the
real Liouvillian R (d² × d², the coordinates x = [ρ_ii; Re ρ_ij; Im ρ_ij]) and computes

* the kernel dimension: the number of singular values of R below ``tol`` × the largest;
* the relaxation time 1/gap, gap = the smallest |Re λ| of R outside the kernel (rad/s);
* with an initial state ρ(0), the long-time limit x(∞) = V (Wᵀ V)⁻¹ Wᵀ x(0): V and W are the
  right and left null vectors of R (from its SVD, R = U S Vᵀ: the last columns of V and of U).
  The left kernel holds the conserved quantities (the trace among them), so the projection
  keeps tr ρ = 1; it is the t → ∞ limit of e^{Rt} for a Lindbladian (its kernel eigenvalue 0 is
  semisimple).

Dense linear algebra of d² × d² matrices: meant for d² up to a few thousand (N ≲ 6 qubits).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.solvers._residual import lindblad_residual, liouvillian_frobenius
from giantatoms.solvers.liouvillian import (
    _hermitian_liouvillian_unnormalised,
    _rho_from_coordinates,
    state_diagnostics,
)

__all__ = [
    "KERNEL_TOLERANCE",
    "MAX_KERNEL_ANALYSIS",
    "NEAR_DEGENERATE_CONDITION",
    "analyse_kernels",
    "initial_states",
    "kernel_analysis",
]

#: Condition estimate above which a unique steady state is flagged as nearly degenerate (its
#: kernel and relaxation time are then computed): the state hangs on tiny parameters.
NEAR_DEGENERATE_CONDITION = 1e5

#: Singular values of R below this fraction of the largest count as exactly zero.
KERNEL_TOLERANCE = 1e-10
#: Largest d² for which the kernel analysis (dense SVD and eigenvalues of R) is done.
MAX_KERNEL_ANALYSIS = 4096


def _coordinates(rho: NDArray[np.complex128]) -> NDArray[np.float64]:
    """[ρ_ii; Re ρ_ij; Im ρ_ij] (i < j), the coordinates R acts on, shape (..., d²)."""
    d = rho.shape[-1]
    iu, ju = np.triu_indices(d, 1)
    upper = rho[..., iu, ju]
    diag = np.real(np.diagonal(rho, axis1=-2, axis2=-1))
    return np.concatenate([diag, upper.real, upper.imag], axis=-1)


def kernel_analysis(
    h: NDArray[np.complex128],
    c: NDArray[np.complex128],
    initial: NDArray[np.complex128] | None = None,
    tol: float = KERNEL_TOLERANCE,
) -> dict[str, Any]:
    """Kernel dimension, relaxation time and (with ``initial``) ρ(∞) of n points.

    Parameters
    ----------
    h : ndarray, complex, rad/s, shape (n, d, d)
    c : ndarray, complex, √(rad/s), shape (n, K, d, d)
    initial : ndarray, complex, shape (n, d, d), optional
        ρ(0) of each point.
    tol : float
        Relative singular-value threshold of the kernel.

    Returns
    -------
    dict
        ``kernel_dimension`` (n,) int; ``relaxation_time`` (n,) s (``inf`` when the gap is
        zero to rounding); ``rho`` (n, d, d) the long-time limit from ``initial`` (or ``None``);
        ``singular_values`` (n, 4) the four smallest, relative to the largest.
    """
    n, _, d, _ = c.shape
    r, _, _ = _hermitian_liouvillian_unnormalised(h, c)
    u, s, vt = np.linalg.svd(r)
    relative = s / s[:, :1]
    dimension = np.maximum(1, np.sum(relative <= tol, axis=-1))
    eig = np.linalg.eigvals(r)
    order = np.argsort(np.abs(eig), axis=-1)
    relaxation = np.empty(n)
    limit = None if initial is None else np.empty((n, d, d), dtype=complex)
    for i in range(n):
        k = int(dimension[i])
        rest = np.abs(eig[i, order[i, k:]].real)
        gap = float(rest.min()) if rest.size else np.inf
        relaxation[i] = np.inf if gap <= tol * s[i, 0] else 1.0 / gap
        if initial is not None:
            right = vt[i, -k:].T  # (d², k)
            left = u[i, :, -k:]  # (d², k): leftᵀ R = 0
            x0 = _coordinates(initial[i])
            x = right @ np.linalg.solve(left.T @ right, left.T @ x0)
            rho = _rho_from_coordinates(x, d, 1.0)
            limit[i] = rho / np.trace(rho).real
    return {
        "kernel_dimension": dimension,
        "relaxation_time": relaxation,
        "rho": limit,
        "singular_values": relative[:, -4:][:, ::-1],
    }


def initial_states(initial: Any, batch: tuple[int, ...], d: int) -> NDArray | None:
    """ρ(0) broadcast to (n, d, d), checked; ``None`` when not given."""
    if initial is None:
        return None
    try:
        rho = np.asarray(initial, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"initial must be a density matrix of shape (..., {d}, {d})") from exc
    if rho.ndim < 2 or rho.shape[-2:] != (d, d):
        raise ValueError(f"initial must have shape (..., {d}, {d}), got {rho.shape}")
    if not np.all(np.isfinite(rho)) or abs(np.trace(rho, axis1=-2, axis2=-1) - 1).max() > 1e-6:
        raise ValueError("initial must be finite with trace 1")
    n = int(np.prod(batch, dtype=int))
    return np.broadcast_to(rho, (*batch, d, d)).reshape(n, d, d)


def analyse_kernels(
    h: NDArray, c: NDArray, raw: dict[str, Any], start: NDArray | None
) -> dict[str, NDArray]:
    """Kernel dimension, relaxation time and (with ρ(0)) ρ(∞) where the solve looked doubtful.

    Updates ``raw`` in place where a degenerate kernel and an initial state give ρ(∞).
    """
    n, _, d, _ = c.shape
    finite = np.isfinite(raw["rho"]).all(axis=(-2, -1))
    doubtful = (
        ~finite | raw["singular"] | ~raw["unique"] | (raw["condition"] >= NEAR_DEGENERATE_CONDITION)
    )
    dimension = np.where(doubtful, 0, 1).astype(np.int64)
    relaxation = np.full(n, np.nan)
    projected = np.zeros(n, dtype=bool)
    finite_input = np.isfinite(h).all(axis=(-2, -1)) & np.isfinite(c).all(axis=(-3, -2, -1))
    points = np.flatnonzero(doubtful & finite_input)
    if points.size and d * d <= MAX_KERNEL_ANALYSIS:
        found = kernel_analysis(h[points], c[points], None if start is None else start[points])
        dimension[points] = found["kernel_dimension"]
        relaxation[points] = found["relaxation_time"]
        if start is not None:
            several = found["kernel_dimension"] > 1
            take = points[several]
            raw["rho"][take] = found["rho"][several]
            heff = h[take] - 0.5j * np.einsum("nkba,nkbc->nac", c[take].conj(), c[take])
            raw["residual"][take] = lindblad_residual(heff, c[take], raw["rho"][take])
            (
                raw["trace_error"][take],
                raw["hermiticity_error"][take],
                raw["min_eigenvalue"][take],
            ) = state_diagnostics(raw["rho"][take])
            if "frobenius" in raw:
                bad = ~np.isfinite(raw["frobenius"][take])
                raw["frobenius"][take[bad]] = np.array(
                    [liouvillian_frobenius(h[i], c[i]) for i in take[bad]]
                )
            projected[take] = True
    return {"kernel_dimension": dimension, "relaxation_time": relaxation, "projected": projected}
