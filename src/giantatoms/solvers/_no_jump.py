"""The matrix-free steady-state solver's numerics: exact no-jump inverse, jump sums, GMRES.

Used by :class:`giantatoms.solvers.steady_state.MatrixFreeSolver` (see that module's docstring
for the method). Nothing here builds a d² × d² matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from giantatoms.solvers._residual import lindblad_residual, liouvillian_frobenius, raw_result
from giantatoms.solvers.liouvillian import (
    unvectorize_hermitian,
    vectorize_hermitian,
)

__all__ = ["PROBE_RTOL", "UNIQUE_CONDITION", "matrix_free_one", "matrix_free_steady_states"]

#: Relative tolerance of the condition-probe solve (an order-of-magnitude estimate).
PROBE_RTOL = 1e-3
#: Condition estimate of the operator I − Φ + tr·1/d above which the steady state counts as not
#: unique (the operator is well scaled: κ ~ relaxation time × largest rate).
UNIQUE_CONDITION = 1e12


def _no_jump_inverse(
    heff: NDArray[np.complex128], max_condition: float
) -> tuple[NDArray, NDArray, NDArray, NDArray] | None:
    """V, V⁻¹ and 1/(−i(λ_a − λ_b*)) for S⁻¹; ``None`` when S is singular or V ill-conditioned."""
    lam, vec = np.linalg.eig(heff)
    try:
        inv = np.linalg.inv(vec)
    except np.linalg.LinAlgError:
        return None
    cond = np.linalg.norm(vec, 1) * np.linalg.norm(inv, 1)
    denominator = -1j * (lam[:, None] - np.conj(lam)[None, :])
    scale = np.max(np.abs(lam)) if lam.size else 1.0
    if not np.isfinite(cond) or cond > max_condition:
        return None
    if np.min(np.abs(denominator)) <= 1e-12 * max(scale, 1e-300):
        return None  # a state that never decays without jumps: S is singular
    return vec, inv, 1.0 / denominator, np.conj(vec.T)


def matrix_free_one(
    h: NDArray[np.complex128],
    c: NDArray[np.complex128],
    solver: Any,
    probe: NDArray[np.float64],
) -> tuple[NDArray[np.complex128] | None, int, int, float]:
    """ρ, GMRES iterations, exit code and condition estimate of one point.

    ρ is ``None`` when S⁻¹ is unusable (the caller then uses a sparse method).
    """
    d = h.shape[-1]
    dd = d * d
    heff = h - 0.5j * np.einsum("kba,kbc->ac", c.conj(), c)
    parts = _no_jump_inverse(heff, solver.max_condition)
    if parts is None:
        return None, 0, -1, np.inf
    vec, inv, weight, vec_h = parts
    inv_h = np.conj(inv.T)
    identity = np.eye(d) / d
    apply_jumps = _jump_sum(c)

    def jump_map(x: NDArray[np.float64]) -> NDArray[np.float64]:
        rho = unvectorize_hermitian(x, d)
        jumped = apply_jumps(rho)
        tilde = inv @ jumped @ inv_h
        phi = -(vec @ (tilde * weight) @ vec_h)
        out = rho - phi + np.trace(rho).real * identity
        return vectorize_hermitian(0.5 * (out + np.conj(out.T)))

    operator = spla.LinearOperator((dd, dd), matvec=jump_map, dtype=float)
    rhs = vectorize_hermitian(identity)
    count = [0]

    def callback(_: Any) -> None:
        count[0] += 1

    def solve(b: NDArray[np.float64], x0: NDArray | None, rtol: float, counter: Any) -> tuple:
        return spla.gmres(
            operator,
            b,
            x0=x0,
            rtol=rtol,
            atol=0.0,
            restart=min(solver.restart, dd),
            maxiter=-(-solver.maxiter // solver.restart),
            callback=counter,
            callback_type="pr_norm",
        )

    x, info = solve(rhs, rhs, solver.rtol, callback)  # from the maximally mixed state
    # Condition estimate, as the other methods report it: ‖A‖₁‖A⁻¹r‖₁/‖r‖₁ for the fixed
    # probe r (a lower bound on κ₁(A); a second solve, to PROBE_RTOL only: the estimate needs
    # its order of magnitude). A degenerate steady state makes
    # A singular even though A x = 1/d stays solvable, so GMRES alone would not notice.
    y, probe_info = solve(probe, None, PROBE_RTOL, None)
    norm_a = max(
        np.abs(operator.matvec(v)).sum() / np.abs(v).sum() for v in (probe, rhs, np.sign(probe))
    )
    with np.errstate(invalid="ignore", over="ignore"):
        condition = norm_a * np.abs(y).sum() / np.abs(probe).sum() if probe_info == 0 else np.inf
    rho = unvectorize_hermitian(x, d)
    return rho / np.trace(rho).real, count[0], int(info), float(condition)


def _jump_sum(c: NDArray[np.complex128]) -> Any:
    """ρ ↦ Σ_k c_k ρ c_k†, with diagonal jumps as elementwise products and sparse ones sparse.

    The jump operators of the model are embedded single-atom operators or sums of them
    (≤ N·d nonzeros of d²), so the products cost O(N d²) each instead of O(d³).
    """
    d = c.shape[-1]
    diagonal, sparse_ops, dense_ops = [], [], []
    for op in c:
        nnz = np.count_nonzero(op)
        if nnz == 0:
            continue
        if np.count_nonzero(op - np.diag(np.diagonal(op))) == 0:
            diagonal.append(np.diagonal(op))
        elif nnz <= 0.1 * d * d:
            sparse_ops.append((sp.csr_array(op), sp.csr_array(np.conj(op.T))))
        else:
            dense_ops.append(op)
    weights = sum(np.outer(g, np.conj(g)) for g in diagonal) if diagonal else None
    dense = np.array(dense_ops) if dense_ops else None

    def apply(rho: NDArray[np.complex128]) -> NDArray[np.complex128]:
        out = rho * weights if weights is not None else np.zeros_like(rho)
        for op, op_h in sparse_ops:
            out += (op_h.T @ (op @ rho).T).T  # (c ρ) c† = ((c†)ᵀ (c ρ)ᵀ)ᵀ
        if dense is not None:
            out += np.einsum("kab,bc,kdc->ad", dense, rho, np.conj(dense), optimize=True)
        return out

    return apply


def matrix_free_steady_states(
    h: NDArray, c: NDArray, solver: Any, fallback_solve: Any, probe: NDArray[np.float64]
) -> dict[str, Any]:
    """Loop over batch points with the matrix-free solver (sparse fallback where S⁻¹ fails)."""
    n, _, d, _ = c.shape
    rho = np.full((n, d, d), np.nan, dtype=complex)
    iterations = np.zeros(n, dtype=int)
    krylov_info = np.zeros(n, dtype=int)
    fallback = np.zeros(n, dtype=bool)
    condition = np.full(n, np.inf)
    for i in range(n):
        state, its, info, cond = matrix_free_one(h[i], c[i], solver, probe)
        if state is None:
            fallback[i] = True
            continue
        rho[i], iterations[i], krylov_info[i], condition[i] = state, its, info, cond
    if fallback.any():
        sparse = fallback_solve(h[fallback], c[fallback])
        rho[fallback] = sparse["rho"]
    heff = h - 0.5j * np.einsum("nkba,nkbc->nac", c.conj(), c)
    residual = lindblad_residual(heff, c, rho)
    frobenius = np.array([liouvillian_frobenius(h[i], c[i]) for i in range(n)])
    unique = (
        (krylov_info == 0) & (condition < UNIQUE_CONDITION) & np.isfinite(rho).all(axis=(-2, -1))
    )
    if fallback.any():
        unique[fallback] = sparse["unique"]
        condition[fallback] = sparse["condition"]
    info = {"iterations": iterations, "krylov_info": krylov_info, "fallback": fallback}
    singular = np.zeros(n, dtype=bool)
    return raw_result(rho, residual, frobenius, condition, singular, unique, info)
