"""The complex background of a trace: :class:`Background` and the cable-delay helpers.

B(ω) = A·[1 + s·(ω − ω_ref)]·exp(i[φ − (ω − ω_ref)·τ]) in the engineering convention (see the
package docstring of :mod:`giantatoms.fitting`); :func:`estimate_cable_delay` reads τ from the
phase slope on the edges of the band, :func:`remove_background` and
:func:`remove_cable_delay` divide it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.fitting.data import SpectroscopyData

__all__ = ["Background", "estimate_cable_delay", "remove_background", "remove_cable_delay"]


_BACKGROUND_FIELDS = ("amplitude", "phase", "delay", "slope")
_DEFAULT_VARY = ("amplitude", "phase", "delay")
_EDGE_FRACTION = 0.2


@dataclass(frozen=True)
class Background:
    """Complex background of one trace, engineering convention (see the module docstring).

    B(ω) = amplitude·[1 + slope·(ω − ω_ref)]·exp(i[phase − (ω − ω_ref)·delay]).

    Parameters
    ----------
    amplitude : float, > 0
        |B| at ω_ref (linear, dimensionless).
    phase : float, rad
        arg B at ω_ref.
    delay : float, s
        Cable (group) delay τ.
    slope : float, s/rad
        Relative linear change of |B| per rad/s.
    reference_frequency : float, rad/s, ≥ 0
        ω_ref. With the default 0, B = A·e^{iφ}·e^{−iωτ}.
    """

    amplitude: float = 1.0
    phase: float = 0.0
    delay: float = 0.0
    slope: float = 0.0
    reference_frequency: float = 0.0

    def __post_init__(self) -> None:
        for name in ("amplitude", "phase", "delay", "slope", "reference_frequency"):
            minimum = 0.0 if name in ("amplitude", "reference_frequency") else None
            value = real_array(
                getattr(self, name),
                name,
                owner="Background",
                minimum=minimum,
                strict_minimum=name == "amplitude",
            )
            if value.ndim:
                raise ValueError(f"Background: {name} must be a scalar, got shape {value.shape}")
            object.__setattr__(self, name, float(value))

    def __call__(self, frequencies: ArrayLike) -> NDArray[np.complex128]:
        """B(ω) at ``frequencies`` (rad/s, any shape), engineering convention."""
        w = np.asarray(frequencies, dtype=float)
        return _background_values(
            self.amplitude, self.phase, self.delay, self.slope, self.reference_frequency, w
        )

    def at_reference(self, reference_frequency: float) -> Background:
        """The same function of frequency written about another reference frequency (rad/s)."""
        shift = float(reference_frequency) - self.reference_frequency
        gain = 1.0 + self.slope * shift
        if gain <= 0:
            raise ValueError("the linear amplitude slope changes sign before the new reference")
        return Background(
            amplitude=self.amplitude * gain,
            phase=self.phase - shift * self.delay,
            delay=self.delay,
            slope=self.slope / gain,
            reference_frequency=float(reference_frequency),
        )


def _background_values(
    amplitude: ArrayLike,
    phase: ArrayLike,
    delay: ArrayLike,
    slope: ArrayLike,
    reference: float,
    w: NDArray[np.float64],
) -> NDArray[np.complex128]:
    """B(ω) for parameters of shape (...) and frequencies (P,): shape (..., P)."""
    x = w - reference
    a, p, d, s = (np.asarray(v, dtype=float)[..., None] for v in (amplitude, phase, delay, slope))
    return a * (1.0 + s * x) * np.exp(1j * (p - x * d))


def estimate_cable_delay(
    data: SpectroscopyData, *, trace: str = "s21", edge_fraction: float = _EDGE_FRACTION
) -> float:
    """Cable delay τ from the phase slope far from resonance.

    Fits arg S = φ_left/right − ωτ to the unwrapped phase of the lowest and highest
    ``edge_fraction`` of the points, with a common slope and one offset per edge (so a phase
    jump across the resonance does not matter). The resonance's own phase tails bias the
    estimate by about Γ/Δ_edge²; it is a starting value, refined by the fits. The frequency step
    must keep the phase change per point below π (Δf·τ < 1/2), or the delay aliases.

    Parameters
    ----------
    data : SpectroscopyData
    trace : {"s21", "s11"}
    edge_fraction : float, in (0, 0.5]

    Returns
    -------
    float, s
        τ (> 0 for a physical delay, in either convention).
    """
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    if not 0 < edge_fraction <= 0.5:
        raise ValueError(f"edge_fraction must be in (0, 0.5], got {edge_fraction!r}")
    z = data._engineering(trace)
    if z.size < 4:
        raise ValueError(f"need at least 4 points to estimate a delay, got {z.size}")
    return _edge_phase_slope_delay(data.frequencies, z, _edges(z.size, edge_fraction))


def _edges(size: int, fraction: float = _EDGE_FRACTION) -> NDArray[np.bool_]:
    """Mask of the lowest and highest ``fraction`` of ``size`` points (at least 2 each)."""
    n = min(max(2, round(fraction * size)), size // 2)
    mask = np.zeros(size, dtype=bool)
    mask[:n] = mask[size - n :] = True
    return mask


def _edge_phase_slope_delay(
    w: NDArray[np.float64], z: NDArray[np.complex128], edges: NDArray[np.bool_]
) -> float:
    """−d(arg z)/dω on the two edges: common slope, one phase offset per edge."""
    phase = np.unwrap(np.angle(z))
    rows = np.flatnonzero(edges)
    left = rows < z.size // 2
    x = w[rows] - w.mean()
    unit = float(np.max(np.abs(x))) or 1.0  # a well-conditioned design matrix
    design = np.column_stack([left, ~left, x / unit]).astype(float)
    coefficients, *_ = np.linalg.lstsq(design, phase[rows], rcond=None)
    return float(-coefficients[2] / unit)


def remove_background(
    data: SpectroscopyData, background: Background | Mapping[str, Background]
) -> SpectroscopyData:
    """Divide the traces by their background (one for all traces, or one per trace name).

    Returns
    -------
    SpectroscopyData
        In the same convention as ``data``; ``sigma`` is rescaled by 1/|B|.
    """
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    per_trace = _backgrounds_per_trace(background, data.traces)
    traces, gains = {}, []
    for t in data.traces:
        b = per_trace[t](data.frequencies)
        traces[t] = data._from_engineering(data._engineering(t) / b)
        gains.append(np.abs(b))
    sigma = data.sigma
    if sigma is not None:
        sigma = sigma / np.mean(gains, axis=0)
    return replace(data, sigma=sigma, **traces)


def remove_cable_delay(data: SpectroscopyData, delay: float) -> SpectroscopyData:
    """Undo a cable delay τ (s) on every trace: multiply by e^{+iωτ} (engineering convention).

    Returns
    -------
    SpectroscopyData
    """
    return remove_background(data, Background(delay=delay))


def _backgrounds_per_trace(
    background: Background | Mapping[str, Background] | None, traces: Sequence[str]
) -> dict[str, Background | None]:
    if background is None or isinstance(background, Background):
        return dict.fromkeys(traces, background)
    if not isinstance(background, Mapping):
        raise TypeError(
            f"background must be a Background or a mapping trace → Background, got {background!r}"
        )
    unknown = sorted(set(background) - set(traces))
    if unknown:
        raise ValueError(f"background given for {unknown}, but the traces are {list(traces)}")
    for t, b in background.items():
        if not isinstance(b, Background):
            raise TypeError(f"background[{t!r}] must be a Background, got {b!r}")
    return {t: background.get(t) for t in traces}
