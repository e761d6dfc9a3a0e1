"""The least-squares engine and what it returns: :class:`FitResult` and :class:`Bootstrap`.

:func:`_least_squares` fits a :class:`~giantatoms.fitting._problem._Problem` to data
(``scipy.optimize.least_squares``, bounded, with a batched central-difference Jacobian) and
reports values, covariance errors and the sanity checks of :func:`_implausible` as a
:class:`FitResult`. The engine lives with the result because
:meth:`FitResult.bootstrap` refits with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from giantatoms._validation import choice
from giantatoms.fitting._display import _display_unit, _format_pair
from giantatoms.fitting._problem import _Problem
from giantatoms.fitting.background import _BACKGROUND_FIELDS, Background
from giantatoms.fitting.data import _TRACES, SpectroscopyData
from giantatoms.model.device import Device
from giantatoms.units import GHz, MHz

__all__ = ["Bootstrap", "FitResult"]


# Central-difference step in the scaled fit variables (each scaled unit is "a change the data
# notice": about a linewidth, 0.1 rad, …), so truncation error ~1e-8 and round-off ~1e-9.
_STEP = 1e-4


def _least_squares(
    problem: _Problem, data: SpectroscopyData, max_evaluations: int | None
) -> FitResult:
    """Fit ``problem`` to ``data``; errors from the Jacobian at the optimum."""
    free = np.flatnonzero(problem.free)
    k = free.size
    if k == 0:
        raise ValueError("nothing to fit: every parameter is fixed")
    w = data.frequencies
    targets = [data._engineering(t) for t in problem.traces]
    sigma_known = data.sigma is not None
    weight = 1.0 / np.broadcast_to(data.sigma if sigma_known else 1.0, w.shape)
    n_obs = 2 * w.size * len(problem.traces)
    dof = n_obs - k
    if dof <= 0:
        raise ValueError(
            f"not enough data: {n_obs} real residuals ({w.size} points × "
            f"{len(problem.traces)} trace(s) × re/im) for {k} free parameters"
        )
    p0, scale = problem.values[free], problem.scale[free]
    lower = (problem.lower[free] - p0) / scale
    upper = (problem.upper[free] - p0) / scale

    def full(x: NDArray[np.float64]) -> NDArray[np.float64]:
        values = np.array(np.broadcast_to(problem.values, (*x.shape[:-1], problem.values.size)))
        values[..., free] = p0 + x * scale
        return values

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        model = problem.model(full(x), w)
        parts = []
        for t, target in zip(problem.traces, targets, strict=True):
            r = (model[t] - target) * weight
            parts.extend((r.real, r.imag))
        return np.concatenate(parts, axis=-1)

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        # One batched model call for all 2k displaced points; one-sided next to a bound.
        room_up, room_down = upper - x, x - lower
        central = (room_up > _STEP) & (room_down > _STEP)
        forward = ~central & (room_up >= room_down)
        up = np.where(central, _STEP, np.where(forward, np.minimum(_STEP, room_up / 2), 0.0))
        down = np.where(central, _STEP, np.where(forward, 0.0, np.minimum(_STEP, room_down / 2)))
        eye = np.eye(k)
        f = residuals(np.concatenate([x + eye * up[:, None], x - eye * down[:, None]]))
        width = up + down
        safe = np.where(width > 0, width, 1.0)[:, None]
        return np.where(width[:, None] > 0, (f[:k] - f[k:]) / safe, 0.0).T

    solution = optimize.least_squares(
        residuals,
        np.zeros(k),
        jac=jacobian,
        bounds=(lower, upper),
        method="trf",
        x_scale=1.0,
        xtol=1e-10,
        ftol=1e-10,
        gtol=1e-10,
        max_nfev=max_evaluations,
    )
    x = solution.x
    r = residuals(x)
    jac = jacobian(x)
    chi2 = float(r @ r)
    noise2 = 1.0 if sigma_known else chi2 / dof
    values = full(x)
    names = problem.names

    warnings: list[str] = []
    _, singular, vt = np.linalg.svd(jac, full_matrices=False)
    free_names = [names[i] for i in free]
    # The finite-difference Jacobian is good to ~1e-8 relative: below that, a direction in
    # parameter space is numerically invisible to the data.
    if singular.min() <= 1e-9 * singular.max():
        covariance = np.full((k, k), np.inf)
        null = vt[-1]
        involved = [free_names[i] for i in np.flatnonzero(np.abs(null) > 0.2)]
        warnings.append(
            f"the data do not constrain {' / '.join(involved)} separately (singular Jacobian); "
            "fix one of them"
        )
    else:
        covariance = (vt.T / singular**2) @ vt * noise2 * np.outer(scale, scale)
    for i in np.flatnonzero(solution.active_mask):
        side = "lower" if solution.active_mask[i] < 0 else "upper"
        warnings.append(
            f"{free_names[i]} is at its {side} bound ({values[free[i]]:.6g}); "
            "its error is not meaningful"
        )
    errors = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(errors, errors)
    for i in range(k):
        for j in range(i + 1, k):
            if np.isfinite(correlation[i, j]) and abs(correlation[i, j]) > 0.995:
                warnings.append(
                    f"{free_names[i]} and {free_names[j]} are nearly degenerate "
                    f"(correlation {correlation[i, j]:+.4f})"
                )
    if not solution.success:
        warnings.append(f"the optimiser did not converge: {solution.message}")
    reasons = _implausible(problem, values, w, targets, covariance, chi2)

    # Background phases are only defined modulo 2π: report them in (−π, π].
    for i, name in enumerate(names):
        if name.endswith(".phase") and name.split(".")[0] in _TRACES:
            values[i] = math.remainder(values[i], 2 * math.pi)
    fitted = replace(problem, values=values)
    model = problem.model(values, w)
    squares = [np.abs(model[t] - d) ** 2 for t, d in zip(problem.traces, targets, strict=True)]
    return FitResult(
        kind=problem.kind,
        names=tuple(free_names),
        values=_frozen(values[free]),
        standard_errors=_frozen(errors),
        covariance=_frozen(covariance),
        fixed={names[i]: float(values[i]) for i in np.flatnonzero(~problem.free)},
        chi2=float(dof) if not sigma_known else chi2,
        dof=int(dof),
        noise=float(np.sqrt(noise2)) if not sigma_known else float(np.sqrt(np.mean(data.sigma**2))),
        noise_estimated=not sigma_known,
        residual_rms=float(np.sqrt(np.mean(squares))),
        success=bool(solution.success) and not reasons,
        converged=bool(solution.success),
        message=str(solution.message),
        reason="; ".join(reasons),
        warnings=tuple(warnings),
        n_evaluations=int(solution.nfev),
        data=data,
        _problem=fitted,
    )


def _implausible(
    problem: _Problem,
    values: NDArray[np.float64],
    w: NDArray[np.float64],
    targets: Sequence[NDArray[np.complex128]],
    covariance: NDArray[np.float64],
    chi2: float,
) -> list[str]:
    """Why a fit the optimiser finished is still not a result (empty when it is one).

    Non-finite values or χ², a singular covariance (some combination of parameters is not
    determined), a background amplitude driven to zero (the model is zero, not a line) and,
    for the line shapes, a resonance outside the measured band or a full width Γ + Γ_nr wider
    than the band.
    """
    reasons = []
    if not np.all(np.isfinite(values)) or not math.isfinite(chi2):
        reasons.append("the parameters or χ² are not finite")
    if not np.all(np.isfinite(covariance)):
        reasons.append(
            "the covariance is singular (infinite errors): the data do not determine every "
            "parameter (see the warnings)"
        )
    index = {n: i for i, n in enumerate(problem.names)}
    for t, target in zip(problem.traces, targets, strict=True):
        amplitude = values[index[f"{t}.amplitude"]]
        if amplitude <= 1e-9 * float(np.max(np.abs(target))):
            reasons.append(
                f"the {t} background amplitude went to {amplitude:.3g}: the model is zero"
            )
    if problem.kind in ("lorentzian", "fano"):
        low, high = float(w[0]), float(w[-1])
        frequency = values[index["frequency"]]
        width = values[index["radiative_rate"]] + values[index["nonradiative_rate"]]
        if not low <= frequency <= high:
            reasons.append(
                f"the resonance ({frequency / GHz:.9g} GHz) is outside the measured band "
                f"({low / GHz:.9g}–{high / GHz:.9g} GHz)"
            )
        if width > high - low:
            reasons.append(
                f"the full linewidth (Γ + Γ_nr)/2π = {width / MHz:.4g} MHz is wider than the "
                f"measured span {(high - low) / MHz:.4g} MHz"
            )
    return reasons


def _frozen(a: NDArray) -> NDArray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False, repr=False)
class FitResult:
    """Outcome of a fit: values, uncertainties, goodness of fit, the fitted model.

    Attributes
    ----------
    kind : str
        ``"lorentzian"``, ``"fano"`` or ``"device"``.
    names : tuple of str
        The free parameters, in order (SI units: rad/s, s, m, rad).
    values, standard_errors : ndarray, shape (k,)
        Best-fit values and 1σ errors, sqrt(diag(covariance)) (``inf`` when the data do not
        constrain a combination of parameters).
    covariance : ndarray, shape (k, k)
        (JᵀJ)⁻¹ of the σ-weighted residuals; multiplied by σ̂² = Σ|r|²/dof when ``sigma`` was
        not given.
    fixed : dict
        The parameters held fixed (background components not varied), name → value.
    chi2 : float
        Σ (residual/σ)² over real and imaginary parts (equal to ``dof`` when σ was estimated).
    dof : int
        2 × points × traces − k.
    noise : float
        σ per real/imaginary component: the given one (rms over points) or the estimate.
    noise_estimated : bool
        Whether σ was estimated from the residuals (then χ² says nothing about the fit).
    residual_rms : float
        sqrt(mean |model − data|²) over points and traces (≈ √2 σ for a good fit).
    success : bool
        Whether the fit is a result: the optimiser converged *and* the result passed the
        sanity checks (finite values and covariance, no background amplitude at zero; for the
        line shapes, the resonance inside the measured band and Γ + Γ_nr narrower than it).
        ``reason`` says why not.
    converged : bool
        Whether the optimiser converged (``success`` also needs the sanity checks).
    message : str
        The optimiser's message.
    reason : str
        Why ``success`` is False ("" when it is True).
    warnings : tuple of str
        Parameters at bounds, near-degenerate pairs, unconstrained combinations.
    n_evaluations : int
        Model evaluations (each Jacobian is one more, batched).
    data : SpectroscopyData
        The data fitted.
    """

    kind: str
    names: tuple[str, ...]
    values: NDArray[np.float64]
    standard_errors: NDArray[np.float64]
    covariance: NDArray[np.float64]
    fixed: dict[str, float]
    chi2: float
    dof: int
    noise: float
    noise_estimated: bool
    residual_rms: float
    success: bool
    converged: bool
    message: str
    reason: str
    warnings: tuple[str, ...]
    n_evaluations: int
    data: SpectroscopyData
    _problem: _Problem = field(repr=False)

    @property
    def parameters(self) -> dict[str, float]:
        """Best-fit values of the free parameters, name → value (SI units)."""
        return {n: float(v) for n, v in zip(self.names, self.values, strict=True)}

    @property
    def errors(self) -> dict[str, float]:
        """Standard errors from the covariance, name → 1σ (SI units)."""
        return {n: float(e) for n, e in zip(self.names, self.standard_errors, strict=True)}

    @property
    def correlation(self) -> NDArray[np.float64]:
        """Correlation matrix of the free parameters, shape (k, k) (NaN where undefined)."""
        e = self.standard_errors
        with np.errstate(invalid="ignore", divide="ignore"):
            c = self.covariance / np.outer(e, e)
        return np.where(np.isfinite(c), c, np.nan)

    @property
    def reduced_chi2(self) -> float:
        """χ²/dof (≈ 1 for a good fit with the right σ; exactly 1 when σ was estimated)."""
        return self.chi2 / self.dof

    @property
    def p_value(self) -> float:
        """P(χ² ≥ observed) for a correct model with the given σ; NaN when σ was estimated."""
        if self.noise_estimated:
            return math.nan
        return float(stats.chi2.sf(self.chi2, self.dof))

    @property
    def traces(self) -> tuple[str, ...]:
        """The traces fitted."""
        return self._problem.traces

    @property
    def device(self) -> Device | None:
        """The fitted device (``fit_device``), else ``None``."""
        if self._problem.device is None:
            return None
        return self._problem.device(self._problem.values)

    @property
    def backgrounds(self) -> dict[str, Background]:
        """The fitted background of each trace."""
        index = {n: i for i, n in enumerate(self._problem.names)}
        values = self._problem.values
        return {
            t: Background(
                *(values[index[f"{t}.{f}"]] for f in _BACKGROUND_FIELDS),
                reference_frequency=self._problem.reference_frequency,
            )
            for t in self.traces
        }

    def model(
        self, frequencies: ArrayLike | None = None, trace: str | None = None
    ) -> NDArray[np.complex128]:
        """The fitted model, background included, in the data's convention.

        Parameters
        ----------
        frequencies : array_like, rad/s, shape (Q,), optional
            Default: the data's frequencies.
        trace : {"s21", "s11"}, optional
            Default: the first trace fitted.

        Returns
        -------
        ndarray, complex, shape (Q,)
        """
        w = self.data.frequencies if frequencies is None else np.asarray(frequencies, float)
        if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w <= 0):
            raise ValueError("frequencies must be a non-empty 1-D array of positive rad/s")
        key = self.traces[0] if trace is None else choice(trace, "trace", _TRACES)
        if key not in self.traces:
            raise ValueError(f"trace {key!r} was not fitted (traces: {list(self.traces)})")
        return self.data._from_engineering(self._problem.model(self._problem.values, w)[key])

    @property
    def residuals(self) -> dict[str, NDArray[np.complex128]]:
        """Residuals data − model of each fitted trace (complex, shape (P,))."""
        return {t: self.data.trace(t) - self.model(trace=t) for t in self.traces}

    def bootstrap(
        self,
        n: int = 200,
        *,
        seed: int | np.random.Generator | None = None,
        method: str = "parametric",
        max_evaluations: int | None = None,
    ) -> Bootstrap:
        """Bootstrap the fit: refit ``n`` synthetic data sets made from the best-fit model.

        Parameters
        ----------
        n : int, ≥ 2
        seed : int or numpy.random.Generator, optional
            The same integer gives the same samples.
        method : {"parametric", "residual"}
            ``"parametric"``: Gaussian noise of the fit's σ on the real and imaginary parts.
            ``"residual"``: the fit's standardised residuals drawn with replacement (inflated
            by sqrt(N/dof)), for noise that is not Gaussian.
        max_evaluations : int, optional
            Limit on model evaluations per refit.

        Returns
        -------
        Bootstrap
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
        method = choice(method, "method", ("parametric", "residual"))
        rng = np.random.default_rng(seed)
        problem, data = self._problem, self.data
        w = data.frequencies
        best = problem.model(problem.values, w)
        sigma = np.broadcast_to(data.sigma if data.sigma is not None else self.noise, w.shape)
        if method == "residual":
            pool = np.concatenate(
                [(data._engineering(t) - best[t]) / sigma for t in self.traces]
            ) * math.sqrt((self.dof + self.values.size) / self.dof)
        phases = [i for i, name in enumerate(self.names) if name.endswith(".phase")]
        samples, failed = [], 0
        for _ in range(int(n)):
            traces = {}
            for t in self.traces:
                if method == "parametric":
                    noise = rng.standard_normal(w.size) + 1j * rng.standard_normal(w.size)
                else:
                    noise = rng.choice(pool, w.size)
                traces[t] = data._from_engineering(best[t] + sigma * noise)
            try:
                fit = _least_squares(problem, replace(data, **traces), max_evaluations)
            except (ValueError, np.linalg.LinAlgError):
                failed += 1
                continue
            if not fit.success:
                failed += 1
                continue
            values = np.array(fit.values)
            for i in phases:  # keep phases on the branch of the best fit
                values[i] = self.values[i] + math.remainder(values[i] - self.values[i], 2 * math.pi)
            samples.append(values)
        if len(samples) < 2:
            raise RuntimeError(f"bootstrap: {failed} of {n} refits failed")
        return Bootstrap(
            names=self.names,
            estimate=self.values,
            samples=_frozen(np.array(samples)),
            n_failed=failed,
            method=method,
        )

    def summary(self) -> str:
        """A table of the parameters in lab units and the goodness of fit."""
        data = self.data
        f = data.frequencies
        source = f"; {data.source}" if data.source else ""
        title = {"lorentzian": "Lorentzian", "fano": "Fano (mismatch)", "device": "Device"}
        lines = [
            f"{title.get(self.kind, self.kind)} fit of {', '.join(self.traces)}: "
            f"{data.n_points} points, {f[0] / GHz:.6g}–{f[-1] / GHz:.6g} GHz, "
            f"{data.convention} convention{source}",
            f"  {'parameter':<30} {'value':>20}   {'error':<16} unit",
        ]
        for name, value, error in zip(self.names, self.values, self.standard_errors, strict=True):
            unit, factor = _display_unit(name)
            v, e = _format_pair(value / factor, error / factor)
            lines.append(f"  {name:<30} {v:>20} ± {e:<16} {unit}")
        for name, value in self.fixed.items():
            unit, factor = _display_unit(name)
            lines.append(f"  {name:<30} {value / factor:>20.10g}   {'(fixed)':<16} {unit}")
        sigma = "estimated" if self.noise_estimated else "given"
        goodness = (
            f"  χ² = {self.chi2:.6g} for {self.dof} dof (reduced {self.reduced_chi2:.4g}"
            + ("" if self.noise_estimated else f", p = {self.p_value:.3g}")
            + f"); σ = {self.noise:.4g} ({sigma}); residual rms {self.residual_rms:.4g}"
        )
        lines += [
            goodness,
            f"  {'converged' if self.converged else 'NOT converged'} after "
            f"{self.n_evaluations} evaluations: {self.message}",
        ]
        if not self.success:
            lines.append(f"  NOT A VALID FIT: {self.reason}")
        lines.append("  (frequencies and rates as ordinary frequencies: value/2π)")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


