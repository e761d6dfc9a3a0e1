"""Helpers of the tomography tests: Pauli matrices, random and Bell-like states, readouts."""

from __future__ import annotations

import numpy as np

from giantatoms.measure.metrics import bell_state
from giantatoms.measure.tomography import ReadoutModel

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
SZ = np.array([[1, 0], [0, -1]], dtype=complex)


def rand_rho(rng, d, batch=(), rank=None):
    """Random density matrices (Ginibre), shape (*batch, d, d)."""
    k = d if rank is None else rank
    g = rng.normal(size=(*batch, d, k)) + 1j * rng.normal(size=(*batch, d, k))
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    return rho / np.trace(rho, axis1=-2, axis2=-1)[..., None, None]


def projector(vec):
    return np.outer(vec, vec.conj())


def werner_like(fidelity=0.85):
    """Ψ⁻ mixed with an asymmetric diagonal background (full rank, F = fidelity + small)."""
    return fidelity * projector(bell_state("psi-")) + (1 - fidelity) * np.diag([0.3, 0.2, 0.2, 0.3])


def correlated_readout():
    """A non-product (correlated) joint assignment matrix A[measured, prepared]."""
    base = ReadoutModel.from_fidelities([0.97, 0.95], [0.93, 0.9]).assignment.copy()
    # Crosstalk: an excited first qubit sometimes flips the second one's reading.
    base[:, 2] = 0.9 * base[:, 2] + 0.1 * np.array([0.0, 0.05, 0.15, 0.8])
    base[:, 3] = 0.92 * base[:, 3] + 0.08 * np.array([0.02, 0.1, 0.8, 0.08])
    return ReadoutModel.from_confusion(base / base.sum(axis=0))


def assert_physical(rho, atol=1e-12):
    assert np.allclose(rho, np.conj(np.swapaxes(rho, -1, -2)), atol=atol, rtol=0)
    assert np.allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, atol=atol, rtol=0)
    assert np.all(np.linalg.eigvalsh(rho) >= -atol)
