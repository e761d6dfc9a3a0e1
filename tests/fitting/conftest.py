"""Shared synthetic data of the fitting tests (plain constants and helpers, no fixtures).

Synthetic data are made the way a network analyser would record them: the package's model
(physics convention) conjugated to the engineering convention, times a complex background with
a cable delay, plus complex Gaussian noise. The fits must recover the parameters within their
reported uncertainties, and those uncertainties must match the scatter over noise realisations.
The test modules import what they need from here.
"""

from __future__ import annotations

import numpy as np

import giantatoms as ga
from giantatoms.fitting import Background, SpectroscopyData
from giantatoms.units import GHz, MHz, ns

SIGMA = 0.01

# One small atom: a Lorentzian with Γ = γ and Γ_nr = γ_nr + 2γ_φ.
SMALL = ga.Device(
    ga.Waveguide(),
    [ga.Atom("Q", 5 * GHz, points=[0.0], point_rates=2 * MHz, t1=2 / MHz, t_phi=1 / (0.3 * MHz))],
)
SMALL_TRUE = {"frequency": 5.0 * GHz, "radiative_rate": 2 * MHz, "nonradiative_rate": 1.1 * MHz}
W_SMALL = np.linspace(4.98, 5.02, 401) * GHz
BG_SMALL = Background(0.8, 1.0, 45 * ns, reference_frequency=5.0 * GHz)


# One giant atom with two points: φ = ω·Δx/v ≈ 5.55 rad at 5.3 GHz.
GIANT = ga.Device(
    ga.Waveguide(phase_velocity=1.2e8),
    [ga.Atom("A", 5.3 * GHz, points=[0.0, 0.02], point_rates=1.5 * MHz, t1=1 / (0.4 * MHz))],
)
W_GIANT = np.linspace(5.27, 5.33, 301) * GHz
BG_GIANT = {
    "s21": Background(0.7, -2.0, 38 * ns, reference_frequency=5.3 * GHz),
    "s11": Background(0.5, 0.5, 52 * ns, reference_frequency=5.3 * GHz),
}
GIANT_PARAMETERS = ["atoms.A.frequency", "atoms.A.point_rates", "atoms.A.intrinsic_decay_rate"]
GIANT_TRUE = {
    "atoms.A.frequency": 5.3 * GHz,
    "atoms.A.point_rates": 1.5 * MHz,
    "atoms.A.intrinsic_decay_rate": 0.4 * MHz,
    "s21.amplitude": 0.7,
    "s21.phase": -2.0,
    "s21.delay": 38 * ns,
    "s11.amplitude": 0.5,
    "s11.phase": 0.5,
    "s11.delay": 52 * ns,
}


# A start a fraction of a linewidth away, as from a quick look.
GIANT_START = GIANT.replace_atom(
    "A", frequency=5.3 * GHz + 0.5 * MHz, point_rates=1.8 * MHz, t1=1 / (0.6 * MHz)
)


def noise(rng, size, sigma=SIGMA):
    return sigma * (rng.standard_normal(size) + 1j * rng.standard_normal(size))


def measured(device, w, backgrounds, rng, sigma=SIGMA):
    """Network-analyser traces of ``device``: conj(model) × background + noise."""
    result = ga.scattering(device, w)
    return {
        t: np.conj(getattr(result, t)) * b(w) + noise(rng, w.size, sigma)
        for t, b in backgrounds.items()
    }


def small_atom_data(seed, *, sigma=SIGMA):
    traces = measured(SMALL, W_SMALL, {"s21": BG_SMALL}, np.random.default_rng(seed))
    return SpectroscopyData.from_arrays(
        W_SMALL / GHz, **traces, unit="GHz", convention="engineering", sigma=sigma
    )


def assert_within(fit, truth, n_sigma=4.0):
    for name, true in truth.items():
        value, error = fit.parameters[name], fit.errors[name]
        assert np.isfinite(error) and error > 0, name
        assert abs(value - true) < n_sigma * error, (name, value, true, error)


# A known trace: one Lorentzian line in transmission, engineering convention, no noise, and a
# reflection that differs from point to point (so that every row of a file is distinct).
F_HZ = W_SMALL / (2 * np.pi)
S21_LINE = BG_SMALL(W_SMALL) * (
    1 - 0.5 * (2 * MHz) / (0.5 * (3.1 * MHz) + 1j * (W_SMALL - 5.0 * GHz))
)
S11_LINE = 0.1 * np.exp(1j * np.linspace(0.0, 3.0, W_SMALL.size))


def write_s2p(path, rows=None, *, option="# Hz S RI R 50"):
    """A version-1 two-port file of the known trace, data rows in the order ``rows``."""
    rows = np.arange(F_HZ.size) if rows is None else rows
    lines = ["! synthetic Lorentzian", option]
    for i in rows:
        a, b = S11_LINE[i], S21_LINE[i]
        lines.append(
            f"{F_HZ[i]:.17g} {a.real:.17g} {a.imag:.17g} {b.real:.17g} {b.imag:.17g} "
            f"{b.real:.17g} {b.imag:.17g} {a.real:.17g} {a.imag:.17g}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv(path, rows=None):
    rows = np.arange(F_HZ.size) if rows is None else rows
    table = np.column_stack([F_HZ, S21_LINE.real, S21_LINE.imag])[rows]
    np.savetxt(path, table, delimiter=",", header="f_hz,re,im", comments="", fmt="%.17g")
    return path


def swapped(size, i=10):
    rows = np.arange(size)
    rows[[i, i + 1]] = rows[[i + 1, i]]
    return rows


def one_line_error(excinfo, path):
    message = str(excinfo.value)
    assert "\n" not in message, message
    assert str(path) in message, message
