"""Small devices with delays for the tests of giantatoms.solvers.delay."""

from __future__ import annotations

import math

import numpy as np

import giantatoms as ga

V = 1.2e8  # m/s
GAMMA = 2 * np.pi * 2e6  # rad/s, per point


def two_point_atom(gamma_tau: float, phase: float, *, t1: float | None = None) -> ga.Device:
    """One giant atom with two points γ each: ċ = −γc − γe^{iφ}c(t − τ), φ = ω₀τ."""
    tau = gamma_tau / GAMMA
    m = math.floor(2 * np.pi * 4.6e9 * tau / (2 * np.pi))
    frequency = (2 * np.pi * m + phase) / tau
    atom = ga.Atom("A", frequency, [0.0, tau * V], GAMMA, t1=t1)
    return ga.Device(ga.Waveguide(V), [atom])


def two_point_series(
    t: np.ndarray, gamma_tau: float, phase: float, loss: float = 0.0
) -> np.ndarray:
    """c(t) = Σ_{n ≤ t/τ} (−γe^{iφ})ⁿ (t − nτ)ⁿ/n! e^{−γ_l(t − nτ)}, c(0) = 1 (exact).

    γ_l = γ + γ_nr/2 (``loss`` = γ_nr = 1/T1): ċ = −γ_l c − γe^{iφ}c(t − τ).
    """
    tau = gamma_tau / GAMMA
    local = GAMMA + loss / 2
    out = np.zeros(t.shape, dtype=complex)
    for n in range(int(np.max(t) // tau) + 1):
        x = GAMMA * np.clip(t - n * tau, 0.0, None)
        decay = local * np.clip(t - n * tau, 0.0, None)
        with np.errstate(divide="ignore"):  # x = 0: the n = 0 term is 1, the others 0
            size = np.exp(n * np.log(x) - math.lgamma(n + 1) - decay) if n else np.exp(-decay)
        out += np.where(t >= n * tau, (-np.exp(1j * phase)) ** n * size, 0.0)
    return out


def braided_pair(spacing: float = 0.15) -> ga.Device:
    """Two giant atoms, four points each, interleaved with irregular spacing (metres)."""
    xa = np.array([0.0, 2.0, 4.7, 8.0]) * spacing
    xb = np.array([1.0, 3.3, 6.0, 10.0]) * spacing
    w = 2 * np.pi * 4.6e9
    return ga.Device(
        ga.Waveguide(V), [ga.Atom("A", w, xa, GAMMA / 2), ga.Atom("B", w, xb, GAMMA / 2)]
    )
