"""Quick fits of one resonance in transmission: :func:`fit_lorentzian` and :func:`fit_fano`.

t = 1 − (Γ/2)/(Γ₂ − iΔ) (physics convention), and the same with a complex coupling, the
impedance-mismatch angle θ of the "diameter correction" method; each times a complex
:class:`~giantatoms.fitting.background.Background`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from giantatoms.fitting._problem import (
    _apply_overrides,
    _background_names,
    _initial_background,
    _Problem,
    _require_feature,
    _vary_set,
)
from giantatoms.fitting.background import (
    _DEFAULT_VARY,
    Background,
    _background_values,
    _edges,
)
from giantatoms.fitting.data import SpectroscopyData
from giantatoms.fitting.result import FitResult, _least_squares

__all__ = ["fit_fano", "fit_lorentzian"]


def _guess_resonance(
    w: NDArray[np.float64], y: NDArray[np.complex128]
) -> tuple[float, float, float, float]:
    """ω₀, Γ, Γ_nr and Γ₂ from y ≈ 1 − (Γ/2)/(Γ₂ + iΔ) (background removed).

    ω₀ at the peak of |1 − y| (lightly smoothed), Γ₂ from the half-maximum width of
    |1 − y|² (FWHM 2Γ₂), Γ/(2Γ₂) from the peak depth.
    """
    depth = np.abs(1.0 - y)
    if depth.size >= 15:
        depth = np.convolve(depth, np.ones(5) / 5, mode="same")
    i = int(np.argmax(depth))
    peak = float(depth[i])
    outside = np.flatnonzero(depth < peak / math.sqrt(2))
    left = outside[outside < i]
    right = outside[outside > i]
    lo = left[-1] + 1 if left.size else 0
    hi = right[0] - 1 if right.size else w.size - 1
    step = (w[-1] - w[0]) / max(w.size - 1, 1)
    gamma2 = max(0.5 * (w[hi] - w[lo] + step), step)
    ratio = min(peak, 0.95)
    radiative = 2 * gamma2 * ratio
    nonradiative = 2 * gamma2 - radiative
    return float(w[i]), float(radiative), float(nonradiative), float(gamma2)


def _lineshape_problem(
    data: SpectroscopyData,
    fano: bool,
    background: Background | None,
    vary_background: Sequence[str] | str,
    initial: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
) -> _Problem:
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    if data.s21 is None:
        raise ValueError(
            "the quick fits model transmission and the data have no s21 trace "
            "(fit reflection with fit_device)"
        )
    if data.n_points < 8:
        raise ValueError(f"a resonance fit needs at least 8 points, got {data.n_points}")
    if background is not None and not isinstance(background, Background):
        raise TypeError(f"background must be a Background, got {background!r}")
    vary = _vary_set(vary_background, ("s21",))
    _require_feature(data, "s21", "fit_fano" if fano else "fit_lorentzian")
    w = data.frequencies
    span = w[-1] - w[0]
    reference = 0.5 * (w[0] + w[-1])
    if background is None:
        background = _initial_background(data, "s21", reference, np.ones(w.size), _edges(w.size))
    else:
        background = background.at_reference(reference)
    frequency, radiative, nonradiative, gamma2 = _guess_resonance(
        w, data._engineering("s21") / background(w)
    )
    line = ["frequency", "radiative_rate", "nonradiative_rate"] + (["mismatch_angle"] * fano)
    names = tuple(line + _background_names(("s21",)))
    values = np.array(
        [frequency, radiative, nonradiative]
        + [0.0] * fano
        + [background.amplitude, background.phase, background.delay, background.slope]
    )
    free = np.array([True] * len(line) + [n in vary for n in names[len(line) :]])
    edge = math.pi / 2 - 1e-3
    lower = np.array([0.0, 0.0, 0.0] + [-edge] * fano + [0.0, -np.inf, -np.inf, -np.inf])
    upper = np.array([np.inf] * 3 + [edge] * fano + [np.inf] * 4)
    scale = np.array(
        [gamma2] * 3 + [0.1] * fano + [0.1 * background.amplitude, 0.1, 0.1 / span, 0.1 / span]
    )
    _apply_overrides(names, values, free, lower, upper, initial, bounds)
    n = len(line)

    def model(p: NDArray[np.float64], frequencies: NDArray[np.float64]) -> dict[str, NDArray]:
        w0, gamma, loss = (p[..., i, None] for i in range(3))
        coupling = 0.5 * gamma * (1 + 1j * np.tan(p[..., 3, None])) if fano else 0.5 * gamma
        shape = 1.0 - coupling / (0.5 * (gamma + loss) + 1j * (frequencies - w0))
        b = _background_values(*(p[..., n + i] for i in range(4)), reference, frequencies)
        return {"s21": b * shape}

    return _Problem(
        kind="fano" if fano else "lorentzian",
        traces=("s21",),
        names=names,
        values=values,
        free=free,
        lower=lower,
        upper=upper,
        scale=scale,
        model=model,
        reference_frequency=reference,
    )


def fit_lorentzian(
    data: SpectroscopyData,
    *,
    background: Background | None = None,
    vary_background: Sequence[str] | str = _DEFAULT_VARY,
    initial: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    max_evaluations: int | None = None,
) -> FitResult:
    """Fit one resonance in transmission: S21 = B(ω)·t(ω), t = 1 − (Γ/2)/(Γ₂ − iΔ).

    The line of one atom in the waveguide (PHYSICS.md §7), physics convention, Δ = ω − ω₀,
    Γ₂ = (Γ + Γ_nr)/2; engineering-convention data are fitted with its conjugate. For a giant
    atom ω₀ is the Lamb-shifted frequency and Γ its frequency-dependent radiative rate.

    Parameters
    ----------
    data : SpectroscopyData
        With an ``s21`` trace.
    background : Background, optional
        Starting (or, for components not varied, fixed) background; default estimated from the
        data (delay from the edge phase slope, amplitude and phase from the edges).
    vary_background : sequence of {"amplitude", "phase", "delay", "slope"}
        Background components that float.
    initial : mapping, optional
        Starting values by parameter name, overriding the estimates from the data.
    bounds : mapping name → (low, high), optional
        Overrides the default bounds (rates ≥ 0, amplitude ≥ 0).
    max_evaluations : int, optional

    Returns
    -------
    FitResult
        Parameters ``frequency`` (ω₀, rad/s), ``radiative_rate`` (Γ, rad/s),
        ``nonradiative_rate`` (Γ_nr = 2Γ₂ − Γ = γ_nr + 2γ_φ, rad/s) and the varied
        background components ``s21.amplitude``, ``s21.phase`` (rad), ``s21.delay`` (s),
        ``s21.slope`` (s/rad).
    """
    problem = _lineshape_problem(data, False, background, vary_background, initial, bounds)
    return _least_squares(problem, data, max_evaluations)


def fit_fano(
    data: SpectroscopyData,
    *,
    background: Background | None = None,
    vary_background: Sequence[str] | str = _DEFAULT_VARY,
    initial: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    max_evaluations: int | None = None,
) -> FitResult:
    """Fit one asymmetric resonance in transmission (impedance mismatch, "diameter correction").

    In the engineering convention of network analysers,
    S21 = B(ω)·[1 − (Γ/2)(1 + i·tan θ)/(Γ₂ + iΔ)], the rate form of
    1 − (Q/Q̂_e)/(1 + 2iQ(ω − ω₀)/ω₀) with 1/Q̂_e = e^{iθ}/|Q̂_e| (Khalil et al., J. Appl. Phys.
    111, 054510 (2012)): Γ = Re(1/Q̂_e)·ω₀ is the corrected coupling rate and
    Γ₂ = (Γ + Γ_nr)/2. θ = 0 is :func:`fit_lorentzian`; physics-convention data are fitted with
    the conjugate.

    Parameters
    ----------
    data, background, vary_background, initial, bounds, max_evaluations
        As for :func:`fit_lorentzian`.

    Returns
    -------
    FitResult
        The parameters of :func:`fit_lorentzian` and ``mismatch_angle`` θ (rad, |θ| < π/2).
    """
    problem = _lineshape_problem(data, True, background, vary_background, initial, bounds)
    return _least_squares(problem, data, max_evaluations)
