"""Quasi-static noise: averages of a protocol over random, slowly varying parameter errors.

Noise slower than a shot (1/f flux noise, drift of the drive source) is constant during one
run of the protocol and different from run to run. The measured state is the average of ρ
over that distribution; this module draws the errors, runs every sample as one more batch
axis of :func:`run_protocol` (a single vectorised call) and reports the mean and spread of
every metric, plus the metrics of the averaged state (what tomography reconstructs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.device import Device
from giantatoms.protocols._runner import (
    ProtocolResult,
    _batch_shape,
    _pair_metrics,
    run_protocol,
)
from giantatoms.protocols._segments import Protocol

__all__ = ["NoiseAverage", "quasi_static_average"]

#: Metrics of a :class:`ProtocolResult` that are averaged.
METRICS = ("bell_fidelity", "bell_fidelity_optimized", "concurrence", "leakage")


@dataclass(frozen=True, eq=False, repr=False)
class NoiseAverage:
    """Mean and spread of a protocol's metrics over quasi-static noise samples.

    Attributes
    ----------
    times : ndarray, s, shape (T,)
    mean, std : dict of str to ndarray, shape (batch…, T)
        Sample mean and standard deviation (ddof = 1) of ``bell_fidelity``,
        ``bell_fidelity_optimized``, ``concurrence``, ``leakage`` and of every population
        (keys ``"population:gg"``, ``"population:psi-"``, …) over the samples.
    standard_error : dict of str to ndarray, shape (batch…, T)
        std/√samples: the Monte-Carlo uncertainty of ``mean``.
    rho_mean : ndarray, complex, shape (batch…, T, d, d)
        The sample-averaged state (what a measurement averaged over many shots sees).
    averaged_state : dict of str to ndarray, shape (batch…, T)
        The same metrics for ``rho_mean``: fidelities and populations are linear in ρ (equal
        to the means up to rounding); the optimised fidelity and the concurrence are not
        (≤ the means).
    samples : int
    seed : int
        The seed that reproduces these draws (drawn from the OS when none was given).
    frequency_offsets : ndarray, rad/s, shape (samples, n_atoms)
    amplitude_scales, phase_offsets : ndarray, shape (samples,)
    result : ProtocolResult or None
        The full per-sample run (batch axes (samples, batch…)) when ``keep_samples``.
    """

    times: NDArray[np.float64]
    mean: dict[str, NDArray[np.float64]]
    std: dict[str, NDArray[np.float64]]
    standard_error: dict[str, NDArray[np.float64]]
    rho_mean: NDArray[np.complex128]
    averaged_state: dict[str, NDArray[np.float64]]
    samples: int
    seed: int
    frequency_offsets: NDArray[np.float64]
    amplitude_scales: NDArray[np.float64]
    phase_offsets: NDArray[np.float64]
    result: ProtocolResult | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        f = self.mean["bell_fidelity_optimized"][..., -1]
        s = self.std["bell_fidelity_optimized"][..., -1]
        return (
            f"NoiseAverage(samples={self.samples}, seed={self.seed}, final "
            f"F_opt = {np.mean(f):.4f} ± {np.mean(s):.4f} (mean ± std))"
        )


def _per_atom_std(value: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    arr = real_array(value, name, minimum=0)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a number or one value per atom ({n}), got {arr.shape}")
    return arr


def quasi_static_average(
    device: Device,
    protocol: Protocol,
    times: ArrayLike,
    *,
    samples: int = 100,
    seed: int | None = None,
    frequency_noise: ArrayLike = 0.0,
    frequency_correlation: float = 0.0,
    amplitude_noise: float = 0.0,
    phase_noise: float = 0.0,
    initial_state: ArrayLike | str | None = None,
    keep_samples: bool = False,
    **run_options: Any,
) -> NoiseAverage:
    """Average a protocol over Gaussian quasi-static errors.

    Every sample draws, once for the whole protocol: a frequency offset per atom (added to the
    atom's frequency in every segment), a relative drive-amplitude error and a drive-phase
    error (applied to every driven segment).

    Parameters
    ----------
    device : Device
    protocol : Protocol
    times : array_like, s, shape (T,)
    samples : int
        Number of draws (≥ 2).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives identical results. When
        omitted a seed is drawn from the OS and recorded in the result.
    frequency_noise : float or array_like, rad/s, shape (n_atoms,)
        Standard deviation of each atom's frequency offset (e.g. ∂ω/∂Φ × flux-noise rms).
    frequency_correlation : float
        Correlation coefficient in [−1, 1] between the offsets of different atoms (common flux
        noise: 1).
    amplitude_noise : float
        Standard deviation of the relative drive-amplitude error (Ω → Ω(1 + ε)).
    phase_noise : float, rad
        Standard deviation of the drive-phase error.
    initial_state : array_like or str, optional
        As in :func:`run_protocol`.
    keep_samples : bool
        Keep the per-sample :class:`ProtocolResult` in ``result``.
    **run_options
        Passed to :func:`run_protocol` (``frame``, ``rtol``, ``atol``, ``max_step``, …).

    Returns
    -------
    NoiseAverage
        Statistics with the protocol's batch shape (the sample axis reduced).
    """
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    if not isinstance(protocol, Protocol):
        raise TypeError(f"protocol must be a Protocol, got {type(protocol).__name__}")
    if not (isinstance(samples, int | np.integer) and samples >= 2):
        raise ValueError(f"samples must be an integer ≥ 2, got {samples!r}")
    if seed is not None and not (isinstance(seed, int | np.integer) and seed >= 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    n = device.n_atoms
    sigma = _per_atom_std(frequency_noise, n, "frequency_noise")
    rho_c = float(real_array(frequency_correlation, "frequency_correlation"))
    if not -1.0 <= rho_c <= 1.0:
        raise ValueError(f"frequency_correlation must be in [-1, 1], got {rho_c!r}")
    amp = float(real_array(amplitude_noise, "amplitude_noise", minimum=0))
    phase = float(real_array(phase_noise, "phase_noise", minimum=0))
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    rng = np.random.default_rng(seed)

    correlation = np.full((n, n), rho_c)
    np.fill_diagonal(correlation, 1.0)
    covariance = correlation * np.outer(sigma, sigma)
    offsets = rng.multivariate_normal(np.zeros(n), covariance, size=samples, method="eigh")
    scales = 1.0 + amp * rng.standard_normal(samples)
    phases = phase * rng.standard_normal(samples)

    batch = _batch_shape(device, protocol)
    extra = (1,) * len(batch)
    perturbed = protocol.perturbed(
        frequency_offset=offsets.reshape(samples, *extra, n),
        amplitude_scale=scales.reshape(samples, *extra),
        phase_offset=phases.reshape(samples, *extra),
    )
    result = run_protocol(device, perturbed, times, initial_state, **run_options)

    values: dict[str, NDArray[np.float64]] = {name: getattr(result, name) for name in METRICS}
    for key, pop in result.populations.items():
        values[f"population:{key}"] = pop
    mean = {k: v.mean(axis=0) for k, v in values.items()}
    std = {k: v.std(axis=0, ddof=1) for k, v in values.items()}
    sem = {k: v / np.sqrt(samples) for k, v in std.items()}
    rho_mean = result.rho.mean(axis=0)
    averaged = _pair_metrics(rho_mean, result.dims, perturbed)
    averaged.update(
        {f"population:{key}": value for key, value in averaged.pop("populations").items()}
    )
    return NoiseAverage(
        times=result.times,
        mean=mean,
        std=std,
        standard_error=sem,
        rho_mean=rho_mean,
        averaged_state=averaged,
        samples=int(samples),
        seed=int(seed),
        frequency_offsets=offsets,
        amplitude_scales=scales,
        phase_offsets=phases,
        result=result if keep_samples else None,
        info={
            "frequency_noise": sigma,
            "frequency_correlation": rho_c,
            "amplitude_noise": amp,
            "phase_noise": phase,
            "steps": result.steps,
            "max_error_estimate": float(np.max(result.error_estimate, initial=0.0)),
        },
    )
