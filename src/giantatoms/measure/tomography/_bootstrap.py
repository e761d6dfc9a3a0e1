"""Bell-state fidelity with a parametric-bootstrap error bar."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.measure.metrics import BELL_STATES, _normalise_bell_name
from giantatoms.measure.tomography._data import TomographyData
from giantatoms.measure.tomography._probabilities import _check_phases
from giantatoms.measure.tomography._reconstruction import reconstruct
from giantatoms.measure.tomography._results import (
    TomographyResult,
    _bell_by_index,
    _closest_index,
)
from giantatoms.measure.tomography._simulation import _resolve_seed


@dataclass(frozen=True, eq=False)
class BellEstimate:
    """Bell-state fidelity with a parametric-bootstrap uncertainty.

    Attributes
    ----------
    value : float or ndarray of shape (batch…)
        Fidelity of the state reconstructed from the data.
    std : float or ndarray of shape (batch…)
        Standard deviation of the bootstrap fidelities (NaN without bootstrap).
    interval : tuple of float or ndarray of shape (batch…, 2)
        Percentile interval of the bootstrap fidelities at ``confidence``.
    samples : ndarray, shape (batch…, bootstrap)
        Bootstrap fidelities (to the fixed ``state``).
    state : str or ndarray of str of shape (batch…)
        The Bell state, chosen on the data and kept for the samples.
    confidence : float
    seed : int
        Seed of the bootstrap generator (drawn from the OS when not given).
    result : TomographyResult
        The reconstruction of the data.
    """

    value: Any
    std: Any
    interval: Any
    samples: NDArray[np.float64]
    state: Any
    confidence: float
    seed: int
    result: TomographyResult

    def format(self, decimals: int | None = None) -> str:
        """Text like ``"0.89 ± 0.02"`` (unbatched estimates only).

        Parameters
        ----------
        decimals : int, optional
            Decimal places; by default the uncertainty is shown with one significant digit
            (two when it starts with 1) and the value to the same place.

        Returns
        -------
        str
        """
        if np.ndim(self.value) != 0:
            raise ValueError("format needs an unbatched estimate; index the batch first")
        value, std = float(self.value), float(self.std)
        if decimals is None:
            if not np.isfinite(std) or std <= 0:
                decimals = 4
            else:
                exponent = math.floor(math.log10(std))
                leading = std / 10.0**exponent
                decimals = max(0, -exponent + (1 if leading < 2 else 0))
        if not np.isfinite(std):
            return f"{value:.{decimals}f}"
        return f"{value:.{decimals}f} ± {std:.{decimals}f}"


def bell_fidelity_with_errors(
    data: TomographyData,
    *,
    state: str = "closest",
    method: str = "mle",
    mitigate: bool = True,
    bootstrap: int = 200,
    seed: int | None = None,
    confidence: float = 0.68,
    optimize_phases: bool = False,
    local_phases: ArrayLike | None = None,
) -> BellEstimate:
    """Bell-state fidelity of tomography data with a parametric-bootstrap error bar.

    The state is reconstructed from ``data``; then ``bootstrap`` new count sets are drawn
    from the fitted measured-outcome probabilities (multinomial, the same shots per setting,
    negative linear-inversion probabilities clipped to 0) and all of them are reconstructed
    in one batched call with the same method, mitigation and phase correction. The Bell state
    is chosen on the data and kept fixed for the samples.

    Parameters
    ----------
    data : TomographyData
        Integer counts, shape (batch…, n_settings, 4) (a batch gives one estimate each).
    state : str
        ``"closest"`` or a Bell-state name (see :meth:`TomographyResult.bell_fidelity`).
    method : {"mle", "linear", "projected"}
        Reconstruction method (see :func:`reconstruct`).
    mitigate : bool
        Fold the readout model into the reconstruction.
    bootstrap : int, ≥ 0
        Number of bootstrap samples (0: no error bar).
    seed : int, optional
        Bootstrap seed; drawn from the OS and recorded when ``None``.
    confidence : float, in (0, 1)
        Coverage of the percentile interval (0.68 ≈ one standard deviation).
    optimize_phases : bool
        Maximise the fidelity over local Z phases (each sample on its own).
    local_phases : array_like, rad, shape (batch…, 2), optional
        Software Z correction (see :func:`reconstruct`).

    Returns
    -------
    BellEstimate
    """
    if not isinstance(data, TomographyData):
        raise TypeError(f"data must be a TomographyData, got {type(data).__name__}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a non-negative int, got {bootstrap!r}")
    level = float(real_array(confidence, "confidence", minimum=0, strict_minimum=True))
    if level >= 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if bootstrap > 0 and data.expected:
        raise ValueError(
            "data holds expected counts (shots=None); the bootstrap needs sampled integer "
            "counts (or pass bootstrap=0)"
        )
    used_seed = _resolve_seed(seed)
    phases = _check_phases(local_phases)
    result = reconstruct(data, method=method, mitigate=mitigate, local_phases=phases)
    index = (
        _closest_index(result.rho, optimize_phases)
        if isinstance(state, str) and state.strip().lower() == "closest"
        else np.full(data.batch_shape, BELL_STATES.index(_normalise_bell_name(state)))
    )
    value = _bell_by_index(result.rho, index, optimize_phases)
    names = np.asarray(BELL_STATES)[index]
    batch = data.batch_shape
    if bootstrap > 0:
        probs = np.clip(result.probabilities, 0.0, None)
        probs = probs / probs.sum(axis=-1, keepdims=True)
        rng = np.random.default_rng(used_seed)
        shots = np.asarray(data.shots)
        drawn = rng.multinomial(shots, probs, size=(int(bootstrap), *shots.shape))
        drawn = np.moveaxis(drawn, 0, len(batch))  # (batch…, bootstrap, S, 4)
        resampled = TomographyData(data.settings, drawn, readout=data.readout, seed=used_seed)
        boot_phases = None if phases is None else phases[..., None, :]
        boot = reconstruct(resampled, method=method, mitigate=mitigate, local_phases=boot_phases)
        samples = _bell_by_index(boot.rho, index[..., None], optimize_phases)
        std = np.std(samples, axis=-1, ddof=1) if bootstrap > 1 else np.full(batch, np.nan)
        tail = (1 - level) / 2
        interval = np.moveaxis(np.quantile(samples, [tail, 1 - tail], axis=-1), 0, -1)
    else:
        samples = np.zeros((*batch, 0))
        std = np.full(batch, np.nan)
        interval = np.full((*batch, 2), np.nan)
    if not batch:
        return BellEstimate(
            value=float(value),
            std=float(std),
            interval=(float(interval[0]), float(interval[1])),
            samples=samples,
            state=str(names),
            confidence=level,
            seed=used_seed,
            result=result,
        )
    return BellEstimate(
        value=value,
        std=std,
        interval=interval,
        samples=samples,
        state=names,
        confidence=level,
        seed=used_seed,
        result=result,
    )
