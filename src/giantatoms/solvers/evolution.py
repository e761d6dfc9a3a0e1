"""Time evolution of Lindblad master equations: ρ(t) from ρ(0).

Both entry points work in the d² real coordinates x = [ρ_ii; √2 Re ρ_ij; √2 Im ρ_ij] of a
Hermitian matrix, where the Liouvillian is the real matrix R = Vᴴ L V of
:func:`giantatoms.solvers.liouvillian.real_liouvillian` (same eigenvalues as L, a quarter of
the cost of complex arithmetic). The dynamics is stiff (transmon anharmonicity |α| ~ 100 Γ in
the drive frame), so nothing here takes explicit ODE steps: every propagator is an exact matrix
exponential.

Time-independent generators (:func:`evolve_constant`)
-----------------------------------------------------
* ``"eigen"`` (default for d² ≤ 400): per batch point R = W Λ W⁻¹ (batched LAPACK ``geev``),
  c = W⁻¹ x₀ once, then x(t) = W (e^{Λt} ⊙ c) for every save time in one batched matrix
  product. The error of this formula grows like ε·κ₁(W), so the condition number
  κ₁(W) = ‖W‖₁‖W⁻¹‖₁ is computed from the explicit inverse; points above ``max_condition``
  (defective or nearly defective generators, e.g. a critically damped Rabi oscillation) fall
  back to ``"expm"``.
* ``"expm"``: scaling-and-squaring exponentials (``scipy.linalg.expm`` on stacked arrays).
  On a uniform time grid one propagator exp(R Δt) is applied repeatedly; otherwise one
  exponential per distinct interval.
* ``"krylov"`` (default for d² > 400): ``scipy.sparse.linalg.expm_multiply`` on the sparse
  complex Liouvillian, one batch point at a time; no dense d² × d² matrix is formed.

Time-dependent generators (:func:`evolve`)
------------------------------------------
Fourth-order Magnus integrator with two Gauss–Legendre nodes c₁,₂ = ½ ∓ √3/6:

    Ω(h) = (h/2)(A₁ + A₂) + (√3/12) h² [A₂, A₁],     x(t + h) = exp(Ω) x(t),

A_i = R(t + c_i h). Each step is taken once with h and once as two steps of h/2; the
difference, divided by 2⁴ − 1, is the Richardson estimate of the local error of the two half
steps (which are kept). The step size is adapted from the largest scaled error over the batch
(all batch points share the step sequence) and steps are shortened to land exactly on the save
times. Because Lindblad evolution is contractive in the trace norm, the sum of the local error
estimates (trace norm) bounds the global error to leading order; it is reported per save time.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike, NDArray

from giantatoms.solvers._magnus import (  # noqa: F401 (re-exported for the protocols)
    _GAUSS_NODES,
    MagnusLoop,
    blocked_expm,
    dense_magnus_step,
    expm_action,
    magnus_loop,
)
from giantatoms.solvers.liouvillian import (
    _blas_single_thread,
    chunk_length,
    default_threads,
    map_chunks,
    real_liouvillian,
    sparse_liouvillian,
    state_diagnostics,
    unvectorize_hermitian,
    vectorize_hermitian,
)

if TYPE_CHECKING:
    from giantatoms.model.lindblad import MasterEquation

__all__ = ["Evolution", "evolve", "evolve_constant"]

METHODS = ("auto", "eigen", "expm", "krylov")
#: ``"auto"`` uses the dense eigen/expm path up to this d² (20 levels), Krylov above.
AUTO_DENSE_MAX = 400
#: Default largest κ₁(W) of the eigenvector matrix accepted by the eigen path; the error of
#: W e^{Λt} W⁻¹ x₀ is ~ ε κ₁(W), so this keeps it near 1e-10.
DEFAULT_MAX_CONDITION = 1e6
#: Tolerance on the trace and Hermiticity of ``rho0``.
STATE_TOLERANCE = 1e-8


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Evolution:
    """Density matrices at the save times, with diagnostics.

    Attributes
    ----------
    times : ndarray, s, shape (T,)
        Save times.
    rho : ndarray, complex, shape (batch…, T, d, d)
        ρ at each save time (Hermitian by construction on the dense paths; the Krylov path
        returns what it computed and reports ``hermiticity_error``).
    method : str
        What ran: ``"eigen"``, ``"expm"``, ``"eigen+expm"`` (some points fell back),
        ``"krylov"`` or ``"magnus4"``.
    point_method : ndarray of str, shape (batch…)
        The method that ran at each batch point.
    trace_error : ndarray, shape (batch…, T)
        |tr ρ − 1|.
    hermiticity_error : ndarray, shape (batch…, T)
        max |ρ − ρ†| over the entries.
    min_eigenvalue : ndarray, shape (batch…, T)
        Smallest eigenvalue of the Hermitian part of ρ (≥ 0 up to rounding; reported, not
        enforced).
    condition_estimate : ndarray, shape (batch…)
        κ₁(W) of the eigenvector matrix on the eigen path (``nan`` where it was not computed,
        ``inf`` where W was singular).
    dims : tuple of int
        Levels of each atom.
    steps : int or None
        :func:`evolve` only: accepted Magnus steps.
    rejected_steps : int or None
        :func:`evolve` only: steps rejected by the error control.
    error_estimate : ndarray or None, shape (batch…, T)
        :func:`evolve` only: sum of the Richardson estimates of the local errors (trace norm)
        up to each save time, a leading-order bound on the global error ‖ρ − ρ_exact‖₁.
    info : dict
        Method details: ``"max_condition"``, ``"chunk_size"``, ``"threads"`` (eigen);
        ``"uniform_grid"`` (expm, krylov); ``"rtol"``, ``"atol"``, ``"max_step"``,
        ``"step_sizes"`` (array of accepted step sizes, s) for :func:`evolve`.
    """

    times: NDArray[np.float64]
    rho: NDArray[np.complex128]
    method: str
    point_method: NDArray[np.str_]
    trace_error: NDArray[np.float64]
    hermiticity_error: NDArray[np.float64]
    min_eigenvalue: NDArray[np.float64]
    condition_estimate: NDArray[np.float64]
    dims: tuple[int, ...]
    steps: int | None = None
    rejected_steps: int | None = None
    error_estimate: NDArray[np.float64] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Batch shape of the master equation."""
        return self.point_method.shape

    def __repr__(self) -> str:
        extra = ""
        if self.steps is not None:
            worst = np.nanmax(self.error_estimate) if self.error_estimate.size else np.nan
            extra = (
                f", steps={self.steps}, rejected_steps={self.rejected_steps}, "
                f"max error_estimate={worst:.1e}"
            )
        trace = np.nanmax(self.trace_error) if self.trace_error.size else np.nan
        return (
            f"Evolution(method={self.method!r}, dims={self.dims}, batch_shape="
            f"{self.batch_shape}, n_times={self.times.size}, max trace_error={trace:.1e}{extra})"
        )


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _check_times(times: ArrayLike, start: float, start_name: str) -> NDArray[np.float64]:
    """1-D, finite, strictly increasing save times ≥ ``start``."""
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"times must be a 1-D array of real numbers (s), got {times!r}") from exc
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"times must be a non-empty 1-D array (s), got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite")
    if t[0] < start:
        raise ValueError(f"times must be ≥ {start_name} = {start!r} s, got times[0] = {t[0]!r}")
    if np.any(np.diff(t) <= 0):
        bad = int(np.argmax(np.diff(t) <= 0))
        raise ValueError(
            f"times must be strictly increasing, got times[{bad}] = {t[bad]!r} ≥ "
            f"times[{bad + 1}] = {t[bad + 1]!r}"
        )
    return t


