"""Tomography of the transferred state with readout errors: "0.89 ± 0.02", end to end.

Runs the protocol to the DF point, simulates 9-setting tomography with single-shot readout
errors and the local Z phases of the move, reconstructs by maximum likelihood with readout
mitigation and bootstraps the Bell fidelity. ``python examples/tomography_bootstrap.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import giantatoms as ga
from giantatoms.tomography import ReadoutModel, bell_fidelity_with_errors, simulate_counts
from giantatoms.units import MHz, ns, us

from _common import options

args = options(__doc__.splitlines()[0])
chip = ga.presets.load("sequential_pair")
protocol = ga.protocols.driven_dissipative(
    chip, power_dbm=-131.5, detuning=1 * MHz, t_drive=6 * us, ramp_time=10 * ns, t_store=0.1 * us
)
t_transfer = 6 * us + 10 * ns
result = ga.run_protocol(chip, protocol, np.array([t_transfer]))
rho, phases = result.rho[0], result.local_phases[0]
readout = ReadoutModel.from_fidelities(0.98, 0.95)
data = simulate_counts(
    rho,
    shots=500 if args.fast else 2000,
    readout=readout,
    seed=3,
    local_phases=phases,
    dims=chip.dims,
)
data.to_csv(Path(args.out) / "counts.csv")
estimate = bell_fidelity_with_errors(
    data, bootstrap=50 if args.fast else 200, seed=4, local_phases=phases
)
print(
    f"state F = {result.bell_fidelity_optimized[0]:.3f}; tomography F({estimate.state}) = "
    f"{estimate.format()}"
)
fig = ga.plotting.plot_density_matrix(estimate.result.rho, title=estimate.format())
ga.plotting.save_figure(fig, Path(args.out) / "density_matrix.png")
