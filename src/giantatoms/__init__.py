"""giantatoms: driven-dissipative entanglement of giant atoms in waveguide QED.

The public API is what this module re-exports. Internal units are rad/s and seconds; use
:mod:`giantatoms.units` at the edges. Conventions: see ``docs/conventions.md`` and PHYSICS.md.
"""

from giantatoms import coherence, fitting, flux, plotting, presets, protocols, sweeps, units
from giantatoms.coherence import (
    CoherenceTimes,
    DecayFit,
    EchoResult,
    RamseyResult,
    T1Result,
    coherence_times,
    echo_experiment,
    fit_exponential_decay,
    fit_gaussian_exponential_decay,
    ramsey_experiment,
    t1_experiment,
)
from giantatoms.couplings import (
    Couplings,
    OperatingPoint,
    correlation,
    decoherence_free_frequencies,
    drive_amplitudes,
    entangling_operating_point,
    perfect_correlation_frequencies,
)
from giantatoms.device import Atom, Device, Drive, Waveguide
from giantatoms.evolution import Evolution, evolve, evolve_constant
from giantatoms.fitting import (
    Background,
    Bootstrap,
    FitResult,
    SpectroscopyData,
    estimate_cable_delay,
    fit_device,
    fit_fano,
    fit_lorentzian,
    remove_background,
    remove_cable_delay,
)
from giantatoms.flux import TunableTransmon
from giantatoms.gap import LiouvillianGap, liouvillian_gap
from giantatoms.lindblad import MasterEquation, master_equation
from giantatoms.liouvillian import liouvillian
from giantatoms.metrics import (
    bell_fidelity,
    bell_state,
    concurrence,
    excited_population,
    log_negativity,
    negativity,
    optimal_phases,
    partial_trace,
    populations,
    purity,
)
from giantatoms.protocols import Protocol, ProtocolResult, Ramp, Segment, run_protocol
from giantatoms.spectroscopy import Modes, Scattering, scattering, single_excitation_modes
from giantatoms.steady_state import (
    DenseSolver,
    DirectSolver,
    IterativeSolver,
    SteadyState,
    SteadyStateError,
    steady_state,
)
from giantatoms.sweeps import optimize, sweep

__version__ = "0.1.0"

__all__ = [
    "Atom",
    "Background",
    "Bootstrap",
    "CoherenceTimes",
    "Couplings",
    "DecayFit",
    "DenseSolver",
    "Device",
    "DirectSolver",
    "Drive",
    "EchoResult",
    "Evolution",
    "FitResult",
    "IterativeSolver",
    "LiouvillianGap",
    "MasterEquation",
    "Modes",
    "OperatingPoint",
    "Protocol",
    "ProtocolResult",
    "Ramp",
    "RamseyResult",
    "Scattering",
    "Segment",
    "SpectroscopyData",
    "SteadyState",
    "SteadyStateError",
    "T1Result",
    "TunableTransmon",
    "Waveguide",
    "__version__",
    "bell_fidelity",
    "bell_state",
    "coherence",
    "coherence_times",
    "concurrence",
    "correlation",
    "decoherence_free_frequencies",
    "drive_amplitudes",
    "echo_experiment",
    "entangling_operating_point",
    "estimate_cable_delay",
    "evolve",
    "evolve_constant",
    "excited_population",
    "fit_device",
    "fit_exponential_decay",
    "fit_fano",
    "fit_gaussian_exponential_decay",
    "fit_lorentzian",
    "fitting",
    "flux",
    "liouvillian",
    "liouvillian_gap",
    "log_negativity",
    "master_equation",
    "negativity",
    "optimal_phases",
    "optimize",
    "partial_trace",
    "perfect_correlation_frequencies",
    "plotting",
    "populations",
    "presets",
    "protocols",
    "purity",
    "ramsey_experiment",
    "remove_background",
    "remove_cable_delay",
    "run_protocol",
    "scattering",
    "single_excitation_modes",
    "steady_state",
    "sweep",
    "sweeps",
    "t1_experiment",
    "units",
]
