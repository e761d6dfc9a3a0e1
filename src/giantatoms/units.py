"""Units at the edges of the package.

Inside ``giantatoms`` every frequency and rate is **angular** (rad/s) and every time is in
seconds. The multipliers below convert lab units into that convention::

    >>> from giantatoms.units import GHz, MHz, us
    >>> omega = 4.6 * GHz          # rad/s, i.e. 2π × 4.6e9
    >>> t1 = 30 * us               # s
    >>> omega / GHz                # back to GHz for printing
    4.6

``Hz``, ``kHz``, ``MHz`` and ``GHz`` include the factor 2π; ``rad_per_s`` is 1. Powers are given
in dBm at the chip (after all attenuation) and converted to watts and photon fluxes with the
helpers below.
"""

from __future__ import annotations

import math
import re

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "HBAR",
    "GHz",
    "Hz",
    "MHz",
    "dbm_to_photon_flux",
    "dbm_to_watts",
    "kHz",
    "ms",
    "ns",
    "parse_quantity",
    "photon_flux_to_dbm",
    "photon_flux_to_watts",
    "rad_per_s",
    "s",
    "us",
    "watts_to_dbm",
    "watts_to_photon_flux",
]

#: Reduced Planck constant, J·s (CODATA 2018, exact in SI).
HBAR: float = 1.054571817e-34

rad_per_s: float = 1.0
Hz: float = 2.0 * math.pi
kHz: float = 2.0 * math.pi * 1e3
MHz: float = 2.0 * math.pi * 1e6
GHz: float = 2.0 * math.pi * 1e9

s: float = 1.0
ms: float = 1e-3
us: float = 1e-6
ns: float = 1e-9


def dbm_to_watts(power_dbm: ArrayLike) -> NDArray[np.float64]:
    """Convert a power from dBm to watts.

    Parameters
    ----------
    power_dbm : array_like, dBm, any shape
        Power at the chip. ``-inf`` gives 0 W.

    Returns
    -------
    ndarray, W, same shape
    """
    return 1e-3 * 10.0 ** (np.asarray(power_dbm, dtype=float) / 10.0)


def watts_to_dbm(power_w: ArrayLike) -> NDArray[np.float64]:
    """Convert a power from watts to dBm (0 W gives ``-inf``).

    Parameters
    ----------
    power_w : array_like, W, any shape, ≥ 0

    Returns
    -------
    ndarray, dBm, same shape
    """
    p = np.asarray(power_w, dtype=float)
    if np.any(p < 0):
        raise ValueError(f"power_w must be ≥ 0 W, got minimum {p.min()!r}")
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(p / 1e-3)


def watts_to_photon_flux(power_w: ArrayLike, frequency: ArrayLike) -> NDArray[np.float64]:
    """Photon flux |α|² = P/(ħω) of a coherent tone (PHYSICS.md §4).

    Parameters
    ----------
    power_w : array_like, W
    frequency : array_like, rad/s, > 0
        Angular frequency of the tone; broadcasts against ``power_w``.

    Returns
    -------
    ndarray, photons/s, broadcast shape
    """
    w = np.asarray(frequency, dtype=float)
    if np.any(w <= 0):
        raise ValueError("frequency must be > 0 rad/s")
    return np.asarray(power_w, dtype=float) / (HBAR * w)


def photon_flux_to_watts(flux: ArrayLike, frequency: ArrayLike) -> NDArray[np.float64]:
    """Power P = ħω·flux of a coherent tone with the given photon flux.

    Parameters
    ----------
    flux : array_like, photons/s
    frequency : array_like, rad/s

    Returns
    -------
    ndarray, W, broadcast shape
    """
    return np.asarray(flux, dtype=float) * HBAR * np.asarray(frequency, dtype=float)


def dbm_to_photon_flux(power_dbm: ArrayLike, frequency: ArrayLike) -> NDArray[np.float64]:
    """Photon flux (photons/s) of a tone of ``power_dbm`` at angular ``frequency`` (rad/s)."""
    return watts_to_photon_flux(dbm_to_watts(power_dbm), frequency)


def photon_flux_to_dbm(flux: ArrayLike, frequency: ArrayLike) -> NDArray[np.float64]:
    """Power in dBm of a tone with photon flux ``flux`` (photons/s) at ``frequency`` (rad/s)."""
    return watts_to_dbm(photon_flux_to_watts(flux, frequency))


_FREQUENCY_UNITS = {"hz": Hz, "khz": kHz, "mhz": MHz, "ghz": GHz, "rad/s": rad_per_s}
_TIME_UNITS = {"s": s, "ms": ms, "us": us, "µs": us, "ns": ns}
_LENGTH_UNITS = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "µm": 1e-6}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf)\s*([^\s\d].*)?$")


def parse_quantity(text: str | float, kind: str) -> float:
    """Parse a number with a unit, such as ``"4.6GHz"``, ``"2 MHz"``, ``"30us"``, ``"-130dBm"``.

    Parameters
    ----------
    text : str or float
        The quantity. A bare number is returned unchanged (already in internal units).
    kind : {"frequency", "time", "power", "length"}
        What the quantity is. Frequencies come back in rad/s, times in s, powers in dBm,
        lengths in m.

    Returns
    -------
    float
        The value in internal units.
    """
    tables = {
        "frequency": _FREQUENCY_UNITS,
        "time": _TIME_UNITS,
        "power": {"dbm": 1.0},
        "length": _LENGTH_UNITS,
    }
    if kind not in tables:
        raise ValueError(f"kind must be one of {sorted(tables)}, got {kind!r}")
    if not isinstance(text, str):
        return float(text)
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"cannot read {text!r} as a {kind} (expected e.g. '4.6GHz')")
    value = float(match.group(1))
    unit = (match.group(2) or "").strip()
    table = tables[kind]
    key = unit if unit in table else unit.lower()
    if key not in table:
        raise ValueError(f"unknown {kind} unit {unit!r} in {text!r}; allowed: {sorted(table)}")
    return value * table[key]
