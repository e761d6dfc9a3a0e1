"""State reconstruction from counts: linear inversion, projection or maximum likelihood."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from giantatoms._validation import choice, real_array
from giantatoms.measure.tomography._data import TomographyData
from giantatoms.measure.tomography._estimators import _design, _linear, _mle, _project, _to_matrix
from giantatoms.measure.tomography._probabilities import _check_phases, _phase_rotate
from giantatoms.measure.tomography._results import TomographyResult

_METHODS = ("mle", "linear", "projected")


def _reconstruct_raw(
    data: TomographyData,
    method: str,
    mitigate: bool,
    max_iterations: int,
    tol: float,
) -> dict[str, Any]:
    """Reconstruct without the local-phase correction; flat batch internally."""
    design = _design(data.settings, data.readout if mitigate else None)
    n_settings = len(data.settings)
    counts = np.asarray(data.counts, dtype=float).reshape(-1, n_settings * 4)
    impossible = np.max(np.abs(design), axis=-1) == 0
    if np.any(counts[:, impossible] > 0):
        raise ValueError(
            "data: counts in an outcome the readout model declares impossible; check "
            "data.readout or use mitigate=False"
        )
    shots = counts.reshape(-1, n_settings, 4).sum(axis=-1)
    freqs = (counts.reshape(-1, n_settings, 4) / shots[..., None]).reshape(counts.shape)
    x = _linear(design, freqs)
    n = x.shape[0]
    iterations = np.zeros(n, dtype=np.intp)
    converged = np.ones(n, dtype=bool)
    grad_norm = np.full(n, np.nan)
    if method in ("projected", "mle"):
        x = _project(x)
    if method == "mle":
        # Start strictly inside (every outcome possible), then climb the likelihood.
        x0 = 0.99 * x
        x0[:, 0] += 0.01 * 0.5
        weights = counts / counts.sum(axis=-1, keepdims=True)
        x, iterations, converged, grad_norm = _mle(design, weights, x0, max_iterations, tol)
    p = x @ design.T
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(np.where(p > 0, p, np.nan)), 0.0)
    loglik = np.sum(terms, axis=-1)
    loglik = np.where(np.any((counts > 0) & (p == 0), axis=-1), -np.inf, loglik)
    residual = np.sqrt(np.mean((freqs - p) ** 2, axis=-1))
    return {
        "x": x,
        "probabilities": p.reshape(-1, n_settings, 4),
        "iterations": iterations,
        "converged": converged,
        "log_likelihood": loglik,
        "residual": residual,
        "gradient_norm": grad_norm,
    }


def reconstruct(
    data: TomographyData,
    *,
    method: str = "mle",
    mitigate: bool = True,
    local_phases: ArrayLike | None = None,
    max_iterations: int = 3000,
    tol: float = 1e-9,
) -> TomographyResult:
    """Reconstruct the two-qubit state from tomography counts (batched).

    Parameters
    ----------
    data : TomographyData
        Counts of shape (batch…, n_settings, 4).
    method : {"mle", "linear", "projected"}
        ``"linear"``: least-squares inversion of the (possibly over-complete) settings with
        trace fixed to 1 (may be unphysical). ``"projected"``: the linear estimate moved to
        the closest physical state (eigenvalues projected on the simplex; Smolin, Gambetta &
        Smith 2012). ``"mle"``: maximum likelihood under the multinomial model, always a
        density matrix; accelerated projected gradient with restart and backtracking,
        started from the projected estimate.
    mitigate : bool
        Fold ``data.readout`` (assignment matrix and relaxation) into the model: predicted
        probabilities p_meas = A · p_true. For ``"linear"`` this is the least-squares
        inversion of the full model, which equals inverting A on the frequencies for a
        complete set. False ignores readout errors (ideal projective model).
    local_phases : array_like, rad, shape (batch…, 2), optional
        The Z phases applied in :func:`simulate_counts` (convention of
        ``ProtocolResult.local_phases``); the estimate is corrected as ρ → U† ρ U,
        U = exp(+i Σ_j φ_j n_j) (the lab's software Z correction).
    max_iterations : int, ≥ 1
        MLE iteration limit.
    tol : float, > 0
        MLE stopping threshold on ‖ρ − Π(ρ − ∇f(ρ))‖_F, f the negative log-likelihood per
        shot (the error in ρ is of this order).

    Returns
    -------
    TomographyResult
    """
    if not isinstance(data, TomographyData):
        raise TypeError(f"data must be a TomographyData, got {type(data).__name__}")
    how = choice(method, "method", _METHODS)
    if not isinstance(mitigate, bool):
        raise TypeError(f"mitigate must be a bool, got {mitigate!r}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int | np.integer):
        raise TypeError(f"max_iterations must be an int, got {max_iterations!r}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be ≥ 1, got {max_iterations}")
    tol_value = float(real_array(tol, "tol", minimum=0, strict_minimum=True))
    phases = _check_phases(local_phases)
    batch = data.batch_shape
    if phases is not None:
        try:
            np.broadcast_shapes(phases.shape[:-1], batch)
        except ValueError as exc:
            raise ValueError(
                f"local_phases batch shape {phases.shape[:-1]} does not broadcast with the "
                f"data batch shape {batch}"
            ) from exc
    raw = _reconstruct_raw(data, how, mitigate, int(max_iterations), tol_value)
    rho = _to_matrix(raw["x"]).reshape(*batch, 4, 4)
    rho = 0.5 * (rho + np.conj(np.swapaxes(rho, -1, -2)))
    if phases is not None:
        rho = _phase_rotate(rho, phases, (2, 2), +1)
    eigs = np.linalg.eigvalsh(rho)
    return TomographyResult(
        rho=rho,
        method=how,
        mitigated=mitigate,
        settings=data.settings,
        probabilities=raw["probabilities"].reshape(*batch, len(data.settings), 4),
        min_eigenvalue=eigs[..., 0],
        trace=np.trace(rho, axis1=-2, axis2=-1).real,
        iterations=raw["iterations"].reshape(batch),
        converged=raw["converged"].reshape(batch),
        log_likelihood=raw["log_likelihood"].reshape(batch),
        residual=raw["residual"].reshape(batch),
        gradient_norm=raw["gradient_norm"].reshape(batch),
    )
