"""Steady states of Lindblad master equations: L vec(ρ) = 0 with tr ρ = 1.

The linear system
-----------------
A trace-preserving Liouvillian has linearly dependent diagonal rows (Σ_i (Lρ)_ii = 0), so the
ρ_00 equation (row 0) is redundant. It is replaced by the trace condition, scaled to the size of
a typical row of L so that the condition number is unit-independent, and M x = e_0 is solved.
When the steady state is unique M is invertible; a degenerate null space of L (several steady
states, e.g. a dark state beside the ground state) makes M singular.

Methods
-------
* :class:`DenseSolver` (d² ≤ 400 with ``"auto"``, e.g. two 3-level transmons, d² = 81): ρ is
  Hermitian, so the system is solved in the d² **real** coordinates [ρ_ii; Re ρ_ij; Im ρ_ij] (i
  < j) of a Hermitian matrix (see :mod:`giantatoms.solvers.liouvillian`), a float64 LU at a
  fraction of the cost of the complex one. The batch is cut into cache-sized chunks run on a
  small thread pool; per chunk the real Liouvillians are built from H and the jump operators
  with one batched matrix product and two gathers, and one batched LAPACK call solves for two
  right-hand sides [e_0, r] at once. The second (a fixed pseudo-random r) gives y = M⁻¹r and
  the cheap condition estimate ‖M‖₁‖y‖₁/‖r‖₁ ≤ κ₁(M) that decides uniqueness.
* :class:`DirectSolver` (medium sizes): sparse LU (SuperLU, fill-reducing column ordering) of
  the complex sparse M, one batch point at a time.
* :class:`IterativeSolver`: ILU-preconditioned GMRES or BiCGStab on the sparse L, started
  from the maximally mixed state, one batch point at a time.
* :class:`MatrixFreeSolver` (``"auto"`` above d² = 400 when every state decays under the no-jump
  evolution; N ≥ 5 two-level atoms): no d² × d² matrix at all. With L = S + J,
  S(ρ) = −i(H_eff ρ − ρ H_eff†) (H_eff = H − (i/2)Σ c†c) and J(ρ) = Σ c ρ c†, the steady state
  is the fixed point of the jump map Φ = −S⁻¹J (trace preserving; ∫₀^∞ e^{St} J dt). S is
  inverted exactly in the eigenbasis of H_eff (one d × d non-Hermitian eigendecomposition; then
  an elementwise division, a Sylvester solve). GMRES solves ρ − Φ(ρ) + tr(ρ)·1/d = 1/d in the
  d² real Hermitian coordinates: the added trace term makes the operator invertible exactly
  when the steady state is unique, and its solution has tr ρ = 1. Each iteration costs
  O((K + 4) d³) dense products (K jump operators).

Every method returns the same :class:`SteadyState` with honest diagnostics: the residual
‖L vec ρ‖₂ is recomputed from H and the jump operators, positivity is *reported*
(``min_eigenvalue``), not enforced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from giantatoms.solvers._kernel import NEAR_DEGENERATE_CONDITION, analyse_kernels, initial_states
from giantatoms.solvers._no_jump import matrix_free_steady_states
from giantatoms.solvers._residual import lindblad_residual, probe_vector, raw_result
from giantatoms.solvers._sparse import bordered_sparse_system, krylov_solve
from giantatoms.solvers.liouvillian import (
    _hermitian_liouvillian_unnormalised,
    _rho_from_coordinates,
    chunk_length,
    default_threads,
    map_chunks,
    state_diagnostics,
    unvectorize_hermitian,
)

if TYPE_CHECKING:
    from giantatoms.model.lindblad import MasterEquation

__all__ = [
    "DenseSolver",
    "DirectSolver",
    "IterativeSolver",
    "MatrixFreeSolver",
    "SteadyState",
    "SteadyStateError",
    "steady_state",
]

METHODS = ("auto", "dense", "direct", "iterative", "matrix-free")
ON_FAILURE = ("raise", "flag")
#: ``"auto"`` uses the dense solver up to this d² (two 3-level transmons: 81; 20 levels: 400).
AUTO_DENSE_MAX = 400
#: ``"auto"`` uses the sparse direct solver up to this d², the iterative one above. Sparse LU
#: of Liouvillians fills in badly (a 6-qubit chain, d² = 4096: L and U hold ≈ 50 % of a dense
#: matrix), so its memory grows like d⁴; above this size the ILU-preconditioned solver, whose
#: memory is bounded by ``fill_factor`` × nnz(L), is the safer default.
AUTO_DIRECT_MAX = 20_000
PERMC_SPECS = ("COLAMD", "MMD_AT_PLUS_A", "MMD_ATA", "NATURAL")
KRYLOV_METHODS = ("gmres", "bicgstab")


class SteadyStateError(RuntimeError):
    """No unique steady state was found at some batch points.

    Attributes
    ----------
    indices : list of tuple of int
        Batch indices of the failed points.
    reasons : list of str
        Why each of them failed, in the same order.
    result : SteadyState
        The full result with its ``converged`` / ``unique`` flags, as ``on_failure="flag"``
        would have returned it.
    """

    def __init__(
        self,
        message: str,
        *,
        indices: list[tuple[int, ...]],
        reasons: list[str],
        result: SteadyState,
    ) -> None:
        super().__init__(message)
        self.indices = indices
        self.reasons = reasons
        self.result = result


# --------------------------------------------------------------------------------------------
# Solver objects: parameters only, validated on construction
# --------------------------------------------------------------------------------------------


def _check_max_condition(owner: str, value: float) -> None:
    if not (isinstance(value, int | float) and value > 1):
        raise ValueError(f"{owner}: max_condition must be a number > 1, got {value!r}")


def _check_positive_int(owner: str, name: str, value: int | None) -> None:
    if value is not None and not (isinstance(value, int | np.integer) and value >= 1):
        raise ValueError(f"{owner}: {name} must be a positive integer or None, got {value!r}")


@dataclass(frozen=True)
class DenseSolver:
    """Batched dense LU in real Hermitian coordinates (small Hilbert spaces).

    Parameters
    ----------
    chunk_size : int, optional
        Batch points per chunk. Default: a cache-sized chunk (≈4 MB of complex Liouvillians);
        always clipped so that a chunk stays below 200 MB.
    max_condition : float
        The steady state is declared unique when the condition estimate of the bordered
        system is below this.
    threads : int, optional
        Worker threads over chunks; default the CPU count, at most 8.
    """

    chunk_size: int | None = None
    max_condition: float = 1e12
    threads: int | None = None

    name: ClassVar[str] = "dense"

    def __post_init__(self) -> None:
        _check_positive_int("DenseSolver", "chunk_size", self.chunk_size)
        _check_positive_int("DenseSolver", "threads", self.threads)
        _check_max_condition("DenseSolver", self.max_condition)


@dataclass(frozen=True)
class DirectSolver:
    """Sparse LU (SuperLU via ``scipy.sparse.linalg.splu``) for medium Hilbert spaces.

    Parameters
    ----------
    permc_spec : {"COLAMD", "MMD_AT_PLUS_A", "MMD_ATA", "NATURAL"}
        Fill-reducing column ordering.
    max_condition : float
        Uniqueness threshold on the condition estimate.
    """

    permc_spec: str = "COLAMD"
    max_condition: float = 1e12

    name: ClassVar[str] = "direct"

    def __post_init__(self) -> None:
        if self.permc_spec not in PERMC_SPECS:
            raise ValueError(
                f"DirectSolver: permc_spec must be one of {list(PERMC_SPECS)}, "
                f"got {self.permc_spec!r}"
            )
        _check_max_condition("DirectSolver", self.max_condition)


@dataclass(frozen=True)
class IterativeSolver:
    """ILU-preconditioned Krylov solver (``spilu`` + GMRES or BiCGStab) for large spaces.

    Parameters
    ----------
    krylov : {"gmres", "bicgstab"}
    rtol : float
        Relative tolerance of the Krylov solver on ‖M x − b‖.
    maxiter : int
        Limit on the total number of Krylov iterations (for GMRES, restart cycles × restart).
    drop_tol : float
        ILU drop tolerance (smaller: better preconditioner, more memory).
    fill_factor : float
        ILU fill-ratio upper bound.
    restart : int
        GMRES restart length (ignored by BiCGStab).
    max_condition : float
        Uniqueness threshold on the condition estimate.
    """

    krylov: str = "gmres"
    rtol: float = 1e-12
    maxiter: int = 2000
    drop_tol: float = 1e-6
    fill_factor: float = 20.0
    restart: int = 50
    max_condition: float = 1e12

    name: ClassVar[str] = "iterative"

    def __post_init__(self) -> None:
        if self.krylov not in KRYLOV_METHODS:
            raise ValueError(
                f"IterativeSolver: krylov must be one of {list(KRYLOV_METHODS)}, "
                f"got {self.krylov!r}"
            )
        if not (0 < self.rtol < 1):
            raise ValueError(f"IterativeSolver: rtol must be in (0, 1), got {self.rtol!r}")
        if not (0 <= self.drop_tol < 1):
            raise ValueError(f"IterativeSolver: drop_tol must be in [0, 1), got {self.drop_tol!r}")
        if not self.fill_factor >= 1:
            raise ValueError(f"IterativeSolver: fill_factor must be ≥ 1, got {self.fill_factor!r}")
        if self.maxiter is None:
            raise ValueError("IterativeSolver: maxiter must be a positive integer, got None")
        _check_positive_int("IterativeSolver", "maxiter", self.maxiter)
        _check_positive_int("IterativeSolver", "restart", self.restart)
        _check_max_condition("IterativeSolver", self.max_condition)


@dataclass(frozen=True)
class MatrixFreeSolver:
    """GMRES on ρ − Φ(ρ) + tr(ρ)/d = 1/d with the exact no-jump inverse (module docstring).

    Parameters
    ----------
    rtol : float
        GMRES relative tolerance (in the preconditioned coordinates); the residual of L is
        recomputed and checked against ``tol`` of :func:`steady_state` as for every method.
    restart : int
        GMRES restart length.
    maxiter : int
        Limit on the total number of GMRES iterations.
    max_condition : float
        Largest accepted condition number of the eigenvectors of H_eff; above it (or when some
        state does not decay without jumps, so that S is singular) the point is solved with the
        sparse methods instead, and ``info["fallback"]`` says so.
    """

    rtol: float = 1e-10
    restart: int = 200
    maxiter: int = 3000
    max_condition: float = 1e8

    name: ClassVar[str] = "matrix-free"

    def __post_init__(self) -> None:
        if not (0 < self.rtol < 1):
            raise ValueError(f"MatrixFreeSolver: rtol must be in (0, 1), got {self.rtol!r}")
        _check_positive_int("MatrixFreeSolver", "restart", self.restart)
        _check_positive_int("MatrixFreeSolver", "maxiter", self.maxiter)
        _check_max_condition("MatrixFreeSolver", self.max_condition)


Solver = DenseSolver | DirectSolver | IterativeSolver | MatrixFreeSolver


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class SteadyState:
    """Steady states of a batch of master equations with their diagnostics.

    Every diagnostic has the batch shape of the master equation.

    Attributes
    ----------
    rho : ndarray, complex, shape (batch…, d, d)
        Steady-state density matrices, as solved (NaN where the linear system had no solution).
    residual : ndarray, rad/s
        ‖L vec ρ‖₂ = ‖dρ/dt‖_F, recomputed from H and the jump operators.
    relative_residual : ndarray
        ``residual / ‖L‖_F`` (dimensionless; ‖vec ρ‖₂ ≤ 1).
    trace_error : ndarray
        |tr ρ − 1|.
    hermiticity_error : ndarray
        max |ρ − ρ†| over the entries.
    min_eigenvalue : ndarray
        Smallest eigenvalue of the Hermitian part of ρ (≥ 0 up to rounding for a physical
        state; reported, not enforced).
    condition_estimate : ndarray
        ‖M‖₁‖M⁻¹r‖₁/‖r‖₁ for the bordered system M and a fixed random r: a lower bound on
        the 1-norm condition number of M (``inf`` when M is exactly singular).
    unique : ndarray of bool
        ``condition_estimate < max_condition`` (and, for the iterative method, the probe
        solve converged); False signals several steady states.
    converged : ndarray of bool
        Finite ρ, ``relative_residual ≤ tol`` and ``unique``.
    method : str
        The method that ran: ``"dense"``, ``"direct"`` or ``"iterative"``.
    dims : tuple of int
        Levels of each atom.
    kernel_dimension : ndarray of int
        Number of stationary states (the dimension of the kernel of L), from the singular
        values of L at the points whose solve looked ill-conditioned (condition estimate ≥
        ``NEAR_DEGENERATE_CONDITION``, singular, or an ``initial`` state given) when d² ≤
        4096; 1 at well-conditioned points; 0 where it was needed but not computed (too large).
    relaxation_time : ndarray, s
        1/gap (the smallest |Re λ| of L outside its kernel) at the analysed points, NaN
        elsewhere: how long the returned state takes to be reached.
    near_degenerate : ndarray of bool
        A unique steady state that is nearly degenerate: condition estimate ≥
        ``NEAR_DEGENERATE_CONDITION`` (the state then depends on tiny parameters, and
        ``relaxation_time`` says how slowly it is reached).
    info : dict
        Method details: ``"solver"`` (the solver object), ``"tol"``; dense: ``"chunk_size"``,
        ``"threads"``, ``"singular_chunks"`` (chunks that fell back to point-by-point solves);
        iterative: ``"iterations"``, ``"krylov_info"`` and ``"probe_info"`` (SciPy's exit codes
        of the main and of the condition-probe solve, 0 = success), arrays of the batch shape.
    """

    rho: NDArray[np.complex128]
    residual: NDArray[np.float64]
    relative_residual: NDArray[np.float64]
    trace_error: NDArray[np.float64]
    hermiticity_error: NDArray[np.float64]
    min_eigenvalue: NDArray[np.float64]
    condition_estimate: NDArray[np.float64]
    unique: NDArray[np.bool_]
    converged: NDArray[np.bool_]
    method: str
    dims: tuple[int, ...]
    info: dict[str, Any] = field(default_factory=dict)
    kernel_dimension: NDArray[np.int64] | None = None
    relaxation_time: NDArray[np.float64] | None = None
    near_degenerate: NDArray[np.bool_] | None = None

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Batch shape of the master equation."""
        return self.residual.shape

    def __repr__(self) -> str:
        n = self.converged.size
        finite = self.relative_residual[np.isfinite(self.relative_residual)]
        worst = finite.max() if finite.size else np.nan
        return (
            f"SteadyState(method={self.method!r}, dims={self.dims}, batch_shape="
            f"{self.batch_shape}, converged={int(np.count_nonzero(self.converged))}/{n}, "
            f"unique={int(np.count_nonzero(self.unique))}/{n}, "
            f"max relative_residual={worst:.1e})"
        )


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def steady_state(
    me: MasterEquation,
    method: str | Solver = "auto",
    *,
    on_failure: str = "raise",
    tol: float = 1e-8,
    chunk_size: int | None = None,
    initial: Any = None,
) -> SteadyState:
    """Steady states of a batch of master equations.

    Parameters
    ----------
    me : MasterEquation
        Batch shape (batch…), Hilbert dimension d.
    method : {"auto", "dense", "direct", "iterative"} or DenseSolver, DirectSolver, IterativeSolver
        ``"auto"`` picks by d²: dense up to 400, sparse direct up to 20 000, iterative above.
        A string selects the solver with its default parameters.
    on_failure : {"raise", "flag"}
        ``"raise"``: raise :class:`SteadyStateError` naming the batch points without a unique
        converged steady state. ``"flag"``: return them with ``converged`` / ``unique`` False.
    tol : float
        Largest accepted ``relative_residual``.
    chunk_size : int, optional
        Batch points per chunk of the dense solver (overrides ``DenseSolver.chunk_size``;
        ignored by the sparse methods).
    initial : array_like, complex, shape (d, d) or (batch…, d, d), optional
        ρ(0). Where the kernel is degenerate (several stationary states), ``rho`` is then the
        long-time limit reached from it (the projection onto the kernel along the conserved
        quantities) instead of a failure; where the steady state is unique it is that state.

    Returns
    -------
    SteadyState
        ``rho`` of shape (batch…, d, d) and diagnostics of shape (batch…).

    Raises
    ------
    ValueError
        Unknown ``method`` or ``on_failure``, or a non-positive ``tol``.
    SteadyStateError
        With ``on_failure="raise"``, when some point did not converge to a unique state.
    """
    if not isinstance(on_failure, str) or on_failure not in ON_FAILURE:
        raise ValueError(f"on_failure must be one of {list(ON_FAILURE)}, got {on_failure!r}")
    if not (isinstance(tol, int | float) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    d = me.dimension
    solver = _resolve_method(method, d, chunk_size)

    batch = me.batch_shape
    n = int(np.prod(batch, dtype=int))
    h = me.hamiltonian.reshape(n, d, d)
    c = me.jump_operators.reshape(n, me.n_jumps, d, d)
    start = initial_states(initial, batch, d)
    if isinstance(solver, DenseSolver):
        raw = _dense_steady_states(h, c, solver)
    elif isinstance(solver, MatrixFreeSolver):
        backup = DirectSolver() if d * d <= AUTO_DIRECT_MAX else IterativeSolver()
        raw = matrix_free_steady_states(
            h, c, solver, lambda hh, cc: _sparse_steady_states(hh, cc, backup), probe_vector(d * d)
        )
    else:
        raw = _sparse_steady_states(h, c, solver)

    kernel = analyse_kernels(h, c, raw, start)
    finite = np.isfinite(raw["rho"]).all(axis=(-2, -1))
    relative = np.full(n, np.inf)
    np.divide(raw["residual"], raw["frobenius"], out=relative, where=raw["frobenius"] > 0)
    relative[~np.isfinite(raw["residual"])] = np.nan
    unique = raw["unique"] & finite & (kernel["kernel_dimension"] <= 1)
    # From a given initial state a degenerate kernel has a definite long-time limit.
    chosen = kernel["projected"]
    converged = finite & (relative <= tol) & (unique | chosen)

    info = {"solver": solver, "tol": tol}
    info.update({key: _shape(value, batch) for key, value in raw["info"].items()})
    result = SteadyState(
        rho=raw["rho"].reshape(*batch, d, d),
        residual=raw["residual"].reshape(batch),
        relative_residual=relative.reshape(batch),
        trace_error=raw["trace_error"].reshape(batch),
        hermiticity_error=raw["hermiticity_error"].reshape(batch),
        min_eigenvalue=raw["min_eigenvalue"].reshape(batch),
        condition_estimate=raw["condition"].reshape(batch),
        unique=unique.reshape(batch),
        converged=converged.reshape(batch),
        method=solver.name,
        dims=me.dims,
        info=info,
        kernel_dimension=kernel["kernel_dimension"].reshape(batch),
        relaxation_time=kernel["relaxation_time"].reshape(batch),
        near_degenerate=(
            unique
            & (kernel["kernel_dimension"] == 1)
            & (raw["condition"] >= NEAR_DEGENERATE_CONDITION)
        ).reshape(batch),
    )
    if on_failure == "raise" and not converged.all():
        raise _failure(result, raw, solver, tol)
    return result


def _shape(value: Any, batch: tuple[int, ...]) -> Any:
    """Reshape per-point info arrays to the batch shape; leave scalars alone."""
    n = int(np.prod(batch, dtype=int))
    if isinstance(value, np.ndarray) and value.shape == (n,):
        return value.reshape(batch)
    return value


def _resolve_method(method: str | Solver, d: int, chunk_size: int | None) -> Solver:
    """Turn ``method`` (+ ``chunk_size``) into a solver object, validating both."""
    _check_positive_int("steady_state", "chunk_size", chunk_size)
    if isinstance(method, DenseSolver):
        if chunk_size is not None:
            return DenseSolver(chunk_size, method.max_condition, method.threads)
        return method
    if isinstance(method, DirectSolver | IterativeSolver | MatrixFreeSolver):
        return method
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"method must be one of {list(METHODS)} or a DenseSolver, DirectSolver, "
            f"IterativeSolver or MatrixFreeSolver instance, got {method!r}"
        )
    if method == "auto":
        size = d * d
        method = "dense" if size <= AUTO_DENSE_MAX else "matrix-free"
    if method == "dense":
        return DenseSolver(chunk_size=chunk_size)
    if method == "direct":
        return DirectSolver()
    if method == "matrix-free":
        return MatrixFreeSolver()
    return IterativeSolver()


