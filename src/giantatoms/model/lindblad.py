"""Lindblad master equations of atoms coupled to a waveguide (PHYSICS.md §3–5).

A :class:`MasterEquation` holds a batch of Lindblad generators as dense arrays,

    dρ/dt = −i[H, ρ] + Σ_k (c_k ρ c_k† − ½{c_k† c_k, ρ}),

with ``hamiltonian`` of shape (batch…, d, d) and ``jump_operators`` of shape
(batch…, K, d, d), in rad/s, in the frame rotating at ``frame_frequency`` (the drive frequency
when there is a drive). The basis is the product basis with the first atom as the most
significant factor (see :mod:`giantatoms.model.operators`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.model.operators import embed, lowering, number, transition_lowering

if TYPE_CHECKING:
    from giantatoms.model.device import Device, Drive

__all__ = ["MasterEquation", "master_equation"]


@dataclass(frozen=True, eq=False)
class MasterEquation:
    """A batch of Lindblad master equations on ``n_atoms`` atoms with ``dims`` levels each.

    Attributes
    ----------
    hamiltonian : ndarray, complex, rad/s, shape (batch…, d, d)
        Hermitian Hamiltonian in the rotating frame.
    jump_operators : ndarray, complex, √(rad/s), shape (batch…, K, d, d)
        Jump operators c_k; the rate is folded into each operator.
    dims : tuple of int
        Levels of each atom (2 or 3); d = prod(dims).
    atom_names : tuple of str
        One name per atom, in basis order.
    jump_labels : tuple of str
        One label per jump operator (e.g. ``"waveguide:right"``, ``"decay:A"``).
    frame_frequency : ndarray, rad/s, shape (batch…)
        Frequency of the rotating frame (``nan`` when built from coefficients, where the frame
        is whatever the coefficients were written in).
    info : dict
        The coefficients the equation was built from (detunings, Lamb shifts, exchange, decay
        matrix, drive amplitudes, …), each an array with the batch shape leading.
    """

    hamiltonian: NDArray[np.complex128]
    jump_operators: NDArray[np.complex128]
    dims: tuple[int, ...]
    atom_names: tuple[str, ...]
    jump_labels: tuple[str, ...]
    frame_frequency: NDArray[np.float64] = field(default_factory=lambda: np.array(np.nan))
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        h = np.asarray(self.hamiltonian, dtype=complex)
        c = np.asarray(self.jump_operators, dtype=complex)
        dims = tuple(int(n) for n in self.dims)
        d = int(np.prod(dims))
        if h.ndim < 2 or h.shape[-2:] != (d, d):
            raise ValueError(f"hamiltonian must have shape (..., {d}, {d}), got {h.shape}")
        if c.ndim < 3 or c.shape[-2:] != (d, d):
            raise ValueError(f"jump_operators must have shape (..., K, {d}, {d}), got {c.shape}")
        if len(self.jump_labels) != c.shape[-3]:
            raise ValueError(
                f"jump_labels has {len(self.jump_labels)} entries for {c.shape[-3]} jump operators"
            )
        if len(self.atom_names) != len(dims):
            raise ValueError(f"atom_names has {len(self.atom_names)} entries for {len(dims)} atoms")
        batch = np.broadcast_shapes(h.shape[:-2], c.shape[:-3], np.shape(self.frame_frequency))
        object.__setattr__(self, "hamiltonian", np.broadcast_to(h, (*batch, d, d)))
        object.__setattr__(self, "jump_operators", np.broadcast_to(c, (*batch, c.shape[-3], d, d)))
        object.__setattr__(
            self, "frame_frequency", np.broadcast_to(np.asarray(self.frame_frequency, float), batch)
        )
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "atom_names", tuple(self.atom_names))
        object.__setattr__(self, "jump_labels", tuple(self.jump_labels))

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch shape shared by all arrays."""
        return self.hamiltonian.shape[:-2]

    @property
    def dimension(self) -> int:
        """Hilbert-space dimension d = prod(dims)."""
        return self.hamiltonian.shape[-1]

    @property
    def n_jumps(self) -> int:
        """Number K of jump operators."""
        return self.jump_operators.shape[-3]

    def __getitem__(self, index: Any) -> MasterEquation:
        """Select part of the batch with numpy indexing on the batch axes."""
        index = index if isinstance(index, tuple) else (index,)
        if Ellipsis not in index:
            index = (*index, Ellipsis)
        picked_info = {}
        for key, value in self.info.items():
            arr = np.asarray(value)
            if arr.ndim >= len(self.batch_shape) and arr.shape[: len(self.batch_shape)] == (
                self.batch_shape
            ):
                picked_info[key] = arr[index]
            else:
                picked_info[key] = value
        h = self.hamiltonian[(*index[:-1], Ellipsis, slice(None), slice(None))]
        c = self.jump_operators[(*index[:-1], Ellipsis, slice(None), slice(None), slice(None))]
        return MasterEquation(
            hamiltonian=h,
            jump_operators=c,
            dims=self.dims,
            atom_names=self.atom_names,
            jump_labels=self.jump_labels,
            frame_frequency=self.frame_frequency[index],
            info=picked_info,
        )

    def to_qutip(self, index: Any = ()) -> tuple[Any, list[Any]]:
        """Export one point of the batch as QuTiP objects.

        Parameters
        ----------
        index : tuple of int
            Position in the batch; may be omitted when the batch shape is ``()``.

        Returns
        -------
        (qutip.Qobj, list of qutip.Qobj)
            The Hamiltonian and the collapse operators, with dims ``[list(dims), list(dims)]``.
        """
        try:
            import qutip
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_qutip needs QuTiP: pip install 'giantatoms[qutip]'") from exc
        index = index if isinstance(index, tuple) else (index,)
        if len(index) != len(self.batch_shape):
            raise ValueError(
                f"index must have {len(self.batch_shape)} entries for batch shape "
                f"{self.batch_shape}, got {index!r}"
            )
        qdims = [list(self.dims), list(self.dims)]
        h = qutip.Qobj(np.array(self.hamiltonian[index]), dims=qdims)
        cs = [qutip.Qobj(np.array(c), dims=qdims) for c in self.jump_operators[index]]
        return h, cs

    @classmethod
    def from_coefficients(
        cls,
        dims: Sequence[int],
        *,
        detunings: ArrayLike,
        exchange: ArrayLike | None = None,
        decay_matrix: ArrayLike | None = None,
        drive_amplitudes: ArrayLike | None = None,
        anharmonicities: ArrayLike | None = None,
        intrinsic_decay: ArrayLike | None = None,
        thermal_occupation: ArrayLike | None = None,
        dephasing: ArrayLike | None = None,
        atom_names: Sequence[str] | None = None,
    ) -> MasterEquation:
        """Build the master equation of PHYSICS.md §3 directly from its coefficients.

        Skips the geometry: the coefficients are taken as given, in the drive frame, and the
        collective terms act on each atom's ladder operator b = |g⟩⟨e| + √2|e⟩⟨f| (for three
        levels the e→f transition therefore shares the g→e coefficients).

        Parameters
        ----------
        dims : sequence of int
            Levels of each atom (2 or 3).
        detunings : array_like, rad/s, shape (..., n)
            Δ_j = ω̃_j − ω_d, Lamb shifts included.
        exchange : array_like, rad/s, shape (..., n, n), optional
            Hermitian exchange matrix J (the diagonal is ignored).
        decay_matrix : array_like, rad/s, shape (..., n, n), optional
            Hermitian positive-semidefinite Γ matrix; it is diagonalised to obtain independent
            jump operators.
        drive_amplitudes : array_like, complex, rad/s, shape (..., n), optional
            Ω_j in the drive term Ω_j b_j† + h.c.
        anharmonicities : array_like, rad/s, shape (..., n), optional
            α_j; required when an atom has three levels.
        intrinsic_decay : array_like, rad/s, shape (..., n), optional
            γ_nr,j, non-radiative decay (1/T1 intrinsic).
        thermal_occupation : array_like, shape (..., n), optional
            n_th,j of the intrinsic bath.
        dephasing : array_like, rad/s, shape (..., n), optional
            Pure-dephasing rates γ_φ,j, entering as 𝒟[√(2γ_φ) b†b] (coherence decay γ_φ).
        atom_names : sequence of str, optional

        Returns
        -------
        MasterEquation
        """
        return build_from_coefficients(
            dims,
            detunings=detunings,
            exchange=exchange,
            decay_matrix=decay_matrix,
            drive_amplitudes=drive_amplitudes,
            anharmonicities=anharmonicities,
            intrinsic_decay=intrinsic_decay,
            thermal_occupation=thermal_occupation,
            dephasing=dephasing,
            atom_names=atom_names,
        )