def _check_rho0(
    rho0: ArrayLike, d: int, batch: tuple[int, ...]
) -> tuple[NDArray[np.complex128], tuple[int, ...]]:
    """Check trace and Hermiticity of ``rho0``; broadcast it with the master equation's batch.

    Returns the broadcast states (batch…, d, d) and the broadcast batch shape.
    """
    rho = np.asarray(rho0, dtype=complex)
    if rho.ndim < 2 or rho.shape[-2:] != (d, d):
        raise ValueError(f"rho0 must have shape (..., {d}, {d}) for d = {d}, got {rho.shape}")
    try:
        batch = np.broadcast_shapes(rho.shape[:-2], batch)
    except ValueError:
        raise ValueError(
            f"rho0 has batch shape {rho.shape[:-2]}, which does not broadcast against the "
            f"master equation's batch shape {batch}"
        ) from None
    if not np.all(np.isfinite(rho)):
        raise ValueError("rho0 must be finite")
    hermiticity = np.abs(rho - np.swapaxes(rho, -1, -2).conj()).max(initial=0.0)
    if hermiticity > STATE_TOLERANCE:
        raise ValueError(
            f"rho0 must be Hermitian within {STATE_TOLERANCE:g}, got max |ρ − ρ†| = "
            f"{hermiticity:.3g}"
        )
    trace = np.trace(rho, axis1=-2, axis2=-1)
    trace_error = np.abs(trace - 1.0).max(initial=0.0)
    if trace_error > STATE_TOLERANCE:
        raise ValueError(
            f"rho0 must have unit trace within {STATE_TOLERANCE:g}, got max |tr ρ − 1| = "
            f"{trace_error:.3g}"
        )
    return np.broadcast_to(rho, (*batch, d, d)), batch