def _failure(result: SteadyState, raw: dict, solver: Solver, tol: float) -> SteadyStateError:
    """Build the error naming every failed batch index and why it failed."""
    batch = result.batch_shape
    flat_bad = np.flatnonzero(~result.converged.reshape(-1))
    indices = [tuple(int(i) for i in np.unravel_index(k, batch)) for k in flat_bad]
    reasons = []
    max_condition = solver.max_condition
    for k in flat_bad:
        cond = raw["condition"][k]
        rel = result.relative_residual.reshape(-1)[k]
        if raw["singular"][k]:
            reasons.append(
                "singular linear system (no unique steady state"
                + _kernel_note(result, k)
                + "; give initial=ρ(0) for the long-time limit from it)"
            )
        elif not np.isfinite(raw["rho"][k]).all():
            reasons.append("non-finite solution (non-finite Hamiltonian or jump operators?)")
        elif not result.unique.reshape(-1)[k]:
            extra = ""
            if "krylov_info" in raw["info"] and raw["info"]["probe_info"][k] != 0:
                extra = "; the probe solve of the iterative method did not converge"
            reasons.append(
                f"not unique: condition estimate {cond:.2e} ≥ max_condition "
                f"{max_condition:.0e} (≥ 2 steady states?{_kernel_note(result, k)}){extra}"
            )
        else:
            extra = ""
            if "krylov_info" in raw["info"] and raw["info"]["krylov_info"][k] != 0:
                extra = f"; Krylov solver exit code {raw['info']['krylov_info'][k]}"
            reasons.append(f"relative residual {rel:.2e} > tol {tol:.0e}{extra}")
    shown = 10
    lines = [f"  {idx}: {why}" for idx, why in zip(indices[:shown], reasons[:shown], strict=True)]
    if len(indices) > shown:
        lines.append(f"  … and {len(indices) - shown} more")
    message = (
        f"steady_state ({result.method}) failed at {len(indices)} of {result.converged.size} "
        f"batch points (batch shape {batch}):\n" + "\n".join(lines) + "\n"
        "Use on_failure='flag' to get the partial result with converged/unique flags."
    )
    return SteadyStateError(message, indices=indices, reasons=reasons, result=result)


