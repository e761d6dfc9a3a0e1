"""giantatoms: driven-dissipative entanglement of giant atoms in waveguide QED.

The public API is what this module re-exports. Internal units are rad/s and seconds; use
:mod:`giantatoms.units` at the edges. Conventions: see ``docs/conventions.md``.

The package is layered, one sub-package per layer, imports pointing down only (checked in CI
by import-linter; see ``docs/architecture.md``): :mod:`units` → :mod:`model` → :mod:`solvers`
→ :mod:`measure` → :mod:`fitting` / :mod:`protocols` → :mod:`sweeps` / :mod:`plotting` →
:mod:`experiments` → :mod:`cli`. The modules that lived at the top level before the layers
(``giantatoms.device``, ``giantatoms.metrics``, …) are still importable under their old
names: they are the same module objects, registered below.
"""

import importlib as _importlib
import sys as _sys

from giantatoms import fitting, plotting, protocols, sweeps, units
from giantatoms._version import __version__
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
from giantatoms.measure import coherence, tomography
from giantatoms.measure.coherence import (
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
from giantatoms.measure.metrics import (
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
from giantatoms.measure.spectroscopy import Modes, Scattering, scattering, single_excitation_modes
from giantatoms.measure.tomography import (
    ReadoutModel,
    TomographyData,
    TomographyResult,
    bell_fidelity_with_errors,
    reconstruct,
    simulate_counts,
)
from giantatoms.model import flux, presets
from giantatoms.model.couplings import (
    Couplings,
    OperatingPoint,
    correlation,
    decoherence_free_frequencies,
    drive_amplitudes,
    entangling_operating_point,
    perfect_correlation_frequencies,
)
from giantatoms.model.device import Atom, Device, Drive, Waveguide
from giantatoms.model.flux import TunableTransmon
from giantatoms.model.lindblad import MasterEquation, master_equation
from giantatoms.protocols import Protocol, ProtocolResult, Ramp, Segment, run_protocol
from giantatoms.solvers import delay
from giantatoms.solvers.evolution import Evolution, evolve, evolve_constant
from giantatoms.solvers.gap import LiouvillianGap, liouvillian_gap
from giantatoms.solvers.liouvillian import liouvillian
from giantatoms.solvers.steady_state import (
    DenseSolver,
    DirectSolver,
    IterativeSolver,
    MatrixFreeSolver,
    SteadyState,
    SteadyStateError,
    steady_state,
)
from giantatoms.sweeps import optimize, sweep

#: Where the modules of the flat layout went (old name under ``giantatoms`` → new module).
MOVED_MODULES: dict[str, str] = {
    "device": "giantatoms.model.device",
    "couplings": "giantatoms.model.couplings",
    "io": "giantatoms.model.io",
    "operators": "giantatoms.model.operators",
    "flux": "giantatoms.model.flux",
    "lindblad": "giantatoms.model.lindblad",
    "presets": "giantatoms.model.presets",
    "liouvillian": "giantatoms.solvers.liouvillian",
    "steady_state": "giantatoms.solvers.steady_state",
    "gap": "giantatoms.solvers.gap",
    "evolution": "giantatoms.solvers.evolution",
    "metrics": "giantatoms.measure.metrics",
    "tomography": "giantatoms.measure.tomography",
    "spectroscopy": "giantatoms.measure.spectroscopy",
    "coherence": "giantatoms.measure.coherence",
    "experiment": "giantatoms.experiments.reproduce",
}
# ``import giantatoms.metrics`` and ``from giantatoms.device import Device`` keep working: the
# old names are aliases of the moved modules (attributes only where no function has the name,
# e.g. ``giantatoms.steady_state`` stays the function, as before).
# ``import giantatoms.delay`` is the delay solver family (it lives in the solvers layer).
_sys.modules.setdefault("giantatoms.delay", delay)
for _old, _new in MOVED_MODULES.items():
    _module = _importlib.import_module(_new)
    _sys.modules.setdefault(f"giantatoms.{_old}", _module)
    if _old not in globals():
        globals()[_old] = _module
del _old, _new, _module

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
    "MatrixFreeSolver",
    "Modes",
    "OperatingPoint",
    "Protocol",
    "ProtocolResult",
    "Ramp",
    "RamseyResult",
    "ReadoutModel",
    "Scattering",
    "Segment",
    "SpectroscopyData",
    "SteadyState",
    "SteadyStateError",
    "T1Result",
    "TomographyData",
    "TomographyResult",
    "TunableTransmon",
    "Waveguide",
    "__version__",
    "bell_fidelity",
    "bell_fidelity_with_errors",
    "bell_state",
    "coherence",
    "coherence_times",
    "concurrence",
    "correlation",
    "decoherence_free_frequencies",
    "delay",
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
    "reconstruct",
    "remove_background",
    "remove_cable_delay",
    "run_protocol",
    "scattering",
    "simulate_counts",
    "single_excitation_modes",
    "steady_state",
    "sweep",
    "sweeps",
    "t1_experiment",
    "tomography",
    "units",
]