@lru_cache(maxsize=64)
def _transition_operators(
    dims: tuple[int, ...], owners: tuple[int, ...], lower: tuple[int, ...]
) -> NDArray[np.complex128]:
    """σ_t of every transition in the full space, (T, d, d); cached, read-only."""
    sigma = np.stack(
        [
            embed(transition_lowering(dims[j], level), j, dims)
            for j, level in zip(owners, lower, strict=True)
        ]
    )
    sigma.setflags(write=False)
    return sigma


def _local_operators(dims: Sequence[int]) -> tuple[NDArray, NDArray]:
    """Ladder and number operators of every atom embedded in the full space, (n, d, d) each."""
    b = np.stack([embed(lowering(n), j, dims) for j, n in enumerate(dims)])
    nn = np.stack([embed(number(n), j, dims) for j, n in enumerate(dims)])
    return b, nn


def master_equation(
    device: Device,
    drive: Drive | None = None,
    *,
    frequencies: ArrayLike | None = None,
    frame_frequency: ArrayLike | None = None,
    check_delays: bool = True,
) -> MasterEquation:
    """Master equation of a device, in the frame rotating at the drive frequency.

    Implements PHYSICS.md §3–5 for any number of atoms with 2 or 3 levels each:

    * H = Σ_j [(ω_j − ω_d) n_j + (α_j/2) n_j(n_j − 1)] + Σ_{t,t'} M_{tt'} σ_t†σ_t'
      + Σ_j (Ω_j b_j† + h.c.), where t runs over every atom's g→e transition and, for three
      levels, its e→f transition σ = √2|e⟩⟨f| at frequency ω_j + α_j with its own phases;
      M = (i/4)(G† − G) holds the Lamb shifts and exchange of all transitions.
    * waveguide decay through the right- and left-going channels, c_R = Σ_t conj(w^R_t) σ_t and
      c_L = Σ_t conj(w^L_t) σ_t. Since Γ = W W† with W = [w^R, w^L], these two jumps are the
      diagonalised Γ matrix up to a unitary mixing, which leaves the dissipator unchanged; they
      are also the fields leaving the two ports.
    * intrinsic decay √(γ_nr(1+n_th)) b_j, thermal excitation √(γ_nr n_th) b_j†, and pure
      dephasing √(2γ_φ) n_j (for qubits this is (γ_φ/2)𝒟[σ_z]: coherences decay at γ_φ).

    Parameters
    ----------
    device : Device
    drive : Drive, optional
        The tone; ``None`` for an undriven device.
    frequencies : array_like, rad/s, shape (..., n_atoms), optional
        Bare atom frequencies (the model adds the Lamb shifts); default: the atoms' own.
    frame_frequency : array_like, rad/s, optional
        Rotating-frame frequency when there is no drive; default: the mean bare frequency.
    check_delays : bool
        Warn (:class:`~giantatoms.model.delays.NonMarkovianWarning`) when the propagation
        delays between coupling points change the Markovian rates by more than 1 %
        (:func:`giantatoms.delay.diagnostics`); this equation neglects them.

    Returns
    -------
    MasterEquation
        Batch shape: the broadcast of every array parameter of the device, the drive and
        ``frequencies``. ``info`` holds ``frequencies``, ``detunings`` (Δ_j = ω̃_j − ω_d),
        ``lamb_shift``, ``exchange``, ``decay_matrix`` and ``drive_amplitudes``.
    """
    terms = device_terms(device, drive, frequencies, frame_frequency)
    if check_delays:
        from giantatoms.model.delays import warn_if_non_markovian

        warn_if_non_markovian(device, frequencies, stacklevel=3)
    return assemble(**terms)


