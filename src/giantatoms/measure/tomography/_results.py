"""The reconstructed state with its diagnostics, and the choice of the Bell state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.measure.metrics import BELL_STATES, _normalise_bell_name
from giantatoms.measure.metrics import bell_fidelity as _bell_fidelity


@dataclass(frozen=True, eq=False)
class TomographyResult:
    """A reconstructed two-qubit state with diagnostics.

    Attributes
    ----------
    rho : ndarray, complex, shape (batch…, 4, 4)
        Density matrix in the basis gg, ge, eg, ee, local phases corrected when given.
    method : str
        ``"mle"``, ``"linear"`` or ``"projected"``.
    mitigated : bool
        Whether the readout model was folded into the reconstruction.
    settings : tuple of str
    probabilities : ndarray, shape (batch…, n_settings, 4)
        Measured-outcome probabilities predicted by the fit (readout model included when
        mitigated; may be negative for ``"linear"``), before the local-phase correction.
    min_eigenvalue, trace : ndarray, shape (batch…)
        Physicality diagnostics of ``rho``.
    iterations : ndarray of int, shape (batch…)
        MLE iterations (0 for the linear methods).
    converged : ndarray of bool, shape (batch…)
        MLE stopping criterion reached (True for the linear methods).
    log_likelihood : ndarray, shape (batch…)
        Σ n log p at the estimate (multinomial constant omitted); NaN where a predicted
        probability is negative, −inf where an observed outcome has probability 0.
    residual : ndarray, shape (batch…)
        Root-mean-square difference between measured frequencies and ``probabilities``.
    gradient_norm : ndarray, shape (batch…)
        MLE optimality measure ‖ρ − Π(ρ − ∇f(ρ))‖_F of the normalised negative
        log-likelihood f (NaN for the linear methods).
    """

    rho: NDArray[np.complex128]
    method: str
    mitigated: bool
    settings: tuple[str, ...]
    probabilities: NDArray[np.float64]
    min_eigenvalue: NDArray[np.float64]
    trace: NDArray[np.float64]
    iterations: NDArray[np.intp]
    converged: NDArray[np.bool_]
    log_likelihood: NDArray[np.float64]
    residual: NDArray[np.float64]
    gradient_norm: NDArray[np.float64]

    def bell_fidelity(
        self, state: str = "closest", *, optimize_phases: bool = False
    ) -> tuple[Any, Any]:
        """Fidelity of the reconstructed state to a Bell state.

        Parameters
        ----------
        state : str
            ``"closest"`` (the Bell state of maximum fidelity among Φ±, Ψ±) or a Bell-state
            name accepted by :func:`giantatoms.measure.metrics.bell_state`.
        optimize_phases : bool
            Maximise over local Z phases (see :func:`giantatoms.measure.metrics.bell_fidelity`).
            With ``"closest"`` the family (Φ or Ψ) is chosen on the optimised fidelity and
            the sign on the plain one.

        Returns
        -------
        value : float or ndarray of shape (batch…)
            Dimensionless fidelity.
        name : str or ndarray of str of shape (batch…)
            The Bell state used (canonical name, e.g. ``"psi-"``).
        """
        values, names = _bell_values(self.rho, state, optimize_phases)
        if values.ndim == 0:
            return float(values), str(names)
        return values, names


def _bell_values(
    rho: NDArray[np.complex128], state: str, optimize_phases: bool
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    if not isinstance(state, str):
        raise ValueError(f"state must be 'closest' or a Bell-state name, got {state!r}")
    if state.strip().lower() != "closest":
        values = _bell_fidelity(rho, state, optimize_phases=optimize_phases, dims=(2, 2))
        canonical = _normalise_bell_name(state)
        return values, np.full(values.shape, canonical)
    index = _closest_index(rho, optimize_phases)
    values = _bell_by_index(rho, index, optimize_phases)
    return values, np.asarray(BELL_STATES)[index]


def _all_bell(rho: NDArray[np.complex128], optimize_phases: bool) -> NDArray[np.float64]:
    return np.stack(
        [_bell_fidelity(rho, s, optimize_phases=optimize_phases, dims=(2, 2)) for s in BELL_STATES],
        axis=-1,
    )


def _closest_index(rho: NDArray[np.complex128], optimize_phases: bool) -> NDArray[np.intp]:
    plain = _all_bell(rho, False)
    if not optimize_phases:
        return np.argmax(plain, axis=-1)
    best = _all_bell(rho, True)
    family_psi = best[..., 2] > best[..., 0]  # BELL_STATES = phi+, phi-, psi+, psi-
    first = np.where(family_psi, 2, 0)
    sign = np.where(
        np.take_along_axis(plain, first[..., None] + 1, -1)[..., 0]
        > np.take_along_axis(plain, first[..., None], -1)[..., 0],
        1,
        0,
    )
    return first + sign


def _bell_by_index(
    rho: NDArray[np.complex128], index: NDArray[np.intp], optimize_phases: bool
) -> NDArray[np.float64]:
    every = _all_bell(rho, optimize_phases)
    index = np.broadcast_to(index, every.shape[:-1])
    return np.take_along_axis(every, index[..., None], axis=-1)[..., 0]
