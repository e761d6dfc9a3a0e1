"""Simulated tomography: multinomial counts drawn from a state, with recorded seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from giantatoms.measure.tomography._data import TomographyData
from giantatoms.measure.tomography._probabilities import outcome_probabilities
from giantatoms.measure.tomography._readout import ReadoutModel
from giantatoms.measure.tomography._settings import _resolve_settings


def _resolve_seed(seed: int | None, name: str = "seed") -> int:
    if seed is None:  # drawn from the OS and recorded; < 2**63 so it fits any int64 store
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name} must be a non-negative int or None, got {seed!r}")
    return int(seed)


def simulate_counts(
    rho: ArrayLike,
    *,
    settings: str | Sequence[str] = "pauli",
    shots: int | ArrayLike | None = 2000,
    readout: ReadoutModel | None = None,
    seed: int | None = None,
    local_phases: ArrayLike | None = None,
    pair: Sequence[int] = (0, 1),
    dims: Sequence[int] | None = None,
) -> TomographyData:
    """Sample tomography counts of a (batch of) state(s).

    Parameters
    ----------
    rho : array_like, complex, shape (batch…, d, d)
        Density matrices of two or more atoms with 2 or 3 levels each (see
        :func:`outcome_probabilities`); QuTiP operators are accepted.
    settings : {"pauli", "cardinal"} or sequence of str
        Measurement settings.
    shots : int or array_like of int, ≥ 1, broadcastable to (batch…, n_settings), or None
        Shots per setting. ``None`` returns the exact probabilities as expected "counts"
        (floats, ``expected=True``) for noiseless tests.
    readout : ReadoutModel, optional
        Readout errors and relaxation (``None``: ideal); recorded in the data.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; when ``None`` one is drawn from the OS and
        recorded in ``TomographyData.seed`` so the draw can be repeated.
    local_phases : array_like, rad, shape (batch…, 2), optional
        Local Z phases φ_j of the pair relative to ``rho``'s frame (e.g.
        ``ProtocolResult.local_phases[..., pair]`` with ``rho`` from ``frame="drive"``): the
        measured state is U ρ U†, U = exp(+i Σ_j φ_j n_j), the state in the atoms' own frames.
        ``reconstruct(..., local_phases=φ)`` undoes them.
    pair : pair of int
        The measured atoms.
    dims : sequence of int, optional
        Levels of each atom (inferred for d = 4 or 9).

    Returns
    -------
    TomographyData
        Counts of shape (batch…, n_settings, 4); each batch element is an independent draw.
    """
    names = _resolve_settings(settings)
    if shots is not None:
        shots_arr = np.asarray(shots)
        if shots_arr.dtype == bool or not np.issubdtype(shots_arr.dtype, np.integer):
            raise TypeError(f"shots must be an int (or ints) or None, got {shots!r}")
        if np.any(shots_arr < 1):
            raise ValueError(f"shots must be ≥ 1, got {shots!r}")
    used_seed = None if shots is None else _resolve_seed(seed)
    probs = outcome_probabilities(
        rho, names, readout=readout, local_phases=local_phases, pair=pair, dims=dims
    )
    if shots is None:
        return TomographyData(names, probs, readout=readout, seed=None, expected=True)
    rng = np.random.default_rng(used_seed)
    n = np.broadcast_to(shots_arr, probs.shape[:-1])
    counts = rng.multinomial(n, probs)
    return TomographyData(names, counts, readout=readout, seed=used_seed)
