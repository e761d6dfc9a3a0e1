"""``giantatoms protocol``: the driven-dissipative protocol declared in a TOML file."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from giantatoms.cli._common import (
    _TARGETS,
    _add_device_options,
    _add_json_option,
    _load_device,
    _needs_pair,
    _operating_point,
    _pair_indices,
    _paragraphs,
    _parse_quantity,
    _print_json,
)
from giantatoms.cli._errors import _not_text


def register(sub: Any) -> None:
    """Add the ``protocol`` subcommand."""
    raw = argparse.RawDescriptionHelpFormatter

    pro = sub.add_parser(
        "protocol",
        help="run the driven-dissipative protocol declared in a TOML file",
        formatter_class=raw,
        description=_paragraphs(
            "Drive the pair into its dark state, stop, move the atoms (by default to their "
            "decoherence-free points) and store; print the Bell fidelity, its value optimised "
            "over local Z phases, the concurrence and the leakage at the requested times. --out "
            "writes them as an xarray Dataset (NetCDF) over time (µs) with units attributes."
        ),
        epilog=_PROTOCOL_FORMAT,
    )
    pro.add_argument("file", help="protocol TOML file")
    _add_device_options(pro)
    pro.add_argument("--out", help="write the table as an xarray Dataset to this NetCDF file (.nc)")
    _add_json_option(pro)
    pro.set_defaults(func=_protocol)


_PROTOCOL_FORMAT = """\
protocol file format (TOML; quantities are unit strings such as "3us", "1MHz", "-130dBm"):

  device = "sequential_pair"   # preset name, or a device TOML file (relative to this file);
                               # default "sequential_pair"; --preset/--device override it
  pair = ["A", "B"]            # optional: the two atoms (default: the first two)
  target = "auto"              # optional: auto (the dark state) | psi- | psi+ | phi+ | phi-
  frame = "drive"              # optional: drive | atoms (frame of the non-optimised fidelity)
  initial_state = "ground"     # optional: ground | thermal
  times = ["end_drive", "end_ramp", "end"]   # optional (this is the default): instants
                               # "start", "end_drive", "end_ramp", "end" or times ("2.5us");
                               # or a range: times = {start = "0us", stop = "end", num = 41}
  rtol = 1e-8                  # optional: integration tolerances of the ramps
  atol = 1e-10

  [drive]
  power = "-130dBm"            # required: drive power at the chip
  detuning = "1MHz"            # required: δ/2π, the pair sits at ω_d ± δ (Lamb shifts included)
  offset = "0MHz"              # optional: added to the drive frequency
  port = "left"                # optional: left | right

  [protocol]
  t_drive = "8us"              # required: drive duration
  ramp_time = "10ns"           # required: flux ramp after the drive
  t_store = "1us"              # required: storage time
  after_drive = "move_to_df"   # optional: move_to_df | stay | resonant
  ramp_shape = "cosine"        # optional: cosine | linear
  drive_rise_time = "0ns"      # optional: cosine switch-on of the drive before t_drive

Unknown keys are errors. The run is giantatoms.protocols.driven_dissipative + run_protocol
from |g…g⟩; "end_drive" includes drive_rise_time.
"""


_NAMED_INSTANTS = ("start", "end_drive", "end_ramp", "end")


_PROTOCOL_TOP = ("device", "pair", "target", "frame", "initial_state", "times", "rtol", "atol")


_PROTOCOL_DRIVE = ("power", "detuning", "offset", "port")


_PROTOCOL_SEGMENTS = (
    "t_drive",
    "ramp_time",
    "t_store",
    "after_drive",
    "ramp_shape",
    "drive_rise_time",
)


def _file_quantity(value: Any, kind: str, where: str) -> float:
    """A unit string of ``kind`` from a file (bare numbers only for powers, in dBm)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{where}: expected a {kind} such as {_EXAMPLE[kind]!r}, got {value!r}")
    if not isinstance(value, str) and kind != "power":
        raise ValueError(
            f"{where}: give the unit, e.g. {_EXAMPLE[kind]!r} (got the bare number {value!r})"
        )
    try:
        result = _parse_quantity(value, kind)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if math.isnan(result):
        raise ValueError(f"{where}: not a number: {value!r}")
    return result


_EXAMPLE = {"frequency": "1MHz", "time": "1us", "power": "-130dBm", "length": "1mm"}


