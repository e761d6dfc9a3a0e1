"""Result containers of the T1, Ramsey and echo experiments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.measure.coherence._fits import DecayFit
from giantatoms.measure.coherence._times import CoherenceTimes


@dataclass(frozen=True, eq=False, repr=False)
class T1Result:
    """Simulated energy-relaxation experiment of one atom.

    Attributes
    ----------
    atom : str
        Name of the measured atom.
    times : ndarray, s, shape (T,)
        Delays after the π pulse.
    population : ndarray, shape (batch…, T)
        Excited-state population P_e of the atom.
    fit : DecayFit
        A·e^{−t/T1} + B fitted to ``population``.
    expected : CoherenceTimes
        The times expected from the rates (:func:`coherence_times`).
    frequencies : ndarray, rad/s, shape (batch…, n_atoms)
        Bare frequencies of all atoms.
    """

    atom: str
    times: NDArray[np.float64]
    population: NDArray[np.float64]
    fit: DecayFit
    expected: CoherenceTimes
    frequencies: NDArray[np.float64]

    @property
    def t1(self) -> NDArray[np.float64]:
        """Fitted T1 (s), shape (batch…)."""
        return self.fit.decay_time

    @property
    def t1_error(self) -> NDArray[np.float64]:
        """Standard error of the fitted T1 (s), shape (batch…)."""
        return self.fit.decay_time_error

    def __repr__(self) -> str:
        return (
            f"T1Result(atom={self.atom!r}, batch_shape={self.population.shape[:-1]}, "
            f"T1 = {np.mean(self.t1) * 1e6:.4g} µs (mean), expected "
            f"{np.mean(self.expected.t1) * 1e6:.4g} µs)"
        )


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class _NoisyResult:
    """Fields shared by the Ramsey and echo results (see their docstrings)."""

    atom: str
    times: NDArray[np.float64]
    coherence: NDArray[np.float64]
    fit: DecayFit
    expected: CoherenceTimes
    frequencies: NDArray[np.float64]
    frequency_noise: NDArray[np.float64]
    samples: int
    seed: int | None
    noise_sampling: str
    frequency_offsets: NDArray[np.float64]
    sample_weights: NDArray[np.float64]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class RamseyResult(_NoisyResult):
    """Simulated Ramsey experiment of one atom, averaged over quasi-static frequency noise.

    Attributes
    ----------
    atom : str
    times : ndarray, s, shape (T,)
        Free-evolution times between the two π/2 pulses.
    coherence : ndarray, shape (batch…, T)
        2|⟨σ_j⟩| of the noise-averaged state (1 at t = 0).
    fringe : ndarray, shape (batch…, T)
        P_e after the second π/2 pulse with axis advanced by ``detuning``·t.
    detuning : ndarray, rad/s
        Artificial detuning δ (broadcasts against the batch).
    fit : DecayFit
        Fit of ``coherence``: A·e^{−t/T2*} (no noise) or A·exp(−t/T2 − (σt)²/2), no offset.
    expected : CoherenceTimes
    frequencies : ndarray, rad/s, shape (batch…, n_atoms)
        Nominal bare frequencies.
    frequency_noise : ndarray, rad/s, shape (batch…)
        σ of the measured atom's frequency.
    samples : int
        Noise samples used (1 without noise).
    seed : int or None
        Seed reproducing the random draws (None for quadrature sampling or without noise).
    noise_sampling : str
    frequency_offsets : ndarray, rad/s, shape (samples, batch…)
        The offsets of the measured atom's frequency, per sample.
    sample_weights : ndarray, shape (samples,)
        Weights of the samples in the average (sum 1).
    info : dict
    """

    fringe: NDArray[np.float64]
    detuning: NDArray[np.float64]

    @property
    def t2_star(self) -> NDArray[np.float64]:
        """Fitted exponential T2 of the Ramsey envelope (s), shape (batch…)."""
        return self.fit.decay_time

    @property
    def t2_star_error(self) -> NDArray[np.float64]:
        """Standard error of ``t2_star`` (s)."""
        return self.fit.decay_time_error

    @property
    def gaussian_rate(self) -> NDArray[np.float64]:
        """Fitted σ of the Gaussian envelope (rad/s; 0 for the exponential model)."""
        return self.fit.gaussian_rate

    @property
    def gaussian_rate_error(self) -> NDArray[np.float64]:
        """Standard error of ``gaussian_rate`` (rad/s)."""
        return self.fit.gaussian_rate_error

    def __repr__(self) -> str:
        extra = ""
        if self.fit.kind == "gaussian_exponential":
            extra = f", σ = {np.mean(self.gaussian_rate) / 2e6 / np.pi:.4g} MHz·2π"
        return (
            f"RamseyResult(atom={self.atom!r}, batch_shape={self.coherence.shape[:-1]}, "
            f"samples={self.samples}, T2* = {np.mean(self.t2_star) * 1e6:.4g} µs (mean){extra})"
        )


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class EchoResult(_NoisyResult):
    """Simulated Hahn-echo experiment (π/2 – τ/2 – π – τ/2 – π/2) of one atom.

    Attributes
    ----------
    atom : str
    times : ndarray, s, shape (T,)
        Total free-evolution times τ (the π pulse at τ/2).
    coherence : ndarray, shape (batch…, T)
        2|⟨σ_j⟩| at τ of the noise-averaged state.
    population : ndarray, shape (batch…, T)
        P_e after the final π/2 pulse (about −y, so a refocused state ends in |e⟩):
        ½(1 + echo amplitude) for a two-level atom.
    fit : DecayFit
        A·e^{−τ/T2E} fitted to ``coherence``.
    expected : CoherenceTimes
    frequencies, frequency_noise, samples, seed, noise_sampling, frequency_offsets,
    sample_weights, info
        As in :class:`RamseyResult`.
    """

    population: NDArray[np.float64]

    @property
    def t2_echo(self) -> NDArray[np.float64]:
        """Fitted echo time T2E (s), shape (batch…)."""
        return self.fit.decay_time

    @property
    def t2_echo_error(self) -> NDArray[np.float64]:
        """Standard error of ``t2_echo`` (s)."""
        return self.fit.decay_time_error

    def __repr__(self) -> str:
        return (
            f"EchoResult(atom={self.atom!r}, batch_shape={self.coherence.shape[:-1]}, "
            f"samples={self.samples}, T2E = {np.mean(self.t2_echo) * 1e6:.4g} µs (mean))"
        )