def _check_positive(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not (isinstance(value, int | float | np.floating | np.integer) and np.isfinite(value)):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _trace_norm(x: NDArray[np.float64], d: int) -> NDArray[np.float64]:
    """‖ρ‖₁ of Hermitian matrices given by their real coordinates x (..., d²)."""
    return np.abs(np.linalg.eigvalsh(unvectorize_hermitian(x, d))).sum(axis=-1)


def _uniform_step(times: NDArray[np.float64]) -> float | None:
    """Δ when times[k] = times[0] + kΔ up to rounding of the grid itself, else ``None``.

    The tolerance (a few ulp of the last time) does not accumulate: chaining exp(RΔ) k times
    lands on times[0] + kΔ, which differs from times[k] only by the grid's own rounding.
    """
    if times.size < 2:
        return None
    step = (times[-1] - times[0]) / (times.size - 1)
    grid = times[0] + step * np.arange(times.size)
    if np.max(np.abs(grid - times)) <= 8 * np.finfo(float).eps * times[-1]:
        return float(step)
    return None


def _norm1(a: NDArray) -> NDArray[np.float64]:
    """Matrix 1-norm (largest column sum) over the last two axes."""
    return np.abs(a).sum(axis=-2).max(axis=-1)


def _inverse(w: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Batched inverse; exactly singular matrices become NaN instead of failing the batch."""
    try:
        return np.linalg.inv(w)
    except np.linalg.LinAlgError:
        out = np.full_like(w, np.nan)
        for i, matrix in enumerate(w):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.inv(matrix)
        return out


# --------------------------------------------------------------------------------------------
# Dense kernels on real coordinates
# --------------------------------------------------------------------------------------------


def eigen_decompose(
    r: NDArray[np.float64],
) -> tuple[NDArray[np.complex128], NDArray[np.complex128], NDArray[np.complex128], NDArray]:
    """R = W Λ W⁻¹ for a stack (m, D, D): (Λ, W, W⁻¹, κ₁(W)); κ₁ = inf where W is singular."""
    lam, w = np.linalg.eig(r)
    w = w.astype(complex, copy=False)
    w_inv = _inverse(w)
    condition = _norm1(w) * _norm1(w_inv)
    condition[~np.isfinite(condition)] = np.inf
    return lam, w, w_inv, condition


def _eigen_propagate(
    r: NDArray[np.float64], x0: NDArray[np.float64], times: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """x(t) = W (e^{Λt} ⊙ W⁻¹x₀) for r (m, D, D), x0 (m, D); returns x (m, T, D) and κ₁(W)."""
    lam, w, w_inv, condition = eigen_decompose(r)
    coef = np.einsum("mij,mj->mi", w_inv, x0)
    phases = np.exp(lam[:, :, None] * times[None, None, :]) * coef[:, :, None]  # (m, D, T)
    # R is real, so x is real: Re(W E) = Re W · Re E − Im W · Im E (two real products).
    x = np.matmul(w.real, phases.real)
    x -= np.matmul(w.imag, phases.imag)
    return np.swapaxes(x, -1, -2), condition


def _expm_propagate(
    r: NDArray[np.float64], x0: NDArray[np.float64], times: NDArray[np.float64]
) -> NDArray[np.float64]:
    """x(t) by scaling-and-squaring exponentials of r (m, D, D); returns (m, T, D)."""
    m, size, _ = r.shape
    out = np.empty((m, times.size, size))
    step = _uniform_step(times)
    if step is not None:
        first = x0 if times[0] == 0 else np.einsum("mij,mj->mi", sla.expm(r * times[0]), x0)
        propagator = sla.expm(r * step)
        out[:, 0] = first
        for k in range(1, times.size):
            out[:, k] = np.einsum("mij,mj->mi", propagator, out[:, k - 1])
        return out
    intervals = np.diff(times, prepend=0.0)
    distinct, which = np.unique(intervals, return_inverse=True)
    propagators = sla.expm(r[:, None] * distinct[None, :, None, None])  # (m, u, D, D)
    x = x0
    for k, index in enumerate(which):
        if intervals[k] > 0:
            x = np.einsum("mij,mj->mi", propagators[:, index], x)
        out[:, k] = x
    return out


def _krylov_propagate(
    h: NDArray, c: NDArray, rho0: NDArray, times: NDArray[np.float64]
) -> NDArray[np.complex128]:
    """ρ(t) of one point with ``expm_multiply`` on the sparse Liouvillian; returns (T, d, d)."""
    d = h.shape[-1]
    generator = sparse_liouvillian(h, c)
    vec = np.ascontiguousarray(rho0).reshape(d * d)
    step = _uniform_step(times)
    if step is not None:
        out = spla.expm_multiply(
            generator, vec, start=times[0], stop=times[-1], num=times.size, endpoint=True
        )
        return np.asarray(out).reshape(times.size, d, d)
    out = np.empty((times.size, d * d), dtype=complex)
    previous = 0.0
    for k, t in enumerate(times):
        if t > previous:
            vec = spla.expm_multiply(generator * (t - previous), vec)
        out[k] = vec
        previous = t
    return out.reshape(times.size, d, d)


# --------------------------------------------------------------------------------------------
# Time-independent generators
# --------------------------------------------------------------------------------------------


def evolve_constant(
    me: MasterEquation,
    rho0: ArrayLike,
    times: ArrayLike,
    *,
    method: str = "auto",
    max_condition: float = DEFAULT_MAX_CONDITION,
    chunk_size: int | None = None,
) -> Evolution:
    """Exact propagation ρ(t) = exp(L t) ρ₀ of a batch of time-independent master equations.

    Parameters
    ----------
    me : MasterEquation
        Batch shape (batch…), Hilbert dimension d; rad/s.
    rho0 : array_like, complex, shape (d, d) or (rho_batch…, d, d)
        Initial state at t = 0; Hermitian with unit trace within 1e-8. Its batch axes are
        broadcast against the master equation's: the result has batch shape
        (batch…) = broadcast(me.batch_shape, rho_batch…).
    times : array_like, s, shape (T,)
        Save times, strictly increasing, ≥ 0 (t = 0 returns ``rho0``).
    method : {"auto", "eigen", "expm", "krylov"}
        ``"auto"``: ``"eigen"`` up to d² = 400, ``"krylov"`` above. ``"eigen"``: one
        eigendecomposition per point reused for all save times, with a per-point fallback to
        ``"expm"`` where the eigenvectors are ill-conditioned. ``"expm"``: scaling-and-squaring
        only. ``"krylov"``: ``expm_multiply`` on the sparse Liouvillian, point by point.
    max_condition : float
        The eigen path is accepted where κ₁(W) of the eigenvector matrix is below this
        (the error is ~ 1e-16 κ₁(W)); must be > 1.
    chunk_size : int, optional
        Batch points per chunk of the dense paths (default: cache-sized).

    Returns
    -------
    Evolution
        ``rho`` of shape (batch…, T, d, d), diagnostics of shape (batch…, T), the method of
        every point in ``point_method`` and κ₁(W) in ``condition_estimate``.

    Raises
    ------
    ValueError
        Bad ``times``, ``rho0``, ``method``, ``max_condition`` or ``chunk_size``.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if not (isinstance(max_condition, int | float) and max_condition > 1):
        raise ValueError(f"max_condition must be a number > 1, got {max_condition!r}")
    if chunk_size is not None and not (
        isinstance(chunk_size, int | np.integer) and chunk_size >= 1
    ):
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    t = _check_times(times, 0.0, "0")
    d = me.dimension
    rho, batch = _check_rho0(rho0, d, me.batch_shape)
    if method == "auto":
        method = "eigen" if d * d <= AUTO_DENSE_MAX else "krylov"

    n = int(np.prod(batch, dtype=int))
    h = np.broadcast_to(me.hamiltonian, (*batch, d, d)).reshape(n, d, d)
    c = np.broadcast_to(me.jump_operators, (*batch, me.n_jumps, d, d)).reshape(n, me.n_jumps, d, d)
    rho_flat = rho.reshape(n, d, d)
    condition = np.full(n, np.nan)
    info: dict[str, Any] = {"uniform_grid": _uniform_step(t) is not None}

    if method == "krylov":
        out = np.empty((n, t.size, d, d), dtype=complex)
        for i in range(n):
            out[i] = _krylov_propagate(h[i], c[i], rho_flat[i], t)
        point_method = np.full(n, "krylov")
    else:
        x0 = vectorize_hermitian(rho_flat)
        x = np.empty((n, t.size, d * d))
        point_method = np.full(n, method, dtype="<U6")
        chunk = chunk_length(d, chunk_size)
        threads = default_threads()
        info.update(max_condition=max_condition, chunk_size=chunk, threads=threads)

        def work(part: slice) -> None:
            r = real_liouvillian(h[part], c[part])
            if method == "expm":
                x[part] = _expm_propagate(r, x0[part], t)
                return
            x[part], condition[part] = _eigen_propagate(r, x0[part], t)
            flagged = ~(condition[part] <= max_condition)
            if flagged.any():
                rows = np.arange(part.start, part.stop)[flagged]
                x[rows] = _expm_propagate(r[flagged], x0[part][flagged], t)
                point_method[rows] = "expm"

        map_chunks(work, n, chunk, threads)
        out = unvectorize_hermitian(x, d)

    trace_error, hermiticity_error, min_eigenvalue = state_diagnostics(out)
    used = sorted(set(point_method.tolist()), key=["eigen", "expm", "krylov"].index)
    return Evolution(
        times=t,
        rho=out.reshape(*batch, t.size, d, d),
        method="+".join(used) if used else method,
        point_method=point_method.reshape(batch),
        trace_error=trace_error.reshape(*batch, t.size),
        hermiticity_error=hermiticity_error.reshape(*batch, t.size),
        min_eigenvalue=min_eigenvalue.reshape(*batch, t.size),
        condition_estimate=condition.reshape(batch),
        dims=me.dims,
        info=info,
    )


def propagate_constant_real(
    r: NDArray[np.float64],
    x0: NDArray[np.float64],
    times: NDArray[np.float64],
    *,
    sectors: tuple[slice, ...] | None = None,
    max_condition: float = DEFAULT_MAX_CONDITION,
    chunk_size: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """x(t) = exp(R t) x₀ for a batch of constant real generators (dense, exact).

    Parameters
    ----------
    r : ndarray, float, shape (m, D, D)
    x0 : ndarray, float, shape (m, D)
    times : ndarray, s, shape (T,), ≥ 0 and increasing
    sectors : tuple of slice, optional
        Blocks of a block-diagonal R (propagated independently).
    max_condition : float
        Eigen path accepted where κ₁(W) ≤ this, else scaling-and-squaring.
    chunk_size : int, optional
        Batch points per chunk (chunks run on a thread pool).

    Returns
    -------
    (ndarray, ndarray, ndarray)
        x of shape (m, T, D); the largest κ₁(W) over the blocks, shape (m,) (NaN on the
        expm path, used on uniform grids from 0); the method of each point (``"eigen"`` or
        ``"expm"``).
    """
    m, size, _ = r.shape
    blocks = sectors if sectors else (slice(0, size),)
    x = np.zeros((m, times.size, size))
    condition = np.zeros(m)
    method = np.full(m, "eigen", dtype="<U5")
    d = math.isqrt(size)

    # On a uniform grid from 0 one exponential per point, applied repeatedly, is cheaper than
    # an eigendecomposition (≈ 12 D³ + 2 T D² against ≈ 25 D³ flops) and needs no
    # conditioning check; otherwise the eigen path serves any set of times.
    uniform = times[0] == 0 and _uniform_step(times) is not None

    def work(part: slice) -> None:
        for block in blocks:
            rb = np.ascontiguousarray(r[part, block, block])
            xb = x0[part, block]
            if uniform:
                x[part, :, block] = _expm_propagate(rb, xb, times)
                method[part] = "expm"
                condition[part] = np.nan
                continue
            out, cond = _eigen_propagate(rb, xb, times)
            flagged = ~(cond <= max_condition)
            if flagged.any():
                out[flagged] = _expm_propagate(rb[flagged], xb[flagged], times)
                rows = np.arange(part.start, part.stop)[flagged]
                method[rows] = "expm"
            x[part, :, block] = out
            condition[part] = np.maximum(condition[part], cond)

    map_chunks(work, m, chunk_length(d, chunk_size), default_threads())
    return x, condition, method


# --------------------------------------------------------------------------------------------
# Time-dependent generators
# --------------------------------------------------------------------------------------------


def evolve(
    generator: Callable[[float], MasterEquation],
    rho0: ArrayLike,
    times: ArrayLike,
    *,
    t0: float = 0.0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_step: float | None = None,
    first_step: float | None = None,
    max_steps: int = 100_000,
) -> Evolution:
    """Propagate ρ under a time-dependent generator with an adaptive 4th-order Magnus method.

    Parameters
    ----------
    generator : callable
        ``generator(t)`` with t in s returns the :class:`~giantatoms.model.lindblad.MasterEquation`
        at time t; the same dims and batch shape at every t.
    rho0 : array_like, complex, shape (d, d) or (rho_batch…, d, d)
        State at ``t0``; Hermitian with unit trace within 1e-8; its batch axes are broadcast
        against those of the generator.
    times : array_like, s, shape (T,)
        Save times, strictly increasing, ≥ ``t0``; steps are shortened to land on them.
    t0 : float, s
        Initial time.
    rtol, atol : float
        Relative and absolute tolerance of the local error of each step, on the real
        coordinates of ρ: the RMS over coordinates of err/(atol + rtol·|x|), maximised over the
        batch, must be ≤ 1.
    max_step : float, s, optional
        Largest step (use it when the generator has features shorter than the save spacing
        that the error control could step over).
    first_step : float, s, optional
        Initial trial step; default 1 % of the time span (or ``max_step``).
    max_steps : int
        Limit on the attempted steps.

    Returns
    -------
    Evolution
        ``method="magnus4"``, with ``steps``, ``rejected_steps`` and ``error_estimate``
        (shape (batch…, T), trace norm).

    Raises
    ------
    ValueError
        Bad ``times``, ``rho0``, tolerances or step options.
    TypeError
        ``generator`` does not return a MasterEquation.
    RuntimeError
        ``max_steps`` exceeded, the step size underflowed, or the generator changed shape.
    """
    from giantatoms.model.lindblad import MasterEquation

    if not callable(generator):
        raise TypeError(f"generator must be a callable t -> MasterEquation, got {generator!r}")
    if not (isinstance(t0, int | float | np.floating | np.integer) and np.isfinite(t0)):
        raise ValueError(f"t0 must be a finite number (s), got {t0!r}")
    _check_positive("rtol", rtol)
    if not (isinstance(atol, int | float | np.floating | np.integer) and atol >= 0):
        raise ValueError(f"atol must be a number ≥ 0, got {atol!r}")
    _check_positive("max_step", max_step, allow_none=True)
    _check_positive("first_step", first_step, allow_none=True)
    if not (isinstance(max_steps, int | np.integer) and max_steps >= 1):
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    t0 = float(t0)
    t = _check_times(times, t0, "t0")

    me0 = generator(t0)
    if not isinstance(me0, MasterEquation):
        raise TypeError(f"generator(t) must return a MasterEquation, got {type(me0).__name__}")
    d, me_batch, dims = me0.dimension, me0.batch_shape, me0.dims
    rho, batch = _check_rho0(rho0, d, me_batch)
    n = int(np.prod(batch, dtype=int))
    size = d * d
    x = vectorize_hermitian(rho.reshape(n, d, d))

    def real_generator(time: float) -> NDArray[np.float64]:
        me = me0 if time == t0 else generator(time)
        if not isinstance(me, MasterEquation) or me.dims != dims or me.batch_shape != me_batch:
            raise RuntimeError(
                f"generator({time!r}) must return a MasterEquation with dims {dims} and batch "
                f"shape {me_batch} like generator(t0)"
            )
        r = real_liouvillian(me.hamiltonian, me.jump_operators)
        return np.broadcast_to(r, (*batch, size, size)).reshape(n, size, size)

    with _blas_single_thread():  # many small LAPACK calls: BLAS threads only cost here
        loop = magnus_loop(
            dense_magnus_step(
                lambda nodes: np.stack([real_generator(x) for x in nodes]),
                lambda prepared, rows: [prepared[:, rows]],
            ),
            x,
            t,
            t0=t0,
            rtol=rtol,
            atol=atol,
            max_step=max_step,
            first_step=first_step,
            max_steps=max_steps,
            trace_norm=lambda v: _trace_norm(v, d),
        )
    out, errors = loop.states, loop.errors
    steps, rejected, step_sizes = loop.steps, loop.rejected, loop.step_sizes

    rho = unvectorize_hermitian(out, d)
    trace_error, hermiticity_error, min_eigenvalue = state_diagnostics(rho)
    return Evolution(
        times=t,
        rho=rho.reshape(*batch, t.size, d, d),
        method="magnus4",
        point_method=np.full(batch, "magnus4"),
        trace_error=trace_error.reshape(*batch, t.size),
        hermiticity_error=hermiticity_error.reshape(*batch, t.size),
        min_eigenvalue=min_eigenvalue.reshape(*batch, t.size),
        condition_estimate=np.full(batch, np.nan),
        dims=dims,
        steps=steps,
        rejected_steps=rejected,
        error_estimate=errors.reshape(*batch, t.size),
        info={
            "rtol": rtol,
            "atol": atol,
            "max_step": max_step,
            "t0": t0,
            "step_sizes": np.asarray(step_sizes),
        },
    )
