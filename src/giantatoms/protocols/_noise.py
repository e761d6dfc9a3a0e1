"""Quasi-static noise: averages of a protocol over random, slowly varying parameter errors.

Noise slower than a shot (1/f flux noise, drift of the drive source) is constant during one
run of the protocol and different from run to run. What a measurement sees is the
**shot-averaged** state ρ̄ = mean_s ρ_s, reconstructed in a frame fixed by the *calibrated
(nominal)* qubit frequencies, with *one* set of local Z phases optimised on ρ̄: nobody knows
a shot's random offset. This module draws the errors, runs every sample as one more batch
axis of :func:`run_protocol` (a single vectorised call) and reports the metrics of ρ̄ with
jackknife standard errors over the samples (:func:`shot_average`). Per-shot statistics (each
shot analysed as if its own phase were known: an upper bound on what can be measured) are
kept under their own names, never as the default figures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.model.device import Device
from giantatoms.protocols._runner import (
    FRAMES,
    ProtocolResult,
    _batch_shape,
    _excitations,
    _pair_metrics,
    run_protocol,
)
from giantatoms.protocols._segments import Protocol

__all__ = ["NoiseAverage", "quasi_static_average", "shot_average"]

#: Metrics of a :class:`ProtocolResult` that are averaged.
METRICS = ("bell_fidelity", "bell_fidelity_optimized", "concurrence", "leakage")


def _flatten_metrics(metrics: dict[str, Any]) -> dict[str, NDArray[np.float64]]:
    """``_pair_metrics`` output with the populations as ``"population:<key>"`` entries."""
    out = {name: np.asarray(metrics[name]) for name in METRICS}
    out.update({f"population:{k}": np.asarray(v) for k, v in metrics["populations"].items()})
    return out


def shot_average(
    rho: ArrayLike,
    dims: tuple[int, ...],
    protocol: Protocol,
    *,
    axis: int = 0,
) -> tuple[NDArray[np.complex128], dict[str, NDArray[np.float64]], dict[str, NDArray]]:
    """Metrics of the shot-averaged state, with jackknife standard errors over the shots.

    This is what an experiment that averages many shots (tomography) measures: every metric
    is evaluated on ρ̄ = mean_s ρ_s, so a phase-optimised fidelity uses *one* set of local Z
    phases for all shots, and random per-shot phases reduce the coherences of ρ̄. The
    standard error of each metric is the leave-one-out jackknife over the samples
    (√((S−1)/S · Σ_s (f(ρ̄₋ₛ) − mean f(ρ̄₋ₛ))²)); for metrics linear in ρ (fidelity in a
    fixed frame, populations, leakage) it equals std(ddof = 1)/√S exactly.

    Parameters
    ----------
    rho : array_like, complex, shape (…, d, d) with the samples along ``axis``
        Per-shot states, all in the same deterministic (nominal) frame.
    dims : tuple of int
        Levels of each atom (``d = prod(dims)``).
    protocol : Protocol
        Supplies the pair and the target Bell state of the metrics.
    axis : int
        The sample axis of ``rho`` (among its batch axes; at least 2 samples).

    Returns
    -------
    rho_mean : ndarray, complex, shape (…, d, d)
        ρ̄ (the sample axis removed).
    values : dict of str to ndarray
        ``bell_fidelity``, ``bell_fidelity_optimized``, ``concurrence``, ``leakage`` and
        ``"population:<key>"`` of ρ̄, shape of ``rho_mean`` without (d, d).
    standard_error : dict of str to ndarray
        Jackknife standard errors of ``values``, same keys and shapes.
    """
    states = np.asarray(rho, dtype=complex)
    if states.ndim < 3:
        raise ValueError(f"rho must have shape (samples, …, d, d), got {states.shape}")
    states = np.moveaxis(states, axis % (states.ndim - 2), 0)
    samples = states.shape[0]
    if samples < 2:
        raise ValueError(f"shot_average needs at least 2 samples along axis {axis}, got 1")
    total = states.sum(axis=0)
    rho_mean = total / samples
    values = _flatten_metrics(_pair_metrics(rho_mean, dims, protocol))
    leave_one_out = (total[None] - states) / (samples - 1)  # identical shots: identical bits
    jack = _flatten_metrics(_pair_metrics(leave_one_out, dims, protocol))
    errors = {
        k: np.sqrt((samples - 1) / samples * np.sum((v - v.mean(axis=0)) ** 2, axis=0))
        for k, v in jack.items()
    }
    return rho_mean, values, errors


@dataclass(frozen=True, eq=False, repr=False)
class NoiseAverage:
    """A protocol under quasi-static noise: the shot-averaged state and its metrics.

    The default figures (``averaged_state`` and ``standard_error``) are what a measurement
    averaged over many shots sees: the metrics of the shot-averaged state ρ̄ in the reporting
    frame, which for ``frame="atoms"`` rotates with the *nominal* (calibrated) dressed
    frequencies, so no shot's random phase is undone. Phase-optimised metrics use one set
    of local Z phases for ρ̄ and do not depend on the frame.

    Attributes
    ----------
    times : ndarray, s, shape (T,)
    rho_mean : ndarray, complex, shape (batch…, T, d, d)
        The shot-averaged state ρ̄ in the reporting frame.
    averaged_state : dict of str to ndarray, shape (batch…, T)
        Metrics of ρ̄: ``bell_fidelity`` (reporting frame), ``bell_fidelity_optimized``,
        ``concurrence``, ``leakage`` and every population (keys ``"population:gg"``,
        ``"population:psi-"``, …).
    standard_error : dict of str to ndarray, shape (batch…, T)
        Jackknife Monte-Carlo uncertainty of ``averaged_state`` over the samples
        (:func:`shot_average`).
    per_shot_mean, per_shot_std : dict of str to ndarray, shape (batch…, T)
        Mean and standard deviation (ddof = 1) over the samples of each *shot's* metrics, as
        if every shot were analysed on its own with its phase known. For linear metrics the
        mean equals ``averaged_state``; ``bell_fidelity_optimized`` and ``concurrence``
        per shot are upper bounds that no shot-averaged measurement reaches.
    samples : int
    seed : int
        The seed that reproduces these draws (drawn from the OS when none was given).
    frequency_offsets : ndarray, rad/s, shape (samples, n_atoms)
    amplitude_scales, phase_offsets : ndarray, shape (samples,)
    frame : str
        Reporting frame (``"drive"``, ``"atoms"`` — nominal frequencies — or ``"fixed"``).
    result : ProtocolResult or None
        The full per-sample run (batch axes (samples, batch…)) in the reporting frame, when
        ``keep_samples``. Its ``local_phases`` are each shot's true phases (offsets included).
    """

    times: NDArray[np.float64]
    rho_mean: NDArray[np.complex128]
    averaged_state: dict[str, NDArray[np.float64]]
    standard_error: dict[str, NDArray[np.float64]]
    per_shot_mean: dict[str, NDArray[np.float64]]
    per_shot_std: dict[str, NDArray[np.float64]]
    samples: int
    seed: int
    frequency_offsets: NDArray[np.float64]
    amplitude_scales: NDArray[np.float64]
    phase_offsets: NDArray[np.float64]
    frame: str = "drive"
    result: ProtocolResult | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        f = self.averaged_state["bell_fidelity_optimized"][..., -1]
        e = self.standard_error["bell_fidelity_optimized"][..., -1]
        return (
            f"NoiseAverage(samples={self.samples}, seed={self.seed}, frame={self.frame!r}, "
            f"final F_opt of the shot-averaged state = {np.mean(f):.4f} ± {np.mean(e):.4f})"
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
        ``frame="atoms"`` rotates every sample with the *nominal* dressed frequencies (one
        extra unperturbed run supplies them), never with a shot's own perturbed ones: only
        deterministic local phases are removed, as in a calibrated measurement.

    Returns
    -------
    NoiseAverage
        The shot-averaged state and its metrics with the protocol's batch shape (the sample
        axis reduced), jackknife errors, and per-shot statistics under their own names.
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

    frame = run_options.pop("frame", "drive")
    if isinstance(frame, str) and frame not in FRAMES:
        raise ValueError(
            f"frame must be one of {list(FRAMES)} or a frequency (rad/s), got {frame!r}"
        )
    nominal_frame = isinstance(frame, str) and frame == "atoms"
    if nominal_frame:
        # The atoms frame of a noise average rotates with the *nominal* dressed frequencies:
        # run in the drive frame with one extra, unperturbed sample (index 0) whose local
        # phases are the deterministic ones a calibrated experiment removes.
        run_offsets = np.concatenate([np.zeros((1, n)), offsets])
        run_scales = np.concatenate([[1.0], scales])
        run_phases = np.concatenate([[0.0], phases])
    else:
        run_offsets, run_scales, run_phases = offsets, scales, phases
    batch = _batch_shape(device, protocol)
    extra = (1,) * len(batch)
    runs = run_offsets.shape[0]
    perturbed = protocol.perturbed(
        frequency_offset=run_offsets.reshape(runs, *extra, n),
        amplitude_scale=run_scales.reshape(runs, *extra),
        phase_offset=run_phases.reshape(runs, *extra),
    )
    result = run_protocol(
        device,
        perturbed,
        times,
        initial_state,
        frame="drive" if nominal_frame else frame,
        **run_options,
    )
    if nominal_frame:
        result = _to_nominal_atoms_frame(result, protocol)

    per_shot = {name: getattr(result, name) for name in METRICS}
    per_shot.update({f"population:{k}": v for k, v in result.populations.items()})
    rho_mean, averaged, errors = shot_average(result.rho, result.dims, protocol, axis=0)
    return NoiseAverage(
        times=result.times,
        rho_mean=rho_mean,
        averaged_state=averaged,
        standard_error=errors,
        per_shot_mean={k: v.mean(axis=0) for k, v in per_shot.items()},
        per_shot_std={k: v.std(axis=0, ddof=1) for k, v in per_shot.items()},
        samples=int(samples),
        seed=int(seed),
        frequency_offsets=offsets,
        amplitude_scales=scales,
        phase_offsets=phases,
        frame=result.frame,
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


#: ProtocolResult fields with the batch axes leading (sliced when the nominal run is dropped).
_BATCH_FIELDS = (
    "rho", "reference_frequency", "local_phases", "frequencies", "segment", "error_estimate",
    "trace_error", "hermiticity_error", "min_eigenvalue",
)  # fmt: skip


def _to_nominal_atoms_frame(result: ProtocolResult, protocol: Protocol) -> ProtocolResult:
    """Drop the nominal run (sample 0) and rotate every sample by the *nominal* local phases.

    ``result`` is a drive-frame run whose first sample is unperturbed; its local phases
    ∫(ω̃_j − ω_ref) are the deterministic Z rotations of the calibrated atoms frame, applied
    alike to every noisy sample (ρ_ab → ρ_ab e^{i(A_a − A_b)}, A = Σ_j n_j φ_j).
    """
    nominal_phases = result.local_phases[0]  # (batch…, T, n)
    angle = nominal_phases @ _excitations(result.dims).T  # (batch…, T, d)
    factor = np.exp(1j * angle)
    fields = {name: np.asarray(getattr(result, name))[1:] for name in _BATCH_FIELDS}
    rho = fields["rho"] * factor[..., :, None] * np.conj(factor)[..., None, :]
    fields["rho"] = rho
    metrics = _pair_metrics(rho, result.dims, protocol)
    return dataclasses.replace(
        result, frame="atoms", **fields, **metrics, info={**result.info, "nominal_frame": True}
    )
