"""Assembly of batched Hamiltonians and jump operators from coefficient arrays.

Both public constructors (:func:`giantatoms.master_equation` from a device and
:meth:`MasterEquation.from_coefficients`) end here. Everything is einsum over a leading batch
shape against fixed operator stacks; nothing loops over parameter points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.model.lindblad import MasterEquation, _local_operators


def _per_atom(value: ArrayLike | None, name: str, n: int, **bounds: float) -> NDArray:
    if value is None:
        return np.zeros(n)
    arr = real_array(value, name, **bounds)
    if arr.ndim == 0:
        return arr * np.ones(n)
    if arr.shape[-1] != n:
        raise ValueError(f"{name} must have shape (..., {n}) (one per atom), got {arr.shape}")
    return arr


def assemble(
    dims: Sequence[int],
    atom_names: Sequence[str],
    *,
    detunings: NDArray,
    anharmonicities: NDArray,
    transition_operators: NDArray,
    coherent: NDArray | None,
    channels: NDArray | None,
    channel_labels: Sequence[str],
    drive_amplitudes: NDArray | None,
    intrinsic_decay: NDArray,
    thermal_occupation: NDArray,
    dephasing: NDArray,
    frame_frequency: ArrayLike = np.nan,
    info: dict | None = None,
) -> MasterEquation:
    """Build H and the jump operators.

    H = Σ_j [Δ_j n_j + (α_j/2) n_j(n_j − 1)] + Σ_{t,t'} M_{tt'} σ_t† σ_t' + Σ_j (Ω_j b_j† + h.c.)
    jumps: Σ_t C_{ct} σ_t per channel c; √(γ_nr(1+n_th)) b_j; √(γ_nr n_th) b_j†;
    √(2γ_φ) n_j. Jumps that vanish over the whole batch are dropped.

    Parameters
    ----------
    detunings, anharmonicities, intrinsic_decay, thermal_occupation, dephasing : (..., n)
    transition_operators : (T, d, d) lowering operators σ_t in the full space
    coherent : (..., T, T) Hermitian M, or None
    channels : (..., C, T) channel coefficients C_{ct}, or None
    drive_amplitudes : (..., n) complex Ω_j, or None
    """
    dims = tuple(int(x) for x in dims)
    b, nn = _local_operators(dims)
    d = b.shape[-1]
    diag_levels = np.real(np.diagonal(nn, axis1=-2, axis2=-1))  # (n, d)
    # Δ n + (α/2) n(n−1) is diagonal: build the diagonal, not d×d matrices per atom.
    energy = np.einsum("...j,jd->...d", detunings, diag_levels) + np.einsum(
        "...j,jd->...d", 0.5 * anharmonicities, diag_levels * (diag_levels - 1)
    )
    parts: list[NDArray] = []
    if coherent is not None:
        ops = transition_operators
        dagger = np.conj(np.swapaxes(ops, -1, -2))
        # Σ_tt' M_tt' σ_t† σ_t' with the products precomputed once (T² small d×d matrices).
        products = np.einsum("tij,ujk->tuik", dagger, ops)
        parts.append(np.einsum("...tu,tuik->...ik", coherent, products))
    if drive_amplitudes is not None:
        bd = np.conj(np.swapaxes(b, -1, -2))
        drive_term = np.einsum("...j,jik->...ik", drive_amplitudes, bd)
        parts.append(drive_term + np.conj(np.swapaxes(drive_term, -1, -2)))
    batch = np.broadcast_shapes(energy.shape[:-1], *(p.shape[:-2] for p in parts))
    h = np.zeros((*batch, d, d), dtype=complex)
    for p in parts:
        h += p
    idx = np.arange(d)
    h[..., idx, idx] += energy

    jumps: list[NDArray] = []
    labels: list[str] = []
    if channels is not None:
        chan = np.einsum("...ct,tij->...cij", channels, transition_operators)
        for c, label in enumerate(channel_labels):
            if np.any(channels[..., c, :] != 0):
                jumps.append(chan[..., c, :, :])
                labels.append(label)
    bd = np.conj(np.swapaxes(b, -1, -2))
    for rate, ops, kind in (
        (intrinsic_decay * (1 + thermal_occupation), b, "decay"),
        (intrinsic_decay * thermal_occupation, bd, "excitation"),
        (2 * dephasing, nn, "dephasing"),
    ):
        for j, name in enumerate(atom_names):
            r = rate[..., j]
            if np.any(r != 0):
                jumps.append(np.sqrt(r)[..., None, None] * ops[j])
                labels.append(f"{kind}:{name}")
    if not jumps:
        jumps.append(np.zeros((d, d), dtype=complex))
        labels.append("none")
    jump_batch = np.broadcast_shapes(*(x.shape[:-2] for x in jumps))
    stacked = np.stack([np.broadcast_to(x, (*jump_batch, d, d)) for x in jumps], axis=-3)
    return MasterEquation(
        hamiltonian=h,
        jump_operators=stacked,
        dims=dims,
        atom_names=tuple(atom_names),
        jump_labels=tuple(labels),
        frame_frequency=frame_frequency,
        info=info or {},
    )


def build_from_coefficients(
    dims: Sequence[int],
    *,
    detunings: ArrayLike,
    exchange: ArrayLike | None,
    decay_matrix: ArrayLike | None,
    drive_amplitudes: ArrayLike | None,
    anharmonicities: ArrayLike | None,
    intrinsic_decay: ArrayLike | None,
    thermal_occupation: ArrayLike | None,
    dephasing: ArrayLike | None,
    atom_names: Sequence[str] | None,
) -> MasterEquation:
    """Implementation of :meth:`MasterEquation.from_coefficients`."""
    dims = tuple(int(x) for x in dims)
    if not dims or any(x not in (2, 3) for x in dims):
        raise ValueError(f"dims must list 2 or 3 levels per atom, got {dims!r}")
    n = len(dims)
    names = tuple(atom_names) if atom_names is not None else tuple(str(i) for i in range(n))
    if len(names) != n or len(set(names)) != n:
        raise ValueError(f"atom_names must be {n} unique names, got {names!r}")
    delta = _per_atom(detunings, "detunings", n)
    alpha = _per_atom(anharmonicities, "anharmonicities", n)
    if anharmonicities is None and 3 in dims:
        raise ValueError("anharmonicities (rad/s) are required when an atom has 3 levels")
    gamma_nr = _per_atom(intrinsic_decay, "intrinsic_decay", n, minimum=0)
    n_th = _per_atom(thermal_occupation, "thermal_occupation", n, minimum=0)
    gamma_phi = _per_atom(dephasing, "dephasing", n, minimum=0)
    b, _ = _local_operators(dims)

    coherent = None
    if exchange is not None:
        j = _square(exchange, "exchange", n)
        if not np.allclose(j, np.conj(np.swapaxes(j, -1, -2)), rtol=1e-10, atol=0):
            raise ValueError("exchange must be a Hermitian matrix (J_jk = conj(J_kj))")
        coherent = j.copy()
        coherent[..., np.arange(n), np.arange(n)] = 0.0
    channels = None
    labels: list[str] = []
    if decay_matrix is not None:
        gamma = _square(decay_matrix, "decay_matrix", n)
        if not np.allclose(gamma, np.conj(np.swapaxes(gamma, -1, -2)), rtol=1e-10, atol=0):
            raise ValueError("decay_matrix must be Hermitian (Γ_jk = conj(Γ_kj))")
        if not np.all(np.isfinite(gamma)):
            raise ValueError("decay_matrix must be finite")
        # Γ = V Λ V†; the jump ∝ Σ_k conj(V_km) b_k gives Γ_jk = Σ_m λ_m V_jm conj(V_km).
        lam, vec = np.linalg.eigh(gamma)
        scale = np.max(np.abs(lam), axis=-1, keepdims=True)
        if np.any(lam < -1e-10 * np.maximum(scale, 1e-300)):
            raise ValueError(
                f"decay_matrix must be positive semidefinite, smallest eigenvalue {lam.min():g}"
            )
        channels = np.sqrt(np.clip(lam, 0, None))[..., :, None] * np.conj(np.swapaxes(vec, -1, -2))
        labels = [f"collective:{m}" for m in range(n)]
    drive = None
    if drive_amplitudes is not None:
        drive = np.asarray(drive_amplitudes, dtype=complex)
        if drive.ndim == 0:
            drive = drive * np.ones(n)
        if drive.shape[-1] != n or not np.all(np.isfinite(drive)):
            raise ValueError(f"drive_amplitudes must be finite with shape (..., {n})")
    return assemble(
        dims,
        names,
        detunings=delta,
        anharmonicities=alpha,
        transition_operators=b,
        coherent=coherent,
        channels=channels,
        channel_labels=labels,
        drive_amplitudes=drive,
        intrinsic_decay=gamma_nr,
        thermal_occupation=n_th,
        dephasing=gamma_phi,
        info={
            "detunings": delta,
            "exchange": exchange,
            "decay_matrix": decay_matrix,
            "drive_amplitudes": drive,
        },
    )


def _square(value: ArrayLike, name: str, n: int) -> NDArray[np.complex128]:
    arr = np.asarray(value, dtype=complex)
    if arr.ndim < 2 or arr.shape[-2:] != (n, n):
        raise ValueError(f"{name} must have shape (..., {n}, {n}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr
