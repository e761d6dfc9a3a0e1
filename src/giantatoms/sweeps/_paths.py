"""Parameter paths of a sweep: what ``"atoms.A.t1"`` or ``"drive.power_dbm"`` means.

A path names one number of the model a sweep may vary. Each path has a *kind* (how unit strings
are read), a *display unit* (the unit of the coordinate in the result, lab units at the edge of
the package) and a *target* (where the value goes when a chunk of points is built).

Values given as plain numbers are in the package's internal units (rad/s, s, m, dBm), exactly
like every other function of the package; values given as strings carry their unit
(``"30us"``, ``"4.6 GHz"``, ``"-130dBm"``) and are checked against the path's kind.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.model.device import Device
from giantatoms.units import GHz, MHz, parse_quantity, us

__all__ = ["Parameter", "parameter_paths", "resolve_path"]

#: Kinds of quantities: how strings are parsed (``parse_quantity`` kind, or None for plain
#: numbers) and what a wrong unit is reported as.
_PARSE_KIND = {
    "frequency": "frequency",
    "time": "time",
    "power": "power",
    "length": "length",
    "dimensionless": None,
    "angle": None,
    "velocity": None,
}

_INDEXED = re.compile(r"^(?P<field>[a-z_0-9]+)(?:\[(?P<index>\d+)\])?$")


@dataclass(frozen=True)
class Parameter:
    """One sweepable number of the model.

    Attributes
    ----------
    path : str
        Canonical path, e.g. ``"atoms.A.t1"``, ``"atoms.*.t1"``, ``"drive.power_dbm"``.
    group : {"device", "drive", "protocol", "noise", "probe"}
        Which part of the model the value enters.
    field : str
        Field name within the group (``"t1"``, ``"power_dbm"``, ``"points"``, ...).
    atoms : tuple of int
        Atom indices the value applies to (device atom parameters), else ().
    index : int or None
        Element of a per-point parameter (``points[1]``), else None.
    kind : str
        ``"frequency"``, ``"time"``, ``"power"``, ``"length"``, ``"dimensionless"``,
        ``"angle"`` or ``"velocity"``.
    unit : str
        Display unit of coordinates in results (``"GHz"``, ``"MHz"``, ``"us"``, ``"dBm"``,
        ``"mm"``, ``"rad"``, ``"m/s"``, ``"1"``).
    scale : float
        Internal value = display value × ``scale``.
    minimum, maximum : float
        Allowed range of the internal value (checked before any work).
    strict_minimum : bool
        Whether ``minimum`` itself is excluded.
    dim : str
        Default dimension name in results.
    """

    path: str
    group: str
    field: str
    kind: str
    unit: str
    scale: float
    dim: str
    atoms: tuple[int, ...] = ()
    index: int | None = None
    minimum: float = -math.inf
    maximum: float = math.inf
    strict_minimum: bool = False
    allow_inf: bool = False

    def parse(self, value: Any) -> float:
        """One value → internal units, checking the unit kind and the range.

        Raises
        ------
        ValueError
            Naming the path, the value and the expected kind or range.
        """
        if isinstance(value, bool):
            raise TypeError(f"{self.path}: expected a {self.kind}, got the boolean {value!r}")
        parse_kind = _PARSE_KIND[self.kind]
        if isinstance(value, str):
            if parse_kind is None:
                try:
                    number = float(value)
                except ValueError:
                    raise ValueError(
                        f"{self.path} is {self.kind} ({self.unit}); {value!r} is not a number"
                    ) from None
            else:
                try:
                    number = parse_quantity(value, parse_kind)
                except ValueError as exc:
                    raise ValueError(f"{self.path} is a {self.kind}: {exc}") from None
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
        else:
            raise TypeError(
                f"{self.path}: values must be numbers (internal units) or unit strings, "
                f"got {type(value).__name__} {value!r}"
            )
        if math.isnan(number) or (math.isinf(number) and not self.allow_inf):
            raise ValueError(f"{self.path}: value must be finite, got {value!r}")
        low_ok = number > self.minimum if self.strict_minimum else number >= self.minimum
        if not low_ok or number > self.maximum:
            low = "(" if self.strict_minimum else "["
            shown = (
                f"{low}{self.minimum / self.scale:g}, {self.maximum / self.scale:g}] {self.unit}"
            )
            raise ValueError(f"{self.path}: {value!r} is outside the allowed range {shown}")
        return number

    def display(self, internal: NDArray[np.float64]) -> NDArray[np.float64]:
        """Internal values → display units."""
        return np.asarray(internal, dtype=float) / self.scale

    def long_name(self) -> str:
        """Readable description for the coordinate's ``long_name`` attribute."""
        return _DESCRIPTIONS.get((self.group, self.field), self.field.replace("_", " "))


