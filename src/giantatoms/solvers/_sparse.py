"""Sparse pieces of the steady-state solvers: the real bordered system and Krylov solves.

Used by :func:`giantatoms.solvers.steady_state.steady_state` for the ``"direct"`` and
``"iterative"`` methods (see that module's docstring).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from giantatoms.solvers.liouvillian import sparse_liouvillian, vectorize_hermitian

__all__ = ["bordered_sparse_system", "krylov_solve"]


def _hermitian_coordinates_map(d: int) -> tuple[sp.csc_array, NDArray, NDArray]:
    """T with vec(ρ) = T x for the real coordinates x of :func:`vectorize_hermitian`.

    Also returns the vec indices of the diagonal entries and of the upper triangle, which
    read the coordinates back from a Hermitian vec(ρ′): [Re ρ′_ii; √2 Re ρ′_ij; √2 Im ρ′_ij].
    """
    iu, ju = np.triu_indices(d, 1)
    m = iu.size
    diag = np.arange(d) * (d + 1)
    upper, lower = iu * d + ju, ju * d + iu
    half = 1.0 / np.sqrt(2.0)
    rows = np.concatenate([diag, upper, lower, upper, lower])
    cols = np.concatenate(
        [
            np.arange(d),
            d + np.arange(m),
            d + np.arange(m),
            d + m + np.arange(m),
            d + m + np.arange(m),
        ]
    )
    vals = np.concatenate(
        [np.ones(d), np.full(2 * m, half), np.full(m, 1j * half), np.full(m, -1j * half)]
    ).astype(complex)
    t = sp.csc_array((vals, (rows, cols)), shape=(d * d, d * d))
    return t, diag, upper


def bordered_sparse_system(
    h: NDArray, c: NDArray
) -> tuple[sp.csr_array, sp.csc_array, float, float]:
    """L, the real bordered system M (row 0 → trace row), ‖L‖_F and the trace-row weight.

    M acts on the d² real Hermitian coordinates (as the dense solver does): SciPy's SuperLU
    factorises real matrices about two orders of magnitude faster than complex ones (measured
    here: 0.12 s against 17 s for the same pattern at d² = 1024), and the real system has the
    same size as the complex one.
    """
    d = h.shape[-1]
    lv = sparse_liouvillian(h, c)
    frobenius = float(np.sqrt(np.sum(np.abs(lv.data) ** 2)))
    scale = frobenius / d**1.5 if frobenius > 0 else 1.0
    t, diag, upper = _hermitian_coordinates_map(d)
    lt = sp.csr_array(lv @ t)
    root2 = np.sqrt(2.0)
    real = sp.vstack([lt[diag].real, root2 * lt[upper].real, root2 * lt[upper].imag], format="csr")
    trace_row = sp.csr_array(
        (np.full(d, scale), (np.zeros(d, dtype=int), np.arange(d))), shape=(1, d * d)
    )
    system = sp.vstack([trace_row, real[1:]], format="csc")
    return lv, sp.csc_array(system), frobenius, scale


def krylov_solve(
    system: sp.csc_array, b: NDArray, probe: NDArray, d: int, solver: Any
) -> tuple[NDArray, NDArray, int, int, int]:
    """ILU-preconditioned Krylov solves of M x = b and M y = r (the condition probe)."""
    dd = d * d
    ilu = spla.spilu(system, drop_tol=solver.drop_tol, fill_factor=solver.fill_factor)
    preconditioner = spla.LinearOperator((dd, dd), matvec=ilu.solve, dtype=float)
    x0 = vectorize_hermitian(np.eye(d) / d)  # maximally mixed state: tr = 1 already
    count = [0]

    def callback(_: Any) -> None:
        count[0] += 1

    def run(rhs: NDArray, start: NDArray | None, counter: Any) -> tuple[NDArray, int]:
        if solver.krylov == "gmres":
            return spla.gmres(
                system,
                rhs,
                x0=start,
                rtol=solver.rtol,
                atol=0.0,
                restart=solver.restart,
                maxiter=-(-solver.maxiter // solver.restart),
                M=preconditioner,
                callback=counter,
                callback_type="pr_norm",
            )
        return spla.bicgstab(
            system,
            rhs,
            x0=start,
            rtol=solver.rtol,
            atol=0.0,
            maxiter=solver.maxiter,
            M=preconditioner,
            callback=counter,
        )

    x, info_main = run(b, x0, callback)
    y, info_probe = run(probe, None, None)
    return x, y, count[0], int(info_main), int(info_probe)
