"""Giant atoms beyond the Markov approximation: propagation delays between coupling points.

* :func:`diagnostics` — how far the Markovian master equation is from the exact model of a
  chip (largest Γτ and γτ, the delay matrix T, first-order pole shifts, a plain-words verdict);
* :func:`single_excitation` — exact single-excitation dynamics (a delay-differential equation,
  method of steps) for any geometry, batched;
* :func:`poles`, :func:`two_point_pole`, :func:`trapped_state` — decay poles from the
  characteristic equation and the long-time bound (trapped) state.

Available as ``giantatoms.delay``. The equations are in :mod:`giantatoms.model.delays`.
"""

from giantatoms.model.delays import (
    DelayDiagnostics,
    DelayKernel,
    NonMarkovianWarning,
    delay_kernel,
    diagnostics,
)
from giantatoms.solvers.delay._dde import SingleExcitation, single_excitation, solve_kernel
from giantatoms.solvers.delay._poles import (
    Poles,
    TrappedState,
    poles,
    trapped_state,
    two_point_pole,
)

__all__ = [
    "DelayDiagnostics",
    "DelayKernel",
    "NonMarkovianWarning",
    "Poles",
    "SingleExcitation",
    "TrappedState",
    "delay_kernel",
    "diagnostics",
    "poles",
    "single_excitation",
    "solve_kernel",
    "trapped_state",
    "two_point_pole",
]