def device_terms(
    device: Device,
    drive: Drive | None = None,
    frequencies: ArrayLike | None = None,
    frame_frequency: ArrayLike | None = None,
) -> dict[str, Any]:
    """Coefficients and operator stacks of a device's master equation (internal).

    Returns the keyword arguments of :func:`assemble`; the fast
    time-dependent generators of :mod:`giantatoms.protocols` read the same dictionary, so the
    physics lives in one place. Arguments as in :func:`master_equation`.
    """
    from giantatoms.model.couplings import (
        EmitterGeometry,
        _atom_frequencies,
        _stack_emitters,
        channel_form_factors,
        coupling_matrix,
        device_origin,
        drive_amplitudes,
        split_coupling,
    )

    omega = _atom_frequencies(device, None, frequencies)
    dims = device.dims
    n = device.n_atoms
    alpha = _stack_emitters(
        [a.anharmonicity if a.anharmonicity is not None else 0.0 for a in device.atoms]
    )
    # Transitions: every g→e, then every e→f of the three-level atoms.
    owners = list(range(n)) + [j for j, a in enumerate(device.atoms) if a.levels == 3]
    lower = [0] * n + [1] * (len(owners) - n)
    geos = [EmitterGeometry.of(device.atoms[j]) for j in owners]
    t_freq = np.stack(
        [
            omega[..., j] + (alpha[..., j] if level else 0.0)
            for j, level in zip(owners, lower, strict=True)
        ],
        axis=-1,
    )
    v = device.waveguide.phase_velocity
    x0 = device_origin(device)  # the same phase origin as the drive amplitudes
    g = coupling_matrix(geos, t_freq, v, x0)
    wr, wl = channel_form_factors(geos, t_freq, v, x0)
    decay, coherent = split_coupling(g, wr, wl)
    sigma = _transition_operators(dims, tuple(owners), tuple(lower))
    if drive is not None:
        frame = np.asarray(drive.frequency, dtype=float)
        omega_drive = drive_amplitudes(device, drive)
    else:
        frame = (
            np.mean(omega, axis=-1)
            if frame_frequency is None
            else np.asarray(frame_frequency, dtype=float)
        )
        omega_drive = None
    lamb = np.real(np.diagonal(coherent, axis1=-2, axis2=-1))[..., :n]
    exchange = coherent[..., :n, :n] * (1 - np.eye(n))
    channels = np.stack([np.conj(wr), np.conj(wl)], axis=-2)
    return {
        "dims": dims,
        "atom_names": device.atom_names,
        "detunings": omega - frame[..., None],
        "anharmonicities": alpha,
        "transition_operators": sigma,
        "coherent": coherent,
        "channels": channels,
        "channel_labels": ("waveguide:right", "waveguide:left"),
        "drive_amplitudes": omega_drive,
        "intrinsic_decay": _stack_emitters([a.intrinsic_decay_rate for a in device.atoms]),
        "thermal_occupation": _stack_emitters([a.n_thermal for a in device.atoms]),
        "dephasing": _stack_emitters([a.dephasing_rate for a in device.atoms]),
        "frame_frequency": frame,
        "info": {
            "frequencies": omega,
            "detunings": omega + lamb - frame[..., None],
            "lamb_shift": lamb,
            "exchange": exchange,
            "decay_matrix": decay[..., :n, :n],
            "drive_amplitudes": omega_drive,
        },
    }


# --------------------------------------------------------------------------------------------
# Assembly of batched Hamiltonians and jump operators from coefficient arrays. Both public
# constructors (:func:`master_equation` from a device and
# :meth:`MasterEquation.from_coefficients`) end here. Everything is einsum over a leading batch
# shape against fixed operator stacks; nothing loops over parameter points.
# --------------------------------------------------------------------------------------------


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
