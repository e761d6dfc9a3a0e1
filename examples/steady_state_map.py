"""Steady-state Bell fidelity of the reconstructed chip over drive power × detuning.

A sweep at the entangling operating point (Lamb shifts included), the best point, its
stabilisation time, and the map as a figure. ``python examples/steady_state_map.py [--fast]``.
"""

from __future__ import annotations

from pathlib import Path

import giantatoms as ga

from _common import options

args = options(__doc__.splitlines()[0])
n = 6 if args.fast else 25
chip = ga.presets.load("sequential_pair")
ds = ga.sweep(
    chip,
    {
        "drive.power_dbm": ga.sweeps.linspace("-140dBm", "-115dBm", n),
        "drive.detuning": ga.sweeps.linspace("0.25MHz", "6MHz", n),
    },
    quantities=["steady", "gap"],
)
best = ds.isel(ds.bell_fidelity.argmax(...))
print(
    f"best F = {float(best.bell_fidelity):.3f} at {float(best.power_dbm):.1f} dBm, "
    f"δ/2π = {float(best.detuning):.2f} MHz; 1/gap = {float(best.stabilisation_time):.2f} µs"
)
ds.to_netcdf(Path(args.out) / "steady_state_map.nc")
fig = ga.plotting.plot_fidelity_map(ds)
ga.plotting.save_figure(fig, Path(args.out) / "steady_state_map.png")
