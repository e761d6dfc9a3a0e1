"""Least-squares fits of decay curves: exponential and Gaussian-times-exponential envelopes."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeWarning, curve_fit

from giantatoms._validation import real_array


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
