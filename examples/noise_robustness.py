"""How much quasi-static flux noise can the protocol take? Fidelity after transfer vs noise.

A sweep of the protocol over the standard deviation of a quasi-static frequency offset of
each atom (1/f flux noise that is constant during one shot), averaged over seeded noise
samples — one of the open questions of the paper. ``python examples/noise_robustness.py``.
"""

from __future__ import annotations

from pathlib import Path

import giantatoms as ga

from _common import options

args = options(__doc__.splitlines()[0])
ds = ga.sweep(
    "sequential_pair",
    {
        "noise.frequency_noise": ["0kHz", "20kHz", "50kHz", "100kHz", "200kHz"][
            : 3 if args.fast else 5
        ]
    },
    fixed={
        "drive.power_dbm": "-131.5dBm",
        "drive.detuning": "1MHz",
        "protocol.t_drive": "2us" if args.fast else "6us",
        "protocol.ramp_time": "10ns",
        "protocol.t_store": "1us",
    },
    quantities=["protocol"],
    times=["end_ramp", "end"],
    noise_samples=4 if args.fast else 32,
    seed=11,
)
for sigma in ds.frequency_noise.values:
    row = ds.sel(frequency_noise=sigma)
    f = row.protocol_bell_fidelity_optimized.sel(time="end")
    e = row.protocol_bell_fidelity_optimized_sem.sel(time="end")
    print(f"σ/2π = {sigma * 1e3:5.0f} kHz: F after storage = {float(f):.3f} ± {float(e):.3f}")
ds.to_netcdf(Path(args.out) / "noise_robustness.nc")