@dataclass(frozen=True, eq=False, repr=False)
class Bootstrap:
    """Bootstrap refits of a :class:`FitResult`.

    Attributes
    ----------
    names : tuple of str
    estimate : ndarray, shape (k,)
        The original best-fit values.
    samples : ndarray, shape (n_ok, k)
        Values of the successful refits (SI units).
    n_failed : int
        Refits that raised or did not converge (left out).
    method : str
        ``"parametric"`` or ``"residual"``.
    """

    names: tuple[str, ...]
    estimate: NDArray[np.float64]
    samples: NDArray[np.float64]
    n_failed: int
    method: str

    @property
    def standard_errors(self) -> NDArray[np.float64]:
        """Sample standard deviation of each parameter, shape (k,)."""
        return np.std(self.samples, axis=0, ddof=1)

    @property
    def errors(self) -> dict[str, float]:
        """Bootstrap standard errors, name → 1σ (SI units)."""
        return {n: float(e) for n, e in zip(self.names, self.standard_errors, strict=True)}

    @property
    def covariance(self) -> NDArray[np.float64]:
        """Sample covariance of the refits, shape (k, k)."""
        return np.atleast_2d(np.cov(self.samples, rowvar=False))

    def interval(self, level: float = 0.6827) -> dict[str, tuple[float, float]]:
        """Central percentile interval of each parameter holding ``level`` of the refits."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        low, high = np.percentile(self.samples, [50 * (1 - level), 50 * (1 + level)], axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, low, high, strict=True)}

    def __repr__(self) -> str:
        lines = [
            f"Bootstrap ({self.method}): {self.samples.shape[0]} refits, {self.n_failed} failed",
            f"  {'parameter':<30} {'estimate':>20}   {'bootstrap error':<16} unit",
        ]
        for name, value, error in zip(self.names, self.estimate, self.standard_errors, strict=True):
            unit, factor = _display_unit(name)
            v, e = _format_pair(value / factor, error / factor)
            lines.append(f"  {name:<30} {v:>20} ± {e:<16} {unit}")
        return "\n".join(lines)
