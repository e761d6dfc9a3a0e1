"""Chains of atoms on one waveguide in the textbook form: phases at one common frequency.

The chiral "dimer" chain (Stannigel et al., NJP 14, 063014 (2012); Pichler et al., PRA 91,
042116 (2015)): N small atoms at spacing with kd = 2πm, coupled to the right-going channel at
rate γ_R and to the left-going one at γ_L, driven with the same Rabi frequency Ω, detuned
alternately +Δ, −Δ. For γ_L < γ_R every neighbouring pair (1, 2), (3, 4), … ends in a pure
dimer state, dark to the waveguide, whose overlap with the singlet Ψ⁻ is

    F = 2|Ω|² / (2|Ω|² + Δ² + (γ_R − γ_L)²/4)          (:func:`dimer_fidelity`),

the whole chain being in a pure product of dimers. :func:`chain_master_equation` builds the
master equation of such a chain from the chiral coupling matrix of
:mod:`giantatoms.model.couplings` (G_jk = 2γ_R e^{ik(x_j−x_k)} for x_j > x_k, 2γ_L e^{−ik(x_j−x_k)}
for x_j < x_k, γ_R + γ_L on the diagonal), with every phase k·x taken at one frequency — the
model in which these closed forms hold exactly. A :class:`~giantatoms.model.device.Device`
takes each atom's phases at its own (detuned) frequency instead, which breaks exact
degeneracies by δ·d/v.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.lindblad import MasterEquation

__all__ = ["chain_master_equation", "dimer_fidelity"]


def dimer_fidelity(
    gamma_right: ArrayLike, gamma_left: ArrayLike, detuning: ArrayLike, rabi: ArrayLike
) -> NDArray[np.float64]:
    """Singlet fidelity of each pair of the chiral dimer chain, 2|Ω|²/(2|Ω|² + Δ² + (γ_R − γ_L)²/4).

    Parameters
    ----------
    gamma_right, gamma_left : array_like, rad/s
        Decay rates into the right- and left-going channels (γ_L < γ_R for the dimers).
    detuning : array_like, rad/s
        Δ of the alternating pattern (+Δ, −Δ, …).
    rabi : array_like, complex, rad/s
        Ω of the (uniform) drive, as in H = Σ_j (Ω σ_j† + h.c.).

    Returns
    -------
    ndarray, broadcast shape
    """
    omega2 = np.abs(np.asarray(rabi)) ** 2
    diff = np.asarray(gamma_right, dtype=float) - np.asarray(gamma_left, dtype=float)
    return 2 * omega2 / (2 * omega2 + np.asarray(detuning, dtype=float) ** 2 + diff**2 / 4)


def chain_master_equation(
    detunings: ArrayLike,
    gamma_right: float,
    gamma_left: float,
    *,
    phases: ArrayLike | None = None,
    rabi: ArrayLike = 0.0,
    intrinsic_decay: ArrayLike | None = None,
    dephasing: ArrayLike | None = None,
) -> MasterEquation:
    """Master equation of N two-level small atoms on a (partly) chiral waveguide.

    Parameters
    ----------
    detunings : array_like, rad/s, shape (N,)
        Δ_j from the common frequency (the frame).
    gamma_right, gamma_left : float, rad/s, ≥ 0
        Each atom's decay rate into the right- and left-going channel.
    phases : array_like, rad, shape (N,), optional
        k·x_j at the common frequency, increasing with position (default 2π·j: kd = 2π).
    rabi : array_like, complex, rad/s, scalar or shape (N,)
        Drive Ω_j (H = Σ Ω_j σ_j† + h.c.); e.g. a tone from the left has Ω_j ∝ √γ_R e^{ikx_j}.
    intrinsic_decay, dephasing : array_like, rad/s, shape (N,), optional
        Local T1 (γ_nr = 1/T1) and pure-dephasing rates.

    Returns
    -------
    MasterEquation
    """
    delta = np.asarray(detunings, dtype=float)
    if delta.ndim != 1 or delta.size < 1:
        raise ValueError(f"detunings must be a 1-D array of N ≥ 1 values (rad/s), got {delta!r}")
    for name, value in (("gamma_right", gamma_right), ("gamma_left", gamma_left)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite rate ≥ 0 rad/s, got {value!r}")
    n = delta.size
    x = 2 * np.pi * np.arange(n) if phases is None else np.asarray(phases, dtype=float)
    if x.shape != (n,):
        raise ValueError(f"phases must have shape ({n},), got {np.shape(phases)}")
    if np.any(np.diff(x) < 0):
        raise ValueError("phases k·x_j must increase along the chain (atoms in position order)")
    dx = x[:, None] - x[None, :]
    g = np.where(
        dx > 0,
        2 * gamma_right * np.exp(1j * dx),
        np.where(dx < 0, 2 * gamma_left * np.exp(-1j * dx), gamma_right + gamma_left),
    )
    decay = 0.5 * (g + g.conj().T)
    coherent = 0.25j * (g.conj().T - g)
    lamb = np.real(np.diag(coherent))
    return MasterEquation.from_coefficients(
        dims=(2,) * n,
        detunings=delta + lamb,
        exchange=coherent - np.diag(np.diag(coherent)),
        decay_matrix=decay,
        drive_amplitudes=np.broadcast_to(np.asarray(rabi, dtype=complex), (n,)),
        intrinsic_decay=intrinsic_decay,
        dephasing=dephasing,
    )
