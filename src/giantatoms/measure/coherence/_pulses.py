"""Ideal instantaneous pulses on one atom, the ground state and the measured signals."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.operators import embed, transition_lowering


def _rotation(theta: float, phase: ArrayLike, levels: int) -> NDArray[np.complex128]:
    """R_φ(θ) on the g–e transition of one atom with ``levels`` levels, shape (φ…, l, l)."""
    phi = np.asarray(phase, dtype=float)
    # exp(−i(θ/2) n·σ) = cos(θ/2) − i sin(θ/2)(cos φ σ_x + sin φ σ_y) on span{g, e}.
    u = np.zeros((*phi.shape, levels, levels), dtype=complex)
    u[..., :, :] = np.eye(levels)
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    u[..., 0, 0] = c
    u[..., 1, 1] = c
    u[..., 0, 1] = -1j * s * np.exp(-1j * phi)
    u[..., 1, 0] = -1j * s * np.exp(1j * phi)
    return u


def _pulse(theta: float, phase: ArrayLike, j: int, dims: tuple[int, ...]) -> NDArray:
    """The pulse on atom ``j`` embedded in the full space, 1 ⊗ R ⊗ 1, shape (φ…, d, d)."""
    local = _rotation(theta, phase, dims[j])
    left = np.eye(int(np.prod(dims[:j])))
    right = np.eye(int(np.prod(dims[j + 1 :])))
    full = np.einsum("ab,...ce,fg->...acfbeg", left, local, right)
    d = int(np.prod(dims))
    return full.reshape(*local.shape[:-2], d, d)


def _ground_state(dims: tuple[int, ...]) -> NDArray[np.complex128]:
    rho = np.zeros((int(np.prod(dims)),) * 2, dtype=complex)
    rho[0, 0] = 1.0
    return rho


def _conjugate(u: NDArray, rho: NDArray) -> NDArray[np.complex128]:
    """U ρ U† with broadcasting over the leading axes."""
    return u @ rho @ np.conj(np.swapaxes(u, -1, -2))


def _signals(
    rho: NDArray[np.complex128], j: int, dims: tuple[int, ...]
) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
    """⟨σ_j⟩ = tr(ρ |g⟩⟨e|_j) and P_e of atom j for states (…, d, d)."""
    sigma = embed(transition_lowering(dims[j], 0), j, dims)
    coherence = np.einsum("ij,...ji->...", sigma, rho)
    excited = (np.unravel_index(np.arange(int(np.prod(dims))), dims)[j] == 1).astype(float)
    population = np.einsum("i,...ii->...", excited, rho).real
    return coherence, population
