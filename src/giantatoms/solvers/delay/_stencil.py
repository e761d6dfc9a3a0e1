"""Shared pieces of the delay solvers: quadrature nodes, the cubic history stencil, kinks."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

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
