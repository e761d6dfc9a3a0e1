"""Pairwise entanglement maps of many-atom states: every pair's reduced state and its metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.measure.metrics import bell_fidelity, concurrence

__all__ = ["pairwise_bell_fidelity", "pairwise_concurrence"]


def _pairs_map(rho: ArrayLike, dims: Sequence[int], metric: Callable) -> NDArray[np.float64]:
    rho = np.asarray(rho, dtype=complex)
    n = len(dims)
    if n < 2:
        raise ValueError(f"dims must name at least two atoms, got {tuple(dims)}")
    out = np.full((*rho.shape[:-2], n, n), np.nan)
    for j in range(n):
        for k in range(j + 1, n):
            out[..., j, k] = out[..., k, j] = metric(rho, (j, k))
    return out


def pairwise_bell_fidelity(
    rho: ArrayLike,
    dims: Sequence[int],
    state: str = "psi-",
    *,
    optimize_phases: bool = True,
) -> NDArray[np.float64]:
    """Bell fidelity of every pair's reduced state, shape (..., N, N) (NaN on the diagonal).

    Parameters
    ----------
    rho : array_like, complex, shape (..., d, d)
    dims : sequence of int
        Levels of each atom (d = Π dims); pairs of two-level atoms (or the g/e levels of
        transmons, as :func:`giantatoms.measure.metrics.bell_fidelity` does).
    state : {"psi-", "psi+", "phi+", "phi-"}
    optimize_phases : bool
        Maximise over local Z phases (default), as tomography does.
    """
    return _pairs_map(
        rho,
        dims,
        lambda r, pair: bell_fidelity(
            r, state, dims=dims, atoms=pair, optimize_phases=optimize_phases
        ),
    )


def pairwise_concurrence(rho: ArrayLike, dims: Sequence[int]) -> NDArray[np.float64]:
    """Concurrence of every pair's reduced state, shape (..., N, N) (NaN on the diagonal)."""
    return _pairs_map(rho, dims, lambda r, pair: concurrence(r, dims=dims, atoms=pair))