# --------------------------------------------------------------------------------------------
# Shared numerics
# --------------------------------------------------------------------------------------------


def _kernel_note(result: SteadyState, k: int) -> str:
    """'', or ': kernel dimension D' when the kernel analysis counted the stationary states."""
    dims = result.kernel_dimension
    if dims is None:
        return ""
    value = int(dims.reshape(-1)[k])
    return f": kernel dimension {value}" if value > 1 else ""


# --------------------------------------------------------------------------------------------
# Dense batched solver
# --------------------------------------------------------------------------------------------


def _dense_steady_states(h: NDArray, c: NDArray, solver: DenseSolver) -> dict[str, Any]:
    """Dense real-coordinate solve of every point; h (n, d, d), c (n, K, d, d)."""
    n, _, d, _ = c.shape
    dd = d * d
    probe = probe_vector(dd)
    probe_norm = np.abs(probe).sum()
    out = {
        "rho": np.empty((n, d, d), dtype=complex),
        "residual": np.empty(n),
        "frobenius": np.empty(n),
        "trace_error": np.empty(n),
        "hermiticity_error": np.empty(n),
        "min_eigenvalue": np.empty(n),
        "condition": np.empty(n),
        "singular": np.zeros(n, dtype=bool),
    }
    singular_chunks: list[int] = []
    # The trace row carries the norm of a typical row of L: ‖L‖_F/d spread over d entries.
    trace_weight = 1.0 / d**1.5

    def work(part: slice) -> None:
        hc = np.ascontiguousarray(h[part])
        cc = np.ascontiguousarray(c[part])
        system, frobenius, heff = _hermitian_liouvillian_unnormalised(hc, cc)
        m = system.shape[0]
        scale = frobenius * trace_weight
        scale[~(scale > 0)] = 1.0
        system[:, 0, :] = 0.0
        system[:, 0, :d] = scale[:, None]
        norm1 = np.abs(system).sum(axis=1).max(axis=1)
        rhs = np.zeros((m, dd, 2))
        rhs[:, 0, 0] = scale
        rhs[:, :, 1] = probe
        singular = np.zeros(m, dtype=bool)
        try:
            solution = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            singular_chunks.append(part.start)
            solution = np.empty_like(rhs)
            for i in range(m):
                try:
                    solution[i] = np.linalg.solve(system[i], rhs[i])
                except np.linalg.LinAlgError:
                    solution[i] = np.nan
                    singular[i] = True
        with np.errstate(invalid="ignore", over="ignore"):
            condition = norm1 * np.abs(solution[:, :, 1]).sum(axis=1) / probe_norm
        condition[singular] = np.inf
        rho = _rho_from_coordinates(solution[:, :, 0], d, 1.0)
        out["rho"][part] = rho
        out["residual"][part] = lindblad_residual(heff, cc, rho)
        out["frobenius"][part] = frobenius
        (
            out["trace_error"][part],
            out["hermiticity_error"][part],
            out["min_eigenvalue"][part],
        ) = state_diagnostics(rho)
        out["condition"][part] = condition
        out["singular"][part] = singular

    chunk = chunk_length(d, solver.chunk_size)
    threads = solver.threads or default_threads()
    map_chunks(work, n, chunk, threads)
    out["unique"] = out["condition"] < solver.max_condition
    out["info"] = {
        "chunk_size": chunk,
        "threads": max(1, min(threads, -(-n // chunk))),
        "singular_chunks": len(singular_chunks),
    }
    return out


# --------------------------------------------------------------------------------------------
# Sparse solvers (one batch point at a time: each is a large solve)
# --------------------------------------------------------------------------------------------


def _sparse_steady_states(
    h: NDArray, c: NDArray, solver: DirectSolver | IterativeSolver
) -> dict[str, Any]:
    """Loop over batch points with the sparse direct or iterative solver."""
    n, _, d, _ = c.shape
    dd = d * d
    probe = probe_vector(dd)
    probe_norm = np.abs(probe).sum()
    rho = np.full((n, d, d), np.nan, dtype=complex)
    residual = np.full(n, np.nan)
    frobenius = np.full(n, np.nan)
    condition = np.full(n, np.inf)
    singular = np.zeros(n, dtype=bool)
    probe_ok = np.ones(n, dtype=bool)
    iterations = np.zeros(n, dtype=int)
    krylov_info = np.zeros(n, dtype=int)
    probe_info = np.zeros(n, dtype=int)

    for i in range(n):
        lv, system, frobenius[i], scale = bordered_sparse_system(h[i], c[i])
        b = np.zeros(dd)
        b[0] = scale
        norm1 = float(np.abs(system).sum(axis=0).max())
        if isinstance(solver, DirectSolver):
            try:
                lu = spla.splu(system, permc_spec=solver.permc_spec)
            except RuntimeError:  # "Factor is exactly singular"
                singular[i] = True
                continue
            solution = lu.solve(np.stack([b, probe], axis=1))
            x, y = solution[:, 0], solution[:, 1]
        else:
            try:
                x, y, its, info_main, info_probe = krylov_solve(system, b, probe, d, solver)
            except RuntimeError:  # the incomplete factorisation hit an exactly zero pivot
                singular[i] = True
                continue
            iterations[i], krylov_info[i], probe_info[i] = its, info_main, info_probe
            probe_ok[i] = info_probe == 0
        with np.errstate(invalid="ignore", over="ignore"):
            condition[i] = norm1 * np.abs(y).sum() / probe_norm
        rho[i] = unvectorize_hermitian(x, d)
        residual[i] = float(np.linalg.norm(lv @ rho[i].reshape(dd)))

    info: dict[str, Any] = {}
    if isinstance(solver, IterativeSolver):
        info = {"iterations": iterations, "krylov_info": krylov_info, "probe_info": probe_info}
    unique = (condition < solver.max_condition) & probe_ok & ~singular
    return raw_result(rho, residual, frobenius, condition, singular, unique, info)


# --------------------------------------------------------------------------------------------
# Matrix-free solver: GMRES with the exact no-jump inverse
# --------------------------------------------------------------------------------------------