def _file_choice(value: Any, allowed: Sequence[str], where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{where}: must be one of {list(allowed)}, got {value!r}")
    return value


def _check_keys(table: Any, allowed: Sequence[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table, got {table!r}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})")
    return table


def _read_protocol_file(source: str | Path) -> dict[str, Any]:
    """Read and validate a protocol file (format: ``_PROTOCOL_FORMAT``); values in SI units.

    Returns a dictionary with ``device_ref`` (None for the default), ``path``, ``pair``,
    ``target``, ``frame``, ``initial_state``, ``times`` (list of names or seconds, or a range
    dictionary), ``rtol``, ``atol``, ``drive`` (power_dbm, detuning, offset, port) and
    ``protocol`` (the keyword arguments of ``driven_dissipative``).
    """
    import tomllib

    path = Path(source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"protocol file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"protocol file {str(path)!r} is a directory") from None
    except UnicodeDecodeError as exc:
        raise _not_text(path, "protocol TOML", exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    _check_keys(data, (*_PROTOCOL_TOP, "drive", "protocol"), str(path))
    for table in ("drive", "protocol"):
        if table not in data:
            raise ValueError(f"{path}: the [{table}] table is required")
    drive = _check_keys(data["drive"], _PROTOCOL_DRIVE, f"{path}: [drive]")
    segments = _check_keys(data["protocol"], _PROTOCOL_SEGMENTS, f"{path}: [protocol]")
    for key, table, name in (
        ("power", drive, "drive"),
        ("detuning", drive, "drive"),
        ("t_drive", segments, "protocol"),
        ("ramp_time", segments, "protocol"),
        ("t_store", segments, "protocol"),
    ):
        if key not in table:
            raise ValueError(f"{path}: [{name}] {key} is required")
    out: dict[str, Any] = {"path": path, "device_ref": data.get("device")}
    if out["device_ref"] is not None and not isinstance(out["device_ref"], str):
        raise ValueError(f"{path}: device must be a preset name or a file path")
    pair = data.get("pair")
    if pair is not None and (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(p, str | int) and not isinstance(p, bool) for p in pair)
    ):
        raise ValueError(f"{path}: pair must list two atom names, got {pair!r}")
    out["pair"] = pair
    out["target"] = _file_choice(data.get("target", "auto"), _TARGETS, f"{path}: target")
    out["frame"] = _file_choice(data.get("frame", "drive"), ("drive", "atoms"), f"{path}: frame")
    out["initial_state"] = _file_choice(
        data.get("initial_state", "ground"), ("ground", "thermal"), f"{path}: initial_state"
    )
    for key, default in (("rtol", 1e-8), ("atol", 1e-10)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{path}: {key} must be a positive number, got {value!r}")
        out[key] = float(value)
    out["drive"] = {
        "power_dbm": _file_quantity(drive["power"], "power", f"{path}: [drive] power"),
        "detuning": _file_quantity(drive["detuning"], "frequency", f"{path}: [drive] detuning"),
        "offset": _file_quantity(
            drive.get("offset", "0MHz"), "frequency", f"{path}: [drive] offset"
        ),
        "port": _file_choice(drive.get("port", "left"), ("left", "right"), f"{path}: [drive] port"),
    }
    if out["drive"]["power_dbm"] == math.inf:
        raise ValueError(f"{path}: [drive] power must be finite (or -inf for no drive)")
    protocol: dict[str, Any] = {}
    for key in ("t_drive", "ramp_time", "t_store", "drive_rise_time"):
        value = _file_quantity(segments.get(key, "0ns"), "time", f"{path}: [protocol] {key}")
        if key == "drive_rise_time":
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{path}: [protocol] {key} must be a finite time ≥ 0")
        elif not (math.isfinite(value) and value > 0):
            raise ValueError(f"{path}: [protocol] {key} must be a finite time > 0")
        protocol[key] = value
    protocol["after_drive"] = _file_choice(
        segments.get("after_drive", "move_to_df"),
        ("move_to_df", "stay", "resonant"),
        f"{path}: [protocol] after_drive",
    )
    protocol["ramp_shape"] = _file_choice(
        segments.get("ramp_shape", "cosine"), ("cosine", "linear"), f"{path}: [protocol] ramp_shape"
    )
    out["protocol"] = protocol
    times = data.get("times", ["end_drive", "end_ramp", "end"])
    where = f"{path}: times"
    if isinstance(times, dict):
        _check_keys(times, ("start", "stop", "num"), where)
        if set(times) != {"start", "stop", "num"}:
            raise ValueError(f"{where}: a range needs start, stop and num")
        num = times["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ValueError(f"{where}: num must be an integer ≥ 1, got {num!r}")
        out["times"] = {
            "start": _instant(times["start"], f"{where}.start"),
            "stop": _instant(times["stop"], f"{where}.stop"),
            "num": num,
        }
    elif isinstance(times, list) and times:
        out["times"] = [_instant(t, f"{where}[{k}]") for k, t in enumerate(times)]
    else:
        raise ValueError(
            f"{where}: give a list of instants ({', '.join(_NAMED_INSTANTS)} or times such as "
            "'2us') or a range {start, stop, num}"
        )
    return out


def _instant(value: Any, where: str) -> str | float:
    if isinstance(value, str) and value.strip() in _NAMED_INSTANTS:
        return value.strip()
    t = _file_quantity(value, "time", f"{where} (one of {list(_NAMED_INSTANTS)} or a time)")
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"{where}: times must be finite and ≥ 0 s, got {value!r}")
    return t


def _protocol_device(spec: dict[str, Any], args: argparse.Namespace) -> tuple[Any, str]:
    from giantatoms.model import presets
    from giantatoms.model.device import Device

    if args.device is not None or args.preset is not None:
        return _load_device(args), args.device or args.preset
    ref = spec["device_ref"] or presets.DEFAULT
    path = spec["path"]
    candidate = Path(ref) if Path(ref).is_absolute() else path.parent / ref
    if candidate.suffix == ".toml" or candidate.exists():
        return Device.from_toml(candidate), str(candidate)
    try:
        return presets.load(ref), ref
    except ValueError as exc:
        raise ValueError(f"{path}: device {ref!r}: {exc}") from None


def _protocol(args: argparse.Namespace) -> int:
    import dataclasses

    from giantatoms.protocols import driven_dissipative, run_protocol
    from giantatoms.units import GHz, MHz, us

    spec = _read_protocol_file(args.file)
    device, device_ref = _protocol_device(spec, args)
    pair = _needs_pair(device, _pair_indices(device, spec["pair"]))
    names = device.atom_names
    drive, seg = spec["drive"], spec["protocol"]
    try:
        op = _operating_point(device, drive["detuning"], pair)
    except ValueError as exc:
        raise ValueError(f"{args.file}: {exc}") from None
    op = dataclasses.replace(op, drive_frequency=op.drive_frequency + drive["offset"])
    if not float(op.drive_frequency) > 0:
        raise ValueError(f"{args.file}: the drive frequency (with offset) must be > 0 Hz")
    protocol = driven_dissipative(
        device,
        power_dbm=drive["power_dbm"],
        detuning=drive["detuning"],
        pair=pair,
        operating_point=op,
        port=drive["port"],
        **seg,
    )
    if spec["target"] != "auto":
        protocol = dataclasses.replace(protocol, target=spec["target"])
    rise = seg["drive_rise_time"]
    ends = {
        "start": 0.0,
        "end_drive": rise + seg["t_drive"],
        "end_ramp": rise + seg["t_drive"] + seg["ramp_time"],
        "end": rise + seg["t_drive"] + seg["ramp_time"] + seg["t_store"],
    }

    def resolve(item: str | float) -> float:
        return ends[item] if isinstance(item, str) else float(item)

    if isinstance(spec["times"], dict):
        r = spec["times"]
        instants = list(np.linspace(resolve(r["start"]), resolve(r["stop"]), r["num"]))
        labels = [""] * len(instants)
        for name, value in ends.items():  # label grid points that are named instants
            for k, t in enumerate(instants):
                if abs(t - value) <= 1e-12 * ends["end"]:
                    labels[k] = name
    else:
        instants = [resolve(t) for t in spec["times"]]
        labels = [t if isinstance(t, str) else "" for t in spec["times"]]
    late = [t for t in instants if t > ends["end"] * (1 + 1e-12)]
    if late:
        raise ValueError(
            f"{args.file}: times {[f'{t / us:.6g}us' for t in late]} are after the end of the "
            f"protocol ({ends['end'] / us:.6g} µs)"
        )
    merged: dict[float, str] = {}
    for t, label in zip(instants, labels, strict=True):
        merged[t] = merged.get(t) or label
    times = np.array(sorted(merged))
    labels = [merged[t] for t in times]
    result = run_protocol(
        device,
        protocol,
        times,
        spec["initial_state"],
        frame=spec["frame"],
        rtol=spec["rtol"],
        atol=spec["atol"],
    )
    # The segment an instant belongs to; at a boundary, the one that ends there.
    ends_of = np.asarray(protocol.boundaries(), dtype=float)[1:]
    index = np.minimum(np.searchsorted(ends_of, times * (1 - 1e-12)), len(ends_of) - 1)
    segment = [result.segment_labels[k] for k in index]
    frequencies = np.asarray(result.frequencies, dtype=float)
    payload = {
        "file": str(args.file),
        "device": device_ref,
        "pair": [names[k] for k in pair],
        "target": result.target,
        "frame": result.frame,
        "power_dbm": drive["power_dbm"],
        "detuning_mhz": drive["detuning"] / MHz,
        "drive_frequency_ghz": float(op.drive_frequency) / GHz,
        "after_drive": seg["after_drive"],
        "durations_us": {
            "drive_rise_time": rise / us,
            "t_drive": seg["t_drive"] / us,
            "ramp_time": seg["ramp_time"] / us,
            "t_store": seg["t_store"] / us,
        },
        "time_us": times / us,
        "instant": labels,
        "segment": segment,
        "bell_fidelity": result.bell_fidelity,
        "bell_fidelity_optimized": result.bell_fidelity_optimized,
        "concurrence": result.concurrence,
        "leakage": result.leakage,
        "atom_frequencies_ghz": {n: frequencies[:, k] / GHz for k, n in enumerate(names)},
        "error_estimate": result.error_estimate,
        "out": str(args.out) if args.out else None,
    }
    if args.out:
        _protocol_dataset(payload, names).to_netcdf(args.out)
    if args.json:
        _print_json(payload)
        return 0
    a, b = (names[k] for k in pair)
    print(
        f"protocol {args.file}: device {device_ref}, pair {a}, {b}, target {result.target}, "
        f"{drive['power_dbm']:g} dBm at {float(op.drive_frequency) / GHz:.6f} GHz, "
        f"δ/2π = {drive['detuning'] / MHz:.6g} MHz, then {seg['after_drive']}"
    )
    header = (
        f"{'time (µs)':>10} | {'instant':<9} | {'segment':<7} | {'F':>8} | {'F(opt)':>8} | "
        f"{'C':>8} | {'leakage':>9} | {f'f_{a} (GHz)':>11} | {f'f_{b} (GHz)':>11}"
    )
    print(header)
    print("-" * len(header))
    for k, t in enumerate(times):
        print(
            f"{t / us:>10.4f} | {labels[k]:<9} | {segment[k]:<7} | "
            f"{result.bell_fidelity[k]:>8.5f} | {result.bell_fidelity_optimized[k]:>8.5f} | "
            f"{result.concurrence[k]:>8.5f} | {result.leakage[k]:>9.2e} | "
            f"{frequencies[k, pair[0]] / GHz:>11.6f} | {frequencies[k, pair[1]] / GHz:>11.6f}"
        )
    print(
        f"F: fidelity to {result.target} in the {result.frame} frame; F(opt): maximised over "
        f"local Z phases; C: concurrence; max error estimate "
        f"{float(np.max(result.error_estimate, initial=0.0)):.1e}"
    )
    if args.out:
        print(f"written: {args.out}")
    return 0


def _protocol_dataset(payload: dict[str, Any], names: Sequence[str]) -> Any:
    """The protocol table as an xarray Dataset over time (µs), with units attributes."""
    import xarray as xr

    import giantatoms

    one = {"units": "1"}
    variables = {
        "bell_fidelity": (
            "time",
            np.asarray(payload["bell_fidelity"], float),
            {**one, "long_name": f"fidelity to {payload['target']} ({payload['frame']} frame)"},
        ),
        "bell_fidelity_optimized": (
            "time",
            np.asarray(payload["bell_fidelity_optimized"], float),
            {**one, "long_name": "Bell fidelity maximised over local Z phases"},
        ),
        "concurrence": ("time", np.asarray(payload["concurrence"], float), one),
        "leakage": (
            "time",
            np.asarray(payload["leakage"], float),
            {**one, "long_name": "population outside the pair's qubit subspace"},
        ),
        "error_estimate": (
            "time",
            np.asarray(payload["error_estimate"], float),
            {**one, "long_name": "accumulated integration error estimate (trace norm)"},
        ),
        "segment": ("time", np.array(payload["segment"], dtype=object), {}),
        "instant": ("time", np.array(payload["instant"], dtype=object), {}),
        "atom_frequency": (
            ("time", "atom"),
            np.stack([payload["atom_frequencies_ghz"][n] for n in names], axis=-1),
            {"units": "GHz", "long_name": "bare atom frequency f = ω/2π"},
        ),
    }
    ds = xr.Dataset(
        {k: xr.Variable(dims, values, attrs) for k, (dims, values, attrs) in variables.items()},
        coords={
            "time": ("time", np.asarray(payload["time_us"], float), {"units": "us"}),
            "atom": ("atom", np.array(list(names), dtype=object)),
        },
    )
    ds.attrs.update(
        {
            "source": payload["file"],
            "device": payload["device"],
            "pair": ",".join(payload["pair"]),
            "target": payload["target"],
            "frame": payload["frame"],
            "power_dbm": float(payload["power_dbm"]),
            "detuning_mhz": float(payload["detuning_mhz"]),
            "drive_frequency_ghz": float(payload["drive_frequency_ghz"]),
            "after_drive": payload["after_drive"],
            "giantatoms_version": str(getattr(giantatoms, "__version__", "")),
        }
    )
    return ds
