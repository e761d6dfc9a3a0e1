"""Stabilise, then stop the drive: move to the DF point, stay, or go to the resonant point.

The paper's step 4 in time: Bell fidelity (maximised over local Z phases) of the three
strategies after the same drive, and the figure. ``python examples/protocol_strategies.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import giantatoms as ga
from giantatoms.units import MHz, ns, us

from _common import options

args = options(__doc__.splitlines()[0])
chip = ga.presets.load("sequential_pair")
results = {}
for label, after in (("move to DF", "move_to_df"), ("stay", "stay"), ("resonant", "resonant")):
    protocol = ga.protocols.driven_dissipative(
        chip,
        power_dbm=-131.5,
        detuning=1 * MHz,
        t_drive=(2 if args.fast else 6) * us,
        ramp_time=10 * ns,
        t_store=1 * us,
        after_drive=after,
    )
    times = np.linspace(0.0, float(protocol.duration), 60 if args.fast else 400)
    results[label] = ga.run_protocol(chip, protocol, times)
    print(f"{label:>10}: F after storage = {results[label].bell_fidelity_optimized[-1]:.3f}")
fig = ga.plotting.plot_fidelity_vs_time(results)
ga.plotting.save_figure(fig, Path(args.out) / "protocol_strategies.png")
