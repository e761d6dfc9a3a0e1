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


# Accepted spellings of each kind: spelling -> (multiplier to internal units, name). Exact case
# only: SI prefixes are case-sensitive (m = milli, M = mega), so no spelling is folded.
_UNITS: dict[str, dict[str, tuple[float, str]]] = {
    "frequency": {
        "mHz": (1e-3 * Hz, "millihertz"),
        "Hz": (Hz, "hertz"),
        "kHz": (kHz, "kilohertz"),
        "MHz": (MHz, "megahertz"),
        "GHz": (GHz, "gigahertz"),
        "rad/s": (rad_per_s, "radians per second"),
    },
    "time": {
        "s": (s, "seconds"),
        "ms": (ms, "milliseconds"),
        "us": (us, "microseconds"),
        "\u00b5s": (us, "microseconds"),
        "\u03bcs": (us, "microseconds"),
        "ns": (ns, "nanoseconds"),
        "ps": (1e-12, "picoseconds"),
    },
    "power": {"dBm": (1.0, "decibel-milliwatts at the chip")},
    "length": {
        "m": (1.0, "metres"),
        "cm": (1e-2, "centimetres"),
        "mm": (1e-3, "millimetres"),
        "um": (1e-6, "micrometres"),
        "\u00b5m": (1e-6, "micrometres"),
        "\u03bcm": (1e-6, "micrometres"),
        "nm": (1e-9, "nanometres"),
    },
}
_EXAMPLES = {"frequency": "4.6GHz", "time": "30us", "power": "-130dBm", "length": "84mm"}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf)\s*([^\s\d].*)?$")


def _case_suggestion(unit: str, table: dict[str, tuple[float, str]]) -> str:
    """``"; did you mean 'MHz' (megahertz)? ..."`` when ``unit`` is accepted in another case.

    Candidates are the spellings equal to ``unit`` up to case (``str.casefold``, which also
    identifies the micro sign with the Greek mu), one per multiplier. When the typed unit
    mixes cases its first letter is taken as meant (``"Mhz"`` → MHz first); when it does not
    (``"mhz"``, ``"MHZ"``) the larger multiplier comes first (MHz before mHz). Empty when
    there is no candidate.
    """
    folded = unit.casefold()
    hits = [name for name in table if name.casefold() == folded]
    if not hits:
        return ""
    mixed = unit != unit.lower() and unit != unit.upper()
    hits.sort(key=lambda name: (mixed and name[0] != unit[0], -table[name][0]))
    seen: dict[float, str] = {}
    for name in hits:
        seen.setdefault(table[name][0], name)
    options = " or ".join(f"{name!r} ({table[name][1]})" for name in seen.values())
    return f"; did you mean {options}? Units are case-sensitive"


def parse_quantity(text: str | float, kind: str) -> float:
    """Parse a number with a unit, such as ``"4.6GHz"``, ``"2 MHz"``, ``"30us"``, ``"-130dBm"``.

    Units are **case-sensitive** and only the exact spellings below are accepted: SI prefixes
    differ by case (``"mHz"`` is millihertz, ``"MHz"`` megahertz; ``"ms"`` millisecond,
    ``"Ms"`` would be a megasecond), so no spelling is folded to another case. A spelling that
    matches an accepted one up to case (``"mhz"``, ``"GHZ"``, ``"MS"``, ``"Mm"``) is refused
    with a ValueError that suggests the likely intended unit.

    ==========  ==============================================================================
    kind        accepted units
    ==========  ==============================================================================
    frequency   ``mHz``, ``Hz``, ``kHz``, ``MHz``, ``GHz`` (ordinary frequencies, multiplied by
                2π), ``rad/s``
    time        ``s``, ``ms``, ``us``, ``µs`` (micro sign U+00B5), ``μs`` (Greek mu U+03BC),
                ``ns``, ``ps``
    power       ``dBm``
    length      ``m``, ``cm``, ``mm``, ``um``, ``µm``, ``μm``, ``nm``
    ==========  ==============================================================================

    Parameters
    ----------
    text : str or float
        The quantity: a number, optional spaces, a unit. A non-string is returned as a float
        unchanged (already in internal units); a string needs a unit.
    kind : {"frequency", "time", "power", "length"}
        What the quantity is. Frequencies come back in rad/s, times in s, powers in dBm,
        lengths in m.

    Returns
    -------
    float
        The value in internal units.

    Raises
    ------
    ValueError
        For an unknown ``kind``, text that is not a number followed by a unit, or a unit that
        is not an accepted spelling of ``kind`` (the message names the text, the kind and the
        accepted spellings, and suggests the intended unit for a case slip).
    """
    if kind not in _UNITS:
        raise ValueError(f"kind must be one of {sorted(_UNITS)}, got {kind!r}")
    if not isinstance(text, str):
        return float(text)
    table = _UNITS[kind]
    accepted = ", ".join(repr(name) for name in table)
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(
            f"cannot read {text!r} as a {kind} (expected a number and a unit such as "
            f"{_EXAMPLES[kind]!r}; accepted {kind} units: {accepted})"
        )
    value = float(match.group(1))
    unit = (match.group(2) or "").strip()
    if unit not in table:
        if not unit:
            raise ValueError(
                f"no unit in {text!r}: a {kind} needs one (e.g. {_EXAMPLES[kind]!r}); "
                f"accepted {kind} units: {accepted}"
            )
        raise ValueError(
            f"unknown {kind} unit {unit!r} in {text!r}{_case_suggestion(unit, table)}; "
            f"accepted {kind} units (exact case): {accepted}"
        )
    return value * table[unit][0]
