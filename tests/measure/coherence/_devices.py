"""Helpers of the coherence tests: the decoherence-free point, two-level atoms, intrinsic rates."""

from __future__ import annotations

import numpy as np

import giantatoms as ga
from giantatoms.units import GHz, us

DF = 5.0 * GHz  # decoherence-free point of both atoms of the preset
T_LONG = np.linspace(0.0, 60 * us, 31)


def two_level(device: ga.Device, **changes) -> ga.Device:
    for name in device.atom_names:
        device = device.replace_atom(name, levels=2, **changes)
    return device


def intrinsic_rates(atom: ga.Atom) -> tuple[float, float]:
    """(1/T1, 1/T2) of the intrinsic bath of a two-level atom."""
    gamma1 = float(atom.intrinsic_decay_rate * (1 + 2 * atom.n_thermal))
    return gamma1, 0.5 * gamma1 + float(atom.dephasing_rate)