#: Atom fields: (kind, unit, scale, minimum, strict, allow_inf, per_point).
_ATOM_FIELDS: dict[str, tuple[str, str, float, float, bool, bool, bool]] = {
    "frequency": ("frequency", "GHz", GHz, 0.0, True, False, False),
    "point_rates": ("frequency", "MHz", MHz, 0.0, False, False, True),
    "right_fraction": ("dimensionless", "1", 1.0, 0.0, False, False, True),
    "points": ("length", "mm", 1e-3, -math.inf, False, False, True),
    "anharmonicity": ("frequency", "MHz", MHz, -math.inf, False, False, False),
    "t1": ("time", "us", us, 0.0, True, True, False),
    "t2": ("time", "us", us, 0.0, True, True, False),
    "t_phi": ("time", "us", us, 0.0, True, True, False),
    "n_thermal": ("dimensionless", "1", 1.0, 0.0, False, False, False),
}
#: Other groups: field → (kind, unit, scale, minimum, strict).
_GROUP_FIELDS: dict[str, dict[str, tuple[str, str, float, float, bool]]] = {
    "waveguide": {"phase_velocity": ("velocity", "m/s", 1.0, 0.0, True)},
    "drive": {
        "power_dbm": ("power", "dBm", 1.0, -math.inf, False),
        "detuning": ("frequency", "MHz", MHz, -math.inf, False),
        "offset": ("frequency", "MHz", MHz, -math.inf, False),
        "frequency": ("frequency", "GHz", GHz, 0.0, True),
        "phase": ("angle", "rad", 1.0, -math.inf, False),
    },
    "protocol": {
        "t_drive": ("time", "us", us, 0.0, True),
        "ramp_time": ("time", "us", us, 0.0, True),
        "t_store": ("time", "us", us, 0.0, True),
    },
    "noise": {
        "frequency_noise": ("frequency", "MHz", MHz, 0.0, False),
        "amplitude_noise": ("dimensionless", "1", 1.0, 0.0, False),
        "phase_noise": ("angle", "rad", 1.0, 0.0, False),
    },
    "probe": {"power_dbm": ("power", "dBm", 1.0, -math.inf, False)},
}
_DESCRIPTIONS = {
    ("device", "frequency"): "bare transition frequency f = ω/2π",
    ("device", "point_rates"): "coupling-point decay rate γ/2π",
    ("device", "right_fraction"): "right-going fraction of the point rate",
    ("device", "points"): "coupling-point position",
    ("device", "anharmonicity"): "anharmonicity α/2π",
    ("device", "t1"): "intrinsic T1",
    ("device", "t2"): "intrinsic Ramsey T2",
    ("device", "t_phi"): "pure-dephasing time",
    ("device", "n_thermal"): "thermal occupation",
    ("device", "phase_velocity"): "waveguide phase velocity",
    ("drive", "power_dbm"): "drive power at the chip",
    ("drive", "detuning"): "pair detuning δ/2π (dressed atoms at ω_d ± δ)",
    ("drive", "offset"): "drive offset from the operating point's drive frequency, /2π",
    ("drive", "frequency"): "drive frequency f_d = ω_d/2π",
    ("drive", "phase"): "drive phase",
    ("protocol", "t_drive"): "drive duration",
    ("protocol", "ramp_time"): "flux-ramp duration",
    ("protocol", "t_store"): "storage duration",
    ("noise", "frequency_noise"): "quasi-static frequency noise (std)/2π",
    ("noise", "amplitude_noise"): "quasi-static relative drive-amplitude noise (std)",
    ("noise", "phase_noise"): "quasi-static drive-phase noise (std)",
    ("probe", "power_dbm"): "probe power at the chip",
}


def _unknown(path: str, allowed: Sequence[str]) -> ValueError:
    close = difflib.get_close_matches(path, allowed, n=3)
    hint = f"; did you mean {close}?" if close else ""
    return ValueError(f"unknown parameter path {path!r}{hint} Known paths: {', '.join(allowed)}")


