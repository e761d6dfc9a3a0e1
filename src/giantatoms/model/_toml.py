"""Device files (TOML): the format's reader and writer, below the device.

The format is documented in :mod:`giantatoms.model.io`, the public module; this one works on
constructor arguments (:func:`read_device` builds the device with the factory it is given),
so that :class:`giantatoms.model.device.Device` can read and write files without an import
cycle.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from giantatoms.model.elements import Atom, Waveguide
from giantatoms.units import GHz, MHz, parse_quantity, us

if TYPE_CHECKING:
    from collections.abc import Callable

    from giantatoms.model.device import Device

_D = TypeVar("_D")

__all__ = ["read_device", "write_device"]

_MM = 1e-3

_HEADER = """\
# giantatoms device file (format: see the docstring of giantatoms.io).
# Units: frequencies f = ω/2π in GHz; rates γ/2π and anharmonicity α/2π in MHz;
# positions in mm; times in µs; phase velocity in m/s.
"""


@dataclass(frozen=True)
class _Quantity:
    """One numeric atom parameter: its field, its two spellings in a file, its unit."""

    field: str
    key: str  # unit-suffixed key, takes numbers
    plain_key: str | None  # takes unit strings; None for dimensionless parameters
    unit: float  # internal value = file number × unit
    kind: str  # for parse_quantity
    shape: str  # "scalar", "list" or "scalar_or_list"
    required: bool = False


_QUANTITIES = (
    _Quantity("frequency", "frequency_ghz", "frequency", GHz, "frequency", "scalar", True),
    _Quantity("points", "points_mm", "points", _MM, "length", "list", True),
    _Quantity(
        "point_rates", "point_rates_mhz", "point_rates", MHz, "frequency", "scalar_or_list", True
    ),
    _Quantity("right_fraction", "right_fraction", None, 1.0, "", "scalar_or_list"),
    _Quantity("anharmonicity", "anharmonicity_mhz", "anharmonicity", MHz, "frequency", "scalar"),
    _Quantity("t1", "t1_us", "t1", us, "time", "scalar"),
    _Quantity("t_phi", "t_phi_us", "t_phi", us, "time", "scalar"),
    _Quantity("t2", "t2_us", "t2", us, "time", "scalar"),
    _Quantity("n_thermal", "n_thermal", None, 1.0, "", "scalar"),
)
_ATOM_KEYS = (
    "name",
    "levels",
    *(k for q in _QUANTITIES for k in (q.key, q.plain_key) if k is not None),
)
_TOP_KEYS = ("name", "description", "assumptions", "waveguide", "atoms")
_WAVEGUIDE_KEYS = ("phase_velocity_m_per_s",)


# ----------------------------------------------------------------------------------------------
# Reading


def read_device(source: str | Path, factory: Callable[..., _D]) -> _D:
    """Read a device file (or TOML text) and build the device with ``factory(**fields)``.

    ``factory`` is :class:`giantatoms.model.device.Device` (passed in, so that this module
    sits below the device and the device's ``from_toml`` needs no import cycle); see
    :func:`giantatoms.model.io.device_from_toml` for ``source`` and the errors.
    """
    path, text = _resolve_source(source)
    return _device_from_text(text, factory, where=str(path) if path is not None else None)


def _resolve_source(source: str | Path) -> tuple[Path | None, str]:
    if isinstance(source, Path):
        return source, _read(source)
    if not isinstance(source, str):
        raise TypeError(f"source must be a path or a TOML string, got {type(source).__name__}")
    if "\n" not in source:
        candidate = Path(source.strip()).expanduser()
        try:
            is_file = candidate.is_file()
        except OSError:  # e.g. a name too long to be a path: it is text
            is_file = False
        if is_file or source.strip().endswith(".toml"):
            return candidate, _read(candidate)
        if "=" not in source:
            raise ValueError(
                f"source {source!r} is neither an existing file nor TOML text "
                "(TOML text contains '=' or a newline; a path to a device file ends in .toml)"
            )
    return None, source


def _read(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"device file not found: {str(path)!r}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: device file is not valid UTF-8 ({exc})") from exc


def _device_from_text(text: str, factory: Callable[..., _D], *, where: str | None = None) -> _D:
    """Parse TOML ``text``; ``where`` (a file name) prefixes every error message."""
    label = where if where is not None else "<string>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML in {label}: {exc}") from exc
    try:
        return factory(**_device_fields(data))
    except (ValueError, TypeError) as exc:
        if where is None or type(exc) not in (ValueError, TypeError):
            raise
        raise type(exc)(f"{where}: {exc}") from exc


def _device_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of the device described by a parsed device file."""
    _check_keys(data, _TOP_KEYS, "device file (top level)")
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ValueError(f"device file: {key} must be a string, got {data[key]!r}")
    assumptions = data.get("assumptions", [])
    if not isinstance(assumptions, list) or not all(isinstance(a, str) for a in assumptions):
        raise ValueError(
            f"device file: assumptions must be an array of strings, got {assumptions!r}"
        )

    if "waveguide" not in data:
        raise ValueError(
            "device file: missing required table [waveguide] (with phase_velocity_m_per_s)"
        )
    table = data["waveguide"]
    if not isinstance(table, dict):
        raise ValueError(f"device file: waveguide must be a table, got {table!r}")
    _check_keys(table, _WAVEGUIDE_KEYS, "[waveguide]")
    if "phase_velocity_m_per_s" not in table:
        raise ValueError("[waveguide]: missing required key 'phase_velocity_m_per_s'")
    velocity = _number(table["phase_velocity_m_per_s"], "phase_velocity_m_per_s", "[waveguide]")
    waveguide = Waveguide(phase_velocity=velocity)

    atoms = data.get("atoms")
    if atoms is None:
        raise ValueError("device file: missing required [[atoms]] tables (one per atom)")
    if not isinstance(atoms, list) or not all(isinstance(a, dict) for a in atoms):
        raise ValueError("device file: atoms must be an array of tables ([[atoms]])")
    return {
        "waveguide": waveguide,
        "atoms": tuple(_atom_from_mapping(table, i) for i, table in enumerate(atoms)),
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "assumptions": tuple(assumptions),
    }


def _atom_from_mapping(table: Mapping[str, Any], index: int) -> Atom:
    name = table.get("name")
    owner = f"Atom {name!r}" if isinstance(name, str) else f"[[atoms]] number {index + 1}"
    _check_keys(table, _ATOM_KEYS, owner)
    if "name" not in table:
        raise ValueError(f"{owner}: missing required key 'name'")
    kwargs: dict[str, Any] = {"name": name}
    if "levels" in table:
        kwargs["levels"] = table["levels"]  # validated by Atom
    for q in _QUANTITIES:
        value = _quantity_value(table, q, owner)
        if value is not None:
            kwargs[q.field] = value
    return Atom(**kwargs)


def _quantity_value(table: Mapping[str, Any], q: _Quantity, owner: str) -> Any:
    """Internal-unit value of ``q`` in ``table`` (None when absent)."""
    has_numeric = q.key in table
    has_plain = q.plain_key is not None and q.plain_key in table
    if has_numeric and has_plain:
        raise ValueError(f"{owner}: give either {q.key} or {q.plain_key}, not both")
    if has_numeric:
        raw, key = table[q.key], q.key
    elif has_plain:
        raw, key = table[q.plain_key], q.plain_key
    else:
        if q.required:
            spelled = q.key if q.plain_key is None else f"{q.key} (or {q.plain_key})"
            raise ValueError(f"{owner}: missing required key {spelled}")
        return None

    def convert(x: Any) -> float:
        if has_numeric:
            return _number(x, key, owner) * q.unit
        return _unit_string(x, key, q, owner)

    if isinstance(raw, list):
        if q.shape == "scalar":
            raise ValueError(
                f"{owner}: {key} must be a single value, got the list {raw!r} "
                "(device files describe one chip: no batch dimensions)"
            )
        return [convert(x) for x in raw]
    if q.shape == "list":
        raise ValueError(
            f"{owner}: {key} must be a list (one entry per coupling point), got {raw!r}"
        )
    return convert(raw)


def _number(value: Any, key: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            hint = " (unit strings go under the key without the unit suffix)"
        raise ValueError(f"{owner}: {key} must be a number, got {value!r}{hint}")
    return float(value)


def _unit_string(value: Any, key: str, q: _Quantity, owner: str) -> float:
    if not isinstance(value, str):
        raise ValueError(
            f"{owner}: {key} takes a string with a unit (e.g. {_EXAMPLES[q.kind]!r}), got "
            f"{value!r}; for a plain number use {q.key}"
        )
    try:
        return parse_quantity(value, q.kind)
    except ValueError as exc:
        raise ValueError(f"{owner}: {key}: {exc}") from exc


_EXAMPLES = {"frequency": "4.6 GHz", "length": "84 mm", "time": "30 us"}


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], owner: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {list(allowed)}"
            raise ValueError(f"{owner}: unknown key {key!r}{hint}")


# ----------------------------------------------------------------------------------------------
# Writing


def write_device(device: Device, path: str | Path | None = None) -> str:
    """TOML text of ``device``, also written to ``path`` (see ``io.device_to_toml``)."""
    lines = [_HEADER]
    lines.append(f"name = {_string(str(device.name))}")
    lines.append(f"description = {_string(str(device.description))}")
    if device.assumptions:
        lines.append("assumptions = [")
        lines.extend(f"    {_string(a)}," for a in device.assumptions)
        lines.append("]")
    else:
        lines.append("assumptions = []")
    lines.append("")
    lines.append("[waveguide]")
    lines.append(f"phase_velocity_m_per_s = {_float(device.waveguide.phase_velocity)}")
    for atom in device.atoms:
        lines.append("")
        lines.append("[[atoms]]")
        lines.append(f"name = {_string(atom.name)}")
        for q in _QUANTITIES:
            if q.field == "anharmonicity":  # levels first, then the level structure
                lines.append(f"levels = {int(atom.levels)}")
            value = getattr(atom, q.field)
            if value is not None:
                lines.append(f"{q.key} = {_toml_value(value, q, atom.name)}")
    text = "\n".join(lines) + "\n"
    if path is not None:
        Path(path).expanduser().write_text(text, encoding="utf-8")
    return text


def _toml_value(value: Any, q: _Quantity, atom: str) -> str:
    arr = np.asarray(value, dtype=float)
    max_ndim = 0 if q.shape == "scalar" else 1
    if arr.ndim > max_ndim:
        raise ValueError(
            f"cannot write Atom {atom!r}: {q.field} has shape {arr.shape}, a batch dimension; "
            "a device file describes one chip (select one element of the batch first)"
        )
    if arr.ndim == 0:
        return _float(_in_unit(float(arr), q.unit))
    return "[" + ", ".join(_float(_in_unit(float(x), q.unit)) for x in arr) + "]"


def _in_unit(x: float, unit: float) -> float:
    """Express ``x`` in ``unit``: the float y for which ``y * unit`` reproduces ``x`` best.

    Reading multiplies the file's number by ``unit``; x/unit rounded once may miss ``x`` by an
    ulp after that multiplication, so the neighbours of x/unit are tried as well. An exact
    match exists whenever x was itself produced as (some float) × unit.
    """
    y = x / unit
    if unit == 1.0 or not math.isfinite(y) or y * unit == x:
        return y
    best, best_error = y, abs(y * unit - x)
    for direction in (-math.inf, math.inf):
        candidate = y
        for _ in range(4):
            candidate = math.nextafter(candidate, direction)
            error = abs(candidate * unit - x)
            if error < best_error:
                best, best_error = candidate, error
            if error == 0:
                return best
    return best


def _float(x: float) -> str:
    if math.isnan(x):  # the dataclasses reject NaN; guard anyway, TOML's nan would hide it
        raise ValueError("cannot write NaN to a device file")
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))  # shortest round-tripping decimal, always valid TOML


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _string(s: str) -> str:
    """Quote ``s`` as a TOML basic string, escaping quotes, backslashes and controls."""
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
