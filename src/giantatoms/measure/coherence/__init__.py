"""Simulated single-atom coherence experiments (T1, Ramsey, Hahn echo) and decay fits.

Each experiment prepares one atom of a device with ideal, instantaneous pulses (the other atoms
in |g⟩), lets the whole device evolve freely under its undriven master equation
(:func:`giantatoms.master_equation`, PHYSICS.md §3) at the requested bare frequencies, and fits
the measured signal. The waveguide therefore contributes whatever it contributes at that
operating point: the decay Γ_j(ω) of the atom (which vanishes at its decoherence-free point),
its Lamb shift, and exchange and correlated decay with the other atoms (negligible when they
are far detuned).

Frame and pulses
    The master equation is written in the frame rotating at the measured atom's Lamb-shifted
    frequency ω̃_j = ω_j + δω_j (the pulses are calibrated to the atom). A pulse of angle θ about
    the axis (cos φ, sin φ, 0) acts on the g–e transition of that atom only,
    R_φ(θ) = exp[−i(θ/2)(cos φ σ_x + sin φ σ_y)] with σ_x = |g⟩⟨e| + |e⟩⟨g|,
    σ_y = −i|g⟩⟨e| + i|e⟩⟨g| (a transmon's f level is untouched); R_y(π/2)|g⟩ = (|g⟩ + |e⟩)/√2.

Signals
    ``population``: P_e of the measured atom (the e level only). ``coherence``: the length of the
    transverse Bloch vector of the g–e transition, 2|⟨σ_j⟩| with σ_j = |g⟩⟨e|_j (1 for
    (|g⟩ + |e⟩)/√2). Ramsey ``fringe``: P_e after a second π/2 pulse whose axis is advanced by
    the artificial detuning, φ₂ = π/2 + δ·t, so P_e = ½[1 + C(t) cos(δt + …)].

    Quasi-static frequency noise A Gaussian offset of the measured atom's frequency with
    standard deviation σ (rad/s), fixed during a shot and different from shot to shot, e.g. σ =
    |∂ω/∂Φ|·σ_Φ from :meth:`giantatoms.model.flux.TunableTransmon.frequency_noise`. Every
    sample is one more batch point of the same vectorised evolution; the frame stays at the
    nominal ω̃_j, and the signals are averaged over the samples. For an otherwise exponential
    decay this gives the Ramsey envelope e^{−t/T2} e^{−(σt)²/2}; the echo's π pulse refocuses
    it.

Expected times (two-level atom, exchange neglected)
    1/T1 = Γ_j(ω_j) + γ_nr(1 + 2n_th), 1/T2 = 1/(2T1) + γ_φ (:func:`coherence_times`). For a
    three-level transmon with a thermal bath the f level changes both at O(n_th).
"""

from giantatoms.measure.coherence._experiments import MIN_TIMES as MIN_TIMES
from giantatoms.measure.coherence._experiments import _propagate_each as _propagate_each
from giantatoms.measure.coherence._experiments import (
    echo_experiment,
    ramsey_experiment,
    t1_experiment,
)
from giantatoms.measure.coherence._fits import (
    DecayFit,
    fit_exponential_decay,
    fit_gaussian_exponential_decay,
)
from giantatoms.measure.coherence._noise import DEFAULT_SAMPLES as DEFAULT_SAMPLES
from giantatoms.measure.coherence._noise import QUADRATURE_TOLERANCE as QUADRATURE_TOLERANCE
from giantatoms.measure.coherence._results import EchoResult, RamseyResult, T1Result
from giantatoms.measure.coherence._times import CoherenceTimes, coherence_times

__all__ = [
    "CoherenceTimes",
    "DecayFit",
    "EchoResult",
    "RamseyResult",
    "T1Result",
    "coherence_times",
    "echo_experiment",
    "fit_exponential_decay",
    "fit_gaussian_exponential_decay",
    "ramsey_experiment",
    "t1_experiment",
]

# MIN_TIMES, DEFAULT_SAMPLES, QUADRATURE_TOLERANCE and _propagate_each (used by the tests) are
# imported above as ``X as X``: importable from here as before the split, not in ``__all__``.
