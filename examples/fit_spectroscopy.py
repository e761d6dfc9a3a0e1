"""Fit a measured transmission trace of one giant atom: Lorentzian, then the device model.

The "measurement" is simulated (background, cable delay, noise) and written as CSV first, so
the example runs anywhere; replace ``trace.csv`` by your VNA export.
``python examples/fit_spectroscopy.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import giantatoms as ga
from giantatoms.fitting import SpectroscopyData, fit_device, fit_lorentzian
from giantatoms.units import GHz, MHz

from _common import options

args = options(__doc__.splitlines()[0])
chip = ga.presets.load("sequential_pair")
lone = ga.Device(waveguide=chip.waveguide, atoms=[chip.atoms[0].replace(frequency=4.7 * GHz)])
f = np.linspace(4.68, 4.72, 201 if args.fast else 801) * GHz
rng = np.random.default_rng(5)
trace = np.conj(ga.scattering(lone, f).s21) * 0.1 * np.exp(-1j * f * 45e-9)
trace += 0.002 * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
path = Path(args.out) / "trace.csv"
np.savetxt(
    path,
    np.c_[f / GHz, trace.real, trace.imag],
    delimiter=",",
    header="frequency_ghz,s21_re,s21_im",
)

data = SpectroscopyData.from_csv(path, unit="GHz", layout="real,imag")
print(fit_lorentzian(data).summary())
guess = ga.Device(
    waveguide=lone.waveguide,
    atoms=[lone.atoms[0].replace(frequency=4.701 * GHz, point_rates=1.5 * MHz)],
)
fit = fit_device(data, guess, ["atoms.A.frequency", "atoms.A.point_rates"])
print(
    f"γ/2π per point = {fit.parameters['atoms.A.point_rates'] / MHz:.4f} ± "
    f"{fit.errors['atoms.A.point_rates'] / MHz:.4f} MHz (true 2 MHz)"
)
