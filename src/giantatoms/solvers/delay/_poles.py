"""Poles of the delayed single-excitation dynamics and its long-time (trapped) state.

The Laplace transform of the delay-differential equation (:mod:`giantatoms.model.delays`) is
M(s) ĉ(s) = c(0) with

    M(s) = s + iΔ + γ_nr/2 + ½ Σ_m K_m e^{−sτ_m}     (N × N),

so the amplitudes are sums of e^{s_p t} over the zeros of det M (infinitely many: a delay
equation has a whole ladder of them). The ones that matter at long times are continued here
from the N Markovian poles (eigenvalues of −(iΔ + γ_nr/2 + G/2)) by Newton's method on
det M(s), with d/ds log det M = tr(M⁻¹ M′) and M′(s) = 1 − ½ Σ K τ e^{−sτ}.

A pole on the imaginary axis (s_b = −iω_b, no decay) is a bound state: an excitation stored
in the atoms that never leaves (e.g. a giant atom at its decoherence-free point). Its share of
c(t → ∞) is the residue of M(s)⁻¹ there: with V, U bases of the right and left null spaces of
M(s_b),

    c(t) → e^{s_b t} V (U† M′(s_b) V)⁻¹ U† c(0),

and M′(0) = 1 − T/2 (T the delay matrix): the Markovian dark-state projection, weighted by
(1 − T/2)⁻¹. For one giant atom with two points (equal rates γ/2… each point γ, phase φ = ω₀τ),
ċ = −γc − γe^{iφ}c(t − τ) and the poles are s = −γ + W_k(−γτ e^{iφ} e^{γτ})/τ (Lambert W,
branch k; k = 0 the slowest); at φ = (2m+1)π the trapped population is 1/(1 + γτ)².
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.special
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.delays import DelayKernel, delay_kernel
from giantatoms.solvers.delay._dde import _initial_amplitudes, _require_coupling

if TYPE_CHECKING:
    from giantatoms.model.device import Device

__all__ = ["Poles", "TrappedState", "poles", "trapped_state", "two_point_pole"]

_MAX_ITERATIONS = 100


@dataclass(frozen=True, eq=False)
class Poles:
    """Zeros of det M(s) continued from the Markovian poles.

    Attributes
    ----------
    values : ndarray, complex, rad/s, shape (..., N)
        s_p, sorted by decay (slowest first): amplitude decay rate −Re s, frequency in the
        frame Im s.
    markov : ndarray, complex, rad/s, shape (..., N)
        The Markovian poles each was started from (same order).
    converged : ndarray of bool, shape (..., N)
    residual : ndarray, shape (..., N)
        Smallest singular value of M(s_p) relative to the rate scale.
    iterations : int
    frame_frequency : ndarray, rad/s, shape (...)
    """

    values: NDArray[np.complex128]
    markov: NDArray[np.complex128]
    converged: NDArray[np.bool_]
    residual: NDArray[np.float64]
    iterations: int
    frame_frequency: NDArray[np.float64]

    @property
    def decay_rates(self) -> NDArray[np.float64]:
        """Population decay rates −2 Re s_p, rad/s, shape (..., N)."""
        return -2.0 * self.values.real


def _scale(kernel: DelayKernel) -> NDArray[np.float64]:
    return (
        np.max(np.abs(kernel.detunings), axis=-1)
        + np.max(kernel.loss_rates, axis=-1)
        + np.sum(np.abs(kernel.coefficients), axis=(-3, -2, -1))
    )


def _newton(
    kernel: DelayKernel, start: NDArray[np.complex128], tol: float
) -> tuple[NDArray[np.complex128], NDArray[np.bool_], NDArray[np.float64], int]:
    """Newton on det M(s) = 0 for a batch of starts, shape (..., P)."""
    expand = _with_pole_axis(kernel)
    scale = _scale(kernel)[..., None]
    s = start.copy()
    done = np.zeros(s.shape, dtype=bool)
    iterations = 0
    for iterations in range(1, _MAX_ITERATIONS + 1):  # noqa: B007
        m = expand.characteristic_matrix(s)
        dm = expand.characteristic_derivative(s)
        sigma = np.linalg.svd(m, compute_uv=False)[..., -1]
        done = sigma <= tol * scale
        if np.all(done):
            break
        with np.errstate(all="ignore"):
            trace = np.trace(np.linalg.solve(m, dm), axis1=-2, axis2=-1)
            update = 1.0 / trace
        update = np.where(done | ~np.isfinite(update), 0.0, update)
        # Damping: never move by more than the rate scale in one step.
        size = np.abs(update)
        shrink = scale / np.where(size > scale, size, scale)
        update = update * shrink
        s = s - update
    m = expand.characteristic_matrix(s)
    sigma = np.linalg.svd(m, compute_uv=False)[..., -1]
    return s, sigma <= tol * scale, sigma / scale, iterations


def poles(
    device: Device | DelayKernel,
    frequencies: ArrayLike | None = None,
    *,
    frame_frequency: ArrayLike | None = None,
    tol: float = 1e-12,
) -> Poles:
    """The N slowest decay poles of the delayed single-excitation dynamics.

    Parameters
    ----------
    device : Device or DelayKernel
    frequencies : array_like, rad/s, shape (..., N), optional
        Bare atom frequencies (default: the atoms' own).
    frame_frequency : array_like, rad/s, optional
        ω₀ of the frame (default: the mean bare frequency); poles are reported in this frame.
    tol : float
        Convergence: smallest singular value of M(s) below ``tol`` × the rate scale.

    Returns
    -------
    Poles
    """
    if not 0 < tol < 1e-3:
        raise ValueError(f"tol must be in (0, 1e-3), got {tol!r}")
    kernel = _kernel(device, frequencies, frame_frequency)
    _require_coupling(kernel)
    markov = np.linalg.eigvals(kernel.markov_generator)
    values, converged, residual, iterations = _newton(kernel, markov, tol)
    order = np.argsort(-values.real, axis=-1, kind="stable")
    return Poles(
        values=np.take_along_axis(values, order, axis=-1),
        markov=np.take_along_axis(markov, order, axis=-1),
        converged=np.take_along_axis(converged, order, axis=-1),
        residual=np.take_along_axis(residual, order, axis=-1),
        iterations=iterations,
        frame_frequency=kernel.frame_frequency,
    )


def _kernel(
    device: Device | DelayKernel, frequencies: ArrayLike | None, frame: ArrayLike | None
) -> DelayKernel:
    if isinstance(device, DelayKernel):
        if frequencies is not None or frame is not None:
            raise ValueError("frequencies / frame_frequency are part of a DelayKernel already")
        return device
    return delay_kernel(device, frequencies=frequencies, frame_frequency=frame)


def two_point_pole(
    rate: ArrayLike, delay: ArrayLike, phase: ArrayLike, branch: int = 0
) -> NDArray[np.complex128]:
    """Pole of ċ = −γc − γe^{iφ}c(t − τ): s = −γ + W_k(−γτ e^{iφ} e^{γτ})/τ (Lambert W).

    This is one giant atom with two coupling points of rate γ each (bidirectional), at
    detuning zero in its own frame, φ = ω₀τ.

    Parameters
    ----------
    rate : array_like, rad/s
        γ (per point).
    delay : array_like, s, > 0
        τ between the points.
    phase : array_like, rad
        φ.
    branch : int
        Lambert-W branch k (0: the slowest pole).

    Returns
    -------
    ndarray, complex, rad/s
    """
    g = np.asarray(rate, dtype=float)
    tau = np.asarray(delay, dtype=float)
    if np.any(tau <= 0):
        raise ValueError("delay must be > 0 s")
    z = -g * tau * np.exp(1j * np.asarray(phase, dtype=float)) * np.exp(g * tau)
    return -g + scipy.special.lambertw(z, branch) / tau


@dataclass(frozen=True, eq=False)
class TrappedState:
    """The part of the excitation that stays in the atoms forever (bound states).

    Attributes
    ----------
    amplitudes : ndarray, complex, shape (..., N)
        c(∞) at t = 0 phase: c(t) → Σ_b e^{s_b t} (this is the sum at t = 0 of the bound
        terms); with a single bound pole its populations are time independent.
    population : ndarray, shape (...)
        Σ_j |c_j(∞)|² (for a single bound pole; with several bound poles at different
        frequencies the populations beat and this is their time average).
    bound_poles : ndarray, complex, rad/s, shape (..., N)
        The poles found bound (|Re s| ≤ tolerance), NaN elsewhere.
    markov_population : ndarray, shape (...)
        The same with the delays set to zero (the Markovian dark-state projection).
    diagnostics : dict
    """

    amplitudes: NDArray[np.complex128]
    population: NDArray[np.float64]
    bound_poles: NDArray[np.complex128]
    markov_population: NDArray[np.float64]
    diagnostics: dict[str, Any] = field(default_factory=dict)


def _residue_terms(
    kernel: DelayKernel, s: NDArray[np.complex128], c0: NDArray[np.complex128], null_tol: float
) -> NDArray[np.complex128]:
    """V (U† M′ V)⁻¹ U† c0 at each pole s (..., P); zero where M(s) is regular."""
    expand = _with_pole_axis(kernel)
    m = expand.characteristic_matrix(s)
    dm = expand.characteristic_derivative(s)
    u, sig, vh = np.linalg.svd(m)
    scale = _scale(kernel)[..., None, None]
    null = sig <= null_tol * scale  # (..., P, N)
    out = np.zeros((*s.shape, kernel.n_atoms), dtype=complex)
    for index in np.ndindex(*s.shape):
        mask = null[index]
        if not np.any(mask):
            continue
        v = np.conj(vh[index][mask]).T  # right null vectors (N, r)
        left = u[index][:, mask]  # left null vectors (N, r): U† M = 0
        small = np.conj(left).T @ dm[index] @ v
        out[index] = v @ np.linalg.solve(small, np.conj(left).T @ c0[index[:-1]])
    return out


def trapped_state(
    device: Device | DelayKernel,
    initial: Any,
    frequencies: ArrayLike | None = None,
    *,
    frame_frequency: ArrayLike | None = None,
    tolerance: float = 1e-9,
) -> TrappedState:
    """The long-time (bound) part of the single-excitation dynamics with delays.

    Finds the poles (:func:`poles`) that lie on the imaginary axis (|Re s| ≤ ``tolerance`` ×
    rate scale: no decay) and sums their residues (module docstring). Intrinsic loss
    (γ_nr > 0) makes every pole decay, so nothing is trapped forever then.

    Parameters
    ----------
    device : Device or DelayKernel
    initial : str, int or array_like
        As in :func:`~giantatoms.solvers.delay.single_excitation`.
    frequencies, frame_frequency : optional
        As in :func:`poles`.
    tolerance : float
        Relative size of Re s (and of the smallest singular value) counted as zero.

    Returns
    -------
    TrappedState
    """
    kernel = _kernel(device, frequencies, frame_frequency)
    c0 = np.asarray(_initial_amplitudes(initial, kernel))
    found = poles(kernel)
    batch = np.broadcast_shapes(found.values.shape[:-1], c0.shape[:-1])
    c_b = np.broadcast_to(c0, (*batch, kernel.n_atoms))
    wide = _broadcast_kernel(kernel, batch)
    values = np.broadcast_to(found.values, (*batch, kernel.n_atoms))
    s_b, amplitudes, population = _bound_part(wide, values, found.converged, c_b, tolerance)
    markovian = _broadcast_kernel(
        DelayKernel(
            coefficients=kernel.coefficients,
            delays=np.zeros_like(kernel.delays),
            detunings=kernel.detunings,
            loss_rates=kernel.loss_rates,
            frame_frequency=kernel.frame_frequency,
            atom_names=kernel.atom_names,
        ),
        batch,
    )
    eig = np.linalg.eigvals(markovian.markov_generator)
    _, _, markov_population = _bound_part(markovian, eig, np.ones(eig.shape, bool), c_b, tolerance)
    return TrappedState(
        amplitudes=amplitudes,
        population=population,
        bound_poles=s_b,
        markov_population=markov_population,
        diagnostics={"poles": found, "tolerance": tolerance},
    )


def _bound_part(
    kernel: DelayKernel,
    values: NDArray[np.complex128],
    converged: NDArray[np.bool_],
    c0: NDArray[np.complex128],
    tolerance: float,
) -> tuple[NDArray[np.complex128], NDArray[np.complex128], NDArray[np.float64]]:
    """Bound poles (NaN where not bound), c(∞) at t = 0 and its population."""
    scale = _scale(kernel)[..., None]
    bound = converged & (np.abs(values.real) <= tolerance * scale)
    s = np.where(bound, values, np.nan)
    safe = np.where(bound, values, 1.0 + 0j)
    terms = _residue_terms(kernel, safe, c0, 1e-7)
    terms = np.where(bound[..., None], terms, 0.0)
    # Newton may reach one pole from several starts, and a degenerate pole's residue already
    # holds its whole null space: keep one term per distinct pole.
    terms = _unique_poles(s, terms, 1e-7 * scale)
    return s, np.sum(terms, axis=-2), np.sum(np.abs(terms) ** 2, axis=(-2, -1))


def _with_pole_axis(kernel: DelayKernel) -> DelayKernel:
    """The kernel with a length-1 axis before the atoms', to evaluate M(s) at (..., P) poles."""
    return DelayKernel(
        coefficients=kernel.coefficients[..., None, :, :, :],
        delays=kernel.delays[..., None, :, :, :],
        detunings=kernel.detunings[..., None, :],
        loss_rates=kernel.loss_rates[..., None, :],
        frame_frequency=kernel.frame_frequency[..., None],
        atom_names=kernel.atom_names,
    )


def _broadcast_kernel(kernel: DelayKernel, batch: tuple[int, ...]) -> DelayKernel:
    n = kernel.n_atoms
    shape = kernel.coefficients.shape[-3:]
    return DelayKernel(
        coefficients=np.broadcast_to(kernel.coefficients, (*batch, *shape)),
        delays=np.broadcast_to(kernel.delays, (*batch, *shape)),
        detunings=np.broadcast_to(kernel.detunings, (*batch, n)),
        loss_rates=np.broadcast_to(kernel.loss_rates, (*batch, n)),
        frame_frequency=np.broadcast_to(kernel.frame_frequency, batch),
        atom_names=kernel.atom_names,
    )


def _unique_poles(
    s: NDArray[np.complex128], terms: NDArray[np.complex128], atol: NDArray[np.float64]
) -> NDArray:
    """Zero the terms of poles equal (within ``atol``, shape (..., 1)) to an earlier one."""
    out = terms.copy()
    p = s.shape[-1]
    for i in range(p):
        for j in range(i):
            same = (np.abs(s[..., i] - s[..., j]) <= atol[..., 0]) & ~np.isnan(s[..., i])
            out[..., i, :] = np.where(same[..., None], 0.0, out[..., i, :])
    return out