def parameter_paths(device: Device) -> list[str]:
    """Every path a sweep over ``device`` accepts (indexed per-point paths shown as ``[i]``)."""
    out = []
    for name in (*device.atom_names, "*"):
        for f, spec in _ATOM_FIELDS.items():
            if spec[6] and f != "points":
                out.append(f"atoms.{name}.{f}")
            out.append(f"atoms.{name}.{f}[i]" if spec[6] else f"atoms.{name}.{f}")
    for group, fields in _GROUP_FIELDS.items():
        out.extend(f"{group}.{f}" for f in fields)
    return out


def resolve_path(device: Device, path: str) -> Parameter:
    """Turn a path string into a :class:`Parameter` of ``device``.

    Paths
    -----
    ``atoms.<name>.<field>`` / ``atoms.*.<field>``
        ``frequency`` (GHz), ``point_rates`` (MHz; ``point_rates[i]`` for one point),
        ``right_fraction`` (``[i]`` likewise), ``points[i]`` (mm), ``anharmonicity`` (MHz),
        ``t1``, ``t2``, ``t_phi`` (µs), ``n_thermal``. ``*`` sets every atom to the value.
    ``waveguide.phase_velocity`` (m/s)
    ``drive.power_dbm`` (dBm), ``drive.detuning`` (δ, MHz), ``drive.offset`` (MHz),
    ``drive.frequency`` (GHz), ``drive.phase`` (rad)
    ``protocol.t_drive``, ``protocol.ramp_time``, ``protocol.t_store`` (µs)
    ``noise.frequency_noise`` (MHz), ``noise.amplitude_noise``, ``noise.phase_noise`` (rad)
    ``probe.power_dbm`` (dBm)

    Raises
    ------
    ValueError
        Unknown path (with the closest known paths), unknown atom, index out of range.
    """
    if not isinstance(path, str):
        raise TypeError(f"parameter paths must be strings, got {type(path).__name__} {path!r}")
    parts = path.strip().split(".")
    known = parameter_paths(device)
    if parts[0] == "atoms" and len(parts) == 3:
        name, spec = parts[1], parts[2]
        if name == "*":
            atoms = tuple(range(device.n_atoms))
        elif name in device.atom_names:
            atoms = (device.index(name),)
        else:
            raise ValueError(
                f"{path!r}: no atom named {name!r}; the device's atoms are "
                f"{list(device.atom_names)} ('*' means all)"
            )
        match = _INDEXED.match(spec)
        if match is None or match["field"] not in _ATOM_FIELDS:
            raise _unknown(path, known)
        f = match["field"]
        kind, unit, scale, low, strict, allow_inf, per_point = _ATOM_FIELDS[f]
        index = None if match["index"] is None else int(match["index"])
        if index is not None:
            if not per_point:
                raise ValueError(f"{path!r}: {f} is one number per atom and takes no [index]")
            n_points = min(device.atoms[a].n_points for a in atoms)
            if index >= n_points:
                raise ValueError(
                    f"{path!r}: point index {index} out of range (the atom has {n_points} points)"
                )
        elif f == "points":
            raise ValueError(f"{path!r}: give one point, e.g. 'atoms.{name}.points[1]'")
        label = f if index is None else f"{f}{index}"
        dim = label if name == "*" else f"{name}_{label}"
        return Parameter(
            path=path.strip(),
            group="device",
            field=f,
            kind=kind,
            unit=unit,
            scale=scale,
            dim=dim,
            atoms=atoms,
            index=index,
            minimum=low,
            maximum=1.0 if f == "right_fraction" else math.inf,
            strict_minimum=strict,
            allow_inf=allow_inf,
        )
    if len(parts) == 2 and parts[0] in _GROUP_FIELDS and parts[1] in _GROUP_FIELDS[parts[0]]:
        group, f = parts
        kind, unit, scale, low, strict = _GROUP_FIELDS[group][f]
        dim = {"probe": f"probe_{f}", "noise": f, "waveguide": f}.get(group, f)
        return Parameter(
            path=path.strip(),
            group="device" if group == "waveguide" else group,
            field=f,
            kind=kind,
            unit=unit,
            scale=scale,
            dim=dim,
            minimum=low,
            strict_minimum=strict,
            allow_inf=group == "drive" and f == "power_dbm",
        )
    raise _unknown(path, known)
