"""Set-up of an experiment and quasi-static frequency noise.

Validation, the noise samples (Gauss–Hermite nodes, stratified or random draws), the batched
master equation over (samples, batch…) and the weighted average over the samples, in chunks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from giantatoms._validation import choice, real_array
from giantatoms.measure.coherence._times import (
    CoherenceTimes,
    _check_device_atom,
    _check_frequencies,
    coherence_times,
)
from giantatoms.model.device import Device
from giantatoms.model.lindblad import MasterEquation, master_equation

#: Default number of quasi-static noise samples (Gauss–Hermite nodes by default: enough for
#: σ·t_max up to ≈ 7).
DEFAULT_SAMPLES = 64
#: Largest accepted bound on the Gauss–Hermite error of the Gaussian average of e^{iδt}.
QUADRATURE_TOLERANCE = 1e-10
#: Complex numbers of density matrices held at once while averaging over noise samples.
_SAMPLE_CHUNK_ELEMENTS = 4_000_000
_NOISE_SAMPLING = ("quadrature", "stratified", "random")
# Keeps stratified draws finite (|z| ≤ 8.3).
_TINY = 1e-16


@dataclass(frozen=True)
class _Setup:
    """Master equation (samples, batch…) and bookkeeping of one experiment."""

    index: int
    me: MasterEquation
    batch: tuple[int, ...]
    frequencies: NDArray[np.float64]
    expected: CoherenceTimes
    sigma: NDArray[np.float64]
    offsets: NDArray[np.float64]
    weights: NDArray[np.float64]
    seed: int | None


def _quadrature_nodes_needed(spread: float) -> int:
    """Fewest Gauss–Hermite nodes n with a^{2n} n!/(2n)! ≤ QUADRATURE_TOLERANCE, a = σ·t_max.

    That is the remainder bound of n-node Gauss–Hermite quadrature (probabilists' weight) for
    the Gaussian average of e^{iaz}, z ~ N(0, 1).
    """
    if spread <= 0:
        return 1
    target = math.log(QUADRATURE_TOLERANCE)
    n = 1
    while 2 * n * math.log(spread) + math.lgamma(n + 1) - math.lgamma(2 * n + 1) > target:
        n += 1
    return n


def _setup(
    device: Device,
    atom: str | int,
    frequencies: ArrayLike | None,
    times: NDArray[np.float64],
    frequency_noise: ArrayLike = 0.0,
    samples: int | None = None,
    seed: int | None = None,
    noise_sampling: str = "quadrature",
) -> _Setup:
    """Validate, draw the noise samples and build the master equation (samples, batch…).

    ``samples=None`` means an experiment without noise (the sample axis has length 1).
    """
    j = _check_device_atom(device, atom)
    freq = _check_frequencies(device, frequencies)
    sigma_in = real_array(frequency_noise, "frequency_noise", minimum=0)
    if samples is not None:
        if not isinstance(samples, int | np.integer) or isinstance(samples, bool):
            raise TypeError(f"samples must be an integer, got {samples!r}")
        if samples < 2:
            raise ValueError(f"samples must be ≥ 2, got {samples!r}")
    if seed is not None and not (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0
    ):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    sampling = choice(noise_sampling, "noise_sampling", _NOISE_SAMPLING)

    expected = coherence_times(device, j, frequencies=freq)
    nominal = master_equation(device, None, frequencies=freq)
    batch = nominal.batch_shape
    try:
        sigma = np.broadcast_to(sigma_in, batch)
    except ValueError:
        raise ValueError(
            f"frequency_noise of shape {sigma_in.shape} does not broadcast against the batch "
            f"shape {batch} of the device and frequencies"
        ) from None
    freq_b = np.broadcast_to(nominal.info["frequencies"], (*batch, device.n_atoms))
    frame = freq_b[..., j] + np.broadcast_to(nominal.info["lamb_shift"][..., j], batch)

    if not np.any(sigma > 0):
        offsets, weights, seed = np.zeros((1, *batch)), np.ones(1), None
    elif sampling == "quadrature":
        spread = float(np.max(sigma)) * float(times[-1])
        needed = _quadrature_nodes_needed(spread)
        if samples < needed:
            raise ValueError(
                f"samples = {samples} Gauss–Hermite nodes are too few for frequency_noise·t_max "
                f"= {spread:.3g} rad; use samples ≥ {needed} (error bound "
                f"{QUADRATURE_TOLERANCE:g}) or a shorter time window"
            )
        nodes, w = np.polynomial.hermite_e.hermegauss(int(samples))
        offsets = nodes.reshape(-1, *([1] * len(batch))) * sigma
        weights, seed = w / w.sum(), None
    else:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        rng = np.random.default_rng(seed)
        n = int(samples)
        if sampling == "random":
            z = rng.standard_normal(n)
        else:
            # One draw in each of n equiprobable strata of the normal distribution.
            u = (np.arange(n) + rng.random(n)) / n
            z = special.ndtri(np.clip(u, _TINY, 1.0 - _TINY))
        offsets = z.reshape(-1, *([1] * len(batch))) * sigma
        weights = np.full(n, 1.0 / n)
    offsets = np.broadcast_to(offsets, (offsets.shape[0], *batch))
    shifted = freq_b + offsets[..., None] * (np.arange(device.n_atoms) == j)
    if np.any(shifted[..., j] <= 0):
        raise ValueError(
            "frequency_noise is so large that a sampled frequency is ≤ 0; it must be ≪ the "
            "atom's frequency"
        )
    me = master_equation(device, None, frequencies=shifted, frame_frequency=frame)
    return _Setup(j, me, batch, freq_b, expected, sigma, offsets, weights, seed)


def _sample_average(
    setup: _Setup,
    n_times: int,
    compute: Callable[[MasterEquation], dict[str, NDArray]],
) -> dict[str, NDArray]:
    """Weighted average over the sample axis of ``compute(me[chunk])`` (arrays (s, batch…, T)).

    Samples run in chunks so that the density matrices of one chunk stay below
    ``_SAMPLE_CHUNK_ELEMENTS`` complex numbers.
    """
    n_samples = setup.weights.size
    per_sample = max(1, int(np.prod(setup.batch, dtype=int)) * n_times * setup.me.dimension**2)
    chunk = max(1, _SAMPLE_CHUNK_ELEMENTS // per_sample)
    total: dict[str, NDArray] = {}
    for start in range(0, n_samples, chunk):
        part = slice(start, min(start + chunk, n_samples))
        values = compute(setup.me[part])
        w = setup.weights[part]
        for key, value in values.items():
            contribution = np.tensordot(w, value, axes=(0, 0))
            total[key] = contribution if key not in total else total[key] + contribution
    return total
