"""Stabilisation analysis: how fast the drive steers the pair into its dark state.

From an initial state (|gg⟩ by default) under a constant drive, ρ(t) approaches the steady
state ρ_ss. The trace distance D(t) = ½‖ρ(t) − ρ_ss‖₁ decays at late times as e^{−t/τ}, and
τ should equal 1/gap, the inverse Liouvillian gap (PHYSICS.md §6: gap ∝ √(γ_nr Γ)) unless the
initial state does not overlap the slowest mode. This module computes both, side by side,
batched over any parameter of the device and drive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.measure.metrics import bell_fidelity
from giantatoms.model.device import Device, Drive
from giantatoms.model.lindblad import master_equation
from giantatoms.protocols._runner import initial_state as product_state
from giantatoms.solvers.evolution import Evolution, evolve_constant
from giantatoms.solvers.gap import LiouvillianGap, liouvillian_gap
from giantatoms.solvers.steady_state import SteadyState, steady_state

__all__ = ["Stabilisation", "stabilisation"]


@dataclass(frozen=True, eq=False, repr=False)
class Stabilisation:
    """Approach to the driven steady state, with the fitted time and the Liouvillian gap.

    Attributes
    ----------
    times : ndarray, s, shape (T,)
    distance : ndarray, shape (batch…, T)
        Trace distance ½‖ρ(t) − ρ_ss‖₁.
    fidelity : ndarray, shape (batch…, T)
        Bell fidelity of atoms 0 and 1 to ``target`` maximised over local Z phases (NaN for a
        single atom).
    steady_fidelity : ndarray, shape (batch…)
        The same for ρ_ss.
    fitted_time : ndarray, s, shape (batch…)
        τ of the exponential e^{−t/τ} fitted (least squares on log D) where
        ``fit_window[1] ≤ D ≤ fit_window[0]``; NaN where fewer than 3 points fall in it.
    fitted_amplitude : ndarray, shape (batch…)
        Prefactor A of D ≈ A e^{−t/τ}.
    fit_points : ndarray of int, shape (batch…)
        Number of points used by the fit.
    gap_time : ndarray, s, shape (batch…)
        1/gap.
    time_to_90 : ndarray, s, shape (batch…)
        First time after which the fidelity stays within 10 % of |F_ss − F(0)| of F_ss (NaN
        if it never settles within ``times``).
    target : str
    gap : LiouvillianGap
    steady : SteadyState
    evolution : Evolution
    fit_window : (float, float)
    """

    times: NDArray[np.float64]
    distance: NDArray[np.float64]
    fidelity: NDArray[np.float64]
    steady_fidelity: NDArray[np.float64]
    fitted_time: NDArray[np.float64]
    fitted_amplitude: NDArray[np.float64]
    fit_points: NDArray[np.intp]
    gap_time: NDArray[np.float64]
    time_to_90: NDArray[np.float64]
    target: str
    gap: LiouvillianGap
    steady: SteadyState
    evolution: Evolution
    fit_window: tuple[float, float]

    @property
    def ratio(self) -> NDArray[np.float64]:
        """fitted_time × gap (1 when the slowest mode dominates the approach)."""
        return self.fitted_time / self.gap_time

    def __repr__(self) -> str:
        return (
            f"Stabilisation(batch_shape={self.fitted_time.shape}, fitted_time = "
            f"{np.nanmean(self.fitted_time) * 1e6:.4g} µs, 1/gap = "
            f"{np.nanmean(self.gap_time) * 1e6:.4g} µs (means), steady F_opt = "
            f"{np.nanmean(self.steady_fidelity):.4f})"
        )


def _fit_exponential(
    times: NDArray[np.float64], distance: NDArray[np.float64], window: tuple[float, float]
) -> tuple[NDArray, NDArray, NDArray]:
    """Vectorised least squares of log D = log A − t/τ over the points inside ``window``."""
    hi, lo = window
    with np.errstate(divide="ignore", invalid="ignore"):
        log_d = np.log(distance)
    mask = (distance <= hi) & (distance >= lo) & np.isfinite(log_d)
    w = mask.astype(float)
    count = w.sum(axis=-1)
    t = np.broadcast_to(times, distance.shape)
    y = np.where(mask, log_d, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_mean = (w * t).sum(-1) / count
        y_mean = (w * y).sum(-1) / count
        dt = np.where(mask, t - t_mean[..., None], 0.0)
        slope = (dt * (y - y_mean[..., None])).sum(-1) / (dt * dt).sum(-1)
        intercept = y_mean - slope * t_mean
        tau = -1.0 / slope
    bad = (count < 3) | ~(slope < 0)
    tau = np.where(bad, np.nan, tau)
    amplitude = np.where(bad, np.nan, np.exp(intercept))
    return tau, amplitude, count.astype(np.intp)


def stabilisation(
    device: Device,
    drive: Drive,
    *,
    frequencies: ArrayLike | None = None,
    times: ArrayLike | None = None,
    initial_state: ArrayLike | str | None = None,
    target: str = "psi-",
    fit_window: tuple[float, float] = (1e-1, 1e-6),
    n_times: int = 400,
) -> Stabilisation:
    """Approach to the steady state under a constant drive: fitted time next to 1/gap.

    Parameters
    ----------
    device : Device
    drive : Drive
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare atom frequencies (e.g. ``OperatingPoint.frequencies``); default the device's.
    times : array_like, s, shape (T,), optional
        Default: ``n_times`` points from 0 to 14/gap (the smallest gap of the batch), enough for
        D to fall through the whole default fit window.
    initial_state : array_like or {"ground", "thermal"}, optional
        Default |g…g⟩.
    target : str
        Bell state of the fidelity curve (maximised over local Z phases).
    fit_window : (float, float)
        (upper, lower) bounds on D of the points used by the exponential fit.
    n_times : int
        Number of default times.

    Returns
    -------
    Stabilisation
    """
    upper, lower = (float(x) for x in fit_window)
    if not (0 < lower < upper <= 1):
        raise ValueError(
            f"fit_window must be (upper, lower) with 1 ≥ upper > lower > 0, got {fit_window!r}"
        )
    if not (isinstance(n_times, int) and n_times >= 10):
        raise ValueError(f"n_times must be an integer ≥ 10, got {n_times!r}")
    me = master_equation(device, drive, frequencies=frequencies)
    gap = liouvillian_gap(me)
    steady = steady_state(me)
    if times is None:
        rate = float(np.min(gap.gap))
        if not rate > 0:
            raise ValueError("the Liouvillian gap is 0 (no unique steady state); give times")
        times = np.linspace(0.0, 14.0 / rate, n_times)
    if initial_state is None or isinstance(initial_state, str):
        rho0 = product_state(device, initial_state or "ground")
    else:
        rho0 = np.asarray(initial_state, dtype=complex)
    evolution = evolve_constant(me, rho0, times)
    diff = evolution.rho - steady.rho[..., None, :, :]
    diff = 0.5 * (diff + np.conj(np.swapaxes(diff, -1, -2)))
    distance = 0.5 * np.abs(np.linalg.eigvalsh(diff)).sum(axis=-1)
    if device.n_atoms >= 2:
        fidelity = bell_fidelity(evolution.rho, target, optimize_phases=True, dims=device.dims)
        steady_fidelity = bell_fidelity(steady.rho, target, optimize_phases=True, dims=device.dims)
    else:  # no pair: no Bell fidelity
        fidelity = np.full(distance.shape, np.nan)
        steady_fidelity = np.full(distance.shape[:-1], np.nan)
    tau, amplitude, count = _fit_exponential(evolution.times, distance, (upper, lower))

    start = fidelity[..., :1]
    tolerance = 0.1 * np.abs(steady_fidelity[..., None] - start)
    outside = np.abs(fidelity - steady_fidelity[..., None]) > tolerance
    # Index of the last point outside the band; settled from the next one on.
    last_out = np.where(
        outside.any(-1), outside.shape[-1] - 1 - np.argmax(outside[..., ::-1], -1), -1
    )
    settled = last_out + 1 < outside.shape[-1]
    index = np.clip(last_out + 1, 0, outside.shape[-1] - 1)
    time_to_90 = np.where(settled & (device.n_atoms >= 2), evolution.times[index], np.nan)
    return Stabilisation(
        times=evolution.times,
        distance=distance,
        fidelity=fidelity,
        steady_fidelity=steady_fidelity,
        fitted_time=tau,
        fitted_amplitude=amplitude,
        fit_points=count,
        gap_time=1.0 / np.asarray(gap.gap),
        time_to_90=time_to_90,
        target=target,
        gap=gap,
        steady=steady,
        evolution=evolution,
        fit_window=(upper, lower),
    )
