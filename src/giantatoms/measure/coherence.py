"""Simulated single-atom coherence experiments (T1, Ramsey, Hahn echo) and decay fits.

Each experiment prepares one atom of a device with ideal, instantaneous pulses (the other atoms
in |g⟩), lets the whole device evolve freely under its undriven master equation
(:func:`giantatoms.master_equation`, PHYSICS.md §3) at the requested bare frequencies, and fits
the measured signal. The waveguide therefore contributes whatever it contributes at that
operating point: the decay Γ_j(ω) of the atom (which vanishes at its decoherence-free point),
its Lamb shift, and exchange and correlated decay with the other atoms (negligible when they
are far detuned).

Frame and pulses
    The master equation is written in the frame rotating at the measured atom's Lamb-shifted
    frequency ω̃_j = ω_j + δω_j (the pulses are calibrated to the atom). A pulse of angle θ about
    the axis (cos φ, sin φ, 0) acts on the g–e transition of that atom only,
    R_φ(θ) = exp[−i(θ/2)(cos φ σ_x + sin φ σ_y)] with σ_x = |g⟩⟨e| + |e⟩⟨g|,
    σ_y = −i|g⟩⟨e| + i|e⟩⟨g| (a transmon's f level is untouched); R_y(π/2)|g⟩ = (|g⟩ + |e⟩)/√2.

Signals
    ``population``: P_e of the measured atom (the e level only). ``coherence``: the length of the
    transverse Bloch vector of the g–e transition, 2|⟨σ_j⟩| with σ_j = |g⟩⟨e|_j (1 for
    (|g⟩ + |e⟩)/√2). Ramsey ``fringe``: P_e after a second π/2 pulse whose axis is advanced by
    the artificial detuning, φ₂ = π/2 + δ·t, so P_e = ½[1 + C(t) cos(δt + …)].

    Quasi-static frequency noise A Gaussian offset of the measured atom's frequency with
    standard deviation σ (rad/s), fixed during a shot and different from shot to shot, e.g. σ =
    |∂ω/∂Φ|·σ_Φ from :meth:`giantatoms.model.flux.TunableTransmon.frequency_noise`. Every
    sample is one more batch point of the same vectorised evolution; the frame stays at the
    nominal ω̃_j, and the signals are averaged over the samples. For an otherwise exponential
    decay this gives the Ramsey envelope e^{−t/T2} e^{−(σt)²/2}; the echo's π pulse refocuses
    it.

Expected times (two-level atom, exchange neglected)
    1/T1 = Γ_j(ω_j) + γ_nr(1 + 2n_th), 1/T2 = 1/(2T1) + γ_φ (:func:`coherence_times`). For a
    three-level transmon with a thermal bath the f level changes both at O(n_th).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy.optimize import OptimizeWarning, curve_fit

from giantatoms._validation import choice, real_array
from giantatoms.model.device import Device
from giantatoms.model.lindblad import MasterEquation, master_equation
from giantatoms.model.operators import embed, transition_lowering
from giantatoms.solvers.evolution import (
    DEFAULT_MAX_CONDITION,
    _check_times,
    eigen_decompose,
    evolve_constant,
)
from giantatoms.solvers.liouvillian import (
    chunk_length,
    default_threads,
    map_chunks,
    real_liouvillian,
    unvectorize_hermitian,
    vectorize_hermitian,
)

__all__ = [
    "CoherenceTimes",
    "DecayFit",
    "EchoResult",
    "RamseyResult",
    "T1Result",
    "coherence_times",
    "echo_experiment",
    "fit_exponential_decay",
    "fit_gaussian_exponential_decay",
    "ramsey_experiment",
    "t1_experiment",
]

#: Default number of quasi-static noise samples (Gauss–Hermite nodes by default: enough for
#: σ·t_max up to ≈ 7).
DEFAULT_SAMPLES = 64
#: Largest accepted bound on the Gauss–Hermite error of the Gaussian average of e^{iδt}.
QUADRATURE_TOLERANCE = 1e-10
#: Fewest save times an experiment accepts (the fits have up to 3 free parameters).
MIN_TIMES = 5
#: Complex numbers of density matrices held at once while averaging over noise samples.
_SAMPLE_CHUNK_ELEMENTS = 4_000_000
_FIT_MODELS = ("auto", "exponential", "gaussian_exponential")
_NOISE_SAMPLING = ("quadrature", "stratified", "random")
# Keeps stratified draws finite (|z| ≤ 8.3).
_TINY = 1e-16


# --------------------------------------------------------------------------------------------
# Decay fits
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class DecayFit:
    """Least-squares fit of decay curves A·exp(−t/T − (σt)²/2) + B, one fit per curve.

    Attributes
    ----------
    kind : {"exponential", "gaussian_exponential"}
        The model; ``"exponential"`` has σ = 0.
    parameter_names : tuple of str
        The free parameters, in the order of the last axis of ``parameters``: ``"amplitude"``
        (A), ``"decay_time"`` (T, s), ``"gaussian_rate"`` (σ, rad/s; Gaussian model only) and
        ``"offset"`` (B; only when fitted).
    parameters : ndarray, shape (batch…, P)
        Best-fit values.
    standard_errors : ndarray, shape (batch…, P)
        √diag of ``covariance``.
    covariance : ndarray, shape (batch…, P, P)
        Covariance of the parameters (scaled by the residual variance unless the data's
        uncertainties were given); T and σ are propagated from the fitted rate 1/T and from σ
        to first order.
    residual_rms : ndarray, shape (batch…)
        Root-mean-square residual of each curve.
    success : ndarray of bool, shape (batch…)
        The optimiser converged and the covariance is finite (otherwise values may be NaN).
    with_offset : bool
        Whether B was a free parameter (else B = 0).
    """

    kind: str
    parameter_names: tuple[str, ...]
    parameters: NDArray[np.float64]
    standard_errors: NDArray[np.float64]
    covariance: NDArray[np.float64]
    residual_rms: NDArray[np.float64]
    success: NDArray[np.bool_]
    with_offset: bool

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of fitted curves."""
        return self.residual_rms.shape

    def value(self, name: str) -> NDArray[np.float64]:
        """Best-fit value of one parameter, shape (batch…).

        Parameters fixed by the model (``"offset"`` without ``with_offset``,
        ``"gaussian_rate"`` of the exponential model) are 0.
        """
        return self._column(name, self.parameters)

    def error(self, name: str) -> NDArray[np.float64]:
        """Standard error of one parameter, shape (batch…) (0 for fixed parameters)."""
        return self._column(name, self.standard_errors)

    def _column(self, name: str, table: NDArray[np.float64]) -> NDArray[np.float64]:
        if name in self.parameter_names:
            return table[..., self.parameter_names.index(name)]
        if name in ("offset", "gaussian_rate"):
            return np.zeros(self.batch_shape)
        raise ValueError(
            f"unknown parameter {name!r}; parameters are {list(self.parameter_names)} "
            "(plus 'offset' and 'gaussian_rate', 0 when not fitted)"
        )

    @property
    def decay_time(self) -> NDArray[np.float64]:
        """Exponential decay time T (s), shape (batch…)."""
        return self.value("decay_time")

    @property
    def decay_time_error(self) -> NDArray[np.float64]:
        """Standard error of T (s), shape (batch…)."""
        return self.error("decay_time")

    @property
    def gaussian_rate(self) -> NDArray[np.float64]:
        """Gaussian rate σ (rad/s) of the envelope e^{−(σt)²/2}, shape (batch…)."""
        return self.value("gaussian_rate")

    @property
    def gaussian_rate_error(self) -> NDArray[np.float64]:
        """Standard error of σ (rad/s), shape (batch…)."""
        return self.error("gaussian_rate")

    def model(self, times: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the fitted curves.

        Parameters
        ----------
        times : array_like, s, shape (T,)

        Returns
        -------
        ndarray, shape (batch…, T)
        """
        t = real_array(times, "times")
        if t.ndim != 1:
            raise ValueError(f"times must be a 1-D array (s), got shape {t.shape}")
        a, tau, sigma, b = (
            self.value(n)[..., None] for n in ("amplitude", "decay_time", "gaussian_rate", "offset")
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(np.isinf(tau), 0.0, 1.0 / tau)
        return a * np.exp(-rate * t - 0.5 * (sigma * t) ** 2) + b

    def __repr__(self) -> str:
        parts = []
        for name in self.parameter_names:
            value, error = np.mean(self.value(name)), np.mean(self.error(name))
            parts.append(f"{name}={value:.6g} ± {error:.2g}")
        return f"DecayFit({self.kind!r}, batch_shape={self.batch_shape}, {', '.join(parts)})"


def fit_exponential_decay(
    times: ArrayLike,
    values: ArrayLike,
    *,
    with_offset: bool = True,
    uncertainties: ArrayLike | None = None,
) -> DecayFit:
    """Fit A·e^{−t/T} (+ B) to each curve.

    Initial guesses come from the integral (Jacquelin) method, y(t) − y(t₀) =
    −(1/T)∫(y − B)dt, a linear least-squares problem in 1/T and B/T that needs no uniform grid;
    the fit itself is Levenberg–Marquardt (``scipy.optimize.curve_fit``) on the rate 1/T, so a
    curve that barely decays over the window is still well conditioned.

    Parameters
    ----------
    times : array_like, s, shape (T,) or (batch…, T)
        Sample times (finite, distinct).
    values : array_like, shape (batch…, T)
        Curves to fit (a loop over the batch: fits are cheap).
    with_offset : bool
        Fit the offset B (else B = 0).
    uncertainties : array_like, shape broadcastable to ``values``, optional
        Standard deviation of each value; then the covariance is absolute (not rescaled by
        the residuals).

    Returns
    -------
    DecayFit
        ``kind="exponential"``, parameters ``("amplitude", "decay_time"[, "offset"])``.
    """
    return _fit_batch("exponential", times, values, with_offset, uncertainties)


def fit_gaussian_exponential_decay(
    times: ArrayLike,
    values: ArrayLike,
    *,
    with_offset: bool = True,
    uncertainties: ArrayLike | None = None,
) -> DecayFit:
    """Fit A·exp(−t/T − (σt)²/2) (+ B) to each curve (a Ramsey envelope with quasi-static noise).

    Initial guesses from the integral method for dy/dt = −(1/T + σ²t)(y − B), then
    Levenberg–Marquardt on (A, 1/T, σ[, B]). σ is reported as |σ|; its uncertainty is large
    when the data show no Gaussian part (use :func:`fit_exponential_decay` then).

    Parameters
    ----------
    times : array_like, s, shape (T,) or (batch…, T)
    values : array_like, shape (batch…, T)
    with_offset : bool
        Fit the offset B (else B = 0).
    uncertainties : array_like, shape broadcastable to ``values``, optional
        Standard deviation of each value (absolute covariance).

    Returns
    -------
    DecayFit
        ``kind="gaussian_exponential"``, parameters
        ``("amplitude", "decay_time", "gaussian_rate"[, "offset"])``; σ in rad/s.
    """
    return _fit_batch("gaussian_exponential", times, values, with_offset, uncertainties)


def _fit_batch(
    kind: str,
    times: ArrayLike,
    values: ArrayLike,
    with_offset: bool,
    uncertainties: ArrayLike | None,
) -> DecayFit:
    if not isinstance(with_offset, bool | np.bool_):
        raise TypeError(f"with_offset must be a bool, got {with_offset!r}")
    y = real_array(values, "values")
    if y.ndim == 0:
        raise ValueError("values must have shape (..., T) with T sample times")
    t = real_array(times, "times")
    try:
        t = np.broadcast_to(t, y.shape)
    except ValueError:
        raise ValueError(
            f"times of shape {np.shape(times)} do not match values of shape {y.shape}"
        ) from None
    names = ["amplitude", "decay_time"]
    if kind == "gaussian_exponential":
        names.append("gaussian_rate")
    if with_offset:
        names.append("offset")
    n_par = len(names)
    if y.shape[-1] <= n_par:
        raise ValueError(
            f"values must have more than {n_par} samples per curve to fit {names}, "
            f"got {y.shape[-1]}"
        )
    if uncertainties is None:
        s = None
    else:
        s = real_array(uncertainties, "uncertainties", minimum=0, strict_minimum=True)
        try:
            s = np.broadcast_to(s, y.shape)
        except ValueError:
            raise ValueError(
                f"uncertainties of shape {np.shape(uncertainties)} do not broadcast to values "
                f"of shape {y.shape}"
            ) from None
    batch = y.shape[:-1]
    m = int(np.prod(batch, dtype=int))
    y2, t2 = y.reshape(m, -1), t.reshape(m, -1)
    s2 = None if s is None else s.reshape(m, -1)
    params = np.full((m, n_par), np.nan)
    cov = np.full((m, n_par, n_par), np.nan)
    rms = np.full(m, np.nan)
    ok = np.zeros(m, dtype=bool)
    for i in range(m):
        params[i], cov[i], rms[i], ok[i] = _fit_one(
            kind, t2[i], y2[i], with_offset, None if s2 is None else s2[i]
        )
    errors = np.sqrt(np.abs(np.diagonal(cov, axis1=-2, axis2=-1)))
    return DecayFit(
        kind=kind,
        parameter_names=tuple(names),
        parameters=params.reshape(*batch, n_par),
        standard_errors=errors.reshape(*batch, n_par),
        covariance=cov.reshape(*batch, n_par, n_par),
        residual_rms=rms.reshape(batch),
        success=ok.reshape(batch),
        with_offset=bool(with_offset),
    )


def _cumulative_integral(t: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """∫_{t₀}^{t} y dt by the trapezoid rule, same length as ``t``."""
    return np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(t))])


def _initial_rates(
    kind: str, t: NDArray[np.float64], y: NDArray[np.float64], with_offset: bool
) -> tuple[float, float]:
    """Rate 1/T and σ² (scaled time) from the integral form of dy/dt = −(Γ + σ²t)(y − B)."""
    columns = [-_cumulative_integral(t, y)]
    if kind == "gaussian_exponential":
        columns.append(-_cumulative_integral(t, t * y))
    if with_offset:
        columns.append(t - t[0])
        if kind == "gaussian_exponential":
            columns.append(0.5 * (t**2 - t[0] ** 2))
    design = np.stack(columns, axis=-1)
    try:
        coef = np.linalg.lstsq(design, y - y[0], rcond=None)[0]
    except np.linalg.LinAlgError:
        coef = np.full(design.shape[1], np.nan)
    rate = float(coef[0])
    sigma2 = float(coef[1]) if kind == "gaussian_exponential" else 0.0
    return rate, sigma2


def _fit_one(
    kind: str,
    t: NDArray[np.float64],
    y: NDArray[np.float64],
    with_offset: bool,
    s: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, bool]:
    """Fit one curve; returns reported parameters, their covariance, residual rms, success."""
    gaussian = kind == "gaussian_exponential"
    n_par = 2 + int(gaussian) + int(with_offset)
    nan = (np.full(n_par, np.nan), np.full((n_par, n_par), np.nan), math.nan, False)
    order = np.argsort(t)
    t, y = t[order], y[order]
    s = None if s is None else s[order]
    span = float(t[-1] - t[0])
    if not span > 0:
        return nan
    # Work in scaled time u = t/span so every parameter is O(1).
    u = t / span
    rate, sigma2 = _initial_rates(kind, u, y, with_offset)
    if not (np.isfinite(rate) and rate > 0):
        rate = 1.0
    if not (np.isfinite(sigma2) and sigma2 > 0):
        sigma2 = 0.0
    sigma = max(math.sqrt(sigma2), 0.3) if gaussian else 0.0

    def shape(uu: NDArray, r: float, g: float) -> NDArray:
        return np.exp(-r * uu - 0.5 * (g * uu) ** 2)

    basis = [shape(u, rate, sigma)]
    if with_offset:
        basis.append(np.ones_like(u))
    linear = np.linalg.lstsq(np.stack(basis, axis=-1), y, rcond=None)[0]
    p0 = [float(linear[0]), rate] + ([sigma] if gaussian else [])
    if with_offset:
        p0.append(float(linear[1]))

    def model(uu: NDArray, *p: float) -> NDArray:
        g = p[2] if gaussian else 0.0
        b = p[-1] if with_offset else 0.0
        return p[0] * shape(uu, p[1], g) + b

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            p, cov = curve_fit(
                model,
                u,
                y,
                p0=p0,
                sigma=s,
                absolute_sigma=s is not None,
                method="lm",
                maxfev=20_000,
            )
        except (RuntimeError, ValueError):
            return nan
    residual = y - model(u, *p)
    rms = float(np.sqrt(np.mean(residual**2)))
    # Back to physical units: T = span/r, σ = |g|/span (first-order propagation).
    r = p[1]
    jac = np.eye(n_par)
    values = np.array(p, dtype=float)
    with np.errstate(divide="ignore"):
        values[1] = span / r if r != 0 else math.inf
        jac[1, 1] = -span / r**2 if r != 0 else math.inf
    if gaussian:
        values[2] = abs(p[2]) / span
        jac[2, 2] = np.sign(p[2]) / span if p[2] != 0 else 1.0 / span
    with np.errstate(invalid="ignore"):
        cov_out = jac @ cov @ jac.T
    success = bool(np.all(np.isfinite(cov_out)) and np.all(np.isfinite(values)))
    return values, cov_out, rms, success


# --------------------------------------------------------------------------------------------
# Expected times
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CoherenceTimes:
    """Relaxation and coherence times of one atom expected from its rates (two-level model).

    Attributes
    ----------
    t1 : ndarray, s, shape (batch…)
        1/[Γ_j + γ_nr(1 + 2n_th)].
    t2 : ndarray, s, shape (batch…)
        1/[1/(2T1) + γ_φ] (Ramsey without quasi-static noise, and Hahn echo).
    waveguide_decay_rate : ndarray, rad/s, shape (batch…)
        Γ_j at the atom's bare frequency (0 at a decoherence-free point).
    intrinsic_decay_rate : ndarray, rad/s, shape (batch…)
        γ_nr = 1/t1 of the atom.
    thermal_occupation : ndarray, shape (batch…)
        n_th of the intrinsic bath.
    dephasing_rate : ndarray, rad/s, shape (batch…)
        γ_φ.
    lamb_shift : ndarray, rad/s, shape (batch…)
        δω_j; the experiments' frame rotates at ω_j + δω_j.
    """

    t1: NDArray[np.float64]
    t2: NDArray[np.float64]
    waveguide_decay_rate: NDArray[np.float64]
    intrinsic_decay_rate: NDArray[np.float64]
    thermal_occupation: NDArray[np.float64]
    dephasing_rate: NDArray[np.float64]
    lamb_shift: NDArray[np.float64]


def coherence_times(
    device: Device, atom: str | int, *, frequencies: ArrayLike | None = None
) -> CoherenceTimes:
    """T1 and T2 of one atom expected from the rates of PHYSICS.md §3 (exchange neglected).

    Parameters
    ----------
    device : Device
    atom : str or int
        The atom (name or index).
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare frequencies of all atoms; default: the device's own.

    Returns
    -------
    CoherenceTimes
        Arrays with the broadcast batch shape of the device and ``frequencies``. With a
        thermal bath and a three-level atom the simulated times differ at O(n_th) (the f level).
    """
    j = _check_device_atom(device, atom)
    freq = _check_frequencies(device, frequencies)
    c = device.couplings(frequencies=freq)
    a = device.atoms[j]
    gamma = c.decay_rates[..., j]
    lamb = c.lamb_shift[..., j]
    gamma_nr, n_th, gamma_phi = np.broadcast_arrays(
        a.intrinsic_decay_rate, a.n_thermal, a.dephasing_rate
    )
    total = gamma + gamma_nr * (1.0 + 2.0 * n_th)
    shape = np.broadcast_shapes(total.shape, gamma_phi.shape, lamb.shape)
    with np.errstate(divide="ignore"):
        t1 = 1.0 / total
        t2 = 1.0 / (0.5 * total + gamma_phi)
    return CoherenceTimes(
        *(
            np.broadcast_to(x, shape).astype(float)
            for x in (t1, t2, gamma, gamma_nr, n_th, gamma_phi, lamb)
        )
    )


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class T1Result:
    """Simulated energy-relaxation experiment of one atom.

    Attributes
    ----------
    atom : str
        Name of the measured atom.
    times : ndarray, s, shape (T,)
        Delays after the π pulse.
    population : ndarray, shape (batch…, T)
        Excited-state population P_e of the atom.
    fit : DecayFit
        A·e^{−t/T1} + B fitted to ``population``.
    expected : CoherenceTimes
        The times expected from the rates (:func:`coherence_times`).
    frequencies : ndarray, rad/s, shape (batch…, n_atoms)
        Bare frequencies of all atoms.
    """

    atom: str
    times: NDArray[np.float64]
    population: NDArray[np.float64]
    fit: DecayFit
    expected: CoherenceTimes
    frequencies: NDArray[np.float64]

    @property
    def t1(self) -> NDArray[np.float64]:
        """Fitted T1 (s), shape (batch…)."""
        return self.fit.decay_time

    @property
    def t1_error(self) -> NDArray[np.float64]:
        """Standard error of the fitted T1 (s), shape (batch…)."""
        return self.fit.decay_time_error

    def __repr__(self) -> str:
        return (
            f"T1Result(atom={self.atom!r}, batch_shape={self.population.shape[:-1]}, "
            f"T1 = {np.mean(self.t1) * 1e6:.4g} µs (mean), expected "
            f"{np.mean(self.expected.t1) * 1e6:.4g} µs)"
        )


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class _NoisyResult:
    """Fields shared by the Ramsey and echo results (see their docstrings)."""

    atom: str
    times: NDArray[np.float64]
    coherence: NDArray[np.float64]
    fit: DecayFit
    expected: CoherenceTimes
    frequencies: NDArray[np.float64]
    frequency_noise: NDArray[np.float64]
    samples: int
    seed: int | None
    noise_sampling: str
    frequency_offsets: NDArray[np.float64]
    sample_weights: NDArray[np.float64]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class RamseyResult(_NoisyResult):
    """Simulated Ramsey experiment of one atom, averaged over quasi-static frequency noise.

    Attributes
    ----------
    atom : str
    times : ndarray, s, shape (T,)
        Free-evolution times between the two π/2 pulses.
    coherence : ndarray, shape (batch…, T)
        2|⟨σ_j⟩| of the noise-averaged state (1 at t = 0).
    fringe : ndarray, shape (batch…, T)
        P_e after the second π/2 pulse with axis advanced by ``detuning``·t.
    detuning : ndarray, rad/s
        Artificial detuning δ (broadcasts against the batch).
    fit : DecayFit
        Fit of ``coherence``: A·e^{−t/T2*} (no noise) or A·exp(−t/T2 − (σt)²/2), no offset.
    expected : CoherenceTimes
    frequencies : ndarray, rad/s, shape (batch…, n_atoms)
        Nominal bare frequencies.
    frequency_noise : ndarray, rad/s, shape (batch…)
        σ of the measured atom's frequency.
    samples : int
        Noise samples used (1 without noise).
    seed : int or None
        Seed reproducing the random draws (None for quadrature sampling or without noise).
    noise_sampling : str
    frequency_offsets : ndarray, rad/s, shape (samples, batch…)
        The offsets of the measured atom's frequency, per sample.
    sample_weights : ndarray, shape (samples,)
        Weights of the samples in the average (sum 1).
    info : dict
    """

    fringe: NDArray[np.float64]
    detuning: NDArray[np.float64]

    @property
    def t2_star(self) -> NDArray[np.float64]:
        """Fitted exponential T2 of the Ramsey envelope (s), shape (batch…)."""
        return self.fit.decay_time

    @property
    def t2_star_error(self) -> NDArray[np.float64]:
        """Standard error of ``t2_star`` (s)."""
        return self.fit.decay_time_error

    @property
    def gaussian_rate(self) -> NDArray[np.float64]:
        """Fitted σ of the Gaussian envelope (rad/s; 0 for the exponential model)."""
        return self.fit.gaussian_rate

    @property
    def gaussian_rate_error(self) -> NDArray[np.float64]:
        """Standard error of ``gaussian_rate`` (rad/s)."""
        return self.fit.gaussian_rate_error

    def __repr__(self) -> str:
        extra = ""
        if self.fit.kind == "gaussian_exponential":
            extra = f", σ = {np.mean(self.gaussian_rate) / 2e6 / np.pi:.4g} MHz·2π"
        return (
            f"RamseyResult(atom={self.atom!r}, batch_shape={self.coherence.shape[:-1]}, "
            f"samples={self.samples}, T2* = {np.mean(self.t2_star) * 1e6:.4g} µs (mean){extra})"
        )


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class EchoResult(_NoisyResult):
    """Simulated Hahn-echo experiment (π/2 – τ/2 – π – τ/2 – π/2) of one atom.

    Attributes
    ----------
    atom : str
    times : ndarray, s, shape (T,)
        Total free-evolution times τ (the π pulse at τ/2).
    coherence : ndarray, shape (batch…, T)
        2|⟨σ_j⟩| at τ of the noise-averaged state.
    population : ndarray, shape (batch…, T)
        P_e after the final π/2 pulse (about −y, so a refocused state ends in |e⟩):
        ½(1 + echo amplitude) for a two-level atom.
    fit : DecayFit
        A·e^{−τ/T2E} fitted to ``coherence``.
    expected : CoherenceTimes
    frequencies, frequency_noise, samples, seed, noise_sampling, frequency_offsets,
    sample_weights, info
        As in :class:`RamseyResult`.
    """

    population: NDArray[np.float64]

    @property
    def t2_echo(self) -> NDArray[np.float64]:
        """Fitted echo time T2E (s), shape (batch…)."""
        return self.fit.decay_time

    @property
    def t2_echo_error(self) -> NDArray[np.float64]:
        """Standard error of ``t2_echo`` (s)."""
        return self.fit.decay_time_error

    def __repr__(self) -> str:
        return (
            f"EchoResult(atom={self.atom!r}, batch_shape={self.coherence.shape[:-1]}, "
            f"samples={self.samples}, T2E = {np.mean(self.t2_echo) * 1e6:.4g} µs (mean))"
        )


# --------------------------------------------------------------------------------------------
# Validation and set-up
# --------------------------------------------------------------------------------------------


def _check_device_atom(device: Device, atom: str | int) -> int:
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    if not isinstance(atom, str | int | np.integer) or isinstance(atom, bool):
        raise TypeError(f"atom must be an atom name or index, got {atom!r}")
    return device.index(atom)


def _check_frequencies(device: Device, frequencies: ArrayLike | None) -> NDArray[np.float64]:
    if frequencies is None:
        return device.frequencies
    f = real_array(frequencies, "frequencies", minimum=0, strict_minimum=True)
    if f.ndim == 0 or f.shape[-1] != device.n_atoms:
        raise ValueError(
            f"frequencies must have shape (..., {device.n_atoms}) (bare rad/s, one per atom), "
            f"got {f.shape}"
        )
    return f


def _check_experiment_times(times: ArrayLike) -> NDArray[np.float64]:
    t = _check_times(times, 0.0, "0")
    if t.size < MIN_TIMES:
        raise ValueError(f"times must have at least {MIN_TIMES} entries to fit, got {t.size}")
    return t


@dataclass(frozen=True)
class _Setup:
    """Master equation (samples, batch…) and bookkeeping of one experiment."""

    index: int
    me: MasterEquation
    batch: tuple[int, ...]
    frequencies: NDArray[np.float64]
    expected: CoherenceTimes
    sigma: NDArray[np.float64]
    offsets: NDArray[np.float64]
    weights: NDArray[np.float64]
    seed: int | None


def _quadrature_nodes_needed(spread: float) -> int:
    """Fewest Gauss–Hermite nodes n with a^{2n} n!/(2n)! ≤ QUADRATURE_TOLERANCE, a = σ·t_max.

    That is the remainder bound of n-node Gauss–Hermite quadrature (probabilists' weight) for
    the Gaussian average of e^{iaz}, z ~ N(0, 1).
    """
    if spread <= 0:
        return 1
    target = math.log(QUADRATURE_TOLERANCE)
    n = 1
    while 2 * n * math.log(spread) + math.lgamma(n + 1) - math.lgamma(2 * n + 1) > target:
        n += 1
    return n


def _setup(
    device: Device,
    atom: str | int,
    frequencies: ArrayLike | None,
    times: NDArray[np.float64],
    frequency_noise: ArrayLike = 0.0,
    samples: int | None = None,
    seed: int | None = None,
    noise_sampling: str = "quadrature",
) -> _Setup:
    """Validate, draw the noise samples and build the master equation (samples, batch…).

    ``samples=None`` means an experiment without noise (the sample axis has length 1).
    """
    j = _check_device_atom(device, atom)
    freq = _check_frequencies(device, frequencies)
    sigma_in = real_array(frequency_noise, "frequency_noise", minimum=0)
    if samples is not None:
        if not isinstance(samples, int | np.integer) or isinstance(samples, bool):
            raise TypeError(f"samples must be an integer, got {samples!r}")
        if samples < 2:
            raise ValueError(f"samples must be ≥ 2, got {samples!r}")
    if seed is not None and not (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0
    ):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    sampling = choice(noise_sampling, "noise_sampling", _NOISE_SAMPLING)

    expected = coherence_times(device, j, frequencies=freq)
    nominal = master_equation(device, None, frequencies=freq)
    batch = nominal.batch_shape
    try:
        sigma = np.broadcast_to(sigma_in, batch)
    except ValueError:
        raise ValueError(
            f"frequency_noise of shape {sigma_in.shape} does not broadcast against the batch "
            f"shape {batch} of the device and frequencies"
        ) from None
    freq_b = np.broadcast_to(nominal.info["frequencies"], (*batch, device.n_atoms))
    frame = freq_b[..., j] + np.broadcast_to(nominal.info["lamb_shift"][..., j], batch)

    if not np.any(sigma > 0):
        offsets, weights, seed = np.zeros((1, *batch)), np.ones(1), None
    elif sampling == "quadrature":
        spread = float(np.max(sigma)) * float(times[-1])
        needed = _quadrature_nodes_needed(spread)
        if samples < needed:
            raise ValueError(
                f"samples = {samples} Gauss–Hermite nodes are too few for frequency_noise·t_max "
                f"= {spread:.3g} rad; use samples ≥ {needed} (error bound "
                f"{QUADRATURE_TOLERANCE:g}) or a shorter time window"
            )
        nodes, w = np.polynomial.hermite_e.hermegauss(int(samples))
        offsets = nodes.reshape(-1, *([1] * len(batch))) * sigma
        weights, seed = w / w.sum(), None
    else:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        rng = np.random.default_rng(seed)
        n = int(samples)
        if sampling == "random":
            z = rng.standard_normal(n)
        else:
            # One draw in each of n equiprobable strata of the normal distribution.
            u = (np.arange(n) + rng.random(n)) / n
            z = special.ndtri(np.clip(u, _TINY, 1.0 - _TINY))
        offsets = z.reshape(-1, *([1] * len(batch))) * sigma
        weights = np.full(n, 1.0 / n)
    offsets = np.broadcast_to(offsets, (offsets.shape[0], *batch))
    shifted = freq_b + offsets[..., None] * (np.arange(device.n_atoms) == j)
    if np.any(shifted[..., j] <= 0):
        raise ValueError(
            "frequency_noise is so large that a sampled frequency is ≤ 0; it must be ≪ the "
            "atom's frequency"
        )
    me = master_equation(device, None, frequencies=shifted, frame_frequency=frame)
    return _Setup(j, me, batch, freq_b, expected, sigma, offsets, weights, seed)


def _rotation(theta: float, phase: ArrayLike, levels: int) -> NDArray[np.complex128]:
    """R_φ(θ) on the g–e transition of one atom with ``levels`` levels, shape (φ…, l, l)."""
    phi = np.asarray(phase, dtype=float)
    # exp(−i(θ/2) n·σ) = cos(θ/2) − i sin(θ/2)(cos φ σ_x + sin φ σ_y) on span{g, e}.
    u = np.zeros((*phi.shape, levels, levels), dtype=complex)
    u[..., :, :] = np.eye(levels)
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    u[..., 0, 0] = c
    u[..., 1, 1] = c
    u[..., 0, 1] = -1j * s * np.exp(-1j * phi)
    u[..., 1, 0] = -1j * s * np.exp(1j * phi)
    return u


def _pulse(theta: float, phase: ArrayLike, j: int, dims: tuple[int, ...]) -> NDArray:
    """The pulse on atom ``j`` embedded in the full space, 1 ⊗ R ⊗ 1, shape (φ…, d, d)."""
    local = _rotation(theta, phase, dims[j])
    left = np.eye(int(np.prod(dims[:j])))
    right = np.eye(int(np.prod(dims[j + 1 :])))
    full = np.einsum("ab,...ce,fg->...acfbeg", left, local, right)
    d = int(np.prod(dims))
    return full.reshape(*local.shape[:-2], d, d)


def _ground_state(dims: tuple[int, ...]) -> NDArray[np.complex128]:
    rho = np.zeros((int(np.prod(dims)),) * 2, dtype=complex)
    rho[0, 0] = 1.0
    return rho


def _conjugate(u: NDArray, rho: NDArray) -> NDArray[np.complex128]:
    """U ρ U† with broadcasting over the leading axes."""
    return u @ rho @ np.conj(np.swapaxes(u, -1, -2))


def _signals(
    rho: NDArray[np.complex128], j: int, dims: tuple[int, ...]
) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
    """⟨σ_j⟩ = tr(ρ |g⟩⟨e|_j) and P_e of atom j for states (…, d, d)."""
    sigma = embed(transition_lowering(dims[j], 0), j, dims)
    coherence = np.einsum("ij,...ji->...", sigma, rho)
    excited = (np.unravel_index(np.arange(int(np.prod(dims))), dims)[j] == 1).astype(float)
    population = np.einsum("i,...ii->...", excited, rho).real
    return coherence, population


def _sample_average(
    setup: _Setup,
    n_times: int,
    compute: Callable[[MasterEquation], dict[str, NDArray]],
) -> dict[str, NDArray]:
    """Weighted average over the sample axis of ``compute(me[chunk])`` (arrays (s, batch…, T)).

    Samples run in chunks so that the density matrices of one chunk stay below
    ``_SAMPLE_CHUNK_ELEMENTS`` complex numbers.
    """
    n_samples = setup.weights.size
    per_sample = max(1, int(np.prod(setup.batch, dtype=int)) * n_times * setup.me.dimension**2)
    chunk = max(1, _SAMPLE_CHUNK_ELEMENTS // per_sample)
    total: dict[str, NDArray] = {}
    for start in range(0, n_samples, chunk):
        part = slice(start, min(start + chunk, n_samples))
        values = compute(setup.me[part])
        w = setup.weights[part]
        for key, value in values.items():
            contribution = np.tensordot(w, value, axes=(0, 0))
            total[key] = contribution if key not in total else total[key] + contribution
    return total


def _propagate_each(
    me: MasterEquation,
    rho: NDArray[np.complex128],
    durations: NDArray[np.float64],
    max_condition: float = DEFAULT_MAX_CONDITION,
) -> NDArray[np.complex128]:
    """exp(L s_k) ρ_k: every state of the last batch axis for its own duration.

    ``rho`` has shape (batch…, K, d, d) with the master equation's batch shape leading and
    ``durations`` shape (K,). One eigendecomposition R = W Λ W⁻¹ of the real Liouvillian per
    batch point serves all K states, x_k ↦ W (e^{Λ s_k} ⊙ W⁻¹ x_k); points whose eigenvectors
    are ill-conditioned (κ₁(W) > ``max_condition``) use one scaling-and-squaring exponential
    per duration instead.
    """
    batch, d = me.batch_shape, me.dimension
    k = durations.size
    n = int(np.prod(batch, dtype=int))
    h = me.hamiltonian.reshape(n, d, d)
    c = me.jump_operators.reshape(n, me.n_jumps, d, d)
    x = vectorize_hermitian(rho.reshape(n, k, d, d))
    out = np.empty_like(x)

    def work(part: slice) -> None:
        r = real_liouvillian(h[part], c[part])
        lam, w, w_inv, condition = eigen_decompose(r)
        coef = np.einsum("mij,mkj->mki", w_inv, x[part])
        coef *= np.exp(lam[:, None, :] * durations[None, :, None])
        result = np.einsum("mij,mkj->mki", w, coef).real
        for i in np.flatnonzero(~(condition <= max_condition)):
            propagators = sla.expm(r[i][None] * durations[:, None, None])
            result[i] = np.einsum("kij,kj->ki", propagators, x[part][i])
        out[part] = result

    map_chunks(work, n, chunk_length(d, None), default_threads())
    return unvectorize_hermitian(out, d).reshape(*batch, k, d, d)


# --------------------------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------------------------


def t1_experiment(
    device: Device,
    atom: str | int,
    times: ArrayLike,
    *,
    frequencies: ArrayLike | None = None,
) -> T1Result:
    """Energy relaxation: π pulse on one atom, free decay, P_e against delay, fit of T1.

    The atom starts in |e⟩ (an ideal π pulse on |g⟩), every other atom in |g⟩; the device
    evolves undriven (:func:`giantatoms.evolve_constant`, exact).

    Parameters
    ----------
    device : Device
    atom : str or int
        The measured atom (name or index).
    times : array_like, s, shape (T,)
        Delays, ≥ 0, strictly increasing, at least 5.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare frequencies of all atoms (the operating point); default: the device's own. A
        batch of operating points is simulated in one vectorised call.

    Returns
    -------
    T1Result
        ``population`` of shape (batch…, T) and the fit A·e^{−t/T1} + B.

    Raises
    ------
    TypeError
        ``device`` is not a Device or ``atom`` is not a name or index.
    ValueError
        Unknown atom, bad ``times`` or ``frequencies``.
    """
    t = _check_experiment_times(times)
    setup = _setup(device, atom, frequencies, t)
    j, dims = setup.index, setup.me.dims
    rho0 = _conjugate(_pulse(math.pi, 0.0, j, dims), _ground_state(dims))
    evolution = evolve_constant(setup.me[0], rho0, t)
    _, population = _signals(evolution.rho, j, dims)
    return T1Result(
        atom=device.atom_names[j],
        times=t,
        population=population,
        fit=fit_exponential_decay(t, population, with_offset=True),
        expected=setup.expected,
        frequencies=setup.frequencies,
    )


def _coherence_fit(kind: str, sigma: NDArray, t: NDArray, coherence: NDArray) -> DecayFit:
    model = choice(kind, "fit_model", _FIT_MODELS)
    if model == "auto":
        model = "gaussian_exponential" if np.any(sigma > 0) else "exponential"
    if model == "exponential":
        return fit_exponential_decay(t, coherence, with_offset=False)
    return fit_gaussian_exponential_decay(t, coherence, with_offset=False)


def ramsey_experiment(
    device: Device,
    atom: str | int,
    times: ArrayLike,
    *,
    detuning: ArrayLike = 0.0,
    frequencies: ArrayLike | None = None,
    frequency_noise: ArrayLike = 0.0,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    noise_sampling: str = "quadrature",
    fit_model: str = "auto",
) -> RamseyResult:
    """Ramsey experiment: π/2 – free evolution t – π/2, with quasi-static frequency noise.

    The atom starts in (|g⟩ + |e⟩)/√2 = R_y(π/2)|g⟩, the others in |g⟩. The coherence
    2|⟨σ_j⟩| is read from the state; the fringe is P_e after a second π/2 pulse about the axis
    at φ = π/2 + δ·t (the artificial detuning δ as a phase advance of the second pulse).

    Parameters
    ----------
    device : Device
    atom : str or int
        The measured atom.
    times : array_like, s, shape (T,)
        Free-evolution times, ≥ 0, strictly increasing, at least 5.
    detuning : array_like, rad/s
        Artificial detuning δ of the fringe; must broadcast to the batch shape. It does not
        enter ``coherence`` or the fit.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Nominal bare frequencies of all atoms; default: the device's own.
    frequency_noise : array_like, rad/s, ≥ 0, shape broadcastable to (batch…)
        Standard deviation σ of a quasi-static Gaussian offset of the measured atom's frequency
        (the spectators, in |g⟩, are not perturbed), e.g.
        :meth:`giantatoms.TunableTransmon.frequency_noise`.
    samples : int, ≥ 2
        Noise samples (quadrature nodes or random draws); ignored without noise.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for ``"stratified"`` and ``"random"`` sampling:
        the same seed gives identical results; when omitted one is drawn and recorded in the
        result.
    noise_sampling : {"quadrature", "stratified", "random"}
        How the Gaussian average is sampled. ``"quadrature"`` (default): Gauss–Hermite nodes
        and weights, deterministic (no seed); a ValueError asks for more ``samples`` when the
        remainder bound for the average of e^{iδt} up to t_max exceeds 1e-10 (roughly
        samples ≥ 0.7(σ·t_max)² + 15). ``"stratified"``: one seeded random draw in each of
        ``samples`` equiprobable strata of the normal distribution. ``"random"``: independent
        draws; the error of |⟨σ⟩| is then ~ samples^{-1/2}, a noise floor that biases the fit
        once the envelope falls below it. The sampled modes mimic a finite set of noise
        realisations; their fits carry a sampling error that the fit's uncertainty does not
        include.
    fit_model : {"auto", "exponential", "gaussian_exponential"}
        Model fitted to ``coherence`` (no offset); ``"auto"`` takes the Gaussian one when any
        ``frequency_noise`` is > 0.

    Returns
    -------
    RamseyResult

    Raises
    ------
    TypeError, ValueError
        Bad device, atom, times, frequencies, noise parameters or choices.
    """
    t = _check_experiment_times(times)
    setup = _setup(device, atom, frequencies, t, frequency_noise, samples, seed, noise_sampling)
    choice(fit_model, "fit_model", _FIT_MODELS)
    delta = real_array(detuning, "detuning")
    try:
        fits = np.broadcast_shapes(delta.shape, setup.batch) == setup.batch
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"detuning of shape {delta.shape} must broadcast to the batch shape {setup.batch} "
            "of the device and frequencies"
        )
    j, dims = setup.index, setup.me.dims
    rho0 = _conjugate(_pulse(math.pi / 2, math.pi / 2, j, dims), _ground_state(dims))
    # Second pulse about φ = π/2 + δt: shape (δ…, T, d, d).
    second = _pulse(math.pi / 2, math.pi / 2 + delta[..., None] * t, j, dims)

    def compute(me: MasterEquation) -> dict[str, NDArray]:
        rho = evolve_constant(me, rho0, t).rho
        coherence, _ = _signals(rho, j, dims)
        _, fringe = _signals(_conjugate(second, rho), j, dims)
        return {"coherence": coherence, "fringe": fringe}

    averaged = _sample_average(setup, t.size, compute)
    coherence = 2.0 * np.abs(averaged["coherence"])
    fringe = np.broadcast_to(averaged["fringe"], (*setup.batch, t.size))
    return RamseyResult(
        atom=device.atom_names[j],
        times=t,
        coherence=coherence,
        fit=_coherence_fit(fit_model, setup.sigma, t, coherence),
        expected=setup.expected,
        frequencies=setup.frequencies,
        frequency_noise=np.asarray(setup.sigma, dtype=float),
        samples=setup.weights.size,
        seed=setup.seed,
        noise_sampling=noise_sampling.lower(),
        frequency_offsets=setup.offsets,
        sample_weights=setup.weights,
        fringe=np.asarray(fringe, dtype=float),
        detuning=delta,
        info={"frame_frequency": setup.me.frame_frequency[0]},
    )


def echo_experiment(
    device: Device,
    atom: str | int,
    times: ArrayLike,
    *,
    frequencies: ArrayLike | None = None,
    frequency_noise: ArrayLike = 0.0,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    noise_sampling: str = "quadrature",
) -> EchoResult:
    """Hahn echo: π/2 – τ/2 – π – τ/2 – π/2 with ideal instantaneous pulses.

    The π pulse (about y) at τ/2 refocuses every quasi-static frequency offset, so the echo
    decays only through T1 and Markovian dephasing (and anything faster than τ). All τ are
    simulated at once: one exact evolution to every τ/2, the π pulse on every state, then each
    state propagated by its own τ/2 from one eigendecomposition of the Liouvillian per batch
    point (scaling-and-squaring exponentials where its eigenvectors are ill-conditioned).

    Parameters
    ----------
    device : Device
    atom : str or int
        The measured atom.
    times : array_like, s, shape (T,)
        Total free-evolution times τ, ≥ 0, strictly increasing, at least 5.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Nominal bare frequencies of all atoms; default: the device's own.
    frequency_noise, samples, seed, noise_sampling
        Quasi-static noise of the measured atom's frequency, as in :func:`ramsey_experiment`.

    Returns
    -------
    EchoResult
        ``coherence`` with the fit A·e^{−τ/T2E}, and ``population`` after the last π/2.

    Raises
    ------
    TypeError, ValueError
        Bad device, atom, times, frequencies or noise parameters.
    """
    t = _check_experiment_times(times)
    setup = _setup(device, atom, frequencies, t, frequency_noise, samples, seed, noise_sampling)
    j, dims = setup.index, setup.me.dims
    rho0 = _conjugate(_pulse(math.pi / 2, math.pi / 2, j, dims), _ground_state(dims))
    flip = _pulse(math.pi, math.pi / 2, j, dims)
    final = _pulse(math.pi / 2, -math.pi / 2, j, dims)
    half = 0.5 * t

    def compute(me: MasterEquation) -> dict[str, NDArray]:
        middle = _conjugate(flip, evolve_constant(me, rho0, half).rho)
        rho = _propagate_each(me, middle, half)
        coherence, _ = _signals(rho, j, dims)
        _, population = _signals(_conjugate(final, rho), j, dims)
        return {"coherence": coherence, "population": population}

    averaged = _sample_average(setup, t.size, compute)
    coherence = 2.0 * np.abs(averaged["coherence"])
    return EchoResult(
        atom=device.atom_names[j],
        times=t,
        coherence=coherence,
        fit=fit_exponential_decay(t, coherence, with_offset=False),
        expected=setup.expected,
        frequencies=setup.frequencies,
        frequency_noise=np.asarray(setup.sigma, dtype=float),
        samples=setup.weights.size,
        seed=setup.seed,
        noise_sampling=noise_sampling.lower(),
        frequency_offsets=setup.offsets,
        sample_weights=setup.weights,
        population=averaged["population"],
        info={"frame_frequency": setup.me.frame_frequency[0]},
    )
