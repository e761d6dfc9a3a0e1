"""Shared pieces of the delay solvers: quadrature nodes, the cubic history stencil, kinks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from giantatoms.model.delays import DelayKernel

#: 8-point Gauss–Legendre nodes and weights on [−1, 1] (the step integrals).
_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(8)
#: The four history nodes of a step's window, relative to its first node.
_STENCIL = np.array([-1.0, 0.0, 1.0, 2.0])


def _lagrange(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cubic Lagrange basis on the nodes −1, 0, 1, 2 at x: shape (*x.shape, 4)."""
    out = np.ones((*x.shape, 4))
    for i, xi in enumerate(_STENCIL):
        for m, xm in enumerate(_STENCIL):
            if m != i:
                out[..., i] *= (x - xm) / (xi - xm)
    return out


def _interpolate_output(
    hist: NDArray[np.complex128],
    off: int,
    nodes: int,
    times: NDArray[np.float64],
    h: float,
    tau: NDArray[np.float64],
    jump: NDArray[np.complex128],
    target: NDArray[np.int64],
) -> NDArray[np.complex128]:
    """Amplitudes at ``times`` (b, T, n) from the history (b, off + nodes + 1, n).

    The cubic through the four stored nodes around each time (node m at index m + off), with
    the kinks at t = τ (``tau``, ``jump``, ``target`` as in :func:`_kink_correction`) added back.
    """
    x = times / h
    first = np.minimum(np.floor(x).astype(np.int64), nodes - 3)  # last stencil node: nodes − 1
    basis = _lagrange(x - first)  # (T, 4)
    idx = off + first[:, None] + np.arange(-1, 3)[None, :]
    out = np.einsum("btkn,tk->btn", hist[:, idx, :], basis)
    n = hist.shape[-1]
    return out + _kink_correction(tau, jump, target, n, times, first, basis, h)


def _kink_correction(
    tau: NDArray[np.float64],
    jump: NDArray[np.complex128],
    target: NDArray[np.int64],
    n: int,
    times: NDArray[np.float64],
    m: NDArray[np.int64],
    basis: NDArray[np.float64],
    h: float,
) -> NDArray[np.complex128]:
    """Output correction for the kinks of c at t = τ, shape (b, T, n).

    At t = τ_t (``tau``, (b, terms)) the term t switches on and c'_j (j its target) jumps by
    ``jump`` (J = −½K c_k(0), (b, terms)). The cubic through nodes on both sides of a kink is
    only first-order accurate there, so the output interpolates c − Σ J (t − τ)₊ and adds the
    ramps back exactly. ``m`` and ``basis`` are the output stencils (first node, weights).
    """
    b = tau.shape[0]
    onehot = np.eye(n)[target]  # (terms, n)
    nodes = (m[:, None] + np.arange(-1, 3)[None, :]) * h  # (T, 4)
    out = np.zeros((b, times.size, n), dtype=complex)
    step = max(1, 4_000_000 // max(1, b * tau.shape[-1]))
    for lo in range(0, times.size, step):
        sl = slice(lo, lo + step)
        exact = np.maximum(times[sl][None, :, None] - tau[:, None, :], 0.0)  # (b, T, terms)
        at_nodes = np.maximum(nodes[sl][None, :, :, None] - tau[:, None, None, :], 0.0)
        interpolated = np.einsum("tk,btkr->btr", basis[sl], at_nodes)
        out[:, sl] = ((exact - interpolated) * jump[:, None, :]) @ onehot
    return out


@dataclass(frozen=True, eq=False)
class _Flat:
    """A kernel flattened over its batch (b points) and its terms (j, k, m).

    ``coeff``/``tau`` (b, all terms) hold every term; ``delayed`` is the index of the terms
    that are delayed (τ > 0, K ≠ 0) at some batch point; ``target``/``source`` are the atoms
    j, k of every term.
    """

    coeff: NDArray[np.complex128]
    tau: NDArray[np.float64]
    target: NDArray[np.int64]
    source: NDArray[np.int64]
    delayed: NDArray[np.int64]


def _flatten(kernel: DelayKernel, batch: tuple[int, ...]) -> _Flat:
    n, m = kernel.n_atoms, kernel.coefficients.shape[-1]
    size = int(np.prod(batch, dtype=int))
    coeff = np.broadcast_to(kernel.coefficients, (*batch, n, n, m)).reshape(size, -1)
    tau = np.broadcast_to(kernel.delays, (*batch, n, n, m)).reshape(size, -1)
    active = (tau > 0) & (coeff != 0)
    return _Flat(
        coeff=coeff,
        tau=tau,
        target=np.repeat(np.arange(n), n * m),
        source=np.tile(np.repeat(np.arange(n), m), n),
        delayed=np.flatnonzero(np.any(active, axis=0)),
    )


def _delayed_terms(
    flat: _Flat, h: float
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray, NDArray]:
    """The delayed terms on the grid of step h: coeff, τ, target, source, q, θ.

    τ = (q − θ)h with q integer and 0 ≤ θ < 1; inactive entries (a term delayed at other batch
    points only) get K = 0 and a harmless τ = 2h.
    """
    keep = flat.delayed
    coeff, tau = flat.coeff[:, keep], flat.tau[:, keep]
    active = (tau > 0) & (coeff != 0)
    coeff = np.where(active, coeff, 0.0)
    tau = np.where(active, tau, 2.0 * h)
    ratio = tau / h
    q = np.ceil(ratio - 1e-9).astype(np.int64)
    theta = q - ratio
    theta = np.where(theta < 1e-9, 0.0, theta)
    return coeff, tau, flat.target[keep], flat.source[keep], q, theta
