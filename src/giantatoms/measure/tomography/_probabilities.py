"""POVM elements of each setting, the local-phase rotation and exact outcome probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.measure.metrics import _pair_dims, _two_atom
from giantatoms.measure.tomography._readout import ReadoutModel
from giantatoms.measure.tomography._settings import _GATES, _gate_names, _resolve_settings


def _embed(gate: NDArray[np.complex128], levels: int) -> NDArray[np.complex128]:
    """Pre-rotation on g–e only; higher levels untouched."""
    out = np.eye(levels, dtype=complex)
    out[:2, :2] = gate
    return out


def measurement_operators(
    settings: str | Sequence[str] = "pauli",
    *,
    readout: ReadoutModel | None = None,
    dims: Sequence[int] = (2, 2),
) -> NDArray[np.complex128]:
    """POVM elements of the measured outcomes of each setting.

    E[s, m] = Σ_o A[m, o] · R_s† Λ†(P_o) R_s, with R_s the setting's pre-rotation (g–e only),
    Λ the readout relaxation channel and P_o the projector on the ideal outcome o (g versus
    "not g" on each atom, so f reads as e).

    Parameters
    ----------
    settings : {"pauli", "cardinal"} or sequence of str
        Measurement settings (see the module docstring).
    readout : ReadoutModel, optional
        Assignment errors and relaxation; ``None`` is ideal readout.
    dims : pair of int, ≥ 2
        Levels of the two measured atoms (2 for qubits, 3 for transmons with f).

    Returns
    -------
    ndarray, complex, shape (n_settings, 4, d, d)
        d = dims[0]·dims[1]; outcomes in the order gg, ge, eg, ee. Σ_m E[s, m] = 1 for every
        setting.
    """
    names = _resolve_settings(settings)
    if readout is not None and not isinstance(readout, ReadoutModel):
        raise TypeError(f"readout must be a ReadoutModel or None, got {type(readout).__name__}")
    levels = _pair_dims(dims)
    model = readout if readout is not None else ReadoutModel.ideal()
    decay = model.relaxation_probability
    single = []
    for j, n_levels in enumerate(levels):
        gates = np.array([_embed(_GATES[_gate_names(s)[j]], n_levels) for s in names])
        read_g = decay[j] ** np.arange(n_levels)  # P(level k ends in g), k = 0, 1, 2, ...
        weights = np.stack([read_g, 1 - read_g])  # (2 outcomes, levels)
        # U† diag(w) U for every setting and outcome: (S, 2, L, L)
        single.append(np.einsum("sji,oj,sjk->soik", gates.conj(), weights, gates))
    joint = np.einsum("saik,sbjl->sabijkl", single[0], single[1])
    d = levels[0] * levels[1]
    joint = joint.reshape(len(names), 4, d, d)
    return np.einsum("mo,soij->smij", model.assignment, joint)


def _phase_rotate(
    rho: NDArray[np.complex128], phases: NDArray[np.float64], levels: tuple[int, int], sign: int
) -> NDArray[np.complex128]:
    """ρ → U ρ U† with U = exp(−i·sign·Σ_j φ_j n_j) (n_j = diag(0, 1, 2, …))."""
    theta = (
        phases[..., 0, None, None] * np.arange(levels[0])[:, None]
        + phases[..., 1, None, None] * np.arange(levels[1])[None, :]
    ).reshape(*phases.shape[:-1], -1)
    u = np.exp(-1j * sign * theta)
    return u[..., :, None] * rho * u[..., None, :].conj()


def _check_phases(local_phases: ArrayLike | None, name: str = "local_phases") -> Any:
    if local_phases is None:
        return None
    arr = real_array(local_phases, name)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (batch…, 2) (rad, one per atom), got {arr.shape}")
    return arr


def outcome_probabilities(
    rho: ArrayLike,
    settings: str | Sequence[str] = "pauli",
    *,
    readout: ReadoutModel | None = None,
    local_phases: ArrayLike | None = None,
    pair: Sequence[int] = (0, 1),
    dims: Sequence[int] | None = None,
) -> NDArray[np.float64]:
    """Exact measured-outcome probabilities of a (batch of) state(s).

    Parameters
    ----------
    rho : array_like, complex, shape (batch…, d, d)
        Density matrices of two or more atoms (a QuTiP operator is accepted); the state of
        ``pair`` is taken with :func:`giantatoms.measure.metrics.partial_trace`.
    settings : {"pauli", "cardinal"} or sequence of str
        Measurement settings.
    readout : ReadoutModel, optional
        Readout errors and relaxation (``None``: ideal).
    local_phases : array_like, rad, shape (batch…, 2), optional
        Z phases φ_j acquired by the pair's atoms relative to the reporting frame (the
        convention of ``ProtocolResult.local_phases``), applied as ρ → U ρ U†,
        U = exp(+i Σ_j φ_j n_j), before the pre-rotations (n_j = b_j†b_j; the f phase cannot
        affect the counts).
    pair : pair of int
        The measured atoms (the first is the most significant outcome letter).
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).

    Returns
    -------
    ndarray, float, shape (batch…, n_settings, 4)
        Probabilities of gg, ge, eg, ee for each setting (non-negative, each row sums to 1).
    """
    names = _resolve_settings(settings)
    rho2, levels = _two_atom(rho, dims, pair)
    trace = np.trace(rho2, axis1=-2, axis2=-1).real
    if not np.all(np.abs(trace - 1) <= 1e-6):
        raise ValueError(
            f"rho must be normalised density matrices (trace 1 within 1e-6), got trace "
            f"{np.ravel(trace)[np.argmax(np.ravel(np.abs(trace - 1)))]:.6g}"
        )
    phases = _check_phases(local_phases)
    if phases is not None:
        rho2 = _phase_rotate(rho2, phases, levels, -1)
    ops = measurement_operators(names, readout=readout, dims=levels)
    probs = np.einsum("smij,...ji->...sm", ops, rho2).real
    probs = np.clip(probs, 0.0, None)  # round-off (and slightly unphysical inputs)
    return probs / probs.sum(axis=-1, keepdims=True)
