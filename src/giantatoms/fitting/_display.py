"""Lab units for printing fitted parameters (GHz, MHz for rates /2π, ns, µs, mm).

Used by :meth:`~giantatoms.fitting.FitResult.summary`, the bootstrap table and the command line.
"""

from __future__ import annotations

import math

from giantatoms.units import GHz, MHz, ns, us

__all__: list[str] = []


def _display_unit(name: str) -> tuple[str, float]:
    """Lab unit and its size in SI for a parameter name (by its last component)."""
    leaf = name.rsplit(".", 1)[-1].split("[", 1)[0]
    if leaf == "frequency":
        return "GHz", GHz
    if leaf.endswith("_rate") or leaf == "point_rates":
        return "MHz", MHz
    table = {
        "delay": ("ns", ns),
        "t1": ("µs", us),
        "t_phi": ("µs", us),
        "points": ("mm", 1e-3),
        "spacing": ("mm", 1e-3),
        "phase": ("rad", 1.0),
        "mismatch_angle": ("rad", 1.0),
        "slope": ("1/GHz", 1.0 / GHz),
        "phase_velocity": ("m/s", 1.0),
    }
    return table.get(leaf, ("", 1.0))


def _format_pair(value: float, error: float) -> tuple[str, str]:
    """Value and error rounded to two significant digits of the error."""
    if not math.isfinite(error) or error <= 0:
        return f"{value:.10g}", "inf" if math.isinf(error) else "0"
    decimals = 1 - math.floor(math.log10(error))
    if decimals > 12:
        return f"{value:.10g}", f"{error:.2g}"
    decimals = max(decimals, 0)
    return f"{value:.{decimals}f}", f"{error:.{decimals}f}"
