"""Fit problems: the parametrised model, its starting values, bounds and data checks.

A :class:`_Problem` names every parameter (model and background), holds starting values,
bounds, scales and which ones float, and evaluates the model batched over parameter sets. The
helpers here build the background part, apply the user's starting values and bounds, and refuse
traces with nothing to fit before any fit starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from giantatoms.fitting.background import (
    _BACKGROUND_FIELDS,
    Background,
    _edge_phase_slope_delay,
    _edges,
)
from giantatoms.fitting.data import SpectroscopyData
from giantatoms.model.device import Device

__all__: list[str] = []


_ModelFunction = Callable[[NDArray[np.float64], NDArray[np.float64]], dict[str, NDArray]]


@dataclass(frozen=True, eq=False)
class _Problem:
    """A parametrised model: all parameter names, starting values, which ones float.

    ``model(values, w)`` takes values of shape (..., K) and returns each trace, shape
    (..., P), in the engineering convention.
    """

    kind: str
    traces: tuple[str, ...]
    names: tuple[str, ...]
    values: NDArray[np.float64]
    free: NDArray[np.bool_]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    scale: NDArray[np.float64]
    model: _ModelFunction
    device: Callable[[NDArray[np.float64]], Device] | None = None
    reference_frequency: float = 0.0


def _background_names(traces: Sequence[str]) -> list[str]:
    return [f"{t}.{f}" for t in traces for f in _BACKGROUND_FIELDS]


def _vary_set(vary_background: Sequence[str] | str, traces: Sequence[str]) -> set[str]:
    if isinstance(vary_background, str):
        vary_background = [vary_background]
    chosen = set()
    for item in vary_background:
        if not isinstance(item, str):
            raise TypeError(f"vary_background entries must be strings, got {item!r}")
        key = item.strip().lower()
        if key in _BACKGROUND_FIELDS:
            chosen.update(f"{t}.{key}" for t in traces)
        elif key in _background_names(traces):
            chosen.add(key)
        else:
            raise ValueError(
                f"unknown vary_background entry {item!r}; use {list(_BACKGROUND_FIELDS)} or "
                f"'<trace>.<component>' for traces {list(traces)}"
            )
    return chosen


def _initial_background(
    data: SpectroscopyData,
    trace: str,
    reference: float,
    shape: NDArray[np.complex128],
    projection: NDArray[np.bool_] | None = None,
) -> Background:
    """Starting background for ``data[trace] ≈ B(ω)·shape(ω)`` (engineering convention).

    The delay comes from the phase slope of data/shape on the edges, then the complex amplitude
    from the least-squares projection onto ``shape`` over ``projection`` (default all points).
    """
    w = data.frequencies
    z = data._engineering(trace)
    m = np.broadcast_to(np.asarray(shape, dtype=complex), z.shape)
    delay = 0.0
    if z.size >= 4:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(np.abs(m) > 0, z / np.where(np.abs(m) > 0, m, 1.0), z)
        delay = _edge_phase_slope_delay(w, ratio, _edges(z.size))
    z = z * np.exp(1j * (w - reference) * delay)
    if projection is not None:
        z, m = z[projection], m[projection]
    norm = np.vdot(m, m).real
    c = np.vdot(m, z) / norm if norm > 0 else np.mean(z)
    if abs(c) == 0:
        c = 1.0
    return Background(
        amplitude=abs(c), phase=float(np.angle(c)), delay=delay, reference_frequency=reference
    )


def _apply_overrides(
    names: Sequence[str],
    values: NDArray[np.float64],
    free: NDArray[np.bool_],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    initial: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
) -> None:
    """Apply user starting values and bounds (in place), checking names and ranges."""
    index = {n: i for i, n in enumerate(names)}
    for label, mapping in (("initial", initial), ("bounds", bounds)):
        for name in mapping or {}:
            if name not in index:
                raise ValueError(
                    f"{label} names unknown parameter {name!r}; parameters: {list(names)}"
                )
            if label == "bounds" and not free[index[name]]:
                raise ValueError(f"bounds given for {name!r}, which is fixed in this fit")
    for name, pair in (bounds or {}).items():
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"bounds[{name!r}] must be a pair (low, high), got {pair!r}") from exc
        if math.isnan(lo) or math.isnan(hi) or not lo < hi:
            raise ValueError(f"bounds[{name!r}] must satisfy low < high, got ({lo!r}, {hi!r})")
        lower[index[name]], upper[index[name]] = lo, hi
    for name, value in (initial or {}).items():
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"initial[{name!r}] must be finite, got {value!r}")
        values[index[name]] = v
    for i in np.flatnonzero(free):
        if not lower[i] <= values[i] <= upper[i]:
            raise ValueError(
                f"starting value of {names[i]!r} ({values[i]:.6g}) is outside its bounds "
                f"[{lower[i]:.6g}, {upper[i]:.6g}]"
            )


def _noise_level(data: SpectroscopyData, u: NDArray[np.complex128]) -> float:
    """σ per real/imaginary component: the given one, else from second differences of ``u``.

    For complex Gaussian noise of σ per component, |u[i−1] − 2u[i] + u[i+1]| is Rayleigh
    distributed with scale √6·σ, median √6·√(2 ln 2)·σ ≈ 2.884σ; the median ignores the few
    points where a resonance curves the trace. ``u`` should have the cable delay removed.
    """
    if data.sigma is not None:
        return float(np.median(data.sigma))
    if u.size < 8:
        return 0.0
    second = u[:-2] - 2.0 * u[1:-1] + u[2:]
    return float(np.median(np.abs(second)) / (math.sqrt(6.0) * math.sqrt(2.0 * math.log(2.0))))


def _require_feature(data: SpectroscopyData, trace: str, fit: str) -> None:
    """Refuse a trace with nothing to fit: all zero, constant, or no feature above the noise.

    The trace, with the cable delay from its edge phase slope removed, is compared with its
    mean: the largest deviation must exceed σ·(√(2 ln P) + 1.5), above which P points of pure
    complex Gaussian noise reach with probability ≈ P·exp(−1.5·√(2 ln P)) (≈ 0.2 % for 400),
    and 1e-9 of the largest |S| (a constant trace without noise).
    """
    z = data._engineering(trace)
    w = data.frequencies
    scale = float(np.max(np.abs(z)))
    if scale == 0:
        raise ValueError(
            f"{fit}: {trace} is zero at every point ({data.n_points} points"
            f"{', ' + data.source if data.source else ''}); there is no line to fit"
        )
    delay = _edge_phase_slope_delay(w, z, _edges(z.size)) if z.size >= 4 else 0.0
    u = z * np.exp(1j * (w - w.mean()) * delay)
    deviation = float(np.max(np.abs(u - np.mean(u))))
    sigma = _noise_level(data, u)
    threshold = sigma * (math.sqrt(2.0 * math.log(z.size)) + 1.5)
    if deviation <= max(threshold, 1e-9 * scale):
        if deviation <= 1e-9 * scale:
            what = f"constant (|{trace}| = {scale:.6g} everywhere, no variation)"
        else:
            origin = "given" if data.sigma is not None else "estimated from the scatter"
            what = (
                f"featureless: its largest deviation from the mean, {deviation:.3g}, is within "
                f"the noise (σ = {sigma:.3g}, {origin}; needs > {threshold:.3g})"
            )
        raise ValueError(
            f"{fit}: {trace} is {what} over {data.n_points} points; there is no resonance to "
            "fit in this band (check the frequency window and the trace)"
        )
