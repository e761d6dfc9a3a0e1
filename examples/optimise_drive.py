"""Find the drive power and detuning of maximum steady-state Bell fidelity (batched DE).

``python examples/optimise_drive.py [--fast]``.
"""

from __future__ import annotations

import giantatoms as ga

from _common import options

args = options(__doc__.splitlines()[0])
best = ga.optimize(
    "sequential_pair",
    {"drive.power_dbm": ("-140dBm", "-115dBm"), "drive.detuning": ("0.2MHz", "6MHz")},
    seed=1,
    maxiter=5 if args.fast else 100,
    polish=not args.fast,
)
print(best)
