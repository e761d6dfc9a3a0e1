"""Shared numerics of the steady-state solvers: residual of L, ‖L‖_F, the probe vector."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.solvers.liouvillian import sparse_liouvillian, state_diagnostics

__all__ = ["lindblad_residual", "liouvillian_frobenius", "probe_vector", "raw_result"]


def probe_vector(size: int) -> NDArray[np.float64]:
    """Fixed pseudo-random right-hand side of the condition estimate (seeded, reproducible)."""
    return np.random.default_rng(20260613).standard_normal(size)


def lindblad_residual(heff: NDArray, c: NDArray, rho: NDArray) -> NDArray[np.float64]:
    """‖dρ/dt‖_F = ‖−i(H_eff ρ − ρ H_eff†) + Σ_k c_k ρ c_k†‖_F, directly from the operators.

    Shapes: heff (n, d, d), c (n, K, d, d), rho (n, d, d) → (n,).
    """
    n, k, d, _ = c.shape
    drho = np.matmul(heff, rho)
    drho -= np.swapaxes(drho, -1, -2).conj()  # H_eff ρ − (H_eff ρ)† = H_eff ρ − ρ H_eff†
    drho *= -1j
    if k:
        # Σ_k (c_k ρ) c_k† as one product with inner index (k, a)
        c_rho = np.matmul(c, rho[:, None])  # (n, K, d, d)
        left = c_rho.transpose(0, 2, 1, 3).reshape(n, d, k * d)
        right = c.conj().transpose(0, 1, 3, 2).reshape(n, k * d, d)
        drho += np.matmul(left, right)
    flat = drho.reshape(n, -1)
    return np.sqrt(
        np.einsum("ni,ni->n", flat.real, flat.real) + np.einsum("ni,ni->n", flat.imag, flat.imag)
    )


def liouvillian_frobenius(h: NDArray, c: NDArray) -> float:
    """‖L‖_F from the operators, without building L (as the other methods normalise)."""
    lv = sparse_liouvillian(h, c)
    return float(np.sqrt(np.sum(np.abs(lv.data) ** 2)))


def raw_result(
    rho: NDArray[np.complex128],
    residual: NDArray[np.float64],
    frobenius: NDArray[np.float64],
    condition: NDArray[np.float64],
    singular: NDArray[np.bool_],
    unique: NDArray[np.bool_],
    info: dict[str, Any],
) -> dict[str, Any]:
    """The per-point results every solver hands to ``steady_state``, with ρ's diagnostics."""
    trace_error, hermiticity_error, min_eigenvalue = state_diagnostics(rho)
    return {
        "rho": rho,
        "residual": residual,
        "frobenius": frobenius,
        "trace_error": trace_error,
        "hermiticity_error": hermiticity_error,
        "min_eigenvalue": min_eigenvalue,
        "condition": condition,
        "singular": singular,
        "unique": unique,
        "info": info,
    }
