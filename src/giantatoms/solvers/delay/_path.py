"""Single-excitation dynamics with delays when the atoms' frequencies move (flux ramps).

With bare frequencies ω_j(t), the delay-differential equation of :mod:`giantatoms.model.delays`
keeps its form with Δ_j(t) = ω_j(t) − ω₀ (the propagation phases e^{iω₀τ} belong to the frame,
not to the atoms). In the interaction picture c_j = e^{−iφ_j(t)} ĉ_j, φ_j(t) = ∫₀ᵗ Δ_j,

    dĉ_j/dt = a_j ĉ_j − ½ Σ_{k,m} K_jkm e^{i(φ_j(t) − φ_k(t − τ))} ĉ_k(t − τ) Θ(t − τ),

with the constant local rate a_j = −γ_nr,j/2 − ½ Σ (the atom's own undelayed terms). The scheme
is that of :mod:`giantatoms.solvers.delay._dde` (exact local exponential, cubic history through
four stored amplitudes, exact switch-on, ghost nodes before t = 0, step doubling), except that
the phase factor of each delayed term now changes from step to step: its weights are
recomputed for every chunk of steps by 8-point Gauss–Legendre quadrature with the phase
evaluated at the nodes. φ_j is integrated once on a grid of h/2 (4-point Gauss–Legendre per
interval) and interpolated with cubic Hermite polynomials (φ′ = Δ).

Atoms that share a coupling point with another atom (an undelayed exchange) are not supported
here: that exchange would carry a time-dependent phase inside the exact local step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.model.delays import DelayKernel
from giantatoms.solvers.delay._stencil import (
    _GAUSS_W,
    _GAUSS_X,
    _delayed_terms,
    _flatten,
    _interpolate_output,
    _lagrange,
)

__all__ = ["solve_path"]

_PHASE_X, _PHASE_W = np.polynomial.legendre.leggauss(4)


class _Phase:
    """φ_j(t) = ∫₀ᵗ (ω_j − ω₀) on [0, t_end], batched: φ(t) for any (b, ...) times."""

    def __init__(
        self,
        frequencies: Callable[[NDArray[np.float64]], NDArray[np.float64]],
        frame: NDArray[np.float64],
        batch: tuple[int, ...],
        n: int,
        t_end: float,
        spacing: float,
    ) -> None:
        cells = max(1, math.ceil(t_end / spacing))
        grid = np.linspace(0.0, cells * spacing, cells + 1)
        mid = 0.5 * (grid[:-1] + grid[1:])
        quad = (mid[:, None] + 0.5 * spacing * _PHASE_X[None, :]).ravel()
        values = _call(frequencies, np.concatenate([grid, quad]), batch, n)  # (b, M, n)
        detuning = values - frame[:, None, None]
        at_grid, at_quad = detuning[:, : grid.size], detuning[:, grid.size :]
        increments = (
            0.5
            * spacing
            * np.einsum("bcgn,g->bcn", at_quad.reshape(at_quad.shape[0], cells, 4, n), _PHASE_W)
        )
        self.phase = np.concatenate(
            [np.zeros((at_grid.shape[0], 1, n)), np.cumsum(increments, axis=1)], axis=1
        )
        self.rate = at_grid
        self.spacing = spacing
        self.cells = cells
        self.max_detuning = float(np.max(np.abs(detuning))) if detuning.size else 0.0

    def __call__(self, t: NDArray[np.float64], atoms: NDArray[np.int64] | None = None) -> NDArray:
        """φ at times ``t`` (shape (b, *S), s, clipped to the grid).

        Every atom's → (b, *S, n), or that of ``atoms`` (broadcastable to t) → (b, *S).
        """
        b = self.phase.shape[0]
        x = np.clip(t / self.spacing, 0.0, self.cells)
        k = np.minimum(np.floor(x).astype(np.int64), self.cells - 1)
        u = x - k
        h00, h10 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u
        h01, h11 = -2 * u**3 + 3 * u**2, u**3 - u**2
        rows = np.arange(b).reshape((b,) + (1,) * (t.ndim - 1))
        if atoms is None:
            p0, p1 = self.phase[rows, k], self.phase[rows, k + 1]
            r0, r1 = self.rate[rows, k], self.rate[rows, k + 1]
            expand = (..., None)
            h00, h10, h01, h11 = (c[expand] for c in (h00, h10, h01, h11))
        else:
            p0, p1 = self.phase[rows, k, atoms], self.phase[rows, k + 1, atoms]
            r0, r1 = self.rate[rows, k, atoms], self.rate[rows, k + 1, atoms]
        return h00 * p0 + h01 * p1 + self.spacing * (h10 * r0 + h11 * r1)


def _call(
    frequencies: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    t: NDArray[np.float64],
    batch: tuple[int, ...],
    n: int,
    *,
    flatten: bool = True,
) -> NDArray[np.float64]:
    """The user's ω(t) at times ``t`` (M,), checked, rad/s.

    Returned as (b, M, n) with the batch flattened, or as the function gave it with
    ``flatten=False``.
    """
    values = np.asarray(frequencies(t), dtype=float)
    if values.ndim < 2 or values.shape[-2:] != (t.size, n):
        raise ValueError(
            f"frequencies(t) must return bare frequencies of shape (..., {t.size}, {n}) "
            f"(rad/s) for t of shape ({t.size},), got {values.shape}"
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("frequencies(t) must be finite and > 0 rad/s")
    if not flatten:
        return values
    size = int(np.prod(batch, dtype=int))
    return np.broadcast_to(values, (*batch, t.size, n)).reshape(size, t.size, n)


def solve_path(
    kernel: DelayKernel,
    c0: NDArray[np.complex128],
    batch: tuple[int, ...],
    times: NDArray[np.float64],
    h: float,
    frequencies: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> tuple[NDArray[np.complex128], dict[str, Any]]:
    """Amplitudes c_j(t) (frame ω₀) at ``times`` with frequencies ω_j(t): (*batch, T, n)."""
    n = kernel.n_atoms
    size = int(np.prod(batch, dtype=int))
    flat = _flatten(kernel, batch)
    undelayed = (flat.tau == 0) & (flat.coeff != 0)
    if np.any(undelayed & (flat.target != flat.source)[None, :]):
        raise ValueError(
            "time-dependent frequencies: atoms that share a coupling point (an undelayed "
            "exchange) are not supported"
        )
    loss = np.broadcast_to(kernel.loss_rates, (*batch, n)).reshape(size, n)
    own = [np.sum(np.where(undelayed & (flat.target == j), flat.coeff, 0.0), -1) for j in range(n)]
    rate = -0.5 * loss - 0.5 * np.stack(own, axis=-1)  # (b, n): the constant local rate a_j
    coeff, tau, target, source, q, theta = _delayed_terms(flat, h)
    n_steps = max(1, math.ceil(float(times[-1]) / h - 1e-9))
    nodes = n_steps + 3
    frame = np.broadcast_to(kernel.frame_frequency, batch).reshape(size)
    phase = _Phase(frequencies, frame, batch, n, nodes * h, h / 2)
    start = np.broadcast_to(c0, (*batch, n)).reshape(size, n).astype(complex)
    c_hat, info = _march_path(rate, start, coeff, q, theta, tau, target, source, h, nodes, phase)
    # Output: ĉ interpolated with the kinks at t = τ added back, then c = e^{−iφ}ĉ.
    switch_on = np.exp(1j * phase(tau, target[None, :]))  # e^{i(φ_j(τ) − φ_k(0))}
    jump = -0.5 * coeff * switch_on * start[:, source]
    off = info.pop("offset")
    out = _interpolate_output(c_hat, off, nodes, times, h, tau, jump, target)
    out *= np.exp(-1j * phase(np.broadcast_to(times, (size, times.size))))
    info.update(steps=n_steps, delayed_terms=int(coeff.shape[-1]))
    return out.reshape(*batch, times.size, n), info


def _march_path(
    rate: NDArray[np.complex128],
    c0: NDArray[np.complex128],
    coeff: NDArray[np.complex128],
    q: NDArray[np.int64],
    theta: NDArray[np.float64],
    tau: NDArray[np.float64],
    target: NDArray[np.int64],
    source: NDArray[np.int64],
    h: float,
    nodes: int,
    phase: _Phase,
) -> tuple[NDArray[np.complex128], dict[str, Any]]:
    """March ĉ with step-dependent weights; history (b, offset + nodes + 1, n)."""
    b, n = c0.shape
    n_terms = q.shape[-1]
    q_max = int(np.max(q)) if n_terms else 0
    q_min = int(np.min(q)) if n_terms else nodes
    off = q_max + 4
    hist = np.zeros((b, off + nodes + 1, n), dtype=complex)
    hist[:, off] = c0
    hist[:, off - 1] = np.exp(-rate * h) * c0  # ĉ(t) = e^{a t}ĉ(0) before the first delay
    hist[:, off - 2] = np.exp(-2 * rate * h) * c0
    step_exp = np.exp(rate * h)  # (b, n)
    s_full = 0.5 * h * (_GAUSS_X + 1.0)  # (G,)
    w_full = 0.5 * h * _GAUSS_W
    lo = (1.0 - theta)[..., None] * h  # (b, terms, 1)
    s_part = lo + 0.5 * (h - lo) * (_GAUSS_X + 1.0)  # (b, terms, G)
    w_part = 0.5 * (h - lo) * _GAUSS_W
    own_rate = rate[:, target]  # (b, terms)
    decay_full = np.exp(own_rate[..., None] * (h - s_full))  # (b, terms, G)
    decay_part = np.exp(own_rate[..., None] * (h - s_part))
    base_full = (w_full * decay_full)[..., None] * _lagrange(theta[..., None] + s_full / h)
    base_part = (w_part * decay_part)[..., None] * _lagrange(theta[..., None] + s_part / h)
    half_k = -0.5 * coeff  # (b, terms)
    onehot = np.eye(n)[target]
    rows = np.arange(b)[:, None, None, None]
    cols = source[None, None, :, None]
    stencil = np.arange(-1, 3)
    chunk = max(1, min(q_min - 1, 200_000 // max(1, b * n_terms * 8)))
    c = c0.copy()
    n_steps = nodes - 1
    n0 = 0
    while n0 < n_steps:
        qn = min(chunk, n_steps - n0)
        steps = n0 + np.arange(qn)
        t_now = steps[:, None] * h + s_full[None, :]  # (qn, G)
        now = phase(np.broadcast_to(t_now, (b, qn, s_full.size)))  # (b, qn, G, n)
        then = t_now[None, :, None, :] - tau[:, None, :, None]  # (b, qn, terms, G)
        factor = np.exp(
            1j * (now[..., target].transpose(0, 1, 3, 2) - phase(then, source[None, None, :, None]))
        )
        weights = np.einsum("btgi,bqtg->bqti", base_full, factor) * half_k[:, None, :, None]
        w = steps[None, :, None] - q[:, None, :]  # (b, qn, terms)
        weights *= (w >= 0)[..., None]
        cross = (w == -1) & (theta[:, None, :] > 0)
        if np.any(cross):
            t_part = steps[None, :, None, None] * h + s_part[:, None]  # (b, qn, terms, G)
            f_part = np.exp(
                1j
                * (
                    phase(t_part, target[None, None, :, None])
                    - phase(t_part - tau[:, None, :, None], source[None, None, :, None])
                )
            )
            extra = np.einsum("btgi,bqtg->bqti", base_part, f_part) * half_k[:, None, :, None]
            weights += extra * cross[..., None]
        idx = off + w[..., None] + stencil  # (b, qn, terms, 4)
        np.clip(idx, 0, None, out=idx)
        vals = hist[rows, idx, cols]
        forcing = np.einsum("bqti,bqti->bqt", vals, weights) @ onehot  # (b, qn, n)
        block = hist[:, off + n0 + 1 : off + n0 + qn + 1]
        for i in range(qn):
            c = step_exp * c + forcing[:, i]
            block[:, i] = c
        n0 += qn
    return hist, {"chunk": chunk, "offset": off, "max_detuning": phase.max_detuning}
